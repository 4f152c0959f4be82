"""Reference checks against the geography of the review year (real lists, 2024 three tiers, 2025 two)."""

from __future__ import annotations

import polars as pl
import pytest

from schemas.geography import REFORM_DATE, review_date, units_at
from transforms.reference_checks import Geography, reference_issues

ETHNIC_CODES = [f"{i:02d}" for i in range(1, 55)]


def geography(year: int) -> Geography:
    on = review_date(year)
    return Geography(units_at("province", on), units_at("district", on), units_at("commune", on),
                     reform_applies=on >= REFORM_DATE)


@pytest.fixture(scope="module")
def geography_2024():
    return geography(2024)


def households(communes: list[str], ethnicities: list[str] | None = None) -> pl.LazyFrame:
    return pl.LazyFrame({"__row__": list(range(2, len(communes) + 2)), "commune_code": communes,
                         "head_ethnicity_code": ethnicities or ["01"] * len(communes)})


def summary(units: list[str]) -> pl.LazyFrame:
    return pl.LazyFrame({"__row__": list(range(2, len(units) + 2)), "unit_code": units,
                         "ethnic_group": ["ALL"] * len(units)})


def rules(issues: pl.DataFrame) -> list[tuple]:
    return issues.select("rule", "__row__", "column", "value").rows()


def check(frame, *, kind="household", level="commune", unit="00688", year=2024, geo=None):
    return reference_issues(frame, kind=kind, level=level, unit_code=unit, year=year, current_year=2026,
                            geography=geo or geography(year), ethnic_codes=ETHNIC_CODES)


def test_a_commune_household_file_holds_only_that_commune(geography_2024):
    issues = check(households(["00688", "00691", "99999"]), geo=geography_2024)
    assert rules(issues) == [("reference.commune_mismatch", 3, "commune_code", "00691"),
                             ("reference.unit_unknown", 4, "commune_code", "99999")]


def test_a_district_reports_itself_and_its_own_communes_only(geography_2024):
    issues = check(summary(["024", "00688", "00712", "026"]), kind="area_summary", level="district", unit="024",
                   geo=geography_2024)
    assert rules(issues) == [("reference.unit_outside_submitter", 4, "unit_code", "00712"),
                             ("reference.unit_outside_submitter", 5, "unit_code", "026")]


def test_a_province_reports_its_districts_and_communes(geography_2024):
    issues = check(summary(["02", "024", "00688", "01"]), kind="area_summary", level="province", unit="02",
                   geo=geography_2024)
    assert rules(issues) == [("reference.unit_outside_submitter", 5, "unit_code", "01")]


def test_districts_do_not_exist_for_review_years_after_the_reform():
    issues = check(summary(["024"]), kind="area_summary", level="district", unit="024", year=2025)
    assert rules(issues) == [("reference.level_abolished", None, None, "district")]


def test_codes_are_those_of_the_review_year():
    assert rules(check(households(["00004"]), unit="00004", year=2025)) == []
    issues = check(households(["00688"]), year=2025)
    assert rules(issues) == [("reference.submitting_unit_unknown", None, None, "00688"),
                             ("reference.unit_unknown", 2, "commune_code", "00688")]


@pytest.mark.parametrize("year,plausible", [(2020, False), (2021, True), (2027, True), (2028, False)])
def test_the_review_year_is_plausible(geography_2024, year, plausible):
    issues = reference_issues(households(["00688"]), kind="household", level="commune", unit_code="00688",
                              year=year, current_year=2026, geography=geography_2024, ethnic_codes=ETHNIC_CODES)
    assert ("reference.year_out_of_range" in issues["rule"].to_list()) is not plausible


def test_ethnic_codes_must_be_2008_codes(geography_2024):
    issues = check(households(["00688"] * 3, ["54", "55", "01"]), geo=geography_2024)
    assert rules(issues) == [("reference.ethnicity_unknown", 3, "head_ethnicity_code", "55")]
    summary_issues = check(pl.LazyFrame({"__row__": [2, 3], "unit_code": ["00688"] * 2,
                                         "ethnic_group": ["EM", "60"]}),
                           kind="area_summary", level="commune", geo=geography_2024)
    assert rules(summary_issues) == [("reference.ethnicity_unknown", 3, "ethnic_group", "60")]


def test_a_commune_code_that_lost_its_zeros_is_restored_by_the_lists(geography_2024):
    from transforms.reference_checks import restore_lost_zeros

    frame = pl.LazyFrame({"__row__": [2, 3, 4, 5], "unit_code": ["688", "024", "99", "00691"],
                          "unit_code__issue": [None, None, None, None]}, schema_overrides={"unit_code__issue": pl.String})
    restored = restore_lost_zeros(frame, column="unit_code", geography=geography_2024, level="district",
                                  unit_code="024").collect()
    # In district 024's file: 688 (another province's district) is not its unit, commune 00688 is;
    # 024 is the district itself; 99 is none of its units at any width (099 is a district elsewhere).
    assert restored["unit_code"].to_list() == ["00688", "024", "99", "00691"]
    assert restored["unit_code__issue"].to_list() == ["code.leading_zeros_restored", None, None, None]
