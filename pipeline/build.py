"""Build the marts from the current accepted submissions and publish them as one new version.

    build_marts(settings, year=None, registry=None)      the night's (or an operator's) build
      └ build_year(year, submissions, hierarchy=…, standards=…)   plain inputs → {mart: DataFrame}
      └ write_year(frames, building_dir, year)            deterministic Parquet, hive `year=YYYY/`
      └ store.publish.publish(...)                        one atomic switch of `marts/current`

Households are scanned once per year with one `pl.scan_parquet(list_of_files)`, classified with
expressions and aggregated to commune × ethnic group × area in the streaming engine; every level above
is rolled up from that small aggregate. Rebuilding from the same accepted submissions writes
byte-identical Parquet: rows are sorted by each mart's full key, files are written with fixed settings,
and nothing time-dependent goes into them (the build time lives in manifest.json only).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from schemas.contracts import AREA_SUMMARY, HOUSEHOLD, INDICATOR_IDS
from schemas.marts import (
    ALL_AREAS,
    ALL_GROUPS,
    MARTS,
    RECONCILIATION_ABSOLUTE_TOLERANCE,
    RECONCILIATION_RELATIVE_TOLERANCE,
    Mart,
    all_marts,
)
from transforms.classify import (
    classify_households,
    disagreement_counts,
    disagreements_from_groups,
    with_commune_counts,
)
from transforms.coverage import SUBMISSIONS_SCHEMA, submission_coverage
from transforms.reconcile import detail_submissions, reconcile
from transforms.rollup import (
    add_change_from_previous,
    add_group_totals,
    add_place,
    add_rates,
    cells_from_groups,
    choose_lowest_sources,
    household_groups,
    roll_up,
    units_from_hierarchy,
)
from transforms.summaries import summary_cells

STAGING_EXTRA = {"submission_id": pl.String, "year": pl.Int64, "submitting_level": pl.String,
                 "submitting_unit": pl.String, "standard": pl.String}
PARQUET_FILE = "part-0.parquet"
ALL_MARTS = all_marts()
MANIFEST = "manifest.json"
# Fixed writer settings: part of what makes a rebuild byte-identical.
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3, "statistics": True,
                                   "row_group_size": 512 * 1024}


class BuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class SubmissionInput:
    """What a build needs to know about one current accepted submission (a registry SubmissionRecord has
    these attributes too, and may be passed instead)."""

    submission_id: str
    level: str
    unit_code: str
    year: int
    kind: str
    staging_path: str | Path
    standard: str | None = None
    received_at: datetime | None = None
    findings_count: int | None = 0
    warnings_count: int | None = 0
    content_hash: str | None = None


@dataclass(frozen=True)
class Tolerance:
    """Reconciliation tolerances: a difference is reported when it exceeds both."""

    absolute: int = RECONCILIATION_ABSOLUTE_TOLERANCE
    relative: float = RECONCILIATION_RELATIVE_TOLERANCE


@dataclass
class BuildResult:
    version: str
    path: Path
    manifest: dict
    built_years: list[int] = field(default_factory=list)
    carried_years: list[int] = field(default_factory=list)


# --- reading staging ------------------------------------------------------------------------------------

def _staging_schema(contract) -> dict[str, pl.DataType]:
    return {**dict(contract.polars_schema()), **STAGING_EXTRA}


def scan_staging(paths: Sequence[str | Path], contract) -> pl.LazyFrame:
    """All staging files of one kind as one lazy scan (an empty frame of the right schema when none)."""
    schema = _staging_schema(contract)
    if not paths:
        return pl.LazyFrame(schema=schema)
    return (pl.scan_parquet([str(p) for p in paths], missing_columns="insert", extra_columns="ignore")
            .select(pl.col(name).cast(dtype) for name, dtype in schema.items()))


def _submission_frame(submissions: Sequence[Any]) -> pl.LazyFrame:
    rows = [{
        "submission_id": s.submission_id, "level": s.level, "unit_code": s.unit_code, "kind": s.kind,
        "standard": s.standard, "received_at": _as_utc(s.received_at),
        "findings_count": s.findings_count, "warnings_count": s.warnings_count,
    } for s in submissions]
    return pl.LazyFrame(rows, schema=SUBMISSIONS_SCHEMA)


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- one year -------------------------------------------------------------------------------------------

def _conform(frame: pl.DataFrame | pl.LazyFrame, mart: Mart, *, presorted: bool = False) -> pl.DataFrame:
    """The mart's columns in its order and dtypes, rows in its sort order (a total order on its grain).
    presorted: the caller built the rows in that order already (checked, not trusted)."""
    frame = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    names = frame.collect_schema().names()
    missing = [c.name for c in mart.columns if c.name not in names]
    if missing:
        raise BuildError(f"mart {mart.name} is missing columns {missing}")
    conformed = frame.select(pl.col(c.name).cast(c.dtype) for c in mart.columns).collect(engine="in-memory")
    if presorted and _is_sorted(conformed, mart.sort_key):
        return conformed
    return conformed.sort(list(mart.sort_key), nulls_last=True, maintain_order=True)


def _is_sorted(frame: pl.DataFrame, key: Sequence[str]) -> bool:
    """True when consecutive rows never go down on the key (compared lexicographically, as a struct)."""
    return frame.height < 2 or frame.select(pl.struct(list(key))).to_series().is_sorted()


def _deprivation_long(poverty: pl.DataFrame) -> pl.DataFrame:
    """poverty row (wide: 36 indicator counts, sorted by the cell key) → one row per indicator, already in
    the deprivation mart's order: each row becomes its 12 indicator rows in place (explode keeps order),
    which spares sorting two million rows at national scale."""
    keep = ["year", "level", "unit_code", "ethnic_group", "area", "parent_code", "province_code", "region_key",
            "geography_version", "households_total", "households_poor", "households_near_poor", "source_level"]
    lists = {
        "indicator": pl.concat_list(pl.lit(i) for i in INDICATOR_IDS),
        "households_deprived": pl.concat_list(f"households_deprived_{i}" for i in INDICATOR_IDS),
        "households_poor_deprived": pl.concat_list(f"poor_deprived_{i}" for i in INDICATOR_IDS),
        "households_near_poor_deprived": pl.concat_list(f"near_poor_deprived_{i}" for i in INDICATOR_IDS),
    }
    deprived = ("households_deprived", "households_poor_deprived", "households_near_poor_deprived")

    def share(top: str, bottom: str) -> pl.Expr:
        return pl.when(pl.col(bottom) > 0).then(pl.col(top).cast(pl.Float64) * 100.0 / pl.col(bottom).cast(pl.Float64))

    return (
        poverty.lazy()
        # A cell that knows none of the deprived counts (a unit nobody reported on) says nothing here: the
        # poverty marts already list every unit with its coverage.
        .filter(pl.any_horizontal(pl.col(f"{prefix}_{i}").is_not_null() for i in INDICATOR_IDS
                                  for prefix in ("households_deprived", "poor_deprived", "near_poor_deprived")))
        .select(*keep, **lists)
        .explode(list(lists))
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in deprived))
        .with_columns(
            share("households_deprived", "households_total").alias("deprived_share_of_all"),
            share("households_poor_deprived", "households_poor").alias("deprived_share_of_poor"),
            share("households_near_poor_deprived", "households_near_poor").alias("deprived_share_of_near_poor"),
        )
        .collect(engine="in-memory")   # row order matters here; the in-memory engine keeps it
    )


DEPRIVATION_CHUNK_ROWS = 20_000     # poverty rows per chunk: ≤ 240,000 deprivation rows in memory at once


@dataclass(frozen=True)
class ChunkedRows:
    """A mart too large to hold at once (deprivation_by_area is 12 rows per poverty row: two million a year
    at national scale). Its rows are produced in order, one slice of the source at a time, and written as
    they come; `collect()` gives them all at once for small builds and tests."""

    mart: Mart
    source: pl.DataFrame
    make_rows: Callable[[pl.DataFrame], pl.DataFrame]
    chunk_rows: int = DEPRIVATION_CHUNK_ROWS

    def chunks(self) -> Iterator[pl.DataFrame]:
        for offset in range(0, max(self.source.height, 1), self.chunk_rows):
            yield _conform(self.make_rows(self.source.slice(offset, self.chunk_rows)), self.mart, presorted=True)

    def collect(self) -> pl.DataFrame:
        return pl.concat(list(self.chunks()))


def previous_on_this_list(previous_poverty: pl.DataFrame | None, units: pl.DataFrame,
                          geography_version: str) -> pl.LazyFrame | None:
    """Last year's poverty rows keyed by this year's units, for the change in points (`rows_on_this_list`);
    None when none of them is on, or can be restated on, this year's list: no change rather than a wrong one."""
    if previous_poverty is None:
        return None
    rows = rows_on_this_list(previous_poverty, units, geography_version, keys=("ethnic_group", "area"))
    return rows.lazy() if rows.height else None


def rows_on_this_list(rows: pl.DataFrame, units: pl.DataFrame, geography_version: str, *,
                      keys: tuple[str, ...]) -> pl.DataFrame:
    """Poverty rows of any years keyed by this year's units (for comparisons over several years): rows on
    this list as they are; rows on the pre-reform list, when this list is the post-reform one, restated
    through the conversion table (their headline counts and rates only; transforms.restate); rows of any
    other list left out, so that they are never compared with a different territory that has the same code."""
    from schemas.geography import VERSION_POST_REFORM, VERSION_PRE_REFORM, conversion_table
    from transforms.restate import predecessors, restate_counts, with_headline_rates

    parts = [rows.filter(pl.col("geography_version") == geography_version)]
    older = rows.filter(pl.col("geography_version") == VERSION_PRE_REFORM)
    if geography_version == VERSION_POST_REFORM and older.height:
        restated = restate_counts(older.lazy(), predecessors(conversion_table(), units), keys=keys)
        parts.append(with_headline_rates(restated).collect()
                     .with_columns(geography_version=pl.lit(geography_version)))
    return pl.concat(parts, how="diagonal_relaxed")


def _check_one_household_per_disagreement(disagreeing: pl.DataFrame, totals: pl.DataFrame) -> None:
    """Each listed disagreement is one household, and the list holds every one the counts hold. Ingest
    rejects a file that repeats a household id, so this fails only on staging written some other way;
    it fails loudly rather than list two households as one."""
    merged = disagreeing.filter(pl.col("households_in_group") != 1)
    counted = int(totals.get_column("classification_disagreements").sum() or 0)
    if merged.height or disagreeing.height != counted:
        example = merged.row(0, named=True) if merged.height else {}
        raise BuildError(
            f"staging repeats household ids, so disagreements cannot be listed one household per row "
            f"(listed {disagreeing.height}, counted {counted}; e.g. {example.get('household_id')!r} in "
            f"submission {example.get('submission_id')!r})")


def build_year(year: int, submissions: Sequence[Any], *, hierarchy: pl.DataFrame, geography_version: str,
               standards: Mapping[str, Mapping], default_standard: str | None = None,
               previous_poverty: pl.DataFrame | None = None, tolerance: Tolerance = Tolerance(),
               ) -> dict[str, pl.DataFrame | ChunkedRows]:
    """Every mart's rows for one review year, from plain inputs.

    submissions: the current accepted submissions of that year (SubmissionInput or registry records), each
    with its staging Parquet; hierarchy: schemas.geography.hierarchy_at(review_date(year)); standards: the
    content of every standard the submissions name (plus default_standard, used where a household row
    names none); previous_poverty: last year's poverty_by_ethnicity rows, for the change in points.
    Returns {mart name: DataFrame} conformed to schemas.marts (sorted, typed); deprivation_by_area, twelve
    times larger, comes as ChunkedRows (write_partition writes it chunk by chunk; .collect() for all).
    """
    submissions = [s for s in submissions if int(s.year) == int(year)]
    by_kind: dict[str, list[Path]] = {}
    for submission in sorted(submissions, key=lambda s: s.submission_id):
        by_kind.setdefault(submission.kind, []).append(Path(submission.staging_path))

    households = scan_staging(by_kind.get("household", []), HOUSEHOLD)
    if default_standard is not None:
        households = households.with_columns(pl.col("standard").fill_null(default_standard))
    classified = classify_households(households, standards)
    # The one pass over households: small groups, from which the cells and the list of disagreeing
    # households are both cut (collect_all of two queries on the shared scan would hold every household).
    groups = household_groups(classified).collect(engine="streaming")
    household_cells = cells_from_groups(groups.lazy()).collect()
    disagreement_totals = disagreement_counts(household_cells.lazy()).collect()
    disagreeing = disagreements_from_groups(groups.lazy()).collect()
    del groups
    _check_one_household_per_disagreement(disagreeing, disagreement_totals)
    disagreements = with_commune_counts(disagreeing.drop("households_in_group").lazy(), disagreement_totals.lazy())

    units = units_from_hierarchy(hierarchy)
    household_cells = add_group_totals(household_cells.lazy()).collect().lazy()
    summaries = summary_cells(scan_staging(by_kind.get("area_summary", []), AREA_SUMMARY)).collect().lazy()

    lowest = choose_lowest_sources(household_cells, summaries, units).collect().lazy()
    rolled = roll_up(lowest, units, summaries)
    previous = previous_on_this_list(previous_poverty, units, geography_version)
    poverty = (add_place(add_change_from_previous(add_rates(rolled), previous), units, geography_version)
               .with_columns(year=pl.lit(year, dtype=pl.Int64))
               .collect())

    if by_kind.get("area_summary"):
        own_lowest = choose_lowest_sources(household_cells, summaries, units, own_data_only=True).collect().lazy()
        detail = roll_up(own_lowest, units, None)
        reconciliation = reconcile(summaries, detail, units, detail_submissions(own_lowest, units),
                                   absolute_tolerance=tolerance.absolute, relative_tolerance=tolerance.relative
                                   ).with_columns(year=pl.lit(year, dtype=pl.Int64))
    else:   # no summary was submitted: nothing to compare the detail with (and a roll-up spared)
        reconciliation = pl.LazyFrame(schema=MARTS["reconciliation"].polars_schema())

    everyone = pl.col("ethnic_group") == ALL_GROUPS
    households_listed = (household_cells.filter(everyone & (pl.col("area") == ALL_AREAS))
                         .group_by("unit_code").agg(pl.col("households_total").sum().alias("households_listed")))
    figures_source = poverty.lazy().filter(everyone & (pl.col("area") == ALL_AREAS)).select(
        "level", "unit_code", pl.col("source_level").alias("figures_source_level"))
    coverage = submission_coverage(
        units, _submission_frame(submissions), year=year, households_listed=households_listed,
        disagreements=disagreement_totals.lazy().select("unit_code", "classification_disagreements"),
        figures_source=figures_source).with_columns(
        geography_version=pl.lit(geography_version))

    # Sorted once here; the wide indicator columns are kept for the deprivation mart, then dropped.
    poverty = poverty.sort(list(MARTS["poverty_by_ethnicity"].sort_key), maintain_order=True)
    return {
        "poverty_by_area": _conform(poverty.filter(everyone), MARTS["poverty_by_area"], presorted=True),
        "poverty_by_ethnicity": _conform(poverty, MARTS["poverty_by_ethnicity"], presorted=True),
        "deprivation_by_area": ChunkedRows(MARTS["deprivation_by_area"], poverty, _deprivation_long),
        "reconciliation": _conform(reconciliation, MARTS["reconciliation"]),
        "submission_coverage": _conform(coverage, MARTS["submission_coverage"]),
        "classification_disagreements": _conform(disagreements, MARTS["classification_disagreements"]),
    }


# --- writing --------------------------------------------------------------------------------------------

def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def partition_path(root: Path, mart_name: str, year: int) -> Path:
    return root / mart_name / f"year={int(year)}" / PARQUET_FILE


def write_year(frames: Mapping[str, pl.DataFrame | ChunkedRows], root: Path, year: int,
               progress: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Writes one year's partition of every mart under root; returns {mart: file entry for the manifest}."""
    entries = {}
    for name in MARTS:
        path = partition_path(root, name, year)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = write_partition(frames[name], path)
        entries[name] = _file_entry(root, path, year, rows)
        if progress is not None:
            progress(f"{name} year={year}: {rows} rows")
    return entries


def write_partition(frame: pl.DataFrame | ChunkedRows, path: Path) -> int:
    """One Parquet file with fixed settings (same rows in, same bytes out); returns the rows written."""
    if isinstance(frame, pl.DataFrame):
        frame.write_parquet(path, **PARQUET_OPTIONS)
        return frame.height
    import pyarrow.parquet as pq

    schema = pl.DataFrame(schema=frame.mart.polars_schema()).to_arrow().schema
    rows = 0
    with pq.ParquetWriter(path, schema, compression=PARQUET_OPTIONS["compression"],
                          compression_level=PARQUET_OPTIONS["compression_level"], write_statistics=True) as writer:
        for chunk in frame.chunks():
            if chunk.height:
                writer.write_table(chunk.to_arrow().cast(schema), row_group_size=PARQUET_OPTIONS["row_group_size"])
                rows += chunk.height
    return rows


def _file_entry(root: Path, path: Path, year: int, rows: int) -> dict:
    return {"path": path.relative_to(root).as_posix(), "year": int(year), "rows": int(rows),
            "bytes": path.stat().st_size, "sha256": sha256_of(path)}


# --- the whole build ------------------------------------------------------------------------------------

def code_version() -> dict[str, str | None]:
    """lnob's version and, when the code runs from a git checkout, its commit."""
    try:
        from importlib.metadata import version
        lnob_version = version("lnob")
    except Exception:  # noqa: BLE001 - an uninstalled tree still builds
        lnob_version = None
    commit = None
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                                capture_output=True, text=True, timeout=5, check=False)
        if result.returncode == 0:
            commit = result.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return {"lnob": lnob_version, "git_commit": commit}


def _mart_manifest(mart: Mart) -> dict:
    return {
        "grain": mart.grain, "label_vi": mart.label_vi, "label_en": mart.label_en,
        "partition_by": list(mart.partition_by), "sort_key": list(mart.sort_key),
        "schema": [{"name": c.name, "dtype": str(c.dtype), "label_vi": c.label_vi, "label_en": c.label_en,
                    "unit": c.unit} for c in mart.columns],
    }


def _submission_entry(submission: Any) -> dict:
    received = _as_utc(getattr(submission, "received_at", None))
    return {"submission_id": submission.submission_id, "level": submission.level,
            "unit_code": submission.unit_code, "year": int(submission.year), "kind": submission.kind,
            "standard": submission.standard, "content_hash": getattr(submission, "content_hash", None),
            "received_at": received.isoformat() if received else None}


def _read_manifest(folder: Path | None) -> dict | None:
    if folder is None or not (folder / MANIFEST).is_file():
        return None
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def build_marts(settings, year: int | None = None, registry=None, *, tolerance: Tolerance | None = None,
                progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build and publish a new mart version; one build at a time (see `_build_marts`)."""
    from store.publish import exclusive_build

    with exclusive_build(settings):
        return _build_marts(settings, year, registry, tolerance=tolerance, progress=progress)


def _build_marts(settings, year: int | None = None, registry=None, *, tolerance: Tolerance | None = None,
                 progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build a new mart version from the registry's current accepted submissions and make it current.

    year=None rebuilds every year that has accepted submissions; with a year, only that year is rebuilt and
    the other years' partitions are copied unchanged from the current version. A build that fails or is
    killed never becomes current (store.publish). `progress` receives one line per step.
    """
    from schemas.geography import geography_version, hierarchy_at, review_date
    from schemas.standards import load_standard, standard_for_year
    from store import publish as publishing
    from store.registry import Registry

    say = progress or (lambda message: None)
    tolerance = tolerance or Tolerance()
    registry = registry or Registry(settings.database_url)
    publishing.clean_abandoned(settings)
    accepted = registry.current_accepted()
    years = sorted({int(s.year) for s in accepted}) if year is None else [int(year)]
    if not years:
        raise BuildError("no accepted submissions yet: nothing to build "
                         "(chưa có bản nộp nào được chấp nhận: không có gì để tổng hợp)")

    previous_folder = publishing.current_path(settings)
    previous_manifest = _read_manifest(previous_folder)
    version, building_dir = publishing.start_version(settings)
    say(f"building version {version}")
    manifest: dict[str, Any] = {
        "version": version,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "parameters": {"absolute_tolerance": tolerance.absolute, "relative_tolerance": tolerance.relative},
        "years": {},
        "marts": {name: {**_mart_manifest(m), "row_count": 0, "files": []} for name, m in ALL_MARTS.items()},
    }
    built_poverty: dict[int, pl.DataFrame] = {}     # only last year's is kept: it gives the change in points
    for build_year_value in years:
        on = review_date(build_year_value)
        year_submissions = sorted((s for s in accepted if int(s.year) == build_year_value),
                                  key=lambda s: s.submission_id)
        default_standard = standard_for_year(build_year_value)
        standard_ids = {s.standard for s in year_submissions if s.standard} | {default_standard}
        standards = {sid: load_standard(sid) for sid in sorted(standard_ids)}
        previous_poverty = built_poverty.get(build_year_value - 1)
        if previous_poverty is None and previous_folder is not None:
            previous_file = partition_path(previous_folder, "poverty_by_ethnicity", build_year_value - 1)
            if previous_file.is_file():
                previous_poverty = pl.read_parquet(previous_file)
        say(f"year {build_year_value}: {len(year_submissions)} accepted submissions")
        frames = build_year(build_year_value, year_submissions, hierarchy=hierarchy_at(on),
                            geography_version=geography_version(on), standards=standards,
                            default_standard=default_standard, previous_poverty=previous_poverty,
                            tolerance=tolerance)
        built_poverty = {build_year_value: frames["poverty_by_ethnicity"]}
        for name, entry in write_year(frames, building_dir, build_year_value, say).items():
            manifest["marts"][name]["files"].append(entry)
        manifest["years"][str(build_year_value)] = {
            "built": True, "geography_version": geography_version(on), "standards": sorted(standard_ids),
            "submissions": [_submission_entry(s) for s in year_submissions],
        }

    carried: list[int] = []
    if year is not None and previous_manifest is not None:
        for year_key, year_entry in sorted(previous_manifest.get("years", {}).items()):
            if int(year_key) in years:
                continue
            for name in ALL_MARTS:
                for entry in previous_manifest["marts"].get(name, {}).get("files", []):
                    if int(entry["year"]) != int(year_key):
                        continue
                    target = building_dir / entry["path"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(previous_folder / entry["path"], target)
                    manifest["marts"][name]["files"].append(_file_entry(building_dir, target, entry["year"],
                                                                        entry["rows"]))
            manifest["years"][year_key] = {**year_entry, "built": False,
                                           "carried_from": previous_manifest.get("version")}
            carried.append(int(year_key))
        say(f"carried unchanged from {previous_manifest.get('version')}: {carried or 'no other year'}")

    # Exit candidates and targets read this version's poverty marts (and earlier years' for baselines).
    from pipeline.exits import build_exit_marts

    for built in years:
        for name, rows in build_exit_marts(settings, building_dir, built, progress=say).items():
            manifest["marts"][name]["files"].append(
                _file_entry(building_dir, partition_path(building_dir, name, built), built, rows))

    for name in ALL_MARTS:
        files = sorted(manifest["marts"][name]["files"], key=lambda e: e["path"])
        manifest["marts"][name]["files"] = files
        manifest["marts"][name]["row_count"] = sum(e["rows"] for e in files)
    manifest["years"] = dict(sorted(manifest["years"].items()))
    manifest["submission_ids"] = sorted(
        s["submission_id"] for entry in manifest["years"].values() for s in entry["submissions"])
    (building_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False)
                                         + "\n", encoding="utf-8")
    published = publishing.publish(settings, version, building_dir)
    registry.record_publish(version, manifest_path=published / MANIFEST, action="publish",
                            submission_ids=manifest["submission_ids"])
    say(f"published {version} at {published}")
    return BuildResult(version=version, path=published, manifest=manifest, built_years=years,
                       carried_years=carried)


def read_mart(folder: Path, name: str) -> pl.DataFrame:
    """Every partition of one mart of a published version, as one frame (for commands and tests)."""
    files = sorted((folder / name).glob("year=*/*.parquet"))
    if not files:
        return pl.DataFrame(schema=ALL_MARTS[name].polars_schema())
    return pl.concat([pl.read_parquet(f) for f in files])

