"""Progress towards the programme targets: rates falling by points a year, and shares of lists that exited."""

from __future__ import annotations

import polars as pl
import pytest

from schemas.rules import load_targets
from transforms.targets import expected_share, target_progress

TARGETS = load_targets()


def poverty(rows: list[tuple[int, str, str, str, int | None, int | None, int | None]]) -> pl.LazyFrame:
    """(year, level, unit_code, ethnic_group, total, poor, near_poor), area all."""
    return pl.DataFrame(rows, schema={"year": pl.Int64, "level": pl.String, "unit_code": pl.String,
                                      "ethnic_group": pl.String, "households_total": pl.Int64,
                                      "households_poor": pl.Int64, "households_near_poor": pl.Int64},
                        orient="row").with_columns(pl.lit("all").alias("area")).lazy()


EMPTY_REMOVALS = pl.LazyFrame(schema={"status_kind": pl.String, "decision": pl.String, "province_code": pl.String,
                                      "unit_code": pl.String})
EMPTY_MEMBERS = pl.LazyFrame(schema={"status_kind": pl.String, "unit_code": pl.String, "province_code": pl.String,
                                     "partial": pl.Boolean})
EMPTY_CANDIDATES = pl.LazyFrame(schema={"status_kind": pl.String, "unit_code": pl.String,
                                        "province_code": pl.String, "verdict": pl.String})


def progress(year: int, figures: pl.LazyFrame | None = None, removals=EMPTY_REMOVALS, members=EMPTY_MEMBERS,
             candidates=EMPTY_CANDIDATES) -> pl.DataFrame:
    return target_progress(TARGETS, year, poverty=figures if figures is not None else poverty([]),
                           removals=removals, baseline_members=members, exit_candidates=candidates).collect()


def row(frame: pl.DataFrame, target: str, unit: str = "VN", basis: str | None = None) -> dict:
    selected = frame.filter(pl.col("target_id") == target, pl.col("unit_code") == unit)
    if basis:
        selected = selected.filter(pl.col("basis") == basis)
    return selected.row(0, named=True)


def test_poverty_rate_falling_one_point_a_year_is_on_track_and_less_is_not():
    figures = poverty([
        (2021, "national", "VN", "ALL", 1000, 60, 40, ), (2024, "national", "VN", "ALL", 1000, 40, 30),
        (2021, "province", "02", "ALL", 1000, 300, 100), (2024, "province", "02", "ALL", 1000, 280, 100),
    ])
    result = progress(2024, figures)
    national = row(result, "multidimensional_poverty_rate")
    assert (national["baseline_value"], national["value"]) == (10.0, 7.0)
    assert national["change_per_year"] == pytest.approx(1.0)
    assert national["status"] == "on_track"
    province = row(result, "multidimensional_poverty_rate", "02")
    assert province["status"] == "off_track"


def test_ethnic_minority_rate_must_fall_by_more_than_three_points():
    figures = poverty([(2023, "national", "VN", "EM", 1000, 200, 0), (2024, "national", "VN", "EM", 1000, 170, 0),
                       (2023, "province", "02", "EM", 1000, 200, 0), (2024, "province", "02", "EM", 1000, 169, 0)])
    result = progress(2024, figures)
    exactly_three = row(result, "em_poor_household_rate")
    assert exactly_three["change_per_year"] == pytest.approx(3.0)
    assert exactly_three["status"] == "off_track"
    assert row(result, "em_poor_household_rate", "02")["status"] == "on_track"
    assert "baseline year 2021 has no figures" in exactly_three["note"]


def test_a_rate_without_earlier_figures_is_insufficient():
    result = progress(2024, poverty([(2024, "national", "VN", "ALL", 1000, 40, 30)]))
    assert row(result, "multidimensional_poverty_rate")["status"] == "insufficient_data"


def test_exits_recognised_by_decision_and_exit_candidates_are_shown_apart():
    removals = pl.LazyFrame({"status_kind": ["ed_commune_coastal"] * 17,
                             "decision": ["576/QĐ-TTg"] * 9 + ["1535/QĐ-TTg"] * 8,
                             "province_code": ["83"] * 17, "unit_code": [f"{i:05d}" for i in range(17)]})
    candidates = pl.LazyFrame({"status_kind": ["ed_commune_coastal"] * 2, "unit_code": ["90001", "90002"],
                               "province_code": ["83", "83"], "verdict": ["exit_candidate", "exit_candidate"]})
    result = progress(2024, removals=removals, candidates=candidates)
    recognised = row(result, "coastal_commune_exits", basis="recognised_by_decision")
    projected = row(result, "coastal_commune_exits", basis="projected_with_exit_candidates")
    assert (recognised["numerator"], recognised["denominator"]) == (17, 54)
    assert recognised["value"] == pytest.approx(100 * 17 / 54)
    assert recognised["expected_by_year"] == pytest.approx(22.5)
    assert recognised["status"] == "on_track"
    assert projected["numerator"] == 19
    assert "1535/QĐ-TTg, 576/QĐ-TTg" in recognised["source"]


def test_no_recognised_exit_is_off_track_once_the_period_has_started():
    members = pl.LazyFrame({"status_kind": ["poor_district"], "unit_code": ["026"], "province_code": ["02"],
                            "partial": [True]})
    result = progress(2024, members=members)
    assert row(result, "poor_district_exits", basis="recognised_by_decision")["status"] == "off_track"


def test_with_no_list_of_the_kind_loaded_the_exits_are_unknown_not_zero():
    result = progress(2024)
    recognised = row(result, "ed_commune_exits", basis="recognised_by_decision")
    assert (recognised["numerator"], recognised["status"]) == (None, "insufficient_data")


def test_province_shares_use_the_loaded_list_and_say_when_it_is_partial():
    members = pl.LazyFrame({"status_kind": ["poor_district"] * 4, "unit_code": ["026", "027", "028", "029"],
                            "province_code": ["02"] * 4, "partial": [True] * 4})
    candidates = pl.LazyFrame({"status_kind": ["poor_district"], "unit_code": ["026"], "province_code": ["02"],
                               "verdict": ["exit_candidate"]})
    result = progress(2024, members=members, candidates=candidates)
    province = row(result, "poor_district_exits", "02", basis="projected_with_exit_candidates")
    assert (province["numerator"], province["denominator"], province["value"]) == (1, 4, 25.0)
    assert province["note"] == "the loaded list is PARTIAL"


def test_the_goal_is_read_pro_rata_over_the_period():
    target = TARGETS.target("coastal_commune_exits")
    assert [expected_share(target, y, TARGETS) for y in (2021, 2023, 2025, 2026)] == [0.0, 15.0, 30.0, 30.0]


def test_every_target_of_the_file_has_rows_and_the_unconfirmed_attribution_says_so():
    result = progress(2024)
    assert set(result["target_id"]) == {t.id for t in TARGETS.targets}
    assert row(result, "ed_village_exits", basis="recognised_by_decision")["confirmed"] is False
