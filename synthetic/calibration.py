"""Calibration: the synthetic households' poor and poor + near-poor rates follow the published review results.

Grain: one row per region (the six pre-2025 regions, lnob's region keys) × review year.

Targets (`calibration_targets`), all as shares of every resident household of the region:
- **Years with regional figures (2022, 2023, 2024; `schemas/reference/published/`).** Poor + near-poor
  ("multidim") as published. Poor as published (its rate, or its households over the region's households,
  which are the multidim households over the multidim rate). Where a region's poor figure is unpublished, its
  poor share of poor + near-poor is the one that makes the six regions add up to the published national poor
  *rate*: (national poor rate × the regions' households − the split regions' poor households) / the unsplit
  regions' multidim households, the same share for each of them. Not simply the national poor share of
  poor + near-poor, for two reasons found in the tables: the northern mountains' share (0.62 in 2023) is well
  above the national 0.51, and the 2024 national rates (1.93 %, 4.06 %) stand on about 31.0 million households
  while the six regions' rates stand on 27.6 million; with the national share the regions would add up to
  2.3 % poor in 2024, not 1.93 %. So the national poor rate is met, the regions' poor + near-poor rates are
  met, and the national poor + near-poor rate is what the regions add up to (4.6 % rather than 4.06 % in 2024).
- **Other years.** The national poor-household rate is anchored at 5.2 % for 2021 (end-2021 review on the
  2022–2025 standard, start of the period) and 0.9 % for 2025 (end-2025 assessment), both SECONDARY (the
  National Office for Poverty Reduction as quoted by the press; README of the published folder), and at the
  published 2022–2024 rates; between anchors it is interpolated linearly, beyond them held at the nearest one
  (2026 on at 2025, before 2021 at 2021: a flat trend rather than a guess). A year without regional figures
  takes the nearest published year's regional figures, all scaled by one ratio so that the regions add up to
  that year's national poor rate: each region keeps its poor share of poor + near-poor and its place relative
  to the others. The national series' 2021 row (2.23 %) is on the 2016–2020 standard and is not
  used.

Solving (`solve_shifts`): for each region, the expected rates of the generated population are computed on
the model's own draws: every unit's traits come from the same Generator as in generation (same seed, year and
unit code), so the unit-level randomness of the run being calibrated is taken into account, and a fixed
sample of households per unit (weighted by the unit's size) integrates the household-level draws. Poor +
near-poor = P(income ≤ line) depends only on the income shift and is a normal CDF per household (income is
lognormal): bisection on it gives the income shift. The poor share then depends on the deprivation draw:
with the income drawn from its distribution under the line (inverse-CDF on a fixed uniform) and the exact
probability of 3 or more of the 12 deprivations, bisection gives the deprivation shift. Both are smooth and
deterministic; a year's shifts take about a second and are cached per process. Targets below what the
households set exactly at the line already give (the at-line share) stay at that floor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from schemas.published import review_results
from synthetic.households import (
    AT_LINE_NEIGHBOURHOOD,
    DEPRIVATION_HOUSEHOLD_SPREAD,
    DEPRIVATION_INCOME_SLOPE,
    INCOME_FLOOR,
    INCOME_ROUNDING,
    INCOME_SPREAD,
    MAX_HOUSEHOLD_SIZE,
    Shift,
    deprivation_logits_at_line,
    deprivation_offset,
    draw_unit_traits,
    household_size_mean,
    log_income_mean,
    profile_for,
    unit_rng,
)
from transforms.classify import standard_thresholds

# National poor-household rate (%) for years the regional tables do not cover, on the 2022–2025 standard
# (SECONDARY: National Office for Poverty Reduction, as quoted by the press).
NATIONAL_POOR_ANCHORS_PCT: dict[int, float] = {2021: 5.2, 2025: 0.9}
# Households sampled per unit to integrate the household-level draws: ~160,000 over the ~10,000 units before
# the 2025 reform, enough for the expected rates to settle well within a tenth of a point.
CALIBRATION_HOUSEHOLDS_PER_UNIT = 16
# Shifts beyond these would no longer describe Vietnamese households (log income ×/÷ 20; deprivation odds
# ×/÷ 3,000): a target out of reach stays at the nearest rate the model can give.
INCOME_SHIFT_BOUND = 3.0
DEPRIVATION_SHIFT_BOUND = 8.0
# Stream of the calibration sample, apart from every unit's stream (those are keyed by a unit code's width).
_SAMPLE_STREAM = 0


# ---------------------------------------------------------------------------------------------
# Targets.

def _published_region_years() -> pl.DataFrame:
    """One row per region × published year: households, multidim and poor shares, and how poor was set."""
    results = review_results()
    regions = results.filter(pl.col("level") == "region").with_columns(
        (pl.col("multidim_households") / (pl.col("multidim_rate_pct") / 100)).alias("households"),
    ).with_columns(
        (pl.col("multidim_rate_pct") / 100).alias("multidim_rate"),
        pl.coalesce(pl.col("poor_rate_pct") / 100, pl.col("poor_households") / pl.col("households"))
        .alias("poor_rate"),
    )
    national = results.filter(pl.col("level") == "national").select(
        "year", (pl.col("poor_rate_pct") / 100).alias("national_poor_rate"))
    split = pl.col("poor_rate").is_not_null()
    residual = (regions.group_by("year").agg(
        (pl.col("poor_rate") * pl.col("households")).filter(split).sum().alias("split_poor"),
        (pl.col("multidim_rate") * pl.col("households")).filter(~split).sum().alias("unsplit_multidim"),
        pl.col("households").sum().alias("all_households"))
        .join(national, on="year")
        .select("year", ((pl.col("national_poor_rate") * pl.col("all_households") - pl.col("split_poor"))
                         / pl.col("unsplit_multidim")).clip(0.0, 1.0).alias("residual_poor_share")))
    return (regions.join(residual, on="year", how="left")
            .select("year", "region_key", "households", "multidim_rate",
                    pl.coalesce("poor_rate", pl.col("multidim_rate") * pl.col("residual_poor_share"))
                    .alias("poor_rate"),
                    pl.when(split).then(pl.lit("published"))
                    .otherwise(pl.lit("poor: residual share of the national poor rate")).alias("basis"))
            .sort("year", "region_key"))


def national_poor_rate(year: int) -> float:
    """The national poor-household share a year is calibrated to (published, anchored, interpolated or held)."""
    national = review_results().filter(pl.col("level") == "national")
    anchors = {**NATIONAL_POOR_ANCHORS_PCT,
               **dict(zip(national["year"].to_list(), national["poor_rate_pct"].to_list(), strict=True))}
    years = sorted(anchors)
    if year <= years[0] or year >= years[-1]:
        return anchors[years[0] if year <= years[0] else years[-1]] / 100
    before = max(y for y in years if y <= year)
    after = min(y for y in years if y >= year)
    if before == after:
        return anchors[year] / 100
    weight = (year - before) / (after - before)
    return (anchors[before] * (1 - weight) + anchors[after] * weight) / 100


def calibration_targets(year: int) -> pl.DataFrame:
    """One row per region for `year`: region_key, households (the published region's, as weights),
    multidim_rate and poor_rate (shares of all households), basis (how the row was obtained)."""
    published = _published_region_years()
    years = sorted(set(published["year"].to_list()))
    if year in years:
        return published.filter(pl.col("year") == year).drop("year")
    nearest = min(years, key=lambda y: (abs(y - year), -y))
    base = published.filter(pl.col("year") == nearest)
    # Against what the regions add up to (not the nearest national rate), so that they add up to the anchor.
    ratio = national_poor_rate(year) / float((base["poor_rate"] * base["households"]).sum()
                                             / base["households"].sum())
    return (base
            .select("region_key", "households", pl.col("multidim_rate") * ratio, pl.col("poor_rate") * ratio,
                    pl.lit(f"{nearest} scaled by the national poor rate").alias("basis")))


# ---------------------------------------------------------------------------------------------
# The normal distribution, vectorised (numpy has no erf; scipy is not a dependency of lnob).

def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """Φ(z), relative error below 1.2e-7 in both tails (Numerical Recipes' erfc approximation)."""
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * x)
    poly = (-1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (
        0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    erfc = t * np.exp(-x * x + poly)
    return np.where(z >= 0, 1.0 - 0.5 * erfc, 0.5 * erfc)


_ACKLAM_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
             -3.066479806614716e01, 2.506628277459239e00)
_ACKLAM_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
             -1.328068155288572e01)
_ACKLAM_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
             4.374664141464968e00, 2.938163982698783e00)
_ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)


def _normal_quantile(p: np.ndarray) -> np.ndarray:
    """Φ⁻¹(p) for 0 < p < 1 (Acklam's rational approximation, one Halley step against `_normal_cdf`)."""
    p = np.clip(p, 1e-300, 1 - 1e-16)
    a, b, c, d = _ACKLAM_A, _ACKLAM_B, _ACKLAM_C, _ACKLAM_D

    def tail(q: np.ndarray) -> np.ndarray:
        return ((((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1))

    low = p < 0.02425
    high = p > 1 - 0.02425
    q = p - 0.5
    r = q * q
    central = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
               / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    x = np.where(low, tail(np.sqrt(-2 * np.log(np.where(low, p, 0.5)))),
                 np.where(high, -tail(np.sqrt(-2 * np.log(np.where(high, 1 - p, 0.5)))), central))
    error = _normal_cdf(x) - p
    u = error * math.sqrt(2 * math.pi) * np.exp(x * x / 2)
    return x - u / (1 + x * u / 2)


# ---------------------------------------------------------------------------------------------
# The calibration population and the solver.

@dataclass(frozen=True)
class _Population:
    """A region's calibration sample: one entry per sampled household."""

    weight: np.ndarray           # households of the unit it stands for, over the sample size
    mean_gap: np.ndarray         # expected log income minus the log of the highest income rounded to the line
    neighbourhood_gap: np.ndarray  # the same against the highest income an at-line household may come from
    line_log: np.ndarray         # log of the household's line
    mean_log_income: np.ndarray  # expected log income before the shift
    group_offset: np.ndarray     # deprivation log-odds from minority, rural and the household effect
    uniform: np.ndarray          # where the household's income falls in its distribution under the line


def _deprivations_at_least(minimum: int, gap_below_line: np.ndarray, group_offset: np.ndarray,
                           shift: float) -> np.ndarray:
    """P(`minimum` or more of the 12 deprivations) given log(line / income), exactly: the Poisson-binomial
    probabilities of 0 … minimum − 1 deprivations, built one indicator at a time."""
    logits = deprivation_logits_at_line().astype(np.float64) + shift
    base = DEPRIVATION_INCOME_SLOPE * gap_below_line + group_offset
    fewer = [np.ones_like(base)] + [np.zeros_like(base) for _ in range(minimum - 1)]
    for logit in logits:
        p = 1.0 / (1.0 + np.exp(-(base + logit)))
        fewer = [fewer[0] * (1 - p)] + [fewer[k] * (1 - p) + fewer[k - 1] * p for k in range(1, minimum)]
    return np.clip(1.0 - sum(fewer), 0.0, 1.0)


def _sample(units: pl.DataFrame, *, seed: int, year: int, lines: Mapping[str, float],
            ) -> dict[str, _Population]:
    """Every unit's traits from its own Generator, then CALIBRATION_HOUSEHOLDS_PER_UNIT households each."""
    regions, sizes, urban_shares, minority_shares, effects = [], [], [], [], []
    for unit_code, unit_type, profile_code, weight in units.select(
            "unit_code", "unit_type", "profile_province_code", "size_weight").iter_rows():
        profile = profile_for(profile_code)
        traits = draw_unit_traits(unit_rng(seed, year, unit_code), households_mean=weight, unit_type=unit_type,
                                  profile=profile)
        regions.append(profile.region_key)
        sizes.append(traits.full_size)
        urban_shares.append(traits.urban_share)
        minority_shares.append(traits.minority_share)
        effects.append(traits.unit_income_effect)
    per_unit = CALIBRATION_HOUSEHOLDS_PER_UNIT
    index = np.repeat(np.arange(len(regions)), per_unit)
    count = index.size
    rng = np.random.default_rng([seed, year, _SAMPLE_STREAM])
    urban = rng.random(count) < np.array(urban_shares)[index]
    minority = rng.random(count) < np.array(minority_shares)[index]
    size = np.minimum(1 + rng.poisson(household_size_mean(minority, urban)), MAX_HOUSEHOLD_SIZE)
    household_effect = rng.normal(0.0, DEPRIVATION_HOUSEHOLD_SPREAD, count)
    uniform = rng.random(count)
    line = np.where(urban, lines["urban"], lines["rural"])
    region_of = np.array(regions)[index]
    populations = {}
    for region in sorted(set(regions)):
        mine = region_of == region
        mean = log_income_mean(region, np.array(effects)[index][mine], urban[mine], minority[mine], size[mine])
        # Incomes are rounded to the nearest INCOME_ROUNDING: one rounds to the line up to half a step above it.
        populations[region] = _Population(
            weight=np.array(sizes)[index][mine] / per_unit,
            mean_gap=mean - np.log(line[mine] + INCOME_ROUNDING / 2),
            neighbourhood_gap=mean - np.log(AT_LINE_NEIGHBOURHOOD * line[mine] + INCOME_ROUNDING / 2),
            line_log=np.log(line[mine]),
            mean_log_income=mean,
            group_offset=deprivation_offset(minority[mine], urban[mine]) + household_effect[mine],
            uniform=uniform[mine])
    return populations


def _under(gap: np.ndarray, income_shift: float) -> np.ndarray:
    """P(log income ≤ the level `gap` is measured against), income lognormal with INCOME_SPREAD."""
    return _normal_cdf(-(gap + income_shift) / INCOME_SPREAD)


def _expected_multidim(population: _Population, income_shift: float, at_line_share: float) -> float:
    """Expected share at or under the line: drawn there, or set to the line from its neighbourhood above it."""
    under = _under(population.mean_gap, income_shift)
    near = _under(population.neighbourhood_gap, income_shift)
    share = (1 - at_line_share) * under + at_line_share * near
    return float(np.average(share, weights=population.weight))


def _expected_poor(population: _Population, income_shift: float, at_line_share: float, minimum: int):
    """The expected poor share as a function of the deprivation shift, for a solved income shift."""
    under = _under(population.mean_gap, income_shift)
    near = _under(population.neighbourhood_gap, income_shift)
    # The household's log income drawn from its distribution below the line, at its fixed uniform.
    log_income = (population.mean_log_income + income_shift
                  + INCOME_SPREAD * _normal_quantile(population.uniform * under))
    gap = np.maximum(population.line_log - np.maximum(log_income, math.log(INCOME_FLOOR)), 0.0)
    weight_under = population.weight * (1 - at_line_share) * under
    weight_at_line = population.weight * at_line_share * near
    total = float(population.weight.sum())

    def poor(deprivation_shift: float) -> float:
        at_least = _deprivations_at_least(minimum, gap, population.group_offset, deprivation_shift)
        at_line = _deprivations_at_least(minimum, np.zeros_like(gap), population.group_offset, deprivation_shift)
        return float((weight_under @ at_least + weight_at_line @ at_line) / total)

    return poor


def _bisect(function, target: float, low: float, high: float, *, increasing: bool,
            tolerance: float = 1e-5) -> float:
    """The x in [low, high] where a monotone `function` meets `target` (an end when it never does)."""
    while high - low > tolerance:
        middle = (low + high) / 2
        above = function(middle) > target
        if above == increasing:
            high = middle
        else:
            low = middle
    return (low + high) / 2


@dataclass(frozen=True)
class RegionCalibration:
    region_key: str
    target_multidim: float
    target_poor: float
    shift: Shift
    expected_multidim: float
    expected_poor: float


def solve_shifts(units: pl.DataFrame, *, seed: int, year: int, standard: Mapping[str, Any],
                 at_line_share: float) -> dict[str, RegionCalibration]:
    """Per region of `units` (every unit of the year, from synthetic.review.synthetic_units): the Shift that
    makes the expected poor + near-poor and poor rates of its households, classified by `standard`'s lines
    and minimum of deprivations, meet `calibration_targets(year)`."""
    thresholds = standard_thresholds(standard)
    minimum = thresholds["poor_min_deprivations"]
    targets = {row["region_key"]: row for row in calibration_targets(year).iter_rows(named=True)}
    solved = {}
    for region, population in _sample(units, seed=seed, year=year, lines=thresholds["income_line"]).items():
        target = targets[region]
        income = _bisect(lambda s, p=population: _expected_multidim(p, s, at_line_share),
                         target["multidim_rate"], -INCOME_SHIFT_BOUND, INCOME_SHIFT_BOUND, increasing=False)
        poor = _expected_poor(population, income, at_line_share, minimum)
        deprivation = _bisect(poor, target["poor_rate"], -DEPRIVATION_SHIFT_BOUND, DEPRIVATION_SHIFT_BOUND,
                              increasing=True)
        solved[region] = RegionCalibration(
            region, target["multidim_rate"], target["poor_rate"], Shift(income, deprivation),
            _expected_multidim(population, income, at_line_share), poor(deprivation))
    return solved
