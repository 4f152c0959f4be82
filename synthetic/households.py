"""Synthetic review households: plausible, seeded, reproducible, with no I/O and no clock.

Grain in: one row per reporting unit (a commune, or a commune-less island district before the 2025
reform). Grain out: one row per household of those units, in the HOUSEHOLD contract's columns.

Every random draw for a unit comes from a numpy Generator seeded by (seed, year, unit code), so
any subset of units reproduces exactly the households it has in a national run. The model is
deliberately simple: ethnic mix by province (2019 census shares, rounded), income per person
lognormal and lower for rural and minority households, deprivations that rise as income falls, and
a few households exactly at the income line so that the inclusive "≤ line" boundary is exercised.
On top of it, each region and year gets a `Shift` of log income and of the deprivation log-odds,
solved by `synthetic/calibration.py` so that the expected poor and poor + near-poor rates match the
published review results (`schemas/reference/published/`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from schemas.contracts import CLASSIFICATIONS, HOUSEHOLD, INDICATOR_IDS
from transforms.classify import classify_households, standard_thresholds
from transforms.rollup import known_sum

KINH = "01"
NATIONAL_HOUSEHOLDS = 27_000_000

# Relative household counts by unit type: wards and townships are denser than rural communes.
UNIT_TYPE_SIZE_WEIGHT: dict[str, float] = {"Phường": 1.5, "Thị trấn": 1.2, "Xã": 0.9}
# Share of a unit's households that live in urban areas, by unit type (a rural commune near a town
# still has a few urban households; a ward keeps some farming households).
UNIT_TYPE_URBAN_SHARE: dict[str, float] = {"Phường": 0.93, "Thị trấn": 0.8, "Xã": 0.03, "Đặc khu": 0.4}


@dataclass(frozen=True)
class ProvinceProfile:
    """The parameters a province's communes draw from (keyed by the pre-2025 province code)."""

    region_key: str
    minority_share: float                 # share of households whose head is not Kinh
    minority_groups: Mapping[str, float]  # relative weights of the minority groups present


def _profile(region: str, minority_share: float, **groups: float) -> ProvinceProfile:
    weights = {code.removeprefix("g"): weight for code, weight in groups.items()} or {"06": 1.0}
    return ProvinceProfile(region, minority_share, weights)


_NMM, _RRD, _NCC = "northern_midlands_mountains", "red_river_delta", "north_central_central_coast"
_CH, _SE, _MD = "central_highlands", "southeast", "mekong_delta"

# Ethnic codes are the 2008 list (02 Tày, 03 Thái, 04 Mường, 05 Khmer, 06 Hoa, 07 Nùng, 08 Mông, 09 Dao,
# 10 Gia Rai, 11 Ê Đê, 12 Ba Na, 13 Sán Chay, 14 Chăm, 15 Cơ Ho, 16 Xơ Đăng, 17 Sán Dìu, 18 Hrê, 19 Ra Glai,
# 20 Mnông, 21 Thổ, 22 Xtiêng, 23 Khơ Mú, 24 Bru-Vân Kiều, 25 Cơ Tu, 26 Giáy, 27 Tà Ôi, 28 Mạ, 29 Giẻ Triêng,
# 30 Co, 31 Chơ Ro, 32 Xinh Mun, 33 Hà Nhì, 34 Chu Ru, 36 La Chí, 38 Phù Lá, 39 La Hủ, 42 Lự, 44 Chứt,
# 45 Lô Lô, 53 Brâu). Shares are rounded census population shares, good enough for plausible test data.
PROVINCE_PROFILES: dict[str, ProvinceProfile] = {
    # Northern Midlands and Mountains
    "02": _profile(_NMM, 0.88, g08=32, g02=23, g09=15, g07=10, g26=2, g45=1, g36=1, g38=1),
    "04": _profile(_NMM, 0.95, g02=41, g07=31, g08=11, g09=10, g13=1),
    "06": _profile(_NMM, 0.88, g02=52, g09=17, g07=10, g08=7),
    "08": _profile(_NMM, 0.53, g02=25, g09=12, g13=8, g08=2, g07=2, g17=1),
    "10": _profile(_NMM, 0.65, g08=25, g02=15, g09=14, g26=5, g07=4, g33=3, g38=1),
    "11": _profile(_NMM, 0.82, g03=35, g08=36, g23=3, g33=1),
    "12": _profile(_NMM, 0.85, g03=33, g08=25, g09=13, g33=6, g26=4, g42=1, g39=1, g23=1),
    "14": _profile(_NMM, 0.83, g03=54, g08=18, g04=7, g09=2, g23=2, g32=1),
    "15": _profile(_NMM, 0.57, g02=19, g09=12, g08=12, g03=7, g04=6, g23=1),
    "17": _profile(_NMM, 0.73, g04=63, g03=4, g09=2, g02=2, g08=1),
    "19": _profile(_NMM, 0.28, g02=10, g07=5, g13=3, g09=2, g17=2),
    "20": _profile(_NMM, 0.84, g07=42, g02=35, g09=4, g13=1),
    "24": _profile(_NMM, 0.13, g07=5, g02=2, g13=2, g17=2, g06=1),
    "25": _profile(_NMM, 0.15, g04=13, g09=1, g02=1),
    # Red River Delta
    "01": _profile(_RRD, 0.013, g04=10, g09=1, g02=1, g06=1),
    "22": _profile(_RRD, 0.12, g09=5, g02=3, g17=2, g13=1, g06=1),
    "26": _profile(_RRD, 0.03, g17=5, g04=1),
    "27": _profile(_RRD, 0.005, g06=1, g02=1),
    "30": _profile(_RRD, 0.003, g06=1),
    "31": _profile(_RRD, 0.003, g06=1),
    "33": _profile(_RRD, 0.002, g06=1),
    "34": _profile(_RRD, 0.002, g06=1, g04=1),
    "35": _profile(_RRD, 0.002, g04=1),
    "36": _profile(_RRD, 0.002, g06=1),
    "37": _profile(_RRD, 0.03, g04=1),
    # North Central and Central Coast
    "38": _profile(_NCC, 0.17, g04=9, g03=6, g08=1, g09=1, g23=1),
    "40": _profile(_NCC, 0.15, g03=10, g21=2, g23=1, g08=1),
    "42": _profile(_NCC, 0.002, g04=1, g44=1),
    "44": _profile(_NCC, 0.02, g24=17, g44=3),
    "45": _profile(_NCC, 0.12, g24=9, g27=3),
    "46": _profile(_NCC, 0.04, g27=26, g25=10, g24=4),
    "48": _profile(_NCC, 0.01, g25=1, g06=1),
    "49": _profile(_NCC, 0.09, g25=4, g16=3, g29=2, g30=1),
    "51": _profile(_NCC, 0.14, g18=10, g30=3, g16=2),
    "52": _profile(_NCC, 0.025, g12=16, g18=6, g14=3),
    "54": _profile(_NCC, 0.06, g14=33, g11=29, g12=5),
    "56": _profile(_NCC, 0.06, g19=42, g15=3, g11=3),
    "58": _profile(_NCC, 0.22, g14=12, g19=10),
    "60": _profile(_NCC, 0.07, g14=33, g19=16, g06=16, g15=5),
    # Central Highlands
    "62": _profile(_CH, 0.54, g16=24, g12=13, g29=6, g10=5, g53=1, g18=1),
    "64": _profile(_CH, 0.46, g10=34, g12=11, g07=1),
    "66": _profile(_CH, 0.36, g11=18, g07=4, g02=3, g20=2, g08=2, g10=1, g03=1, g09=1),
    "67": _profile(_CH, 0.31, g20=10, g07=5, g08=5, g02=3, g11=1, g09=1, g28=1),
    "68": _profile(_CH, 0.24, g15=12, g28=3, g07=2, g02=2, g34=2, g06=1),
    # Southeast
    "70": _profile(_SE, 0.17, g22=9, g07=2, g05=2, g02=2, g06=1, g20=1),
    "72": _profile(_SE, 0.015, g05=8, g14=4, g06=3),
    "74": _profile(_SE, 0.03, g06=10, g05=5, g02=3, g07=3),
    "75": _profile(_SE, 0.07, g06=30, g07=15, g02=10, g31=7, g05=2),
    "77": _profile(_SE, 0.03, g06=15, g31=7),
    "79": _profile(_SE, 0.055, g06=45, g05=5, g14=1),
    # Mekong River Delta
    "80": _profile(_MD, 0.002, g06=1, g05=1),
    "82": _profile(_MD, 0.002, g06=1),
    "83": _profile(_MD, 0.001, g06=1),
    "84": _profile(_MD, 0.32, g05=31, g06=1),
    "86": _profile(_MD, 0.025, g05=20, g06=5),
    "87": _profile(_MD, 0.002, g06=1, g05=1),
    "89": _profile(_MD, 0.05, g05=40, g14=6, g06=5),
    "91": _profile(_MD, 0.13, g05=12, g06=2),
    "92": _profile(_MD, 0.025, g05=15, g06=10),
    "93": _profile(_MD, 0.03, g05=25, g06=3),
    "94": _profile(_MD, 0.35, g05=30, g06=5),
    "95": _profile(_MD, 0.09, g05=8, g06=2),
    "96": _profile(_MD, 0.02, g05=20, g06=5),
}
_DEFAULT_PROFILE = _profile(_NCC, 0.05, g06=1)

# Median income per person per month (VND) of a rural Kinh household, by region, before the region-year
# Shift: a starting point near the published 2022–2023 rates, so that the solved shifts stay small.
REGION_RURAL_KINH_MEDIAN: dict[str, float] = {
    _NMM: 3_600_000, _CH: 3_700_000, _NCC: 3_400_000, _MD: 4_000_000, _RRD: 4_600_000, _SE: 7_000_000,
}
# Households per commune differ by region: mountain communes are large in area but thinly settled,
# delta and southeastern ones dense. Factors bring each region's share of the ~27 million households
# near its share in the 2023 published results (all households = poor + near-poor households / rate:
# RRD 25.7 %, NCC 21.2 %, MD 18.0 %, SE 17.4 %, NMM 12.0 %, CH 5.8 %), so that the regions weigh in the
# national rates as they do in the ministry's.
REGION_SIZE_FACTOR: dict[str, float] = {
    _NMM: 0.555, _RRD: 1.18, _NCC: 0.83, _CH: 0.845, _SE: 1.87, _MD: 1.165,
}
URBAN_INCOME_FACTOR = 1.7
MINORITY_INCOME_FACTOR = 0.52
INCOME_SPREAD = 0.55          # standard deviation of log income between households of a commune
COMMUNE_INCOME_SPREAD = 0.18  # standard deviation of the commune's log income effect
INCOME_ROUNDING = 1_000       # incomes are reported in thousands of đồng
INCOME_FLOOR = 150_000
# Households that report exactly their line are drawn among those with an income up to this many lines (people
# near the line round to it; a rich household does not), so the richest regions keep their tiny rates.
AT_LINE_NEIGHBOURHOOD = 2.0

# Log-odds of each deprivation for a household whose income sits exactly at its line; they rise by
# DEPRIVATION_INCOME_SLOPE for each unit that log income falls below the line, so deprivations are
# correlated with income and, through a shared household effect, with each other.
DEPRIVATION_LOGIT_AT_LINE: dict[str, float] = {
    "d01": -1.15, "d02": -1.45, "d03": -2.70, "d04": -2.30, "d05": -0.95, "d06": -2.90,
    "d07": -2.00, "d08": -1.70, "d09": -1.45, "d10": -0.80, "d11": -2.50, "d12": -2.10,
}
DEPRIVATION_INCOME_SLOPE = 1.3
DEPRIVATION_HOUSEHOLD_SPREAD = 0.9
DEPRIVATION_MINORITY_SHIFT = 0.4
DEPRIVATION_RURAL_SHIFT = 0.25


def profile_for(province_code: str | None) -> ProvinceProfile:
    """The profile of a pre-2025 province code (a neutral default for an unknown code)."""
    return PROVINCE_PROFILES.get(province_code or "", _DEFAULT_PROFILE)


def unit_size_weight(unit_type: str | None, profile_province_code: str | None = None) -> float:
    """Relative number of households of a unit: by its type, and by its region's density."""
    region = profile_for(profile_province_code).region_key
    return UNIT_TYPE_SIZE_WEIGHT.get(unit_type or "", 1.0) * REGION_SIZE_FACTOR.get(region, 1.0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Shift:
    """A region-year's calibration on top of the model: added to every household's log income and to the
    log-odds of every deprivation (synthetic/calibration.py solves them)."""

    income: float = 0.0
    deprivation: float = 0.0


NO_SHIFT = Shift()


def log_income_mean(region_key: str, unit_income_effect: np.ndarray | float, urban: np.ndarray,
                    minority: np.ndarray, size: np.ndarray) -> np.ndarray:
    """A household's expected log income per person before its own draw (INCOME_SPREAD) and the Shift."""
    return (math.log(REGION_RURAL_KINH_MEDIAN[region_key]) + unit_income_effect
            + np.where(urban, math.log(URBAN_INCOME_FACTOR), 0.0)
            + np.where(minority, math.log(MINORITY_INCOME_FACTOR), 0.0)
            - 0.04 * (size - 4))


def household_size_mean(minority: np.ndarray, urban: np.ndarray) -> np.ndarray:
    """Mean of the Poisson part of household size (size = 1 + Poisson, at most 15)."""
    return np.where(minority, 3.3, 2.5) - np.where(urban, 0.3, 0.0)


MAX_HOUSEHOLD_SIZE = 15


def deprivation_offset(minority: np.ndarray, urban: np.ndarray) -> np.ndarray:
    """What a household's group adds to every deprivation's log-odds (besides income and its own effect)."""
    return np.where(minority, DEPRIVATION_MINORITY_SHIFT, 0.0) + np.where(urban, 0.0, DEPRIVATION_RURAL_SHIFT)


def deprivation_logits_at_line() -> np.ndarray:
    return np.array([DEPRIVATION_LOGIT_AT_LINE[i] for i in INDICATOR_IDS], dtype=np.float32)


def unit_rng(seed: int, year: int, unit_code: str) -> np.random.Generator:
    """The Generator of one unit; the code's width is part of the key (commune 00318 ≠ district 318)."""
    return np.random.default_rng([seed, year, len(unit_code), int(unit_code)])


@dataclass(frozen=True)
class UnitTraits:
    """What kind of place a unit is: drawn first from its Generator, whatever the scale."""

    full_size: float              # households at scale 1
    urban_share: float
    minority_share: float
    group_codes: list[str]        # the minority groups of its province profile
    group_mix: np.ndarray         # their shares among the unit's minority households
    unit_income_effect: float
    village_count: int


def draw_unit_traits(rng: np.random.Generator, *, households_mean: float, unit_type: str | None,
                     profile: ProvinceProfile) -> UnitTraits:
    """The unit-level draws, in the order `_draw_unit` takes them (the calibration reads the same ones)."""
    full_size = households_mean * rng.lognormal(-0.08, 0.4)
    urban_share = float(np.clip(UNIT_TYPE_URBAN_SHARE.get(unit_type or "", 0.1) + rng.normal(0, 0.03),
                                0.0, 1.0))
    base_minority = profile.minority_share * (0.45 if urban_share > 0.5 else 1.0)
    concentration = 6.0
    minority_share = float(rng.beta(max(base_minority, 1e-4) * concentration + 0.02,
                                    max(1.0 - base_minority, 1e-4) * concentration + 0.02))
    group_codes = sorted(profile.minority_groups)
    group_weights = np.array([profile.minority_groups[c] for c in group_codes], dtype=float)
    group_mix = rng.dirichlet(group_weights / group_weights.sum() * 3.0 + 0.05)
    unit_income_effect = rng.normal(0.0, COMMUNE_INCOME_SPREAD)
    village_count = max(1, round(full_size / 180))
    return UnitTraits(full_size, urban_share, minority_share, group_codes, group_mix, unit_income_effect,
                      village_count)


@dataclass(frozen=True)
class _UnitDraws:
    """The numpy columns of one unit's households."""

    size: np.ndarray
    urban: np.ndarray
    ethnic_index: np.ndarray      # into the unit's ethnic code list
    income: np.ndarray
    deprived: np.ndarray          # households × 12 booleans
    social_protection: np.ndarray
    merit: np.ndarray
    village: np.ndarray
    disagree: np.ndarray
    disagree_offset: np.ndarray
    ethnic_codes: list[str]


def _draw_unit(rng: np.random.Generator, *, households_mean: float, scale: float, unit_type: str | None,
               profile: ProvinceProfile, lines: Mapping[str, float], at_line_share: float,
               disagreement_rate: float, shift: Shift = NO_SHIFT) -> _UnitDraws:
    """Draws one unit. Unit-level draws come first and never depend on `scale`, so scaling a run
    changes how many households a unit has, not what kind of place it is."""
    unit = draw_unit_traits(rng, households_mean=households_mean, unit_type=unit_type, profile=profile)

    # -- the households
    count = max(1, round(unit.full_size * scale))
    urban = rng.random(count) < unit.urban_share
    is_minority = rng.random(count) < unit.minority_share
    group_pick = rng.choice(len(unit.group_codes), size=count, p=unit.group_mix)
    ethnic_codes = [KINH, *unit.group_codes]
    ethnic_index = np.where(is_minority, group_pick + 1, 0)

    size = 1 + rng.poisson(household_size_mean(is_minority, urban))
    size = np.minimum(size, MAX_HOUSEHOLD_SIZE)

    log_income = (log_income_mean(profile.region_key, unit.unit_income_effect, urban, is_minority, size)
                  + shift.income + rng.normal(0.0, INCOME_SPREAD, count))
    income = np.maximum(np.round(np.exp(log_income) / INCOME_ROUNDING) * INCOME_ROUNDING, INCOME_FLOOR)
    line = np.where(urban, lines["urban"], lines["rural"])
    income = np.where((rng.random(count) < at_line_share) & (income <= AT_LINE_NEIGHBOURHOOD * line), line, income)

    # float32 is ample for probabilities and halves the cost of the households × 12 draws.
    logits = deprivation_logits_at_line() + np.float32(shift.deprivation)
    household_shift = (DEPRIVATION_INCOME_SLOPE * -np.log(income / line)
                       + deprivation_offset(is_minority, urban)
                       + rng.normal(0.0, DEPRIVATION_HOUSEHOLD_SPREAD, count)).astype(np.float32)
    deprived = (rng.random((count, len(INDICATOR_IDS)), dtype=np.float32)
                < _sigmoid(logits[None, :] + household_shift[:, None]))

    under_line = income <= line
    social_protection = rng.random(count) < np.where(under_line, 0.18, 0.04)
    merit = rng.random(count) < 0.02
    village = rng.integers(1, unit.village_count + 1, size=count)
    disagree = rng.random(count) < disagreement_rate
    disagree_offset = rng.integers(1, len(CLASSIFICATIONS), size=count)
    return _UnitDraws(size, urban, ethnic_index, income, deprived, social_protection, merit, village,
                      disagree, disagree_offset, ethnic_codes)


@functools.lru_cache(maxsize=4)
def _id_suffix_block(size: int) -> pl.Series:
    return pl.Series([f"-{i:05d}" for i in range(1, size + 1)], dtype=pl.String)


def _id_suffixes(count: int) -> pl.Series:
    """"-00001" … for household sequence numbers 1..count (at least), built once per size class."""
    return _id_suffix_block(1 << max(count - 1, 1).bit_length())


def _classified(households: pl.LazyFrame, standard: Mapping[str, Any]) -> pl.LazyFrame:
    """The households with lnob's classification (transforms.classify: one rule for the whole house)."""
    return classify_households(households.with_columns(pl.lit(standard["id"]).alias("standard")),
                               {standard["id"]: standard})


def generate_households(units: pl.DataFrame, *, seed: int, year: int, standard: Mapping[str, Any],
                        households_per_unit: float, scale: float = 1.0, at_line_share: float = 0.004,
                        disagreement_rate: float = 0.002, fill_reported: bool = True,
                        shifts: Mapping[str, Shift] | None = None) -> pl.DataFrame:
    """One row per unit in → one row per household out, ordered by unit (as given) and household id.

    `units` needs `unit_code`, `unit_type` and `profile_province_code` (the pre-2025 province whose
    ethnic and income profile the unit draws from), and may carry `size_weight` (default: by unit type).
    `households_per_unit` is the mean number of households of a unit of weight 1 at scale 1; `scale`
    multiplies it (0.01 for a quick sample). `standard` is the standard's file
    (schemas.standards.load_standard): its income lines place some households exactly at the line (an
    `at_line_share` of those with an income up to AT_LINE_NEIGHBOURHOOD lines), and
    its rule fills `reported_classification`, of which a `disagreement_rate` share is deliberately wrong
    so that data-quality checks have something to find. `shifts` (by region key; none: the bare model) is
    the calibration of the year (synthetic/calibration.py).
    """
    lines = standard_thresholds(standard)["income_line"]
    shifts = shifts or {}
    schema = HOUSEHOLD.polars_schema()
    if units.height == 0:
        return pl.DataFrame(schema=schema)
    if "size_weight" not in units.columns:
        units = units.with_columns(pl.Series("size_weight", [
            unit_size_weight(unit_type, profile) for unit_type, profile
            in units.select("unit_type", "profile_province_code").iter_rows()], dtype=pl.Float64))
    draws: list[_UnitDraws] = []
    for unit_code, unit_type, profile_code, weight in units.select(
            "unit_code", "unit_type", "profile_province_code", "size_weight").iter_rows():
        rng = unit_rng(seed, year, unit_code)
        profile = profile_for(profile_code)
        draws.append(_draw_unit(rng, households_mean=households_per_unit * weight, scale=scale,
                                unit_type=unit_type, profile=profile, lines=lines, at_line_share=at_line_share,
                                disagreement_rate=disagreement_rate,
                                shift=shifts.get(profile.region_key, NO_SHIFT)))

    counts = np.array([d.size.shape[0] for d in draws])
    unit_index = pl.Series("unit_index", np.repeat(np.arange(len(draws)), counts))
    sequence = np.concatenate([np.arange(1, n + 1) for n in counts])
    # Ethnic codes become one global index so that the column is built by a single gather.
    code_list = sorted({code for d in draws for code in d.ethnic_codes})
    code_position = {code: i for i, code in enumerate(code_list)}
    ethnic = np.concatenate([np.array([code_position[c] for c in d.ethnic_codes])[d.ethnic_index]
                             for d in draws])
    deprived = np.concatenate([d.deprived for d in draws])
    urban = np.concatenate([d.urban for d in draws])

    frame = pl.DataFrame({
        "unit_index": unit_index,
        "sequence": sequence,
        "village_number": np.concatenate([d.village for d in draws]),
        "urban": urban,
        "ethnic_position": ethnic,
        "household_size": np.concatenate([d.size for d in draws]).astype(np.int64),
        "income_per_capita_month": np.concatenate([d.income for d in draws]).astype(np.float64),
        **{indicator: deprived[:, i] for i, indicator in enumerate(INDICATOR_IDS)},
        "policy_social_protection": np.concatenate([d.social_protection for d in draws]),
        "policy_merit": np.concatenate([d.merit for d in draws]),
        "disagree": np.concatenate([d.disagree for d in draws]),
        "disagree_offset": np.concatenate([d.disagree_offset for d in draws]),
    })
    class_position = {name: i for i, name in enumerate(CLASSIFICATIONS)}
    # A standard without an average-living bound says "not_poor"; the contract's nearest word is "other".
    rule_class = pl.col("classification").replace("not_poor", "other")
    shifted_class = ((rule_class.replace_strict(class_position, return_dtype=pl.Int64)
                      + pl.col("disagree_offset")) % len(CLASSIFICATIONS)
                     ).replace_strict(dict(enumerate(CLASSIFICATIONS)), return_dtype=pl.String)
    reported = pl.when(pl.col("disagree")).then(shifted_class).otherwise(rule_class)
    # Labels are gathered from small lists rather than formatted row by row: string formatting of
    # millions of rows costs more than all the random draws together.
    village_count = int(max(d.village.max() for d in draws))
    village_labels = pl.Series([*(f"Thôn {i}" for i in range(1, village_count + 1)),
                                *(f"Tổ dân phố {i}" for i in range(1, village_count + 1))])  # urban: tổ dân phố
    village_index = pl.Series(frame["village_number"].to_numpy() - 1 + np.where(urban, village_count, 0))
    id_suffixes = _id_suffixes(int(counts.max()))
    households = frame.lazy().with_columns(
        pl.when(pl.col("urban")).then(pl.lit("urban")).otherwise(pl.lit("rural")).alias("area"),
        units["unit_code"].gather(unit_index).alias("commune_code"),
        village_labels.gather(village_index).alias("village"),
        id_suffixes.gather(pl.Series(sequence - 1)).alias("id_suffix"),
        pl.Series(code_list, dtype=pl.String).gather(pl.Series(ethnic)).alias("head_ethnicity_code"),
    ).with_columns(
        pl.concat_str(pl.col("commune_code"), pl.col("id_suffix")).alias("household_id"),
    )
    if fill_reported:
        households = _classified(households, standard).with_columns(reported.alias("reported_classification"))
    else:
        households = households.with_columns(pl.lit(None, dtype=pl.String).alias("reported_classification"))
    # The in-memory engine keeps row order: units as given, households by sequence within each unit.
    return households.select(pl.col(name).cast(dtype) for name, dtype in schema.items()).collect(
        engine="in-memory")


# ---------------------------------------------------------------------------------------------
# Summaries: the area_summary rows that households add up to.

def _count_columns() -> list[str]:
    return (["households_total", "households_poor", "households_near_poor"]
            + [f"poor_deprived_{i}" for i in INDICATOR_IDS] + [f"near_poor_deprived_{i}" for i in INDICATOR_IDS])


SUMMARY_COUNT_COLUMNS: tuple[str, ...] = tuple(_count_columns())


# ALL first, then EM, then each code; within a group "all", rural, urban.
_SUMMARY_ORDER = [
    pl.col("unit_code"),
    pl.col("ethnic_group").replace_strict({"ALL": 0, "EM": 1}, default=2, return_dtype=pl.Int64),
    pl.col("ethnic_group"),
    pl.col("area").replace_strict({"all": 0, "rural": 1, "urban": 2}, return_dtype=pl.Int64),
]


def summarise_households(households: pl.LazyFrame, *, unit_column: str, standard: Mapping[str, Any],
                         ) -> pl.LazyFrame:
    """One row per household in → one row per unit × ethnic group × area out (AREA_SUMMARY columns
    without `village`): each ethnic code present in the unit, plus EM (every minority) and ALL, each
    for rural, urban and all, classified by the standard's rule (transforms.classify)."""
    is_poor = pl.col("classification") == "poor"
    is_near_poor = pl.col("classification") == "near_poor"
    by_code_area = (
        _classified(households, standard)
        .group_by(pl.col(unit_column).alias("unit_code"), pl.col("head_ethnicity_code").alias("ethnic_group"),
                  "area")
        .agg(pl.len().cast(pl.Int64).alias("households_total"),
             is_poor.sum().cast(pl.Int64).alias("households_poor"),
             is_near_poor.sum().cast(pl.Int64).alias("households_near_poor"),
             *[(is_poor & pl.col(i)).sum().cast(pl.Int64).alias(f"poor_deprived_{i}") for i in INDICATOR_IDS],
             *[(is_near_poor & pl.col(i)).sum().cast(pl.Int64).alias(f"near_poor_deprived_{i}")
               for i in INDICATOR_IDS])
    )
    return complete_summary(by_code_area)


def complete_summary(by_code_area: pl.LazyFrame) -> pl.LazyFrame:
    """Rows per unit × ethnic code × area (rural/urban) in → the full summary grid out: adds area
    "all", ethnic groups EM and ALL, and zero rows for an area a present code has no household in."""
    counts = list(SUMMARY_COUNT_COLUMNS)
    codes_only = by_code_area.filter(~pl.col("ethnic_group").is_in(["ALL", "EM"]))
    areas = pl.LazyFrame({"area": ["rural", "urban"]})
    grid = codes_only.select("unit_code", "ethnic_group").unique().join(areas, how="cross")
    # A grid cell without households is a known zero; a reported null count stays null.
    full = (grid.join(codes_only.with_columns(pl.lit(True).alias("present")),
                      on=["unit_code", "ethnic_group", "area"], how="left", maintain_order="left")
            .with_columns(pl.when(pl.col("present").is_null()).then(0).otherwise(pl.col(c)).alias(c)
                          for c in counts)
            .drop("present"))
    # EM takes every row with its counts zeroed for Kinh, so a unit without minorities still reports
    # EM as a known zero.
    is_minority = (pl.col("ethnic_group") != KINH).cast(pl.Int64)
    with_groups = pl.concat([
        full,
        full.with_columns(pl.lit("EM").alias("ethnic_group"), *[(pl.col(c) * is_minority).alias(c) for c in counts]),
        full.with_columns(pl.lit("ALL").alias("ethnic_group")),
    ]).group_by("unit_code", "ethnic_group", "area").agg(known_sum(c) for c in counts)
    all_areas = (with_groups.group_by("unit_code", "ethnic_group")
                 .agg(known_sum(c) for c in counts).with_columns(pl.lit("all").alias("area")))
    ordered = pl.concat([with_groups, all_areas.select(with_groups.collect_schema().names())])
    return (ordered.sort(_SUMMARY_ORDER)
            .select("unit_code", pl.lit(None, dtype=pl.String).alias("village"), "ethnic_group", "area",
                    *[pl.col(c).cast(pl.Int64) for c in counts]))


def roll_up_summary(summary: pl.LazyFrame, parents: pl.LazyFrame) -> pl.LazyFrame:
    """Summary rows per child unit in → summary rows per parent unit out (`parents` maps `unit_code`
    to `parent_code`). Counts add up; the ALL and EM rows of the children add to the parent's."""
    counts = list(SUMMARY_COUNT_COLUMNS)
    by_parent = (summary.join(parents, on="unit_code", how="inner")
                 .group_by(pl.col("parent_code").alias("unit_code"), "ethnic_group", "area")
                 .agg(known_sum(c) for c in counts))
    return (by_parent.sort(_SUMMARY_ORDER)
            .select("unit_code", pl.lit(None, dtype=pl.String).alias("village"), "ethnic_group", "area",
                    *[pl.col(c).cast(pl.Int64) for c in counts]))
