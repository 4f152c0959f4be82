"""Classify households by the poverty standard their submission names
(docs/legal-basis.md#classification-rule).

poor       income ≤ line AND deprivation_count ≥ k      (k = the standard's poor_min_deprivations, 3)
near_poor  income ≤ line AND deprivation_count < k
average    line < income ≤ upper bound of the average living standard
not_poor   income > line and the standard gives no upper bound (never invented)
other      income > upper bound

The line and the bound depend on the household's area (rural/urban); "≤" is inclusive ("từ … trở
xuống"). Above the line deprivations never make a household poor: the rule is AND, not OR.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from schemas.contracts import INDICATOR_IDS

AREAS = ("rural", "urban")


def _amount(entry: Any) -> float | None:
    """A threshold from a standard file: a bare number, or {"value": …, "confirmed": …}."""
    if entry is None:
        return None
    if isinstance(entry, Mapping):
        for key in ("value", "amount", "vnd"):
            if key in entry:
                return _amount(entry[key])
        return None
    return float(entry)


def standard_thresholds(standard: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers classification needs from one standard file, in one flat shape:
    {"id", "income_line": {"rural", "urban"}, "average_upper": {"rural", "urban"} (values may be None),
    "poor_min_deprivations"}."""
    lines = standard.get("income_line") or {}
    uppers = standard.get("average_living_upper") or {}
    rule = standard.get("rule") or {}
    income_line = {area: _amount(lines.get(area)) for area in AREAS}
    if any(value is None for value in income_line.values()):
        raise ValueError(f"standard {standard.get('id')!r} has no income line for both rural and urban areas")
    minimum = rule.get("poor_min_deprivations", standard.get("poor_min_deprivations"))
    if minimum is None:
        raise ValueError(f"standard {standard.get('id')!r} does not state poor_min_deprivations")
    return {
        "id": standard.get("id"),
        "income_line": income_line,
        "average_upper": {area: _amount(uppers.get(area)) if isinstance(uppers, Mapping) else None
                          for area in AREAS},
        "poor_min_deprivations": int(_amount(minimum)),
    }


def _by_standard_and_area(thresholds: Mapping[str, dict], pick) -> pl.Expr:
    """One expression choosing a value per (standard, area); null for an unknown standard."""
    expression = pl.lit(None, dtype=pl.Float64)
    for standard_id, values in sorted(thresholds.items(), reverse=True):
        for area in AREAS:
            value = pick(values, area)
            expression = (pl.when((pl.col("standard") == standard_id) & (pl.col("area") == area))
                          .then(pl.lit(value, dtype=pl.Float64)).otherwise(expression))
    return expression


def classify_households(households: pl.LazyFrame, standards: Mapping[str, Mapping[str, Any]]) -> pl.LazyFrame:
    """household → household: adds deprivation_count, income_line, average_upper, classification_code,
    classification and is_mpi_poor.

    `households` has the household contract's columns plus `standard`; `standards` maps each standard id
    named there to its file's content (schemas.standards.load_standard). A household whose standard is not
    given, or whose income is missing, gets a null classification (it is then counted as unknown).
    """
    thresholds = {sid: standard_thresholds(content) for sid, content in standards.items()}
    deprivation_count = pl.sum_horizontal(pl.col(ind).cast(pl.Int8) for ind in INDICATOR_IDS).alias(
        "deprivation_count")
    minimum_deprivations = pl.lit(None, dtype=pl.Int64)
    for standard_id, values in sorted(thresholds.items(), reverse=True):
        minimum_deprivations = (pl.when(pl.col("standard") == standard_id)
                                .then(pl.lit(values["poor_min_deprivations"], dtype=pl.Int64))
                                .otherwise(minimum_deprivations))
    income = pl.col("income_per_capita_month")
    line = pl.col("income_line")
    upper = pl.col("average_upper")
    at_or_below_line = income <= line
    enough_deprivations = pl.col("deprivation_count") >= pl.col("_poor_min_deprivations")
    code = CLASSIFICATION_CODES
    classification_code = (
        pl.when(income.is_null() | line.is_null()).then(pl.lit(None, dtype=pl.Int8))
        .when(at_or_below_line & enough_deprivations).then(pl.lit(code["poor"], dtype=pl.Int8))
        .when(at_or_below_line).then(pl.lit(code["near_poor"], dtype=pl.Int8))
        .when(upper.is_null()).then(pl.lit(code["not_poor"], dtype=pl.Int8))
        .when(income <= upper).then(pl.lit(code["average"], dtype=pl.Int8))
        .otherwise(pl.lit(code["other"], dtype=pl.Int8))
    )
    return (
        households
        .with_columns(
            deprivation_count.cast(pl.Int64),
            _by_standard_and_area(thresholds, lambda v, a: v["income_line"][a]).alias("income_line"),
            _by_standard_and_area(thresholds, lambda v, a: v["average_upper"][a]).alias("average_upper"),
            minimum_deprivations.alias("_poor_min_deprivations"),
        )
        .with_columns(
            classification_code.alias("classification_code"),
            enough_deprivations.alias("is_mpi_poor"),
        )
        .with_columns(classification_name(pl.col("classification_code")).alias("classification"))
        .drop("_poor_min_deprivations")
    )


# The classification as a small integer: what the roll-up groups by (a string per household would cost
# more than the whole rest of the pass); `classification` carries the name.
CLASSIFICATION_CODES: dict[str, int] = {"poor": 0, "near_poor": 1, "average": 2, "not_poor": 3, "other": 4}


def classification_name(code: pl.Expr) -> pl.Expr:
    """classification_code → its name (null stays null)."""
    return code.replace_strict({v: k for k, v in CLASSIFICATION_CODES.items()}, default=None,
                               return_dtype=pl.String)


def agrees_with_reported() -> pl.Expr:
    """True when the commune's own classification says the same as the standard. `not_poor` (no bound
    known) agrees with the commune's `average` or `other`: both say "above the line". Written on the
    classification code with plain comparisons so that it streams over any number of households."""
    reported = pl.col("reported_classification")
    code = pl.col("classification_code")
    same = pl.any_horizontal((reported == name) & (code == value) for name, value in CLASSIFICATION_CODES.items())
    above_line = (code == CLASSIFICATION_CODES["not_poor"]) & reported.is_in(["average", "other"])
    return same | above_line


def classification_disagreements(classified: pl.LazyFrame) -> pl.LazyFrame:
    """classified household → household whose commune-reported classification differs from lnob's. Only
    the disagreeing households are kept, so this streams over any number of households; the build writes
    it sorted, with its commune's counts attached (with_commune_counts)."""
    return (
        classified
        .filter(pl.col("reported_classification").is_not_null() & pl.col("classification_code").is_not_null()
                & ~agrees_with_reported())
        .select(
            pl.col("year").cast(pl.Int64),
            pl.lit("commune").alias("level"),
            pl.col("commune_code").alias("unit_code"),
            pl.col("head_ethnicity_code").alias("ethnic_group"),
            "area", "household_id", "submission_id", "standard", "reported_classification",
            "classification_code", "income_per_capita_month", "income_line", "deprivation_count",
        )
        # Named after the filter: few rows, and the name mapping stays out of the streaming pass.
        .with_columns(classification_name(pl.col("classification_code")).alias("classification"))
        .drop("classification_code")
    )


# Key of a household's own group in the one pass over households (transforms.rollup.household_groups):
# its id where the commune's classification disagrees with the standard's, null for everyone else.
DISAGREEING_HOUSEHOLD = "_disagreeing_household"
# What the list of disagreeing households shows besides its keys, carried through that pass.
DISAGREEMENT_DETAIL: tuple[str, ...] = ("year", "standard", "income_per_capita_month", "income_line")


def disagreements_from_groups(groups: pl.LazyFrame) -> pl.LazyFrame:
    """household groups (transforms.rollup.household_groups) → household whose commune-reported
    classification differs from lnob's: the same rows as `classification_disagreements` on the households
    themselves, without a second pass over them. A disagreeing household is a group of its own (household
    ids are unique within a submission: ingest rejects a file that repeats one), so its group's sums are
    its own values; `households_in_group` says so, and the build checks it."""
    return (
        groups
        .filter(pl.col(DISAGREEING_HOUSEHOLD).is_not_null())
        .select(
            pl.col("year").cast(pl.Int64),
            pl.lit("commune").alias("level"),
            pl.col("commune_code").alias("unit_code"),
            pl.col("head_ethnicity_code").alias("ethnic_group"),
            "area", pl.col(DISAGREEING_HOUSEHOLD).alias("household_id"), "submission_id", "standard",
            "reported_classification", "income_per_capita_month", "income_line",
            pl.col("_deprivations").alias("deprivation_count"),
            classification_name(pl.col("classification_code")).alias("classification"),
            pl.col("_households").alias("households_in_group"),
        )
    )


def with_commune_counts(disagreements: pl.LazyFrame, counts: pl.LazyFrame) -> pl.LazyFrame:
    """disagreeing household → same, with its commune's disagreements and households compared."""
    return disagreements.join(
        counts.select("unit_code", pl.col("classification_disagreements").alias("disagreements_in_commune"),
                      pl.col("households_compared").alias("households_compared_in_commune")),
        on="unit_code", how="left")


def disagreement_counts(household_cells: pl.LazyFrame) -> pl.LazyFrame:
    """finest-grain household cells (transforms.rollup.aggregate_households) → commune: households compared
    (those carrying the commune's own classification) and disagreements; communes whose list carries none
    are absent. Counted in the one pass over households that the roll-up makes anyway."""
    return (
        household_cells
        .group_by("unit_code")
        .agg(pl.col("households_compared").sum().cast(pl.Int64),
             pl.col("classification_disagreements").sum().cast(pl.Int64))
        .filter(pl.col("households_compared") > 0)
    )
