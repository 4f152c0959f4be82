"""Synthetic review data for demos, tests and the benchmark: real unit codes, invented households.

Writes what communes, districts and provinces would submit for a review year:
- `<out>/<year>/commune/<commune_code>.csv` (and `.xlsx` laid out like a report form): household lists;
- `<out>/<year>/district/<district_code>.csv` (before the 2025 reform only): area_summary rows of the
  district's communes;
- `<out>/<year>/province/<province_code>.csv`: area_summary rows of the province's districts (before the
  reform) or of its communes (from 2025);
- `<out>/manifest.json` listing every file with its level, unit, year, kind, format and rows.

The summaries are computed from the same households by the same classification rule, so a district's
file adds up to its communes' files. Generation runs one district (or a batch of communes) at a time,
so a national run at full scale (about 27 million households) never holds more than one batch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from schemas import geography
from schemas.contracts import AREA_SUMMARY, HOUSEHOLD
from synthetic.calibration import RegionCalibration, solve_shifts
from synthetic.households import (
    NATIONAL_HOUSEHOLDS,
    Shift,
    generate_households,
    roll_up_summary,
    summarise_households,
    unit_size_weight,
)

DEFAULT_SEED = 7
DEFAULT_DISAGREEMENT_RATE = 0.002
DEFAULT_AT_LINE_SHARE = 0.004
# Hoàng Sa has no resident households; the other island districts are small.
UNINHABITED_UNITS: frozenset[str] = frozenset({"498"})
ISLAND_DISTRICT_SIZE_WEIGHT = 0.4
# From 2025 a province may have well over a hundred communes of ~8,000 households: batch them.
COMMUNES_PER_BATCH = 40

Progress = Callable[[str], None]


# ---------------------------------------------------------------------------------------------
# The standard.

def standard_for(year: int, standard_id: str | None = None) -> dict:
    """The standard file that applies to `year` (or the one named): its lines and rule drive generation."""
    from schemas import standards

    return standards.load_standard(standard_id or standards.standard_for_year(year))


# ---------------------------------------------------------------------------------------------
# Geography: the units households are generated for.

def _codes(values: Collection[str] | None, width: int) -> list[str] | None:
    return None if values is None else sorted({str(v).strip().zfill(width) for v in values})


def _profile_provinces_after_reform() -> pl.DataFrame:
    """Each new commune's main predecessor province (by number of old communes), so a commune of the new
    Gia Lai on the coast draws from old Bình Định and one in the highlands from old Gia Lai."""
    conversion = geography.conversion_table()
    return (conversion.filter(pl.col("old_province_code").is_not_null())
            .group_by("new_commune_code", "old_province_code").agg(pl.len().alias("old_units"))
            .sort(["new_commune_code", "old_units", "old_province_code"], descending=[False, True, False])
            .group_by("new_commune_code", maintain_order=True).first()
            .select(pl.col("new_commune_code").alias("unit_code"),
                    pl.col("old_province_code").alias("profile_province_code")))


def synthetic_units(year: int, *, provinces: Collection[str] | None = None,
                    districts: Collection[str] | None = None) -> pl.DataFrame:
    """One row per unit households are generated for: each commune valid on the review date of `year`,
    plus (before the reform) each inhabited island district without communes. Columns: unit_code,
    unit_name, unit_type, is_commune, district_code, district_name, province_code, province_name,
    profile_province_code, size_weight. Sorted by province, district, unit."""
    on = geography.review_date(year)
    pre_reform = on < geography.REFORM_DATE
    province_codes, district_codes = _codes(provinces, 2), _codes(districts, 3)
    if district_codes and not pre_reform:
        raise ValueError(f"{year} uses the two-tier geography (from 2025-07-01): there are no districts; "
                         "choose provinces instead")
    hierarchy = geography.hierarchy_at(on)
    communes = geography.units_at("commune", on).select("unit_code", "unit_name", "unit_type")
    province_names = geography.units_at("province", on).select(
        pl.col("unit_code").alias("province_code"), pl.col("unit_name").alias("province_name"))
    if pre_reform:
        district_units = geography.units_at("district", on).select(
            pl.col("unit_code").alias("district_code"), pl.col("unit_name").alias("district_name"),
            pl.col("unit_type").alias("district_type"))
    else:
        district_units = pl.DataFrame(schema={"district_code": pl.String, "district_name": pl.String,
                                              "district_type": pl.String})
    units = (hierarchy
             .join(communes, left_on="commune_code", right_on="unit_code", how="left", maintain_order="left")
             .join(district_units, on="district_code", how="left", maintain_order="left")
             .join(province_names, on="province_code", how="left", maintain_order="left")
             .with_columns(
                 pl.col("commune_code").is_not_null().alias("is_commune"),
                 pl.coalesce("commune_code", "district_code").alias("unit_code"),
                 pl.coalesce("unit_name", "district_name").alias("unit_name"),
                 pl.coalesce("unit_type", "district_type").alias("unit_type"))
             .filter(~pl.col("unit_code").is_in(list(UNINHABITED_UNITS))))
    if pre_reform:
        units = units.with_columns(pl.col("province_code").alias("profile_province_code"))
    else:
        units = (units.join(_profile_provinces_after_reform(), on="unit_code", how="left", maintain_order="left")
                 .with_columns(pl.coalesce("profile_province_code", "province_code")))
    units = units.with_columns(pl.Series("size_weight", [
        unit_size_weight(unit_type, profile) if is_commune else ISLAND_DISTRICT_SIZE_WEIGHT
        for unit_type, profile, is_commune in units.select(
            "unit_type", "profile_province_code", "is_commune").iter_rows()], dtype=pl.Float64))
    if province_codes is not None:
        _check_known(province_codes, units["province_code"], "province", year)
        units = units.filter(pl.col("province_code").is_in(province_codes))
    if district_codes is not None:
        _check_known(district_codes, units["district_code"], "district", year)
        units = units.filter(pl.col("district_code").is_in(district_codes))
    return (units.select("unit_code", "unit_name", "unit_type", "is_commune", "district_code", "district_name",
                         "province_code", "province_name", "profile_province_code", "size_weight")
            .sort("province_code", "district_code", "unit_code", nulls_last=True))


def _check_known(codes: list[str], known: pl.Series, level: str, year: int) -> None:
    unknown = sorted(set(codes) - set(known.drop_nulls().to_list()))
    if unknown:
        raise ValueError(f"unknown {level} code(s) for {year}: {', '.join(unknown)}")


def households_per_unit_weight(year: int, households_per_commune: float | None = None) -> float:
    """Mean households of a unit of weight 1 at scale 1, such that the country's units average
    `households_per_commune` (default: NATIONAL_HOUSEHOLDS spread over all units of `year`, about 2,700
    before the reform's 10,051 communes and 8,100 after it with 3,321)."""
    weights = synthetic_units(year)["size_weight"]
    per_unit = households_per_commune or NATIONAL_HOUSEHOLDS / weights.len()
    return per_unit / float(weights.mean())


@functools.lru_cache(maxsize=16)
def calibration(year: int, seed: int = DEFAULT_SEED, standard_id: str | None = None,
                at_line_share: float = DEFAULT_AT_LINE_SHARE) -> dict[str, RegionCalibration]:
    """The year's calibration per region key (synthetic/calibration.py), over every unit of the country, so
    that a province or a district generated alone gets the same households as in a national run."""
    standard = standard_for(year, standard_id)
    return solve_shifts(synthetic_units(year), seed=seed, year=year, standard=standard,
                        at_line_share=at_line_share)


def calibrated_shifts(settings: GenerationSettings) -> dict[str, Shift]:
    """The Shift of each region for these settings (none when `settings.calibrated` is False)."""
    if not settings.calibrated:
        return {}
    solved = calibration(settings.year, settings.seed, settings.standard_id, settings.at_line_share)
    return {region: result.shift for region, result in solved.items()}


# ---------------------------------------------------------------------------------------------
# Generation in batches.

@dataclass(frozen=True)
class GenerationSettings:
    year: int
    seed: int = DEFAULT_SEED
    scale: float = 1.0
    households_per_commune: float | None = None  # national mean per unit at scale 1 (None: ~27 M in all)
    disagreement_rate: float = DEFAULT_DISAGREEMENT_RATE
    at_line_share: float = DEFAULT_AT_LINE_SHARE
    fill_reported: bool = True
    standard_id: str | None = None
    calibrated: bool = True   # False: the bare model, without the published results' region-year shifts


@dataclass(frozen=True)
class HouseholdBatch:
    """The households of one district (before the reform) or of a run of one province's communes."""

    province_code: str
    district_code: str | None
    units: pl.DataFrame
    households: pl.DataFrame


def iter_household_batches(settings: GenerationSettings, units: pl.DataFrame, standard: dict,
                           ) -> Iterator[HouseholdBatch]:
    """Households of `units` (from `synthetic_units`), one batch at a time, in unit order. Each batch's
    `households` frame is in the HOUSEHOLD contract's columns, in unit order then household id; island
    districts' households carry the district code in `commune_code` (they only feed summaries)."""
    per_weight = households_per_unit_weight(settings.year, settings.households_per_commune)
    shifts = calibrated_shifts(settings)
    # A district is always one batch (its file summarises all its communes); from 2025 a province's
    # communes come in runs of COMMUNES_PER_BATCH.
    batch_keys = units.with_columns(
        pl.when(pl.col("district_code").is_null())
        .then(pl.int_range(pl.len()).over("province_code") // COMMUNES_PER_BATCH)
        .otherwise(0).alias("chunk"))
    for (province_code, district_code, _), batch_units in batch_keys.group_by(
            "province_code", "district_code", "chunk", maintain_order=True):
        households = generate_households(
            batch_units.select("unit_code", "unit_type", "profile_province_code", "size_weight"),
            seed=settings.seed, year=settings.year, standard=standard, households_per_unit=per_weight,
            scale=settings.scale, at_line_share=settings.at_line_share,
            disagreement_rate=settings.disagreement_rate, fill_reported=settings.fill_reported, shifts=shifts)
        yield HouseholdBatch(province_code, district_code, batch_units.drop("chunk"), households)


# ---------------------------------------------------------------------------------------------
# Files.

@dataclass(frozen=True)
class GeneratedFile:
    path: str          # relative to the output folder, with forward slashes
    level: str
    unit: str
    year: int
    kind: str
    format: str
    rows: int


@dataclass
class GenerationResult:
    out_dir: Path
    year: int
    files: list[GeneratedFile] = field(default_factory=list)
    households: int = 0
    seconds: float = 0.0
    generation_seconds: float = 0.0   # time spent generating households only (not writing)
    manifest_path: Path | None = None

    @property
    def households_per_second(self) -> float:
        return self.households / self.generation_seconds if self.generation_seconds else 0.0


def _headers(contract, header: str) -> dict[str, str]:
    if header not in ("en", "vi"):
        raise ValueError(f"header must be 'en' or 'vi', not {header!r}")
    return {c.name: (c.label_vi if header == "vi" else c.name) for c in contract.columns}


def _write_csv(frame: pl.DataFrame, path: Path, contract, header: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Incomes are whole đồng: no decimal point, so the files read like the forms communes fill in.
    frame.rename(_headers(contract, header)).write_csv(path, float_precision=0)


def _write_household_xlsx(frame: pl.DataFrame, path: Path, *, year: int, unit: dict, header: str) -> None:
    """A household list laid out like a commune's report form: two title rows, a blank row, the table."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    # A fixed creation time keeps the bytes of a rerun identical.
    workbook.set_properties({"title": f"Danh sách hộ rà soát năm {year}", "author": "lnob (dữ liệu mô phỏng)",
                             "created": datetime(year, 12, 31)})
    sheet = workbook.add_worksheet("Danh sach ho")
    title = workbook.add_format({"bold": True, "font_size": 13})
    place = (f"{unit['unit_name']} (mã {unit['unit_code']})"
             + (f", {unit['district_name']}" if unit.get("district_name") else "")
             + f", {unit['province_name']}")
    sheet.write(0, 0, f"DANH SÁCH HỘ RÀ SOÁT HỘ NGHÈO, HỘ CẬN NGHÈO NĂM {year} (dữ liệu mô phỏng)", title)
    sheet.write(1, 0, place)
    frame.rename(_headers(HOUSEHOLD, header)).write_excel(
        workbook=workbook, worksheet=sheet, position=(3, 0), table_style="Table Style Light 1",
        float_precision=0, autofit=False, column_widths=14)
    workbook.close()


def _xlsx_wanted(xlsx: bool | Collection[str], commune_code: str) -> bool:
    if isinstance(xlsx, bool):
        return xlsx
    return commune_code in xlsx


def write_synthetic_review(out_dir: str | Path, year: int, *, provinces: Collection[str] | None = None,
                           districts: Collection[str] | None = None, seed: int = DEFAULT_SEED,
                           scale: float = 1.0, households_per_commune: float | None = None,
                           xlsx: bool | Collection[str] = False, header: str = "en",
                           disagreement_rate: float = DEFAULT_DISAGREEMENT_RATE,
                           at_line_share: float = DEFAULT_AT_LINE_SHARE, fill_reported: bool = True,
                           standard_id: str | None = None, progress: Progress | None = None,
                           levels: Collection[str] = ("commune", "district", "province"),
                           ) -> GenerationResult:
    """Write commune household files, district and province area_summary files and a manifest under
    `out_dir/<year>/` for the chosen provinces or districts (all of the country when both are None).

    `xlsx`: True writes an XLSX beside every commune CSV; a collection of commune codes writes it for
    those only. `header`: "en" (contract names, the default ingest reads best) or "vi" (labels).
    Province files are written only for provinces generated whole (not when `districts` is given).
    `levels`: which files to write; households are generated for every unit either way, so the summaries
    of the levels written are the same as in a full run."""
    unknown_levels = set(levels) - {"commune", "district", "province"}
    if unknown_levels:
        raise ValueError(f"unknown levels {sorted(unknown_levels)}; expected commune, district or province")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    standard = standard_for(year, standard_id)
    settings = GenerationSettings(year, seed, scale, households_per_commune, disagreement_rate, at_line_share,
                                  fill_reported, standard["id"])
    units = synthetic_units(year, provinces=provinces, districts=districts)
    pre_reform = geography.review_date(year) < geography.REFORM_DATE
    xlsx_codes = xlsx if isinstance(xlsx, bool) else set(_codes(xlsx, 5) or [])
    result = GenerationResult(out_dir, year)
    year_dir = out_dir / str(year)

    def record(path: Path, level: str, unit: str, kind: str, rows: int) -> None:
        result.files.append(GeneratedFile(path.relative_to(out_dir).as_posix(), level, unit, year, kind,
                                          path.suffix.lstrip("."), rows))

    province_summaries: list[pl.DataFrame] = []
    province_started = time.perf_counter()
    province_households = 0
    for batch in _timed_batches(iter_household_batches(settings, units, standard), result):
        unit_rows = {row["unit_code"]: row for row in batch.units.iter_rows(named=True)}
        by_unit = batch.households.partition_by("commune_code", as_dict=True, maintain_order=True)
        for (unit_code,), unit_households in by_unit.items():
            if "commune" not in levels or not unit_rows[unit_code]["is_commune"]:
                continue  # an island district has no commune file: its households only feed summaries
            path = year_dir / "commune" / f"{unit_code}.csv"
            _write_csv(unit_households, path, HOUSEHOLD, header)
            record(path, "commune", unit_code, "household", unit_households.height)
            if _xlsx_wanted(xlsx_codes, unit_code):
                path = path.with_suffix(".xlsx")
                _write_household_xlsx(unit_households, path, year=year, unit=unit_rows[unit_code], header=header)
                record(path, "commune", unit_code, "household", unit_households.height)
        unit_summary = summarise_households(batch.households.lazy(), unit_column="commune_code",
                                            standard=standard).collect()
        if pre_reform and "district" in levels:
            path = year_dir / "district" / f"{batch.district_code}.csv"
            _write_csv(unit_summary, path, AREA_SUMMARY, header)
            record(path, "district", batch.district_code, "area_summary", unit_summary.height)
        province_summaries.append(
            unit_summary.with_columns(pl.lit(batch.district_code, dtype=pl.String).alias("district_code")))
        result.households += batch.households.height
        province_households += batch.households.height

        next_province = _peek_province(units, batch)
        if next_province != batch.province_code:
            note = _write_province(year_dir, batch, province_summaries, pre_reform,
                                   districts is None and "province" in levels, header, record)
            if progress:
                unit_count = units.filter(pl.col("province_code") == batch.province_code).height
                progress(f"province {batch.province_code} {batch.units['province_name'][0]}: "
                         f"{unit_count:,} units, {province_households:,} households{note} "
                         f"({time.perf_counter() - province_started:.1f} s)")
            province_summaries, province_households = [], 0
            province_started = time.perf_counter()

    result.files.sort(key=lambda f: f.path)
    result.manifest_path = _write_manifest(out_dir, result, settings)
    result.seconds = time.perf_counter() - started
    return result


def _timed_batches(batches: Iterator[HouseholdBatch], result: GenerationResult) -> Iterator[HouseholdBatch]:
    """The batches, adding the time spent generating each one (not writing it) to `result`."""
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        result.generation_seconds += time.perf_counter() - started
        if batch is None:
            return
        yield batch


def _peek_province(units: pl.DataFrame, batch: HouseholdBatch) -> str | None:
    """The province of the unit after this batch's last unit (None at the end)."""
    last = batch.units["unit_code"][-1]
    position = units["unit_code"].index_of(last)
    return units["province_code"][position + 1] if position + 1 < units.height else None


def _write_province(year_dir: Path, batch: HouseholdBatch, summaries: list[pl.DataFrame], pre_reform: bool,
                    whole_province: bool, header: str, record) -> str:
    if not whole_province:
        return " (no province file: only some districts, or other levels, were asked for)"
    unit_summary = pl.concat(summaries)
    if pre_reform:
        # Island districts report themselves; a commune's parent is its district.
        parents = unit_summary.select("unit_code", pl.col("district_code").alias("parent_code")).unique()
        province_summary = roll_up_summary(unit_summary.drop("district_code").lazy(), parents.lazy()).collect()
        province_summary = _with_uninhabited_zeros(province_summary, batch.province_code, year_dir.name)
    else:
        province_summary = unit_summary.drop("district_code")
    path = year_dir / "province" / f"{batch.province_code}.csv"
    _write_csv(province_summary, path, AREA_SUMMARY, header)
    record(path, "province", batch.province_code, "area_summary", province_summary.height)
    return ""


def _with_uninhabited_zeros(summary: pl.DataFrame, province_code: str, year: str) -> pl.DataFrame:
    """A province reports its uninhabited districts as known zeros, not by leaving them out (which would
    make them, and so the province, the region and the nation, unknown)."""
    districts = geography.units_at("district", geography.review_date(int(year)))
    empty = districts.filter(pl.col("province_code") == province_code,
                             pl.col("unit_code").is_in(list(UNINHABITED_UNITS)))["unit_code"].to_list()
    if not empty:
        return summary
    keys = pl.DataFrame({"unit_code": empty}).join(
        pl.DataFrame({"ethnic_group": ["ALL", "EM"]}), how="cross").join(
        pl.DataFrame({"area": ["rural", "urban", "all"]}), how="cross")
    zeros = keys.with_columns(
        pl.lit(None, dtype=pl.String).alias("village"),
        *[pl.lit(0, dtype=summary.schema[c]).alias(c) for c in summary.columns
          if c not in {"unit_code", "village", "ethnic_group", "area"}])
    return pl.concat([summary, zeros.select(summary.columns)]).sort("unit_code", "ethnic_group", "area",
                                                                    maintain_order=True)


def _write_manifest(out_dir: Path, result: GenerationResult, settings: GenerationSettings) -> Path:
    manifest = {
        "generator": "lnob synthetic review data",
        "year": result.year,
        "standard": settings.standard_id,
        "geography_version": geography.geography_version(geography.review_date(result.year)),
        "seed": settings.seed,
        "scale": settings.scale,
        "calibrated_to_published_results": settings.calibrated,
        "households": result.households,
        "files": [asdict(f) for f in result.files],
    }
    path = out_dir / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        # Several years may share an output folder: keep the other years' entries.
        previous = json.loads(path.read_text(encoding="utf-8"))
        runs = [run for run in previous.get("runs", []) if run.get("year") != result.year]
    else:
        runs = []
    runs = sorted([*runs, manifest], key=lambda run: run["year"])
    path.write_text(json.dumps({"runs": runs, "files": [f for run in runs for f in run["files"]]},
                               ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Staging-like Parquet for the benchmark.

def synthetic_submission_id(province_code: str, year: int, seed: int, scale: float) -> str:
    digest = hashlib.sha256(f"synthetic|household|{province_code}|{year}|{seed}|{scale}".encode()).hexdigest()
    return "S" + digest[:16]


def write_synthetic_staging(staging_root: str | Path, year: int, *, provinces: Collection[str] | None = None,
                            seed: int = DEFAULT_SEED, scale: float = 1.0,
                            households_per_commune: float | None = None, standard_id: str | None = None,
                            progress: Progress | None = None) -> GenerationResult:
    """Write households straight into staging layout: `<staging_root>/household/year=<year>/<id>.parquet`,
    one file per province with the contract's columns and the staging columns (submission_id, year,
    submitting_level="province", submitting_unit, standard, lists_every_household=true). Streams batch by batch into each file, so
    peak memory is one batch whatever the scale. Island districts (no commune) are left out."""
    from pyarrow import parquet

    started = time.perf_counter()
    staging_root = Path(staging_root)
    standard = standard_for(year, standard_id)
    settings = GenerationSettings(year, seed, scale, households_per_commune, standard_id=standard["id"])
    units = synthetic_units(year, provinces=provinces).filter(pl.col("is_commune"))
    result = GenerationResult(staging_root, year)
    folder = staging_root / "household" / f"year={year}"
    folder.mkdir(parents=True, exist_ok=True)
    writer, current_province, path, rows = None, None, None, 0
    province_started = time.perf_counter()

    def close_province() -> None:
        nonlocal writer
        writer.close()
        writer = None
        result.files.append(GeneratedFile(path.relative_to(staging_root).as_posix(), "province",
                                          current_province, year, "household", "parquet", rows))
        if progress:
            progress(f"province {current_province}: {rows:,} households → {path.name} "
                     f"({time.perf_counter() - province_started:.1f} s)")

    for batch in _timed_batches(iter_household_batches(settings, units, standard), result):
        if batch.province_code != current_province:
            if writer is not None:
                close_province()
            current_province, rows = batch.province_code, 0
            province_started = time.perf_counter()
            submission_id = synthetic_submission_id(current_province, year, seed, scale)
            path = folder / f"{submission_id}.parquet"
        staged = batch.households.with_columns(
            pl.lit(synthetic_submission_id(current_province, year, seed, scale)).alias("submission_id"),
            pl.lit(year, dtype=pl.Int64).alias("year"),
            pl.lit("province").alias("submitting_level"),
            pl.lit(current_province).alias("submitting_unit"),
            pl.lit(standard["id"]).alias("standard"),
            # Generated households are every resident household of their commune.
            pl.lit(True).alias("lists_every_household"),
        ).to_arrow()
        if writer is None:
            writer = parquet.ParquetWriter(path, staged.schema, compression="zstd")
        writer.write_table(staged)
        rows += staged.num_rows
        result.households += staged.num_rows
    if writer is not None:
        close_province()
    result.seconds = time.perf_counter() - started
    return result
