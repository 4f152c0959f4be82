"""Poverty standards are data files with their legal citation and the status of every value (schemas.standards)."""

from __future__ import annotations

import json

import pytest

from schemas import standards
from schemas.contracts import INDICATOR_IDS
from schemas.standards import (
    UnknownStandardError,
    available_standards,
    average_living_upper,
    income_lines,
    indicator_ids,
    load_standard,
    standard_for_year,
)


def _raw(standard_id: str) -> dict:
    return json.loads((standards.STANDARDS_DIR / f"{standard_id}.json").read_text(encoding="utf-8"))


def test_both_decrees_are_available_oldest_first():
    assert available_standards() == ["nd07_2021", "nd351_2025"]


@pytest.mark.parametrize(("year", "standard_id"), [
    (2022, "nd07_2021"), (2024, "nd07_2021"), (2025, "nd07_2021"), (2026, "nd07_2021"),
    (2027, "nd351_2025"), (2030, "nd351_2025"),
])
def test_the_review_year_picks_the_standard(year, standard_id):
    assert standard_for_year(year) == standard_id


def test_a_year_before_any_encoded_standard_is_refused():
    # 2021 was measured on Decision 59/2015/QĐ-TTg, which lnob does not encode.
    with pytest.raises(ValueError, match="2021"):
        standard_for_year(2021)


def test_years_of_the_two_files_do_not_overlap():
    nd07, nd351 = load_standard("nd07_2021"), load_standard("nd351_2025")
    assert nd07["applies_to_year"] + 1 == nd351["applies_from_year"]


@pytest.mark.parametrize("standard_id", ["nd07_2021", "nd351_2025"])
def test_income_lines_are_read_from_the_file(standard_id):
    raw = _raw(standard_id)["income_line"]
    assert income_lines(standard_id) == {"rural": float(raw["rural"]["value"]), "urban": float(raw["urban"]["value"])}


def test_decree_07_lines_are_confirmed_and_its_average_bands_are_not():
    document = load_standard("nd07_2021")
    assert income_lines("nd07_2021") == {"rural": 1_500_000.0, "urban": 2_000_000.0}
    assert document["income_line"]["rural"]["confirmed"] and document["income_line"]["urban"]["confirmed"]
    assert average_living_upper("nd07_2021") == {"rural": 2_250_000.0, "urban": 3_000_000.0}
    assert not document["average_living_upper"]["rural"]["confirmed"]
    assert document["average_living_upper"]["urban"]["status"] == "SECONDARY"


def test_decree_351_lines_are_secondary_and_its_average_bands_unknown():
    document = load_standard("nd351_2025")
    assert income_lines("nd351_2025") == {"rural": 2_200_000.0, "urban": 2_800_000.0}
    assert document["income_line"]["rural"]["status"] == "SECONDARY"
    assert average_living_upper("nd351_2025") == {"rural": None, "urban": None}
    assert document["average_living_upper"]["rural"]["status"] == "UNCONFIRMED"
    assert document["rule"]["average"] is None


@pytest.mark.parametrize("standard_id", ["nd07_2021", "nd351_2025"])
def test_the_rule_is_income_at_or_below_the_line_and_at_least_three_deprivations(standard_id):
    rule = load_standard(standard_id)["rule"]
    assert rule["poor"] == "income <= line and deprivations >= 3"
    assert rule["near_poor"] == "income <= line and deprivations < 3"
    assert rule["poor_min_deprivations"] == 3
    assert rule["income_at_line_is_below"] is True
    assert rule["order"] == ["poor", "near_poor", "average", "other"]


@pytest.mark.parametrize("standard_id", ["nd07_2021", "nd351_2025"])
def test_twelve_indicators_with_labels_dimensions_and_status(standard_id):
    document = load_standard(standard_id)
    assert indicator_ids(standard_id) == list(INDICATOR_IDS)
    dimensions = {dimension["id"] for dimension in document["dimensions"]}
    for indicator in document["indicators"]:
        assert indicator["label_vi"] and indicator["label_en"]
        assert indicator["dimension"] in dimensions
        assert isinstance(indicator["confirmed"], bool)
        assert indicator["deprived_if"]["confirmed"] is False  # no threshold wording was read in the decree
    assert {indicator["dimension"] for indicator in document["indicators"]} == dimensions


def test_decree_351_drops_information_means_and_adds_waste_treatment():
    old = {i["id"]: i for i in load_standard("nd07_2021")["indicators"]}
    new = {i["id"]: i for i in load_standard("nd351_2025")["indicators"]}
    assert old["d12"]["label_en"] == "Means of accessing information"
    assert new["d12"]["label_en"] == "Household waste treatment"
    assert new["d11"]["label_en"] == old["d11"]["label_en"] == "Use of telecom services"
    assert "Means of accessing information" not in {i["label_en"] for i in new.values()}


def test_decree_07_telecom_and_information_thresholds_are_unconfirmed():
    indicators = {i["id"]: i for i in load_standard("nd07_2021")["indicators"]}
    assert indicators["d11"]["deprived_if"]["status"] == "UNCONFIRMED"
    assert indicators["d12"]["deprived_if"]["status"] == "UNCONFIRMED"
    assert indicators["d01"]["deprived_if"]["status"] == "UNCONFIRMED"


@pytest.mark.parametrize("standard_id", ["nd07_2021", "nd351_2025"])
def test_every_file_cites_its_decree(standard_id):
    citation = load_standard(standard_id)["legal_citation"]
    number = {"nd07_2021": "07/2021/NĐ-CP", "nd351_2025": "351/2025/NĐ-CP"}[standard_id]
    assert number in citation["text_vi"]
    assert citation["document"] == number


def test_a_loaded_standard_is_a_copy():
    document = load_standard("nd07_2021")
    document["income_line"]["rural"]["value"] = 0
    assert income_lines("nd07_2021")["rural"] == 1_500_000.0


def test_an_unknown_standard_names_the_known_ones():
    with pytest.raises(UnknownStandardError, match="nd07_2021"):
        load_standard("nd59_2015")
    with pytest.raises(UnknownStandardError):
        income_lines("nd59_2015")


def test_a_file_whose_confirmed_flag_contradicts_its_status_is_refused(tmp_path):
    document = _raw("nd07_2021")
    document["average_living_upper"]["rural"]["confirmed"] = True
    path = tmp_path / "nd07_2021.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="disagrees"):
        standards._check(document, path)


def test_a_file_named_differently_from_its_id_is_refused(tmp_path):
    path = tmp_path / "nd99_2030.json"
    with pytest.raises(ValueError, match="differs from the file name"):
        standards._check(_raw("nd07_2021"), path)
