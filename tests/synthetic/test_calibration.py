"""Synthetic data that looks like Vietnam: generated rates held to the ministry's published review results.

Tolerances (stated once, used below):
- each region's poor + near-poor rate within REGION_TOLERANCE_PP = 1.5 points of its published (or calibration)
  figure, and its poor rate too;
- the national poor-household rate within NATIONAL_TOLERANCE_PP = 0.3 points of the published rate (2.93 % in
  2023, 1.93 % in 2024) or of the anchor (0.9 % at end-2025);
- the solver itself: expected rates within 0.01 points of the targets.
Generated at SCALE (1 % of the real household count: about 270,000 households a year, every unit of the country).
"""

from __future__ import annotations

import csv
import hashlib
import re

import polars as pl
import pytest

from schemas.published import PUBLISHED_DIR, REGION_KEY_BY_FOLDED_NAME, review_results
from synthetic.calibration import calibration_targets, national_poor_rate
from synthetic.households import profile_for
from synthetic.review import (
    GenerationSettings,
    calibration,
    iter_household_batches,
    standard_for,
    synthetic_units,
)
from transforms.classify import classify_households

REGION_TOLERANCE_PP = 1.5
NATIONAL_TOLERANCE_PP = 0.3
SOLVER_TOLERANCE_PP = 0.01
SCALE = 0.01
REGIONS = set(REGION_KEY_BY_FOLDED_NAME.values())


# ---------------------------------------------------------------------------------------------
# The published tables and the loader.

def test_the_loader_returns_the_project_copy_for_a_known_row():
    with (PUBLISHED_DIR / "molisa_2023_regions_qd134.csv").open(encoding="utf-8") as handle:
        national = next(row for row in csv.DictReader(handle) if row["level"] == "national")
    assert (national["poor_households"], national["poor_rate_pct"]) == ("815101", "2.93")
    loaded = review_results().filter(pl.col("year") == 2023, pl.col("level") == "national").row(0, named=True)
    assert loaded["poor_households"] == 815101
    assert loaded["poor_rate_pct"] == pytest.approx(2.93)
    assert loaded["multidim_households"] == 1586336
    assert loaded["near_poor_rate_pct"] == pytest.approx(2.78)


def test_the_copy_has_the_checksums_its_readme_states():
    readme = (PUBLISHED_DIR / "README.md").read_text(encoding="utf-8")
    stated = {name: digest for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.MULTILINE)}
    files = sorted(path.name for path in PUBLISHED_DIR.glob("*.csv"))
    assert sorted(stated) == files
    for name in files:
        assert hashlib.sha256((PUBLISHED_DIR / name).read_bytes()).hexdigest() == stated[name], name


def test_every_published_region_is_one_of_the_six_and_an_unknown_name_is_refused():
    from schemas.published import region_key

    regions = review_results().filter(pl.col("level") == "region")
    assert regions.group_by("year").agg(pl.col("region_key").n_unique())["region_key"].to_list() == [6, 6, 6]
    assert set(regions["region_key"]) == REGIONS
    assert region_key("Bắc Trung bộ và duyên hải miền Trung") == region_key("Bắc Trung Bộ và Duyên hải miền Trung")
    with pytest.raises(ValueError, match="matches no region"):
        region_key("Tây Bắc")


# ---------------------------------------------------------------------------------------------
# Targets.

def _national(targets: pl.DataFrame, column: str) -> float:
    return float((targets[column] * targets["households"]).sum() / targets["households"].sum())


@pytest.mark.parametrize("year", [2022, 2023, 2024])
def test_published_years_take_each_regions_poor_and_near_poor_rate_as_published(year):
    published = review_results().filter(pl.col("year") == year, pl.col("level") == "region")
    targets = calibration_targets(year).join(published, on="region_key")
    assert targets.height == 6
    for row in targets.iter_rows(named=True):
        assert row["multidim_rate"] * 100 == pytest.approx(row["multidim_rate_pct"]), row["region_key"]
        if row["poor_rate_pct"] is not None:
            assert row["poor_rate"] * 100 == pytest.approx(row["poor_rate_pct"]), row["region_key"]
        assert 0 < row["poor_rate"] < row["multidim_rate"], row["region_key"]


@pytest.mark.parametrize(("year", "national_poor_pct"), [(2023, 2.93), (2024, 1.93), (2021, 5.2), (2025, 0.9),
                                                         (2027, 0.9)])
def test_regions_add_up_to_the_national_poor_rate_where_a_region_split_is_missing(year, national_poor_pct):
    targets = calibration_targets(year)
    assert national_poor_rate(year) * 100 == pytest.approx(national_poor_pct)
    assert _national(targets, "poor_rate") * 100 == pytest.approx(national_poor_pct)
    assert set(targets["region_key"]) == REGIONS


def test_years_without_figures_follow_the_national_trend_and_keep_each_regions_poor_share():
    rates = [national_poor_rate(year) for year in range(2020, 2028)]
    assert rates == sorted(rates, reverse=True)
    assert national_poor_rate(2020) == national_poor_rate(2021)
    assert national_poor_rate(2026) == national_poor_rate(2025)
    shares_2024 = calibration_targets(2024).select("region_key", (pl.col("poor_rate") / pl.col("multidim_rate")))
    shares_2025 = calibration_targets(2025).select("region_key", (pl.col("poor_rate") / pl.col("multidim_rate")))
    assert shares_2025.sort("region_key")["poor_rate"].to_list() == pytest.approx(
        shares_2024.sort("region_key")["poor_rate"].to_list())


@pytest.mark.parametrize("year", [2023, 2025])
def test_the_solved_shifts_give_expected_rates_on_target(year):
    solved = calibration(year)
    assert set(solved) == REGIONS
    for region, result in solved.items():
        assert abs(result.expected_multidim - result.target_multidim) * 100 < SOLVER_TOLERANCE_PP, region
        assert abs(result.expected_poor - result.target_poor) * 100 < SOLVER_TOLERANCE_PP, region
        # Small corrections of a model already near Vietnam, not a different country.
        assert abs(result.shift.income) < 1.0 and abs(result.shift.deprivation) < 2.0, region


# ---------------------------------------------------------------------------------------------
# The generated households.

def _generated_rates(year: int, seed: int) -> pl.DataFrame:
    """Poor and poor + near-poor rates per region and nationally of every household of the country."""
    standard = standard_for(year)
    units = synthetic_units(year)
    region_of = {code: profile_for(profile).region_key
                 for code, profile in units.select("unit_code", "profile_province_code").iter_rows()}
    settings = GenerationSettings(year, seed=seed, scale=SCALE, fill_reported=False)
    counts = []
    for batch in iter_household_batches(settings, units, standard):
        classified = classify_households(
            batch.households.lazy().with_columns(pl.lit(standard["id"]).alias("standard")),
            {standard["id"]: standard})
        counts.append(classified.group_by(pl.col("commune_code").replace_strict(region_of).alias("region_key"))
                      .agg(pl.len().alias("households"),
                           (pl.col("classification") == "poor").sum().alias("poor"),
                           pl.col("classification").is_in(["poor", "near_poor"]).sum().alias("multidim"))
                      .collect())
    by_region = pl.concat(counts).group_by("region_key").agg(pl.col("households", "poor", "multidim").sum())
    national = by_region.select(pl.lit("national").alias("region_key"), pl.col("households", "poor", "multidim").sum())
    return pl.concat([by_region, national]).select(
        "region_key", "households", (pl.col("poor") / pl.col("households") * 100).alias("poor_pct"),
        (pl.col("multidim") / pl.col("households") * 100).alias("multidim_pct"))


@pytest.fixture(scope="module")
def generated() -> dict[tuple[int, int], pl.DataFrame]:
    runs = [(2022, 7), (2023, 7), (2024, 7), (2025, 7), (2023, 11)]
    return {(year, seed): _generated_rates(year, seed) for year, seed in runs}


def _national_poor(generated, year: int, seed: int = 7) -> float:
    return generated[(year, seed)].filter(pl.col("region_key") == "national")["poor_pct"].item()


@pytest.mark.parametrize(("year", "seed"), [(2022, 7), (2023, 7), (2024, 7), (2025, 7), (2023, 11)])
def test_each_regions_generated_rates_are_within_tolerance_of_the_published(generated, year, seed):
    rates = generated[(year, seed)].join(calibration_targets(year), on="region_key")
    assert set(rates["region_key"]) == REGIONS
    for row in rates.iter_rows(named=True):
        assert abs(row["multidim_pct"] - row["multidim_rate"] * 100) <= REGION_TOLERANCE_PP, row
        assert abs(row["poor_pct"] - row["poor_rate"] * 100) <= REGION_TOLERANCE_PP, row


@pytest.mark.parametrize(("year", "seed", "published_pct"), [(2023, 7, 2.93), (2024, 7, 1.93), (2025, 7, 0.9),
                                                             (2023, 11, 2.93)])
def test_the_national_poor_rate_reads_like_the_ministrys(generated, year, seed, published_pct):
    assert abs(_national_poor(generated, year, seed) - published_pct) <= NATIONAL_TOLERANCE_PP


def test_the_national_poor_rate_falls_every_year(generated):
    assert _national_poor(generated, 2022) > _national_poor(generated, 2023) > _national_poor(generated, 2024) \
        > _national_poor(generated, 2025)
