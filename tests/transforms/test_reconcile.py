"""Reconciliation: a higher level's summary against the roll-up of what its units sent."""

from __future__ import annotations

import polars as pl

from tests.transforms.conftest import (
    RURAL_LINE,
    STANDARDS,
    hierarchy_pre_reform,
    household,
    households_frame,
    summaries_frame,
    summary_row,
)
from transforms.classify import classify_households
from transforms.reconcile import detail_submissions, reconcile
from transforms.rollup import (
    add_group_totals,
    aggregate_households,
    choose_lowest_sources,
    roll_up,
    units_from_hierarchy,
)
from transforms.summaries import summary_cells

POOR = {"income": RURAL_LINE, "deprivations": 3}
NOT_POOR = {"income": 9_000_000}


def households() -> list[dict]:
    """District 001: commune 00001 has 3 households (1 poor), 00002 has 2 (1 poor)."""
    return [household("00001", "a", **POOR), household("00001", "b", **NOT_POOR),
            household("00001", "c", **NOT_POOR), household("00002", "d", **POOR),
            household("00002", "e", **NOT_POOR)]


def reconciled(summary_rows: list[dict], *, absolute: int = 0, relative: float = 0.0,
               household_rows: list[dict] | None = None) -> pl.DataFrame:
    units = units_from_hierarchy(hierarchy_pre_reform())
    classified = classify_households(households_frame(household_rows or households()).lazy(), STANDARDS)
    cells = add_group_totals(aggregate_households(classified))
    summaries = summary_cells(summaries_frame(summary_rows).lazy())
    own = choose_lowest_sources(cells, summaries, units, own_data_only=True).collect().lazy()
    detail = roll_up(own, units, None)
    return reconcile(summaries, detail, units, detail_submissions(own, units), absolute_tolerance=absolute,
                     relative_tolerance=relative).collect().sort("unit_code", "measure")


def district_summary(**counts) -> dict:
    return summary_row("001", submission_id="D001", submitting_level="district", submitting_unit="001", **counts)


def test_a_planted_discrepancy_is_reported_with_both_values_and_the_submissions():
    # The district says 4 poor households; its communes' lists hold 1 + 1 = 2.
    found = reconciled([district_summary(total=5, poor=4, near_poor=0)])
    assert found.height == 1
    discrepancy = found.row(0, named=True)
    assert (discrepancy["level"], discrepancy["unit_code"], discrepancy["measure"]) == (
        "district", "001", "households_poor")
    assert (discrepancy["summary_value"], discrepancy["detail_value"], discrepancy["difference"]) == (4, 2, 2)
    assert discrepancy["relative_difference"] == 100.0
    assert discrepancy["summary_submission_id"] == "D001"
    assert discrepancy["detail_submission_ids"] == "H00001,H00002"


def test_rows_the_district_sends_for_its_communes_are_checked_against_each_communes_own_data():
    found = reconciled([
        summary_row("00001", submission_id="D001", submitting_level="district", submitting_unit="001",
                    total=3, poor=1, near_poor=0),
        summary_row("00002", submission_id="D001", submitting_level="district", submitting_unit="001",
                    total=3, poor=1, near_poor=0),
    ])
    assert found.select("unit_code", "measure", "summary_value", "detail_value").rows() == [
        ("00002", "households_total", 3, 2)]
    assert found["detail_submission_ids"].to_list() == ["H00002"]


def test_agreement_is_not_reported():
    assert reconciled([district_summary(total=5, poor=2, near_poor=0)]).height == 0


def test_a_difference_must_exceed_both_tolerances():
    summary = [district_summary(total=6, poor=2, near_poor=0)]      # total: 6 against 5, +1 (20 %)
    assert reconciled(summary, absolute=0, relative=0.0).height == 1
    assert reconciled(summary, absolute=1, relative=0.0).height == 0     # not more than 1 household
    assert reconciled(summary, absolute=0, relative=0.2).height == 0     # not more than 20 %
    assert reconciled(summary, absolute=0, relative=0.19).height == 1


def test_a_unit_whose_detail_is_incomplete_cannot_be_compared():
    # Province 01 also has commune 00003 and the island district, which sent nothing.
    province = summary_row("01", submission_id="P01", submitting_level="province", submitting_unit="01",
                           total=1000, poor=999, near_poor=0)
    assert reconciled([province]).height == 0


def test_a_communes_own_summary_is_its_detail_not_a_second_opinion():
    own = summary_row("00003", submission_id="C3", submitting_level="commune", submitting_unit="00003",
                      total=4, poor=1, near_poor=1)
    district = summary_row("00003", submission_id="D002", submitting_level="district", submitting_unit="002",
                           total=4, poor=2, near_poor=1)
    found = reconciled([own, district])
    assert found.select("unit_code", "measure", "summary_value", "detail_value", "summary_submission_id").rows() == [
        ("00003", "households_poor", 2, 1, "D002")]
    assert found["detail_submission_ids"].to_list() == ["C3"]
