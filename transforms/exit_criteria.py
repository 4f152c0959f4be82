"""Evaluate the entry criteria of a status list on a review year's figures, criterion by criterion.

lnob does not decree status (docs/legal-basis.md#how-lnob-treats-legal-rules): a unit on a list whose figures
no longer meet the list's entry criteria is an *exit candidate*; a unit not on the list that meets them is an
*entry candidate*. The criteria, thresholds, comparisons and citations come from
`schemas/status_rules/<kind>.json`; this module only computes the measures the rule files name and applies them.

Three-valued throughout. A criterion whose inputs are unknown is `insufficient_data`; the rule tree combines
outcomes with Kleene logic (`all` is not_met as soon as one part is not_met, met only when every part is met;
`any` the reverse), so missing data can never make a unit a candidate on its own: it takes a definite
`not_met` somewhere to do that.

Rates are 100 × numerator / denominator of Int64 counts, multiplied first: a rate exactly at a whole-number
threshold (15 of 100 households) is then exactly that number, and the comparison is made on the unrounded
value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from schemas.contracts import INFRASTRUCTURE_ITEMS
from schemas.rules import MEASURES, Criterion, StatusRule
from schemas.vocabulary import (
    COMPARISONS,
    ENTRY_CANDIDATE,
    EXIT_CANDIDATE,
    INSUFFICIENT,
    MET,
    NO_CONFIRMED_RULE,
    NOT_MET,
    REMAINS,
    REPORTED,
)
from transforms.rollup import known_row_sum

ALL_GROUPS, ETHNIC_MINORITIES, ALL_AREAS = "ALL", "EM", "all"
NO_VILLAGE = ""   # the key of a commune or district row, so that joins on (unit_code, village) need no nulls

UNIT_KEY: tuple[str, ...] = ("year", "level", "unit_code", "village")

INFRASTRUCTURE_COLUMNS: tuple[str, ...] = tuple(f"lacks_infra_{item}" for item in INFRASTRUCTURE_ITEMS)
CONFIRMED_INFRASTRUCTURE_COLUMNS: tuple[str, ...] = tuple(
    f"lacks_infra_{item}" for item, (_, _, confirmed) in INFRASTRUCTURE_ITEMS.items() if confirmed)

ATTRIBUTE_COLUMNS: dict[str, pl.DataType] = {
    "is_coastal_or_island": pl.Boolean, "saline_intrusion_months": pl.Int64,
    "is_mountainous_highland_or_border": pl.Boolean, "new_rural_recognised": pl.Boolean,
    **{name: pl.Boolean for name in INFRASTRUCTURE_COLUMNS},
    "em_people_15_60_illiterate_pct": pl.Float64, "workers_untrained_pct": pl.Float64,
    "road_to_centre_km": pl.Float64, "road_to_centre_unsurfaced_pct": pl.Float64,
    "no_road_or_hard_to_travel": pl.Boolean, "households_grid_electricity_pct": pl.Float64,
    "income_per_capita_year": pl.Float64,
}

# Which counts make each rate (numerator, denominator).
RATE_PARTS: dict[str, tuple[str, str]] = {
    "poor_near_poor_rate": ("households_poor_or_near_poor", "households_total"),
    "poor_rate": ("households_poor", "households_total"),
    "em_household_share": ("em_households_total", "households_total"),
    "em_share_of_poor": ("em_households_poor", "households_poor"),
}
COUNT_MEASURES: dict[str, str] = {"em_poor_households": "em_households_poor"}
POVERTY_MEASURES = set(RATE_PARTS) | set(COUNT_MEASURES)

_MEASURE_COLUMNS = {
    "year": pl.Int64, "level": pl.String, "unit_code": pl.String, "village": pl.String,
    "unit_name": pl.String, "province_code": pl.String, "region_key": pl.String,
    "households_total": pl.Int64, "households_poor": pl.Int64, "households_near_poor": pl.Int64,
    "households_poor_or_near_poor": pl.Int64, "em_households_total": pl.Int64, "em_households_poor": pl.Int64,
    **ATTRIBUTE_COLUMNS,
    "poverty_submissions": pl.String, "attribute_submissions": pl.String,
}


def _ensure_columns(frame: pl.LazyFrame, columns: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    present = frame.collect_schema().names()
    return frame.with_columns(pl.lit(None, dtype=dtype).alias(name)
                              for name, dtype in columns.items() if name not in present)


def unit_measures(poverty: pl.LazyFrame, attributes: pl.LazyFrame, units: pl.LazyFrame) -> pl.LazyFrame:
    """Gather what the criteria need, per unit.

    Grain in: `poverty` one row per year × level × unit_code × ethnic_group × area (optionally × village), with
    households_total, households_poor, households_near_poor (Int64, null = unknown) and optionally
    `source_submissions` (comma-separated ids); `attributes` one row per unit_code (× village), the
    area_attributes contract's columns plus `submission_id`; `units` one row per unit_code with level,
    unit_name, province_code, region_key.
    Grain out: one row per year × level × unit_code × village (village "" for communes and districts) that has
    poverty figures, with the counts for ALL and EM households over all areas, the attributes, and the
    submissions each came from.
    """
    poverty = _ensure_columns(poverty, {"village": pl.String, "source_submissions": pl.String})
    cells = (
        poverty
        .filter(pl.col("area") == ALL_AREAS, pl.col("ethnic_group").is_in([ALL_GROUPS, ETHNIC_MINORITIES]))
        .with_columns(pl.col("village").fill_null(NO_VILLAGE))
    )
    everyone = cells.filter(pl.col("ethnic_group") == ALL_GROUPS).select(
        *UNIT_KEY,
        pl.col("households_total").cast(pl.Int64), pl.col("households_poor").cast(pl.Int64),
        pl.col("households_near_poor").cast(pl.Int64),
        pl.col("source_submissions").alias("poverty_submissions"),
    )
    minorities = cells.filter(pl.col("ethnic_group") == ETHNIC_MINORITIES).select(
        *UNIT_KEY,
        pl.col("households_total").cast(pl.Int64).alias("em_households_total"),
        pl.col("households_poor").cast(pl.Int64).alias("em_households_poor"),
    )
    attributes = _ensure_columns(attributes, {"village": pl.String, "submission_id": pl.String,
                                              **ATTRIBUTE_COLUMNS})
    attribute_values = attributes.select(
        "unit_code", pl.col("village").fill_null(NO_VILLAGE),
        *(pl.col(name).cast(dtype) for name, dtype in ATTRIBUTE_COLUMNS.items()),
        pl.col("submission_id").alias("attribute_submissions"),
    ).unique(subset=["unit_code", "village"], keep="first")
    place = units.select("unit_code", "unit_name", "province_code", "region_key").unique("unit_code")
    return (
        everyone
        # a unit with ALL figures but no EM row has unknown EM counts, not zero
        .join(minorities, on=list(UNIT_KEY), how="left")
        .join(attribute_values, on=["unit_code", "village"], how="left")
        .join(place, on="unit_code", how="left")
        .with_columns(known_row_sum("households_poor", "households_near_poor").alias("households_poor_or_near_poor"))
        .select(*(pl.col(name).cast(dtype) for name, dtype in _MEASURE_COLUMNS.items()))
    )


# ---------------------------------------------------------------------------------------------
# One criterion


@dataclass(frozen=True)
class _Columns:
    """Column names of one criterion's evaluation inside the wide frame."""

    prefix: str

    def __getattr__(self, part: str) -> str:
        return f"{self.prefix}::{part}"


def _flag_value(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64)


def _measure(criterion: Criterion) -> dict[str, pl.Expr]:
    """value, low, high (bounds of what the value may be), numerator, denominator, detail, confirmed_low."""
    measure = criterion.measure
    null_float = pl.lit(None, dtype=pl.Float64)
    null_int = pl.lit(None, dtype=pl.Int64)
    null_text = pl.lit(None, dtype=pl.String)
    if measure is None:
        return {"value": null_float, "low": null_float, "high": null_float, "numerator": null_int,
                "denominator": null_int, "detail": pl.lit("no input defined for this criterion")}
    if measure in RATE_PARTS:
        numerator, denominator = RATE_PARTS[measure]
        value = (pl.when(pl.col(denominator) > 0)
                 .then(pl.col(numerator).cast(pl.Float64) * 100.0 / pl.col(denominator).cast(pl.Float64))
                 .otherwise(None))
        return {"value": value, "low": value, "high": value, "numerator": pl.col(numerator),
                "denominator": pl.col(denominator),
                "detail": pl.format("{} / {}", pl.col(numerator), pl.col(denominator))}
    if measure in COUNT_MEASURES:
        value = pl.col(COUNT_MEASURES[measure]).cast(pl.Float64)
        return {"value": value, "low": value, "high": value, "numerator": pl.col(COUNT_MEASURES[measure]),
                "denominator": null_int, "detail": null_text}
    if measure == "lacking_infrastructure_items":
        lacking = pl.sum_horizontal(pl.col(c).fill_null(False).cast(pl.Int64) for c in INFRASTRUCTURE_COLUMNS)
        unknown = pl.sum_horizontal(pl.col(c).is_null().cast(pl.Int64) for c in INFRASTRUCTURE_COLUMNS)
        low = lacking.cast(pl.Float64)
        high = (lacking + unknown).cast(pl.Float64)

        def items(condition) -> pl.Expr:
            return pl.concat_str(
                [pl.when(condition(pl.col(c))).then(pl.lit("đ" if c.endswith("_dd") else c.rsplit("_", 1)[1]))
                 for c in INFRASTRUCTURE_COLUMNS], separator=", ", ignore_nulls=True)

        detail = pl.format("lacking: {}; unknown: {}", items(lambda c: c.fill_null(False)),
                           items(lambda c: c.is_null()))
        return {"value": pl.when(unknown == 0).then(low).otherwise(None), "low": low, "high": high,
                "numerator": lacking.cast(pl.Int64), "denominator": pl.lit(len(INFRASTRUCTURE_COLUMNS),
                                                                            dtype=pl.Int64),
                "detail": detail,
                "confirmed_low": pl.sum_horizontal(pl.col(c).fill_null(False).cast(pl.Int64)
                                                   for c in CONFIRMED_INFRASTRUCTURE_COLUMNS).cast(pl.Float64)}
    if measure == "households_without_grid_electricity_pct":
        value = 100.0 - pl.col("households_grid_electricity_pct")
    else:
        value = _flag_value(measure)
    return {"value": value, "low": value, "high": value, "numerator": null_int, "denominator": null_int,
            "detail": null_text}


def _number(threshold: Any) -> float:
    return float(threshold) if not isinstance(threshold, bool) else (1.0 if threshold else 0.0)


def _compare(left: pl.Expr, comparison: str, right: pl.Expr) -> pl.Expr:
    return {">=": left >= right, ">": left > right, "<": left < right, "<=": left <= right,
            "==": left == right}[comparison]


def _condition(when: Mapping[str, str]) -> pl.Expr:
    """A variant's or criterion's condition on the unit (null when the unit's region is unknown)."""
    parts = []
    for key, expected in when.items():
        if key.endswith("_not"):
            parts.append(pl.col(key.removesuffix("_not")) != expected)
        else:
            parts.append(pl.col(key) == expected)
    return pl.all_horizontal(parts)


def _criterion_columns(criterion: Criterion, names: _Columns) -> list[pl.Expr]:
    parts = _measure(criterion)
    threshold: pl.Expr = pl.lit(None, dtype=pl.Float64)
    variant: pl.Expr = pl.lit(None, dtype=pl.String)
    if criterion.threshold is not None:
        threshold = pl.lit(_number(criterion.threshold), dtype=pl.Float64)
        for option in criterion.variants:
            condition = _condition(option.when)
            threshold = (pl.when(condition.is_null()).then(None)
                         .when(condition).then(pl.lit(_number(option.threshold))).otherwise(threshold))
            variant = (pl.when(condition.fill_null(False)).then(pl.lit(",".join(option.when.values())))
                       .otherwise(variant))
    applies = _condition(criterion.applies_when).fill_null(True) if criterion.applies_when else pl.lit(True)
    if criterion.role != "rule":
        outcome = pl.when(parts["value"].is_not_null()).then(pl.lit(REPORTED)).otherwise(pl.lit(INSUFFICIENT))
        score = pl.lit(None, dtype=pl.Int8)
    else:
        holds_low = _compare(parts["low"], criterion.comparison, threshold)
        holds_high = _compare(parts["high"], criterion.comparison, threshold)
        # met when the comparison holds wherever the unknown parts could fall, not_met when it fails everywhere
        score = (pl.when(holds_low & holds_high).then(pl.lit(1, dtype=pl.Int8))
                 .when(~holds_low & ~holds_high).then(pl.lit(0, dtype=pl.Int8))
                 .otherwise(None))
        if criterion.applies_when:
            # a condition on an unknown region cannot be decided
            score = pl.when(_condition(criterion.applies_when).is_null()).then(None).otherwise(score)
        outcome = (pl.when(score == 1).then(pl.lit(MET)).when(score == 0).then(pl.lit(NOT_MET))
                   .otherwise(pl.lit(INSUFFICIENT)))
    confirmed: pl.Expr = pl.lit(criterion.confirmed)
    if "confirmed_low" in parts and criterion.comparison in (">=", ">") and criterion.threshold is not None:
        # "met" reached on confirmed items alone does not depend on the unconfirmed ones
        confirmed = confirmed | (_compare(parts["confirmed_low"], criterion.comparison, threshold)
                                 .fill_null(False))
    return [
        parts["value"].cast(pl.Float64).alias(names.value),
        parts["numerator"].cast(pl.Int64).alias(names.numerator),
        parts["denominator"].cast(pl.Int64).alias(names.denominator),
        parts["detail"].cast(pl.String).alias(names.detail),
        threshold.alias(names.threshold),
        variant.alias(names.variant),
        applies.alias(names.applies),
        score.alias(names.score),
        outcome.alias(names.outcome),
        confirmed.alias(names.confirmed),
    ]


# ---------------------------------------------------------------------------------------------
# The rule tree (Kleene logic; criteria that do not apply to the unit drop out of their group)


@dataclass(frozen=True)
class _Node:
    score: pl.Expr        # Int8: 1 met, 0 not_met, null insufficient
    applies: pl.Expr      # Boolean
    depends: pl.Expr      # Boolean: the outcome depends on something unconfirmed


def _node(tree: Any, kind: str, rules: Mapping[str, StatusRule]) -> _Node:
    if isinstance(tree, str):
        names = _Columns(f"{kind}.{tree}")
        return _Node(pl.col(names.score), pl.col(names.applies), ~pl.col(names.confirmed))
    (key, value), = tree.items()
    if key == "rule":
        return _rule_node(rules[value], rules)
    if key == "not":
        inner = _node(value, kind, rules)
        return _Node((1 - inner.score).cast(pl.Int8), inner.applies, inner.depends)
    if key == "score":
        return _score_node(value, kind, rules)
    children = [_node(child, kind, rules) for child in value]
    applies = pl.any_horizontal(c.applies for c in children)
    is_one = [c.applies & (c.score == 1).fill_null(False) for c in children]
    is_zero = [c.applies & (c.score == 0).fill_null(False) for c in children]
    any_dep = pl.any_horizontal(c.applies & c.depends for c in children)
    if key == "all":
        decided_no = pl.any_horizontal(is_zero)
        decided_yes = pl.all_horizontal(~c.applies | one for c, one in zip(children, is_one, strict=True))
        # not_met needs only one not_met part: it depends on the unconfirmed only if every such part does
        depends = (pl.when(decided_no)
                   .then(pl.all_horizontal(~zero | c.depends for c, zero in zip(children, is_zero, strict=True)))
                   .otherwise(any_dep))
    else:
        decided_yes = pl.any_horizontal(is_one)
        decided_no = pl.all_horizontal(~c.applies | zero for c, zero in zip(children, is_zero, strict=True))
        depends = (pl.when(decided_yes)
                   .then(pl.all_horizontal(~one | c.depends for c, one in zip(children, is_one, strict=True)))
                   .otherwise(any_dep))
    score = (pl.when(~applies).then(None)
             .when(decided_no).then(pl.lit(0, dtype=pl.Int8))
             .when(decided_yes).then(pl.lit(1, dtype=pl.Int8))
             .otherwise(None))
    return _Node(score, applies, depends)


def _score_node(spec: Mapping[str, Any], kind: str, rules: Mapping[str, StatusRule]) -> _Node:
    """Points for met criteria, compared with a cut-off; unknown criteria bound the score from both sides."""
    items = [(_node(item["criterion"], kind, rules), float(item["points"])) for item in spec["items"]]
    least = pl.sum_horizontal((n.applies & (n.score == 1).fill_null(False)).cast(pl.Float64) * points
                              for n, points in items)
    most = pl.sum_horizontal((n.applies & (n.score != 0).fill_null(True)).cast(pl.Float64) * points
                             for n, points in items)
    comparison, cutoff = spec.get("comparison", ">="), pl.lit(float(spec["cutoff"]))
    holds_least, holds_most = _compare(least, comparison, cutoff), _compare(most, comparison, cutoff)
    score = (pl.when(holds_least & holds_most).then(pl.lit(1, dtype=pl.Int8))
             .when(~holds_least & ~holds_most).then(pl.lit(0, dtype=pl.Int8)).otherwise(None))
    return _Node(score, pl.any_horizontal(n.applies for n, _ in items),
                 pl.any_horizontal(n.applies & n.depends for n, _ in items))


def _rule_node(rule: StatusRule, rules: Mapping[str, StatusRule]) -> _Node:
    node = _node(rule.entry_rule, rule.status_kind, rules)
    if rule.provisional:
        return _Node(node.score, node.applies, pl.lit(True))
    return node


def _rules_needed(kind: str, rules: Mapping[str, StatusRule]) -> list[StatusRule]:
    ordered: list[StatusRule] = []

    def visit(name: str) -> None:
        if name in (r.status_kind for r in ordered):
            return
        rule = rules[name]
        for reference in sorted(rule.referenced_rules()):
            visit(reference)
        ordered.append(rule)

    visit(kind)
    return ordered


# Rules evaluated beside a kind, to say what a unit that leaves it becomes (Decision 33/2020 Arts. 3–5).
CLASSIFIED_WITH: dict[str, tuple[str, ...]] = {"region_iii_commune": ("region_i_commune", "region_ii_commune")}


def _wide(measures: pl.LazyFrame, kind: str, rules: Mapping[str, StatusRule]) -> pl.LazyFrame:
    """The measures plus every criterion's columns (of the rule and the rules it refers to) and the verdict."""
    needed: list[StatusRule] = []
    for name in (kind, *(k for k in CLASSIFIED_WITH.get(kind, ()) if k in rules)):
        needed += [r for r in _rules_needed(name, rules) if r not in needed]
    frame = measures.with_columns(
        expr for rule in needed for criterion in rule.criteria
        for expr in _criterion_columns(criterion, _Columns(f"{rule.status_kind}.{criterion.id}")))
    node = _rule_node(rules[kind], rules)
    return frame.with_columns(
        pl.when(node.applies).then(node.score).otherwise(None).alias("__score"),
        node.depends.fill_null(True).alias("__depends"),
    )


def _ids_where(rule: StatusRule, outcome: str) -> pl.Expr:
    rule_criteria = [c for c in rule.criteria if c.role == "rule"]
    return pl.concat_str(
        [pl.when(pl.col(_Columns(f"{rule.status_kind}.{c.id}").applies)
                 & (pl.col(_Columns(f"{rule.status_kind}.{c.id}").outcome) == outcome))
         .then(pl.lit(c.id)) for c in rule_criteria],
        separator=",", ignore_nulls=True)


def _source_submissions(*columns: str) -> pl.Expr:
    """Sorted, de-duplicated, comma-separated ids from comma-separated columns."""
    return (pl.concat_list(pl.col(c).fill_null("").str.split(",") for c in columns)
            .list.eval(pl.element().filter(pl.element() != "").unique().sort())
            .list.join(","))


def _criteria_long(wide: pl.LazyFrame, rule: StatusRule) -> pl.LazyFrame:
    """One row per unit × criterion that applies to the unit."""
    parts = []
    for criterion in rule.criteria:
        names = _Columns(f"{rule.status_kind}.{criterion.id}")
        uses_poverty = criterion.measure in POVERTY_MEASURES
        uses_attributes = criterion.measure is not None and not uses_poverty
        sources = [c for c, used in (("poverty_submissions", uses_poverty),
                                     ("attribute_submissions", uses_attributes)) if used]
        measure = MEASURES.get(criterion.measure) if criterion.measure else None
        parts.append(
            wide.filter(pl.col(names.applies))
            .select(
                *UNIT_KEY,
                pl.lit(criterion.id).alias("criterion_id"),
                pl.lit(criterion.role).alias("role"),
                pl.lit(criterion.label_vi).alias("label_vi"),
                pl.lit(criterion.label_en).alias("label_en"),
                pl.lit(criterion.measure, dtype=pl.String).alias("measure"),
                pl.col(names.value).alias("value"),
                _value_text(pl.col(names.value), measure).alias("value_text"),
                pl.lit(criterion.comparison, dtype=pl.String).alias("comparison"),
                pl.col(names.threshold).alias("threshold"),
                pl.lit(criterion.unit, dtype=pl.String).alias("unit"),
                pl.col(names.variant).alias("variant"),
                pl.col(names.outcome).alias("outcome"),
                pl.col(names.numerator).alias("numerator"),
                pl.col(names.denominator).alias("denominator"),
                pl.col(names.detail).alias("detail"),
                pl.lit(criterion.citation.text()).alias("citation"),
                pl.col(names.confirmed).alias("confirmed"),
                (_source_submissions(*sources) if sources else pl.lit("")).alias("source_submissions"),
                pl.lit(rule.criteria.index(criterion), dtype=pl.Int64).alias("criterion_order"),
            )
        )
    return pl.concat(parts, how="vertical")


def _value_text(value: pl.Expr, measure) -> pl.Expr:
    if measure is None:
        return pl.lit(None, dtype=pl.String)
    if measure.kind == "flag":
        return pl.when(value == 1).then(pl.lit("true")).when(value == 0).then(pl.lit("false")).otherwise(None)
    return value.cast(pl.String)


@dataclass(frozen=True)
class Evaluation:
    """The lazy outputs of evaluating one status kind for one year."""

    exit_candidates: pl.LazyFrame     # one row per listed unit
    entry_candidates: pl.LazyFrame    # one row per unlisted unit that meets the entry criteria
    criteria: pl.LazyFrame            # one row per evaluated (listed or entry-candidate) unit × criterion


def evaluate_status(measures: pl.LazyFrame, members: pl.LazyFrame, kind: str, rules: Mapping[str, StatusRule],
                    year: int) -> Evaluation:
    """Exit and entry candidates of one status kind.

    Grain in: `measures` one row per year × level × unit_code × village (`unit_measures`); `members` one row per
    unit on the list at the review date: unit_code, village ("" or null for non-village kinds), list_decisions.
    Grain out: see `Evaluation`. Only measures rows at the rule's level are evaluated.
    """
    rule = rules[kind]
    measures = measures.filter(pl.col("year") == year)
    level_rows = measures.filter(pl.col("level") == ("commune" if rule.level == "village" else rule.level))
    if rule.level == "village":
        level_rows = level_rows.filter(pl.col("village") != NO_VILLAGE)
    else:
        level_rows = level_rows.filter(pl.col("village") == NO_VILLAGE)
    listed = members.select(
        "unit_code", pl.col("village").fill_null(NO_VILLAGE), pl.col("list_decisions").cast(pl.String),
    ).unique(subset=["unit_code", "village"], keep="first").with_columns(pl.lit(True).alias("on_list"))
    wide = _wide(level_rows, kind, rules)
    flagged = wide.join(listed, on=["unit_code", "village"], how="left").with_columns(
        pl.col("on_list").fill_null(False))
    # a listed unit with no figures at all is still reported: every criterion insufficient_data
    missing = listed.join(level_rows.select("unit_code", "village"), on=["unit_code", "village"], how="anti")
    # evaluated once here: the rule tree is a large expression, and the three outputs below all read it
    classified = _classification(flagged, kind, rules).collect().lazy()
    flagged = classified

    def verdict_columns(verdict: pl.Expr) -> list[pl.Expr]:
        return [
            *UNIT_KEY, "unit_name", "province_code", "region_key", verdict.alias("verdict"),
            pl.col("__depends").alias("depends_on_unconfirmed"),
            pl.lit(rule.provisional).alias("provisional_rule"),
        ]

    # Under a rule that is not the law's own, the criteria's values are shown but no verdict is drawn from them.
    on_list_verdict = (pl.lit(NO_CONFIRMED_RULE) if not rule.rule_confirmed else
                       pl.when(pl.col("__score") == 1).then(pl.lit(REMAINS))
                       .when(pl.col("__score") == 0).then(pl.lit(EXIT_CANDIDATE))
                       .otherwise(pl.lit(INSUFFICIENT)))
    is_entry_candidate = ~pl.col("on_list") & (pl.col("__score") == 1) & pl.lit(rule.rule_confirmed)
    exit_rows = classified.filter(pl.col("on_list")).select(
        *verdict_columns(on_list_verdict),
        _ids_where(rule, NOT_MET).alias("criteria_not_met"),
        _ids_where(rule, INSUFFICIENT).alias("criteria_insufficient"),
        pl.col("classified_as"),
        pl.col("list_decisions"),
        _source_submissions("poverty_submissions", "attribute_submissions").alias("source_submissions"),
        pl.lit(f"schemas/status_rules/{rule.path.name}").alias("rule_file"),
    )
    entry_rows = classified.filter(is_entry_candidate).select(
        *verdict_columns(pl.lit(ENTRY_CANDIDATE)),
        _source_submissions("poverty_submissions", "attribute_submissions").alias("source_submissions"),
        pl.lit(f"schemas/status_rules/{rule.path.name}").alias("rule_file"),
    )
    criteria = _criteria_long(
        flagged.filter(pl.col("on_list") | is_entry_candidate), rule
    ).join(flagged.select("unit_code", "village", "on_list"), on=["unit_code", "village"], how="left")
    missing_rows = _missing_members(missing, year, rule)
    status = pl.lit(kind).alias("status_kind")
    level = pl.lit(rule.level).alias("level")
    return Evaluation(
        exit_candidates=pl.concat([exit_rows.with_columns(status, level),
                                   missing_rows.exit_rows.with_columns(status, level)], how="diagonal_relaxed"),
        entry_candidates=entry_rows.with_columns(status, level),
        criteria=pl.concat([criteria.with_columns(status, level),
                            missing_rows.criteria.with_columns(status, level)], how="diagonal_relaxed"),
    )


@dataclass(frozen=True)
class _Missing:
    exit_rows: pl.LazyFrame
    criteria: pl.LazyFrame


def _missing_members(missing: pl.LazyFrame, year: int, rule: StatusRule) -> _Missing:
    """Listed units without any figures for the year: every criterion insufficient_data, verdict likewise."""
    base = missing.select(
        pl.lit(year, dtype=pl.Int64).alias("year"), pl.lit(rule.level).alias("level"), "unit_code", "village",
        "list_decisions")
    depends = pl.lit(rule.provisional or any(not c.confirmed for c in rule.criteria if c.role == "rule"))
    exit_rows = base.select(
        *UNIT_KEY, pl.lit(None, dtype=pl.String).alias("unit_name"),
        pl.lit(None, dtype=pl.String).alias("province_code"), pl.lit(None, dtype=pl.String).alias("region_key"),
        pl.lit(INSUFFICIENT if rule.rule_confirmed else NO_CONFIRMED_RULE).alias("verdict"),
        depends.alias("depends_on_unconfirmed"),
        pl.lit(rule.provisional).alias("provisional_rule"),
        pl.lit("").alias("criteria_not_met"),
        pl.lit(",".join(c.id for c in rule.criteria if c.role == "rule" and not c.applies_when))
        .alias("criteria_insufficient"),
        pl.lit(None, dtype=pl.String).alias("classified_as"),
        "list_decisions", pl.lit("").alias("source_submissions"),
        pl.lit(f"schemas/status_rules/{rule.path.name}").alias("rule_file"),
    )
    criteria = pl.concat([
        base.select(
            *UNIT_KEY, pl.lit(True).alias("on_list"),
            pl.lit(c.id).alias("criterion_id"), pl.lit(c.role).alias("role"), pl.lit(c.label_vi).alias("label_vi"),
            pl.lit(c.label_en).alias("label_en"), pl.lit(c.measure, dtype=pl.String).alias("measure"),
            pl.lit(None, dtype=pl.Float64).alias("value"), pl.lit(None, dtype=pl.String).alias("value_text"),
            pl.lit(c.comparison, dtype=pl.String).alias("comparison"),
            pl.lit(None if c.threshold is None else _number(c.threshold), dtype=pl.Float64).alias("threshold"),
            pl.lit(c.unit, dtype=pl.String).alias("unit"), pl.lit(None, dtype=pl.String).alias("variant"),
            pl.lit(INSUFFICIENT).alias("outcome"), pl.lit(None, dtype=pl.Int64).alias("numerator"),
            pl.lit(None, dtype=pl.Int64).alias("denominator"),
            pl.lit("no figures for this unit in the review year").alias("detail"),
            pl.lit(c.citation.text()).alias("citation"), pl.lit(c.confirmed).alias("confirmed"),
            pl.lit("").alias("source_submissions"), pl.lit(i, dtype=pl.Int64).alias("criterion_order"),
        )
        for i, c in enumerate(rule.criteria) if not c.applies_when
    ], how="vertical")
    return _Missing(exit_rows, criteria)


def _classification(wide: pl.LazyFrame, kind: str, rules: Mapping[str, StatusRule]) -> pl.LazyFrame:
    """For Region III, what the figures make the commune (Decision 33/2020 Arts. 3–5: III, then I, else II)."""
    if kind not in CLASSIFIED_WITH or not set(CLASSIFIED_WITH[kind]) <= set(rules):
        return wide.with_columns(pl.lit(None, dtype=pl.String).alias("classified_as"))
    region_i = _rule_node(rules["region_i_commune"], rules)
    region_ii = _rule_node(rules["region_ii_commune"], rules)
    scope = pl.col(_Columns("region_iii_commune.em_households_15").score)
    return wide.with_columns(
        pl.when(pl.col("__score") == 1).then(pl.lit("region_iii"))
        .when(scope == 0).then(pl.lit("out_of_scope"))
        .when(region_i.score == 1).then(pl.lit("region_i"))
        .when(region_ii.score == 1).then(pl.lit("region_ii"))
        .otherwise(pl.lit(INSUFFICIENT)).alias("classified_as"))


def evaluate_unit(measures: pl.LazyFrame, kind: str, rules: Mapping[str, StatusRule]) -> pl.LazyFrame:
    """Outcome of one rule for every measures row at its level, whatever the lists say (for `lnob explain`).

    Grain in: `unit_measures`. Grain out: one row per unit × criterion, with the rule's outcome repeated in
    `rule_outcome` (met / not_met / insufficient_data) and `depends_on_unconfirmed`.
    """
    rule = rules[kind]
    wide = _wide(measures, kind, rules)
    outcome = (pl.when(pl.col("__score") == 1).then(pl.lit(MET)).when(pl.col("__score") == 0)
               .then(pl.lit(NOT_MET)).otherwise(pl.lit(INSUFFICIENT)))
    return _criteria_long(wide, rule).join(
        wide.select("unit_code", "village", outcome.alias("rule_outcome"),
                    pl.col("__depends").alias("depends_on_unconfirmed")),
        on=["unit_code", "village"], how="left")


__all__ = ["COMPARISONS", "Evaluation", "evaluate_status", "evaluate_unit", "unit_measures"]
