"""Official or preliminary: a unit's figures are official when it and everything beneath it is approved."""

from __future__ import annotations

import polars as pl

from transforms.approval import APPROVED_SCHEMA, figures_status

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
