"""Submission coverage: every expected unit, whether it sent data, and whether it was before the legal
deadlines (before 15 November preliminary, before 20 December official, in Vietnam time)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from tests.transforms.conftest import hierarchy_pre_reform
from transforms.coverage import SUBMISSIONS_SCHEMA, submission_coverage
from transforms.rollup import units_from_hierarchy


def submission(submission_id: str, level: str, unit_code: str, received_at: datetime, kind: str = "household",
               findings: int = 0, warnings: int = 0) -> dict:
    return {"submission_id": submission_id, "level": level, "unit_code": unit_code, "kind": kind,
            "standard": "nd07_2021", "received_at": received_at, "findings_count": findings,
            "warnings_count": warnings}


def coverage(rows: list[dict], *, year: int = 2024) -> dict[tuple[str, str], dict]:
    empty = lambda schema: pl.LazyFrame(schema=schema)
    frame = submission_coverage(
        units_from_hierarchy(hierarchy_pre_reform()), pl.LazyFrame(rows, schema=SUBMISSIONS_SCHEMA), year=year,
        households_listed=pl.LazyFrame({"unit_code": ["00001"], "households_listed": [12]}),
        disagreements=pl.LazyFrame({"unit_code": ["00001"], "classification_disagreements": [3]}),
        figures_source=empty({"level": pl.String, "unit_code": pl.String, "figures_source_level": pl.String}),
    ).collect()
    return {(r["level"], r["unit_code"]): r for r in frame.iter_rows(named=True)}


def test_every_commune_district_and_province_of_the_list_has_a_row():
    rows = coverage([])
    assert sorted(rows) == sorted([("commune", c) for c in ("00001", "00002", "00003", "00004", "00005")]
                                  + [("district", d) for d in ("001", "002", "003", "004", "005")]
                                  + [("province", p) for p in ("01", "02", "03")])
    assert not any(r["submitted"] for r in rows.values())
    assert all(r["on_time_preliminary"] is None for r in rows.values())


def test_deadlines_are_read_in_vietnam_time_and_before_means_strictly_before():
    rows = coverage([
        # 16:59 UTC on 14 Nov = 23:59 on 14 Nov in Hanoi: on time for the preliminary report.
        submission("S1", "commune", "00001", datetime(2024, 11, 14, 16, 59, tzinfo=UTC)),
        # 17:00 UTC on 14 Nov = 00:00 on 15 Nov in Hanoi: late for the preliminary, on time for the official.
        submission("S2", "commune", "00002", datetime(2024, 11, 14, 17, 0, tzinfo=UTC)),
        # 19 Dec 23:30 in Hanoi: on time; 20 Dec 00:30 in Hanoi: late for both.
        submission("S3", "commune", "00003", datetime(2024, 12, 19, 16, 30, tzinfo=UTC)),
        submission("S4", "district", "001", datetime(2024, 12, 19, 17, 30, tzinfo=UTC)),
    ])
    flags = {key: (r["on_time_preliminary"], r["on_time_official"]) for key, r in rows.items() if r["submitted"]}
    assert flags == {("commune", "00001"): (True, True), ("commune", "00002"): (False, True),
                     ("commune", "00003"): (False, True), ("district", "001"): (False, False)}
    assert str(rows[("district", "001")]["received_date_local"]) == "2024-12-20"


def test_the_latest_accepted_version_and_all_kinds_are_shown_with_their_findings():
    rows = coverage([
        submission("S9", "commune", "00001", datetime(2024, 11, 1, tzinfo=UTC), warnings=2),
        submission("S8", "commune", "00001", datetime(2024, 12, 25, tzinfo=UTC), kind="area_attributes",
                   findings=0, warnings=1),
    ])
    commune = rows[("commune", "00001")]
    assert commune["submission_kinds"] == "area_attributes,household"
    assert commune["submission_ids"] == "S8,S9"
    assert commune["warnings_count"] == 3
    assert commune["on_time_official"] is False          # the version in use came after 20 December
    assert (commune["households_listed"], commune["classification_disagreements"]) == (12, 3)


def test_a_unit_missing_from_the_list_still_gets_its_row():
    rows = coverage([submission("S1", "commune", "99999", datetime(2024, 11, 1, tzinfo=UTC))])
    stray = rows[("commune", "99999")]
    assert stray["submitted"] is True and stray["parent_code"] is None
