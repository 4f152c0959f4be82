"""Official or preliminary: a unit's figures are official when it and everything beneath it is approved."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from transforms.approval import (
    APPROVALS_SCHEMA,
    APPROVED_SCHEMA,
    UNITS_SCHEMA,
    approval_coverage,
    figures_status,
)

UNITS = pl.DataFrame({
    "unit_code": ["10001", "10002", "10003", "101", "102", "103", "10", "20", "north", "VN"],
    "level": ["commune", "commune", "commune", "district", "district", "district", "province", "province",
              "region", "national"],
    "parent_code": ["101", "101", "102", "10", "10", "10", "north", "north", "VN", None],
})


def _status(approved: list[tuple[str, str]]) -> dict[str, tuple[str, int | None]]:
    frame = figures_status(UNITS.lazy(), pl.DataFrame(approved, schema=APPROVED_SCHEMA, orient="row").lazy())
    return {code: (status, count) for _level, code, status, count in frame.collect().iter_rows()}


def test_nothing_approved_is_preliminary_everywhere():
    status = _status([])
    assert {s for s, _ in status.values()} == {"preliminary"}
    assert status["10001"] == ("preliminary", None) and status["101"] == ("preliminary", 0)


def test_a_unit_is_official_only_with_everything_beneath_it():
    approved = [("commune", "10001"), ("commune", "10002"), ("district", "101"), ("district", "103"),
                ("commune", "10003")]
    status = _status(approved)
    assert status["101"] == ("official", 2)
    assert status["103"] == ("official", None)          # a district without communes: its own approval
    assert status["102"] == ("preliminary", 1)          # its commune is approved, it is not
    assert status["10"] == ("preliminary", 2)
    status = _status([*approved, ("district", "102"), ("province", "10")])
    assert status["10"] == ("official", 3)
    assert status["north"] == ("preliminary", 1)        # province 20 is not approved
    assert status["VN"] == ("preliminary", 0)
    status = _status([*approved, ("district", "102"), ("province", "10"), ("province", "20")])
    assert status["north"] == ("official", 2) and status["VN"] == ("official", 1)


def test_an_approved_unit_over_an_unapproved_one_is_not_official():
    # Reopening a commune reopens what is above it; should a stale approval remain, the figures still say so.
    status = _status([("commune", "10001"), ("district", "101")])
    assert status["101"] == ("preliminary", 1)


# --- the approval view of coverage ------------------------------------------------------------------------

PLACES = UNITS.with_columns(province_code=pl.Series(["10", "10", "10", "10", "10", "10", "10", "20", None, None]),
                            region_key=pl.Series(["north"] * 9 + [None]))
DEADLINE = date(2024, 12, 20)


def _coverage(submitted, accepted, approvals, *, deadline=DEADLINE) -> dict[str, dict]:
    frame = approval_coverage(
        PLACES.lazy(), pl.DataFrame(submitted, schema=UNITS_SCHEMA, orient="row").lazy(),
        pl.DataFrame(accepted, schema=UNITS_SCHEMA, orient="row").lazy(),
        pl.DataFrame(approvals, schema=APPROVALS_SCHEMA, orient="row").lazy(),
        year=2024, deadline=deadline, deadline_confirmed=True, time_zone="Asia/Ho_Chi_Minh").collect()
    return {row["province_code"]: row for row in frame.iter_rows(named=True)}


def _utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_approval_coverage_counts_each_level_of_a_province():
    submitted = [("commune", "10001"), ("commune", "10002"), ("commune", "10003"), ("district", "101")]
    accepted = [("commune", "10001"), ("commune", "10002"), ("district", "101")]
    approvals = [("commune", "10001", "approved", "district 101", _utc(2024, 11, 1)),
                 ("commune", "10002", "returned", "district 101", _utc(2024, 11, 2)),
                 ("district", "103", "approved", "province 10", _utc(2024, 11, 3))]
    rows = _coverage(submitted, accepted, approvals)
    ten = rows["10"]
    assert (ten["communes_expected"], ten["communes_submitted"], ten["communes_accepted"],
            ten["communes_approved"], ten["communes_returned"], ten["communes_awaiting_approval"]) == (3, 3, 2, 1, 1, 0)
    # District 101 has accepted data and no approval: it awaits; 103 was approved with no submission of its own.
    assert (ten["districts_expected"], ten["districts_submitted"], ten["districts_accepted"],
            ten["districts_approved"], ten["districts_returned"], ten["districts_awaiting_approval"]) == (3, 1, 1, 1, 0, 1)
    assert ten["province_approval_state"] is None and ten["approval_timing"] == "not_yet"
    assert rows["20"]["communes_expected"] == 0 and rows["20"]["province_submitted"] is False
    assert set(rows) == {"10", "20"}


def test_the_province_approval_is_on_time_only_strictly_before_the_deadline_in_vietnam_time():
    # 19 December 16:59 UTC is 23:59 in Vietnam: on time; 17:00 UTC is already the 20th there: late.
    rows = _coverage([], [], [("province", "10", "approved", "operator", _utc(2024, 12, 19, 16, 59)),
                              ("province", "20", "approved", "operator", _utc(2024, 12, 19, 17, 0))])
    assert rows["10"]["approval_timing"] == "on_time" and rows["10"]["province_approved_date_local"] == date(2024, 12, 19)
    assert rows["20"]["approval_timing"] == "late" and rows["20"]["province_approved_date_local"] == date(2024, 12, 20)
    assert rows["10"]["approval_deadline"] == DEADLINE and rows["10"]["province_approval_by"] == "operator"


def test_a_reopened_province_is_not_yet_approved_and_no_deadline_means_no_timing():
    reopened = [("province", "10", "reopened", "operator", _utc(2024, 12, 1))]
    rows = _coverage([("province", "10")], [("province", "10")], reopened)
    assert rows["10"]["province_approval_state"] == "reopened" and rows["10"]["approval_timing"] == "not_yet"
    assert rows["10"]["province_approved_date_local"] is None
    rows = _coverage([], [], reopened, deadline=None)
    assert rows["10"]["approval_timing"] is None and rows["10"]["deadline_confirmed"] is None
