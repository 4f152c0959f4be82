"""The demo: one review season, end to end, on generated data (see `synthetic/demo_season.py`).

Generate, submit (good and broken files), validate in batches, build, evaluate, publish, report.
Re-running the demo is idempotent: the same files are recognised as already submitted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from synthetic.demo_season import (
    REVIEWED_ONLY_DISTRICT,
    YEARS,
    Say,
    attributes_file,
    broken_copy,
    deliberately_broken,
    generate_season,
    reviewed_only,
)

BATCH = 200


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


def _reviewed_only_communes() -> dict[int, set[str]]:
    """Per demo year, the communes of REVIEWED_ONLY_DISTRICT."""
    from schemas.geography import hierarchy_at, review_date

    return {year: set(hierarchy_at(review_date(year)).filter(
        pl.col("district_code") == REVIEWED_ONLY_DISTRICT)["commune_code"].drop_nulls().to_list())
        for year in YEARS}


def run_demo(settings, data_dir: Path, say: Say = print) -> DemoResult:
    """Generate, submit (good and broken files), validate in batches, build, evaluate, publish, report."""
    from documents.national_report import write_report
    from pipeline.build import build_marts
    from pipeline.drain import drain_pending
    from pipeline.intake import submit
    from pipeline.status_lists import load_shipped_lists
    from store.registry import Registry

    started = time.monotonic()
    result = DemoResult(data_dir=data_dir)
    registry = Registry(settings.database_url)
    files = generate_season(data_dir, say)

    say(f"submitting {len(files)} files (kept in landing/, recorded, validated in batches of {BATCH}) …")
    verdicts: dict[str, dict] = {}
    reviewed_communes = _reviewed_only_communes()
    listed = resident = 0
    for root, generated in files:
        if generated.kind == "household" and generated.unit in reviewed_communes.get(generated.year, ()):
            # This commune lists only the households it reviewed; its resident totals come in its own summary.
            reviewed_list, totals = reviewed_only(root / generated.path, data_dir / "reviewed" / str(generated.year))
            listed += pl.read_csv(reviewed_list, infer_schema=False).height
            resident += generated.rows
            for path, kind in ((reviewed_list, "household"), (totals, "area_summary")):
                verdict = submit(settings, path, level="commune", unit_code=generated.unit, year=generated.year,
                                 kind=kind, submitter="lnob demo", registry=registry, validate=False)
                verdicts[verdict["submission_id"]] = verdict
            continue
        # The other generated lists hold every resident household of their commune: declared complete.
        verdict = submit(settings, root / generated.path, level=generated.level, unit_code=generated.unit,
                         year=generated.year, kind=generated.kind, submitter="lnob demo", registry=registry,
                         validate=False, lists_every_household=generated.kind == "household")
        verdicts[verdict["submission_id"]] = verdict
    say(f"  district {REVIEWED_ONLY_DISTRICT}'s communes sent reviewed-only lists: {listed:,} households listed, "
        f"rates over their {resident:,} resident households (from the communes' own summaries)")
    for year in YEARS:
        attributes, _ = attributes_file(data_dir, year)
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
    # The largest commune list: the broken copy edits its 3rd, 5th and 7th rows, and at the demo's scale a
    # small commune has fewer.
    commune_root, commune = max(((root, f) for root, f in files
                                 if f.level == "commune" and f.year == last and f.format == "csv"
                                 and f.unit not in reviewed_communes.get(last, ())),
                                key=lambda pair: pair[1].rows)
    commune_file = commune_root / commune.path
    district_file = next(root / f.path for root, f in files if f.level == "district" and f.year == last)
    say("submitting deliberately broken files …")
    for case in deliberately_broken(data_dir, commune_file, district_file):
        verdict = submit(settings, case["path"], level=case["level"], unit_code=case["unit"], year=case["year"],
                         submitter="lnob demo", registry=registry)
        result.broken.append({**case, "verdict": verdict})

    say("a commune resubmits a corrected file …")
    corrected = broken_copy(commune_file, data_dir / "corrected" / commune_file.name,
                             lambda rows: rows[0].update(village=(rows[0].get("village") or "") + " (sửa)"))
    result.superseding = submit(settings, corrected, level="commune", unit_code=commune_file.stem, year=last,
                                kind="household", submitter="lnob demo", registry=registry,
                                lists_every_household=True)

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
