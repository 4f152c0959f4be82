"""Households are classified by their submission's standard: poor = income ≤ line AND ≥ 3 deprivations."""

from __future__ import annotations

import polars as pl
import pytest

from tests.transforms.conftest import RURAL_LINE, STANDARDS, URBAN_LINE, household, households_frame
from transforms.classify import (
    classification_disagreements,
    classify_households,
    disagreement_counts,
    disagreements_from_groups,
    standard_thresholds,
    with_commune_counts,
)
from transforms.rollup import aggregate_households, household_groups

LINES = {"rural": RURAL_LINE, "urban": URBAN_LINE}
UPPER = {"rural": 2_250_000, "urban": 3_000_000}


def classify(rows: list[dict]) -> dict[str, str | None]:
    classified = classify_households(households_frame(rows).lazy(), STANDARDS).collect()
    return dict(zip(classified["household_id"], classified["classification"], strict=True))


@pytest.mark.parametrize("area", ["rural", "urban"])
def test_income_exactly_at_the_line_counts_as_at_or_below_it(area):
    line = LINES[area]
    got = classify([
        household("00001", "at_line_3", area=area, income=line, deprivations=3),
        household("00001", "at_line_2", area=area, income=line, deprivations=2),
        household("00001", "one_dong_above_3", area=area, income=line + 1, deprivations=3),
    ])
    assert got == {"at_line_3": "poor", "at_line_2": "near_poor", "one_dong_above_3": "average"}


@pytest.mark.parametrize("area", ["rural", "urban"])
def test_three_deprivations_make_poor_two_make_near_poor(area):
    below = LINES[area] - 100_000
    got = classify([household("00001", f"d{n}", area=area, income=below, deprivations=n) for n in (0, 2, 3, 12)])
    assert got == {"d0": "near_poor", "d2": "near_poor", "d3": "poor", "d12": "poor"}


def test_the_line_depends_on_where_the_household_lives():
    between_lines = (RURAL_LINE + URBAN_LINE) // 2
    got = classify([
        household("00001", "rural", area="rural", income=between_lines, deprivations=4),
        household("00001", "urban", area="urban", income=between_lines, deprivations=4),
    ])
    assert got == {"rural": "average", "urban": "poor"}


def test_deprivations_never_make_a_household_above_the_line_poor():
    # The rule is AND, not OR (docs/legal-basis.md#classification-rule): twelve deprivations with income
    # above the line.
    got = classify([household("00001", "rich_but_deprived", income=RURAL_LINE + 1, deprivations=12)])
    assert got == {"rich_but_deprived": "average"}


@pytest.mark.parametrize("area", ["rural", "urban"])
def test_the_average_band_ends_at_its_upper_bound_inclusive(area):
    got = classify([
        household("00001", "at_upper", area=area, income=UPPER[area]),
        household("00001", "above_upper", area=area, income=UPPER[area] + 1),
    ])
    assert got == {"at_upper": "average", "above_upper": "other"}


def test_without_a_known_upper_bound_households_above_the_line_are_not_poor():
    got = classify([
        household("00001", "above", income=2_200_001, standard="std_nobound"),
        household("00001", "at_line", income=2_200_000, deprivations=3, standard="std_nobound"),
    ])
    assert got == {"above": "not_poor", "at_line": "poor"}


def test_a_household_whose_standard_is_unknown_is_not_classified():
    got = classify([household("00001", "x", standard="no_such_standard")])
    assert got == {"x": None}


def test_deprivation_count_and_multidimensional_poverty_ignore_income():
    classified = classify_households(households_frame([
        household("00001", "a", income=9_000_000, deprivations=3),
        household("00001", "b", income=100_000, deprivations=2),
    ]).lazy(), STANDARDS).collect().sort("household_id")
    assert classified["deprivation_count"].to_list() == [3, 2]
    assert classified["is_mpi_poor"].to_list() == [True, False]


def test_thresholds_read_from_plain_numbers_or_value_objects():
    assert standard_thresholds(STANDARDS["std_bound"])["income_line"] == {"rural": 1_500_000, "urban": 2_000_000}
    assert standard_thresholds(STANDARDS["std_nobound"])["average_upper"] == {"rural": None, "urban": None}


def test_disagreements_with_the_communes_own_classification_are_counted_and_listed():
    rows = [
        household("00001", "agrees", income=RURAL_LINE, deprivations=3, reported="poor"),
        household("00001", "says_near_poor", income=RURAL_LINE, deprivations=3, reported="near_poor"),
        household("00001", "not_reported", income=RURAL_LINE, deprivations=3, reported=None),
        household("00002", "says_poor", income=RURAL_LINE + 1, deprivations=5, reported="poor"),
        household("00002", "above_no_bound", income=9_000_000, reported="other", standard="std_nobound"),
    ]
    classified = classify_households(households_frame(rows).lazy(), STANDARDS)
    counts = disagreement_counts(aggregate_households(classified))
    listed = with_commune_counts(classification_disagreements(classified), counts).collect().sort("household_id")
    assert listed["household_id"].to_list() == ["says_near_poor", "says_poor"]
    assert listed["classification"].to_list() == ["poor", "average"]
    assert listed["reported_classification"].to_list() == ["near_poor", "poor"]
    # 00001 compared 2 households (one did not report), 1 disagrees; 00002 compared 2, 1 disagrees.
    assert listed["disagreements_in_commune"].to_list() == [1, 1]
    assert listed["households_compared_in_commune"].to_list() == [2, 2]
    per_commune = counts.collect().sort("unit_code")
    assert per_commune.rows() == [("00001", 2, 1), ("00002", 2, 1)]


def test_the_one_pass_over_households_lists_the_same_disagreements_as_reading_every_household():
    # Two disagreeing households with the same cell, classification and reported class stay two rows.
    rows = [
        household("00001", "twin_a", income=RURAL_LINE, deprivations=3, reported="near_poor"),
        household("00001", "twin_b", income=RURAL_LINE - 5, deprivations=4, reported="near_poor"),
        household("00001", "agrees", income=RURAL_LINE, deprivations=3, reported="poor"),
        household("00002", "says_poor", income=RURAL_LINE + 1, deprivations=5, reported="poor"),
        household("00002", "above_no_bound", income=9_000_000, reported="other", standard="std_nobound"),
        household("00002", "says_average", income=9_000_000, reported="poor", standard="std_nobound"),
    ]
    classified = classify_households(households_frame(rows).lazy(), STANDARDS)
    direct = classification_disagreements(classified).collect().sort("household_id")
    from_groups = (disagreements_from_groups(household_groups(classified)).collect()
                   .sort("household_id"))
    assert from_groups["households_in_group"].to_list() == [1, 1, 1, 1]
    assert from_groups.select(direct.columns).to_dicts() == direct.to_dicts()
    assert direct["household_id"].to_list() == ["says_average", "says_poor", "twin_a", "twin_b"]


def test_the_reported_classification_is_never_overwritten():
    rows = [household("00001", "x", income=RURAL_LINE, deprivations=3, reported="near_poor")]
    classified = classify_households(households_frame(rows).lazy(), STANDARDS).collect()
    assert classified.select("reported_classification", "classification").row(0) == ("near_poor", "poor")
    assert classified.schema["deprivation_count"] == pl.Int64
