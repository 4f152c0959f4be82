"""Small hand-built fixtures for the mart transforms: a few communes, a handful of households each."""

from __future__ import annotations

import polars as pl
import pytest

from schemas.contracts import AREA_SUMMARY, HOUSEHOLD, INDICATOR_IDS

RURAL_LINE = 1_500_000
URBAN_LINE = 2_000_000

STANDARD_WITH_BOUND = {
    "id": "std_bound",
    "income_line": {"rural": {"value": RURAL_LINE, "confirmed": True},
                    "urban": {"value": URBAN_LINE, "confirmed": True}},
    "average_living_upper": {"rural": {"value": 2_250_000, "confirmed": False},
                             "urban": {"value": 3_000_000, "confirmed": False}},
    "rule": {"poor": "income <= line and deprivations >= 3", "poor_min_deprivations": 3},
}
STANDARD_WITHOUT_BOUND = {
    "id": "std_nobound",
    "income_line": {"rural": 2_200_000, "urban": 2_800_000},
    "average_living_upper": {"rural": None, "urban": None},
    "rule": {"poor_min_deprivations": 3},
}
STANDARDS = {"std_bound": STANDARD_WITH_BOUND, "std_nobound": STANDARD_WITHOUT_BOUND}


def household(commune: str, household_id: str, *, area: str = "rural", ethnicity: str = "01",
              income: float = 5_000_000, deprivations: int = 0, reported: str | None = None,
              standard: str = "std_bound", submission_id: str | None = None, submitting_level: str = "commune",
              year: int = 2024, lists_every_household: bool = True) -> dict:
    """One household row as staging holds it; deprived on the first `deprivations` indicators. Its list is
    declared complete (every resident household) unless `lists_every_household` is False: the hand-built
    communes here list all their households."""
    row = {
        "household_id": household_id, "commune_code": commune, "village": None, "area": area,
        "head_ethnicity_code": ethnicity, "household_size": 4, "income_per_capita_month": float(income),
        **{ind: index < deprivations for index, ind in enumerate(INDICATOR_IDS)},
        "reported_classification": reported, "policy_social_protection": None, "policy_merit": None,
        "submission_id": submission_id or f"H{commune}", "year": year, "submitting_level": submitting_level,
        "submitting_unit": commune, "standard": standard, "lists_every_household": lists_every_household,
    }
    return row


def households_frame(rows: list[dict]) -> pl.DataFrame:
    schema = {**dict(HOUSEHOLD.polars_schema()), "submission_id": pl.String, "year": pl.Int64,
              "submitting_level": pl.String, "submitting_unit": pl.String, "standard": pl.String,
              "lists_every_household": pl.Boolean}
    return pl.DataFrame(rows, schema=schema)


def summary_row(unit_code: str, *, submission_id: str, submitting_level: str, submitting_unit: str,
                ethnic_group: str = "ALL", area: str = "all", total: int | None = None, poor: int | None = None,
                near_poor: int | None = None, village: str | None = None, year: int = 2024,
                standard: str = "std_bound") -> dict:
    row = {column: None for column in AREA_SUMMARY.names}
    row.update({"unit_code": unit_code, "village": village, "ethnic_group": ethnic_group, "area": area,
                "households_total": total, "households_poor": poor, "households_near_poor": near_poor,
                "submission_id": submission_id, "year": year, "submitting_level": submitting_level,
                "submitting_unit": submitting_unit, "standard": standard})
    return row


def summaries_frame(rows: list[dict]) -> pl.DataFrame:
    schema = {**dict(AREA_SUMMARY.polars_schema()), "submission_id": pl.String, "year": pl.Int64,
              "submitting_level": pl.String, "submitting_unit": pl.String, "standard": pl.String}
    return pl.DataFrame(rows, schema=schema)


def hierarchy_pre_reform() -> pl.DataFrame:
    """Region R1: province 01 (districts 001 with communes 00001, 00002; 002 with 00003; island district 003
    without communes) and province 02 (district 004 with commune 00004). Region R2: province 03 (district
    005 with commune 00005)."""
    return pl.DataFrame({
        "commune_code": ["00001", "00002", "00003", None, "00004", "00005"],
        "district_code": ["001", "001", "002", "003", "004", "005"],
        "province_code": ["01", "01", "01", "01", "02", "03"],
        "region_key": ["R1", "R1", "R1", "R1", "R1", "R2"],
    })


def hierarchy_post_reform() -> pl.DataFrame:
    """Two tiers: province 01 (communes 10001, 10002), province 02 (10003); both in region R1."""
    return pl.DataFrame({
        "commune_code": ["10001", "10002", "10003"],
        "district_code": pl.Series([None, None, None], dtype=pl.String),
        "province_code": ["01", "01", "02"],
        "region_key": ["R1", "R1", "R1"],
    })


@pytest.fixture
def standards() -> dict:
    return STANDARDS
