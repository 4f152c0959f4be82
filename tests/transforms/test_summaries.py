"""Summary cells: what a summary states is taken as written; what it leaves out but determines is derived
(Kinh = ALL − EM, zero everywhere in an empty unit) and marked so; nothing else is invented."""

from __future__ import annotations

import polars as pl
from conftest import hierarchy_pre_reform, household, households_frame, summaries_frame, summary_row

from transforms.classify import classify_households
from transforms.rollup import (
    add_group_totals,
    aggregate_households,
    choose_lowest_sources,
    roll_up,
    units_from_hierarchy,
)
from transforms.summaries import summary_cells

PROVINCE = {"submission_id": "P01", "submitting_level": "province", "submitting_unit": "01"}


def cells(rows: list[dict]) -> pl.DataFrame:
    return summary_cells(summaries_frame(rows).lazy()).collect()


def cell(frame: pl.DataFrame, unit: str, group: str, area: str = "all") -> dict | None:
    selected = frame.filter(pl.col("unit_code") == unit, pl.col("ethnic_group") == group, pl.col("area") == area)
    return selected.row(0, named=True) if selected.height else None


def test_kinh_is_all_minus_ethnic_minorities_and_marked_derived():
    frame = cells([summary_row("001", **PROVINCE, total=1000, poor=120, near_poor=80),
                   summary_row("001", **PROVINCE, ethnic_group="EM", total=700, poor=110, near_poor=60)])
    kinh = cell(frame, "001", "01")
    assert (kinh["households_total"], kinh["households_poor"], kinh["households_near_poor"]) == (300, 10, 20)
    assert kinh["derived"] is True
    assert cell(frame, "001", "ALL")["derived"] is False


def test_minorities_are_all_minus_kinh_when_the_summary_gives_kinh():
    frame = cells([summary_row("001", **PROVINCE, total=1000, poor=120),
                   summary_row("001", **PROVINCE, ethnic_group="01", total=300, poor=10)])
    minorities = cell(frame, "001", "EM")
    assert (minorities["households_total"], minorities["households_poor"]) == (700, 110)
    assert minorities["households_near_poor"] is None   # unknown in both: unknown in the difference


def test_an_uninhabited_unit_is_zero_in_every_group_it_leaves_out():
    frame = cells([summary_row("498", **PROVINCE, total=0, poor=0, near_poor=0)])
    for group in ("EM", "01"):
        zero = cell(frame, "498", group)
        assert (zero["households_total"], zero["households_poor"], zero["derived"]) == (0, 0, True)


def test_nothing_is_derived_from_all_alone():
    frame = cells([summary_row("001", **PROVINCE, total=1000, poor=120)])
    assert cell(frame, "001", "EM") is None and cell(frame, "001", "01") is None


def test_a_summary_that_states_every_group_keeps_its_own_figures():
    frame = cells([summary_row("001", **PROVINCE, total=1000, poor=120),
                   summary_row("001", **PROVINCE, ethnic_group="EM", total=700, poor=110),
                   summary_row("001", **PROVINCE, ethnic_group="01", total=299, poor=10)])
    assert cell(frame, "001", "01")["households_total"] == 299
    assert not frame["derived"].any()


def test_minorities_above_all_are_inconsistent_and_leave_kinh_unknown():
    frame = cells([summary_row("001", **PROVINCE, total=100, poor=10),
                   summary_row("001", **PROVINCE, ethnic_group="EM", total=120, poor=5)])
    kinh = cell(frame, "001", "01")
    assert kinh["households_total"] is None and kinh["households_poor"] == 5


def test_an_empty_island_district_no_longer_leaves_its_provinces_kinh_rows_unknown(standards):
    # Province 01's island district 003 has no communes and reports ALL = 0 only (like Hoàng Sa).
    households = [household(c, f"{c}-1", ethnicity="01", income=1_000_000, deprivations=4)
                  for c in ("00001", "00002", "00003", "00004", "00005")]
    classified = classify_households(households_frame(households).lazy(), standards)
    household_cells = add_group_totals(aggregate_households(classified))
    summaries = summary_cells(summaries_frame([summary_row("003", **PROVINCE, total=0, poor=0, near_poor=0)]).lazy())
    units = units_from_hierarchy(hierarchy_pre_reform())
    rolled = roll_up(choose_lowest_sources(household_cells, summaries, units), units, summaries).collect()
    national = rolled.filter(pl.col("level") == "national", pl.col("ethnic_group") == "01", pl.col("area") == "all")
    assert national["households_total"].item() == 5
    assert national["households_derived"].item() == 0     # the derived rows are zero households
    province = rolled.filter(pl.col("unit_code") == "01", pl.col("ethnic_group") == "01", pl.col("area") == "all")
    assert province["households_poor"].item() == 3


def test_households_whose_figures_were_derived_are_counted_up_the_levels(standards):
    households = [household(c, f"{c}-1", ethnicity="01") for c in ("00001", "00002", "00003", "00004", "00005")]
    classified = classify_households(households_frame(households).lazy(), standards)
    household_cells = add_group_totals(aggregate_households(classified))
    summaries = summary_cells(summaries_frame([
        summary_row("003", **PROVINCE, total=10, poor=2, near_poor=1),
        summary_row("003", **PROVINCE, ethnic_group="EM", total=4, poor=2, near_poor=0)]).lazy())
    units = units_from_hierarchy(hierarchy_pre_reform())
    rolled = roll_up(choose_lowest_sources(household_cells, summaries, units), units, summaries).collect()
    national = rolled.filter(pl.col("level") == "national", pl.col("ethnic_group") == "01", pl.col("area") == "all")
    assert (national["households_total"].item(), national["households_derived"].item()) == (11, 6)
    minorities = rolled.filter(pl.col("level") == "national", pl.col("ethnic_group") == "EM",
                               pl.col("area") == "all")
    assert minorities["households_derived"].item() == 0   # stated by the summary, not derived
