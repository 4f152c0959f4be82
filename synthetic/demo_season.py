"""The demo's review season: which files are generated, and which are broken on purpose.

Hà Giang (02) sends its full household lists (every commune), its districts and the province their
summaries; every other province sends only its province summary. So the national and regional
figures exist, and every row says where its numbers came from (`source_level`) and how complete they
are. The communes of one district (REVIEWED_ONLY_DISTRICT) send what the review really surveys: the
households on the lists and applicants only, with the commune's resident totals in its own summary, so
rates stay over every resident household. Every province is generated at the same SCALE, calibrated to the published results of its year
(synthetic/calibration.py), so the national and regional rates read like the ministry's: at 2 % of the
real household count (about 540,000 households a year) each region's rates sit within a few tenths of a
point of their targets and a year takes seconds to generate. A few files are broken on purpose to show
what a submitter is told; one commune resubmits a corrected file to show supersession. `lnob/demo.py` submits them and runs the night.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import polars as pl

DETAIL_PROVINCE = "02"          # Hà Giang: mountainous, mostly minority, seven poor districts (Decision 353)
YEARS = (2023, 2024)
SCALE = 0.02                    # share of every province's real household count generated
SEED = 7
REVIEWED_ONLY_DISTRICT = "026"  # Đồng Văn (Hà Giang): its communes send reviewed-only lists
APPLICANT_SHARE = 0.03          # households above the lines that asked to be reviewed

Say = Callable[[str], None]


def generate_season(data_dir: Path, say: Say) -> list:
    from schemas.geography import review_date, units_at
    from synthetic.review import write_synthetic_review

    files = []
    for year in YEARS:
        say(f"generating {year}: Hà Giang in household detail …")
        detail = write_synthetic_review(data_dir / "detail", year, provinces=[DETAIL_PROVINCE], seed=SEED,
                                        scale=SCALE, xlsx=False)
        files += [(data_dir / "detail", f) for f in detail.files]
        others = [code for code in units_at("province", review_date(year))["unit_code"].to_list()
                  if code != DETAIL_PROVINCE]
        say(f"generating {year}: {len(others)} other provinces as province summaries …")
        rest = write_synthetic_review(data_dir / "summaries", year, provinces=others, seed=SEED,
                                      scale=SCALE, levels=("province",))
        files += [(data_dir / "summaries", f) for f in rest.files if f.level == "province"]
        say(f"  {detail.households + rest.households:,} households generated")
    return files


def attributes_file(data_dir: Path, year: int) -> tuple[Path, list[str]]:
    """Facts the poor-district criteria need that household lists cannot give, one row per district."""
    from schemas.geography import review_date, units_at

    districts = units_at("district", review_date(year)).filter(pl.col("province_code") == DETAIL_PROVINCE)
    codes = districts["unit_code"].sort().to_list()
    frame = pl.DataFrame({
        "unit_code": codes,
        "is_mountainous_highland_or_border": [True] * len(codes),
        "new_rural_recognised": [False] * len(codes),
        "income_per_capita_year": [30_000_000.0 + 1_000_000.0 * i for i in range(len(codes))],
    })
    path = data_dir / "attributes" / f"{year}" / "district-attributes.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return path, codes


def broken_copy(source: Path, target: Path, breakage: Callable[[list[dict]], None]) -> Path:
    rows = list(csv.DictReader(io.StringIO(source.read_text(encoding="utf-8"))))
    breakage(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(buffer.getvalue(), encoding="utf-8")
    return target


def deliberately_broken(data_dir: Path, commune_file: Path, district_file: Path) -> list[dict]:
    """Files a statistician might really send, each wrong in a way lnob must locate and explain."""
    broken_dir = data_dir / "broken"

    def bad_households(rows: list[dict]) -> None:
        rows[2]["household_size"] = "0"
        rows[4]["head_ethnicity_code"] = "55"
        rows[6]["income_per_capita_month"] = "1.500,5,0"

    def poor_above_total(rows: list[dict]) -> None:
        row = next(r for r in rows if r["households_total"] not in ("", "0"))
        row["households_poor"] = str(int(row["households_total"]) + 5)

    garbage = broken_dir / "bao-cao.xlsx"
    garbage.parent.mkdir(parents=True, exist_ok=True)
    garbage.write_bytes(bytes(range(256)) * 8)
    unit = commune_file.stem
    district = district_file.stem
    return [
        {"what": "household list with impossible values", "path": broken_copy(
            commune_file, broken_dir / f"{unit}-bad.csv", bad_households),
         "level": "commune", "unit": unit, "year": YEARS[-1]},
        {"what": "district summary with more poor than households", "path": broken_copy(
            district_file, broken_dir / f"{district}-bad.csv", poor_above_total),
         "level": "district", "unit": district, "year": YEARS[-1]},
        {"what": "a file that is not a workbook", "path": garbage, "level": "commune", "unit": unit,
         "year": YEARS[-1]},
        {"what": "a district submission after districts were abolished (2025-07-01)", "path": district_file,
         "level": "district", "unit": district, "year": 2025},
    ]


def reviewed_only(full_list: Path, out_dir: Path, *, seed: int = SEED) -> tuple[Path, Path]:
    """A commune's complete household list → what a commune that lists only its reviewed households sends:
    the list of poor and near-poor households plus a few applicants (by its own classification), and its own
    area_summary with the resident totals by area (every other count left empty). Returns (list, summary)."""
    households = pl.read_csv(full_list, infer_schema=False)
    commune = full_list.stem
    applicant = (pl.col("household_id").hash(seed) % 10_000) < int(APPLICANT_SHARE * 10_000)
    reviewed = households.filter(pl.col("reported_classification").is_in(["poor", "near_poor"]) | applicant)
    by_area = households.group_by("area").agg(pl.len().alias("households_total"))
    totals = pl.concat([by_area, pl.DataFrame({"area": ["all"], "households_total": [households.height]},
                                              schema=by_area.schema)]).sort("area")
    summary = totals.select(pl.lit(commune).alias("unit_code"), pl.lit(None, dtype=pl.String).alias("village"),
                            pl.lit("ALL").alias("ethnic_group"), "area",
                            pl.col("households_total").cast(pl.Int64))
    list_path = out_dir / "commune" / f"{commune}.csv"
    summary_path = out_dir / "commune-totals" / f"{commune}.csv"
    for path in (list_path, summary_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    reviewed.write_csv(list_path)
    summary.write_csv(summary_path)
    return list_path, summary_path
