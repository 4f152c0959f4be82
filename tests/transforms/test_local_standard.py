"""A province's own, higher, standard: its households classified again beside the national figures, from
household lists only, stopping at the province."""

from __future__ import annotations

import polars as pl
from conftest import (
    STANDARD_WITH_BOUND,
    hierarchy_pre_reform,
    household,
    households_frame,
    summaries_frame,
    summary_row,
)

from transforms.local_standard import local_standard_rows
from transforms.summaries import summary_cells

LOCAL = {**STANDARD_WITH_BOUND, "id": "p01_local", "province_code": "01", "based_on": "std_bound", "local": True,
         "income_line": {"rural": {"value": 2_000_000, "confirmed": True},
                         "urban": {"value": 2_500_000, "confirmed": True}}}


def rows(households: list[dict], summaries: list[dict] | None = None) -> pl.DataFrame:
    return local_standard_rows(
        households_frame(households).with_columns(pl.lit(True).alias("lists_every_household")).lazy(),
        summary_cells(summaries_frame(summaries or []).lazy()), hierarchy_pre_reform(), standard=LOCAL,
        year=2024, geography_version="TEST")


def cell(frame: pl.DataFrame, level: str, unit: str, group: str = "ALL", area: str = "all") -> dict:
    return frame.filter(pl.col("level") == level, pl.col("unit_code") == unit, pl.col("ethnic_group") == group,
                        pl.col("area") == area).row(0, named=True)


def test_a_household_between_the_national_and_the_local_line_is_poor_only_under_the_local_standard():
    households = [household("00001", "a", income=1_800_000, deprivations=4),     # poor locally only
                  household("00001", "b", income=1_400_000, deprivations=4),     # poor under both
                  household("00001", "c", income=2_100_000, deprivations=4),     # poor under neither
                  household("00004", "d", income=1_000_000, deprivations=4)]     # province 02: not covered
    frame = rows(households)
    commune = cell(frame, "commune", "00001")
    assert (commune["households_total"], commune["households_poor"]) == (3, 2)
    assert commune["standard_id"] == "p01_local" and commune["standard_scope"] == "local"
    assert set(frame["level"]) <= {"commune", "district", "province"}
    assert frame.filter(pl.col("unit_code").is_in(["00004", "004", "02"])).is_empty()


def test_a_summary_gives_only_its_resident_total_under_a_local_standard():
    households = [household(c, f"{c}-1", income=1_800_000, deprivations=4) for c in ("00001", "00002")]
    summaries = [summary_row("00003", submission_id="D002", submitting_level="district", submitting_unit="002",
                             total=50, poor=5, near_poor=5)]
    frame = rows(households, summaries)
    summarised = cell(frame, "commune", "00003")
    assert summarised["households_total"] == 50
    assert summarised["households_poor"] is None and summarised["poor_rate"] is None
    assert cell(frame, "district", "001")["households_poor"] == 2
