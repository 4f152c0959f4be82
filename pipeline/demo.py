"""The demo: one review season, end to end, on generated data.

Hà Giang (02) sends its full household lists (every commune), its districts and the province their
summaries; every other province sends only its province summary. So the national and regional
figures exist, and every row says where its numbers came from (`source_level`) and how complete they
are. A few files are broken on purpose to show what a submitter is told; one commune resubmits a
corrected file to show supersession. Then the night runs: build, exit candidates, targets, publish,
report. Re-running the demo is idempotent: the same files are recognised as already submitted.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

DETAIL_PROVINCE = "02"          # Hà Giang: mountainous, mostly minority, seven poor districts (Decision 353)
YEARS = (2023, 2024)
DETAIL_SCALE = 0.2              # share of Hà Giang's real household count generated
SUMMARY_SCALE = 0.01            # the rest of the country only feeds province summaries
SEED = 7
BATCH = 200

Say = Callable[[str], None]


@dataclass
class DemoResult:
    data_dir: Path
    submitted: int = 0
    accepted: int = 0
    rejected: int = 0
    broken: list[dict] = field(default_factory=list)
    superseding: dict | None = None
    version: str | None = None
    marts_path: Path | None = None
    report_path: Path | None = None
    seconds: float = 0.0


def _generate(data_dir: Path, say: Say) -> list:
    from pipeline.synthetic import write_synthetic_review
    from schemas.geography import review_date, units_at

    files = []
    for year in YEARS:
        say(f"generating {year}: Hà Giang in household detail …")
        detail = write_synthetic_review(data_dir / "detail", year, provinces=[DETAIL_PROVINCE], seed=SEED,
                                        scale=DETAIL_SCALE, xlsx=False)
        files += [(data_dir / "detail", f) for f in detail.files]
        others = [code for code in units_at("province", review_date(year))["unit_code"].to_list()
                  if code != DETAIL_PROVINCE]
        say(f"generating {year}: {len(others)} other provinces as province summaries …")
        rest = write_synthetic_review(data_dir / "summaries", year, provinces=others, seed=SEED,
                                      scale=SUMMARY_SCALE, levels=("province",))
        files += [(data_dir / "summaries", f) for f in rest.files if f.level == "province"]
        say(f"  {detail.households + rest.households:,} households generated")
    return files


def _attributes_file(data_dir: Path, year: int) -> tuple[Path, list[str]]:
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


def _broken_copy(source: Path, target: Path, breakage: Callable[[list[dict]], None]) -> Path:
    rows = list(csv.DictReader(io.StringIO(source.read_text(encoding="utf-8"))))
    breakage(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(buffer.getvalue(), encoding="utf-8")
    return target


def _deliberately_broken(data_dir: Path, commune_file: Path, district_file: Path) -> list[dict]:
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
        {"what": "household list with impossible values", "path": _broken_copy(
            commune_file, broken_dir / f"{unit}-bad.csv", bad_households),
         "level": "commune", "unit": unit, "year": YEARS[-1]},
        {"what": "district summary with more poor than households", "path": _broken_copy(
            district_file, broken_dir / f"{district}-bad.csv", poor_above_total),
         "level": "district", "unit": district, "year": YEARS[-1]},
        {"what": "a file that is not a workbook", "path": garbage, "level": "commune", "unit": unit,
         "year": YEARS[-1]},
        {"what": "a district submission after districts were abolished (2025-07-01)", "path": district_file,
         "level": "district", "unit": district, "year": 2025},
    ]


def run_demo(settings, data_dir: Path, say: Say = print) -> DemoResult:
    """Generate, submit (good and broken files), validate in batches, build, evaluate, publish, report."""
    from pipeline.build import build_marts
    from pipeline.exits import load_shipped_lists
    from pipeline.ingest import drain_pending, submit
    from pipeline.report import write_report
    from store.registry import Registry

    started = time.monotonic()
    result = DemoResult(data_dir=data_dir)
    registry = Registry(settings.database_url)
    files = _generate(data_dir, say)

    say(f"submitting {len(files)} files (kept in landing/, recorded, validated in batches of {BATCH}) …")
    verdicts: dict[str, dict] = {}
    for root, generated in files:
        verdict = submit(settings, root / generated.path, level=generated.level, unit_code=generated.unit,
                         year=generated.year, kind=generated.kind, submitter="lnob demo", registry=registry,
                         validate=False)
        verdicts[verdict["submission_id"]] = verdict
    for year in YEARS:
        attributes, _ = _attributes_file(data_dir, year)
        table = pl.read_csv(attributes, schema_overrides={"unit_code": pl.String})
        for district_code in table["unit_code"]:
            one = attributes.with_name(f"{district_code}.csv")
            table.filter(pl.col("unit_code") == district_code).write_csv(one)
            verdict = submit(settings, one, level="district", unit_code=district_code, year=year,
                             kind="area_attributes", submitter="lnob demo", registry=registry, validate=False)
            verdicts[verdict["submission_id"]] = verdict
    already = sum(v["duplicate"] for v in verdicts.values())
    drained = drain_pending(settings, batch_size=BATCH, registry=registry)
    verdicts.update({v["submission_id"]: v for v in drained})
    statuses = [v["status"] for v in verdicts.values()]
    result.submitted = len(verdicts)
    result.accepted, result.rejected = statuses.count("accepted"), statuses.count("rejected")
    say(f"  {result.submitted} submissions: {result.accepted} accepted, {result.rejected} rejected, "
        f"{statuses.count('superseded')} superseded since; {len(drained)} validated in this run, "
        f"{already} already submitted before")

    last = YEARS[-1]
    commune_file = next(root / f.path for root, f in files
                        if f.level == "commune" and f.year == last and f.format == "csv")
    district_file = next(root / f.path for root, f in files if f.level == "district" and f.year == last)
    say("submitting deliberately broken files …")
    for case in _deliberately_broken(data_dir, commune_file, district_file):
        verdict = submit(settings, case["path"], level=case["level"], unit_code=case["unit"], year=case["year"],
                         submitter="lnob demo", registry=registry)
        result.broken.append({**case, "verdict": verdict})

    say("a commune resubmits a corrected file …")
    corrected = _broken_copy(commune_file, data_dir / "corrected" / commune_file.name,
                             lambda rows: rows[0].update(village=(rows[0].get("village") or "") + " (sửa)"))
    result.superseding = submit(settings, corrected, level="commune", unit_code=commune_file.stem, year=last,
                                kind="household", submitter="lnob demo", registry=registry)

    say("loading the status lists shipped with lnob (Decision 353, 576, 1535) …")
    load_shipped_lists(settings)

    say("the nightly build: classify, reconcile, roll up, exit candidates, targets, publish …")
    built = build_marts(settings, registry=registry, progress=lambda line: say("  " + line))
    result.version, result.marts_path = built.version, built.path
    say("writing the national report …")
    result.report_path = write_report(settings, settings.home / "report.html",
                                      progress=lambda line: say("  " + line))
    result.seconds = time.monotonic() - started
    return result
