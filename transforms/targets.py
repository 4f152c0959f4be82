"""Progress towards the programme targets (`schemas/targets.json`) for one review year.

Kinds of target:
* `rate_change`: a rate that must fall by so many percentage points a year (the poor-household rate, the
  ethnic-minority poor-household rate). Progress is the average decrease per year since the baseline year,
  from the rates of the poverty marts (100 × summed counts / summed counts, unrounded).
* `list_rate_change`: the same, on the units of a status list at the start of the period taken together (the
  poor-household rate in poor districts). The units' counts are summed; one unit without figures leaves the
  sum unknown, and the row says how many units had figures.
* `count_change`: a count that must fall by a share by the end of the period (poor + near-poor households
  halved): the value is how much smaller the count is than at the baseline, in % of the baseline count.
* `exit_share`: a share of a status list that must exit by the end of the period. Exits recognised by decision
  (removals in the lists) and the projection that adds this year's exit candidates are separate rows (`basis`),
  never mixed. Recognised exits are unknown, not zero, while no removal decision of the list is loaded.
An entry with `"goal": null` is an indicator: reported with its yearly change, never judged.

Who is judged: a national goal gets a verdict on the national row only (`judged_levels`); a province row shows
the province's own figure as its contribution (`not_judged`). The goal is read pro rata over the period where
it is stated for the end of it (lnob's reading, stated in targets.json). Every row computed from a rule that is
provisional or a list that is partial says so (`provisional`, `partial_list`, `note`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from schemas.marts import TARGET_PROGRESS
from schemas.rules import StatusRule, Target, Targets
from schemas.vocabulary import EXIT_CANDIDATE
from transforms.rollup import known_row_sum, known_sum, percentage

ON_TRACK, OFF_TRACK, INSUFFICIENT, NOT_JUDGED = "on_track", "off_track", "insufficient_data", "not_judged"
NATIONAL_CODE = "VN"
RECOGNISED, PROJECTED, REVIEW_FIGURES = "recognised_by_decision", "projected_with_exit_candidates", "review_figures"


def _compare(left: pl.Expr, comparison: str, right: pl.Expr) -> pl.Expr:
    return {">=": left >= right, ">": left > right, "<": left < right, "<=": left <= right,
            "==": left == right}[comparison]


def _judged_levels(target: Target) -> list[str]:
    if target.goal is None:
        return []
    return list(target.details.get("judged_levels", ["national"]))


def _verdict(target: Target, targets: Targets, year: int, on_track: pl.Expr) -> list[pl.Expr]:
    """`on_track` and `status` for one row: judged only at the target's judged levels, within its period."""
    judged = pl.col("level").is_in(_judged_levels(target)) & pl.lit(year <= targets.period_to)
    on_track = pl.when(judged).then(on_track).otherwise(None)
    status = (pl.when(~judged).then(pl.lit(NOT_JUDGED))
              .when(on_track.is_null()).then(pl.lit(INSUFFICIENT))
              .when(on_track).then(pl.lit(ON_TRACK)).otherwise(pl.lit(OFF_TRACK)))
    return [on_track.alias("on_track"), status.alias("status")]


def _why_not_judged(target: Target, targets: Targets, year: int) -> pl.Expr:
    if target.goal is None:
        return pl.lit("an indicator reported beside the targets, not a target: never judged")
    if year > targets.period_to:
        return pl.lit(f"after the programme period ({targets.period_from}–{targets.period_to}): not judged")
    return pl.lit("this unit's own figure, shown as its contribution: the goal is national and judged on the "
                  "national row only")


def _goal_columns(target: Target, expected: float | None) -> list[pl.Expr]:
    goal = target.goal or {}
    value = goal.get("value")
    return [
        pl.lit(None if value is None else float(value), dtype=pl.Float64).alias("goal"),
        pl.lit(goal.get("comparison"), dtype=pl.String).alias("goal_comparison"),
        pl.lit(f"{goal['text_vi']} / {goal['text_en']}" if goal else None, dtype=pl.String).alias("goal_text"),
        pl.lit(expected, dtype=pl.Float64).alias("expected_by_year"),
    ]


def _labels(target: Target, year: int) -> list[pl.Expr]:
    return [pl.lit(year, dtype=pl.Int64).alias("year"), pl.lit(target.id).alias("target_id"),
            pl.lit(target.label_vi).alias("label_vi"), pl.lit(target.label_en).alias("label_en"),
            pl.lit(target.confirmed).alias("confirmed")]


def _join_notes(*parts: pl.Expr) -> pl.Expr:
    """The non-null parts, '; '-joined; null when there is none."""
    joined = pl.concat_str([part for part in parts], separator="; ", ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


def _finish(frame: pl.LazyFrame) -> pl.LazyFrame:
    schema = TARGET_PROGRESS.polars_schema()
    present = frame.collect_schema().names()
    return frame.select(
        (pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype=dtype)).alias(name)
        for name, dtype in schema.items())


def expected_share(target: Target, year: int, targets: Targets) -> float:
    """The goal pro rata over the period: by `by_year` the whole goal, nothing at the baseline year."""
    by_year = int(target.goal.get("by_year", targets.period_to))
    elapsed = min(max(year - targets.baseline_year, 0), by_year - targets.baseline_year)
    return float(target.goal["value"]) * elapsed / (by_year - targets.baseline_year)


def expected_share_since(target: Target, year: int, targets: Targets, baseline_year: pl.Expr) -> pl.Expr:
    """`expected_share` from the row's own baseline year: a fall measured since a later first year with figures
    is held to the part of the goal due since then (null without a baseline)."""
    by_year = int(target.goal.get("by_year", targets.period_to))
    span = (pl.lit(by_year) - baseline_year).cast(pl.Float64)
    elapsed = pl.min_horizontal(pl.max_horizontal(pl.lit(year) - baseline_year, pl.lit(0)),
                                pl.lit(by_year) - baseline_year).cast(pl.Float64)
    return pl.when(span > 0).then(pl.lit(float(target.goal["value"])) * elapsed / span).otherwise(
        pl.lit(float(target.goal["value"])))


# --- changes since the baseline year -------------------------------------------------------------------

def _with_baseline(series: pl.LazyFrame, year: int, targets: Targets) -> pl.LazyFrame:
    """Grain in/out: one row per year × level × unit_code with `value` → one row per level × unit for `year`,
    with `baseline_year` and `baseline_value`: the baseline year's value, else the first later year (before
    `year`) whose value is known."""
    current = series.filter(pl.col("year") == year).drop("year")
    baseline = (
        series.filter(pl.col("year") < year, pl.col("value").is_not_null(), pl.col("year") >= targets.baseline_year)
        .sort("year")
        .group_by("level", "unit_code").agg(pl.col("year").first().alias("baseline_year"),
                                            pl.col("value").first().alias("baseline_value"))
    )
    return current.join(baseline, on=["level", "unit_code"], how="left")


def _baseline_note(targets: Targets, target: Target) -> pl.Expr:
    published = targets.published_baseline or {}
    reference = (f" (the published start-of-period poor-household rate was about {published['poor_rate_pct']} % "
                 f"in {published['year']}, {published.get('status', '')})"
                 if target.id in published.get("applies_to", ()) else "")
    return (pl.when(pl.col("baseline_year").is_null())
            .then(pl.lit("no earlier figures: the change cannot be computed yet"))
            .when(pl.col("baseline_year") != targets.baseline_year)
            .then(pl.format("no figures for {}, the programme's baseline; the first year with figures ({}) is "
                            "used" + reference.replace("{", "{{").replace("}", "}}"),
                            pl.lit(targets.baseline_year), pl.col("baseline_year")))
            .otherwise(None))


def _expected_units(target: Target, series: pl.LazyFrame) -> pl.LazyFrame:
    """The nation always has a row (insufficient_data when it has no figures); other levels when any year has."""
    return pl.concat([
        pl.LazyFrame({"level": ["national"], "unit_code": [NATIONAL_CODE]}).filter(
            pl.lit("national" in target.levels)),
        series.select("level", "unit_code"),
    ]).unique()


def _rate_change_rows(target: Target, year: int, targets: Targets, series: pl.LazyFrame, source: pl.Expr,
                      extra_notes: tuple[pl.Expr, ...] = ()) -> pl.LazyFrame:
    """Grain in: one row per year × level × unit with numerator, denominator, value (a rate) and any of
    units_expected, units_with_figures, partial_list. Grain out: target_progress rows of `year`."""
    goal = target.goal
    current = _expected_units(target, series).join(_with_baseline(series, year, targets),
                                                   on=["level", "unit_code"], how="left")
    change = ((pl.col("baseline_value") - pl.col("value"))
              / (pl.lit(year) - pl.col("baseline_year")).cast(pl.Float64))
    on_track = (_compare(pl.col("change_per_year"), goal["comparison"], pl.lit(float(goal["value"])))
                if goal else pl.lit(None, dtype=pl.Boolean))
    verdict = _verdict(target, targets, year, on_track)
    return _finish(
        current.with_columns(change.alias("change_per_year"))
        .with_columns(*verdict, pl.lit(REVIEW_FIGURES).alias("basis"), *_labels(target, year),
                      *_goal_columns(target, float(goal["value"]) if goal else None), source.alias("source"))
        .with_columns(_join_notes(
            pl.when(pl.col("status") == NOT_JUDGED).then(_why_not_judged(target, targets, year)),
            _baseline_note(targets, target), *extra_notes).alias("note"))
    )


def rate_progress(poverty: pl.LazyFrame, target: Target, year: int, targets: Targets) -> pl.LazyFrame:
    """Grain in: poverty rows, one per year × level × unit_code × ethnic_group × area (any years; the rows of
    the target's levels are used). Grain out: one row per level × unit for `year` (target_progress layout)."""
    spec = target.details["rate"]
    series = (
        poverty
        .filter(pl.col("level").is_in(list(target.levels)), pl.col("ethnic_group") == spec["ethnic_group"],
                pl.col("area") == spec["area"], pl.col("year") <= year)
        .select("year", "level", "unit_code",
                known_row_sum(*spec["numerator"]).alias("numerator"),
                pl.col(spec["denominator"]).cast(pl.Int64).alias("denominator"))
        .with_columns(percentage("numerator", "denominator").alias("value"))
    )
    source = pl.format("poverty marts, {} × {}: {} / {} ({}); baseline {}",
                       pl.lit(spec["ethnic_group"]), pl.lit(spec["area"]),
                       pl.lit(" + ".join(spec["numerator"])), pl.lit(spec["denominator"]), pl.lit(year),
                       pl.col("baseline_year").cast(pl.String).fill_null("not available"))
    return _rate_change_rows(target, year, targets, series, source)


def list_rate_progress(poverty: pl.LazyFrame, target: Target, year: int, targets: Targets, *,
                       baseline_members: pl.LazyFrame) -> pl.LazyFrame:
    """The rate of a status list's units at the start of the period, taken together.

    Grain in: `poverty` as for `rate_progress` (rows at the list's level are used); `baseline_members` one row
    per unit on the list at its first decision (status_kind, unit_code, province_code, partial).
    Grain out: one row per level × unit (the nation, and each province with listed units) for `year`.
    A verdict needs every listed unit's figures in both years and a complete list.
    """
    spec = target.details["rate"]
    kinds = list(target.details.get("status_kinds", ()))
    members = baseline_members.filter(pl.col("status_kind").is_in(kinds)).select(
        "unit_code", "province_code", "partial").unique(subset=["unit_code"], keep="first")
    years = poverty.filter(pl.col("year") <= year).select("year").unique()
    figures = (poverty
               .filter(pl.col("level") == target.details.get("unit_level", "district"),
                       pl.col("ethnic_group") == spec["ethnic_group"], pl.col("area") == spec["area"])
               .select("year", "unit_code", known_row_sum(*spec["numerator"]).alias("numerator"),
                       pl.col(spec["denominator"]).cast(pl.Int64).alias("denominator")))
    per_unit = members.join(years, how="cross").join(figures, on=["year", "unit_code"], how="left")
    has_figures = pl.col("numerator").is_not_null() & pl.col("denominator").is_not_null()

    def grouped() -> list[pl.Expr]:
        return [known_sum("numerator").alias("numerator"), known_sum("denominator").alias("denominator"),
                pl.len().cast(pl.Int64).alias("units_expected"),
                has_figures.sum().cast(pl.Int64).alias("units_with_figures"),
                pl.col("partial").any().alias("partial_list")]

    national = per_unit.group_by("year").agg(grouped()).with_columns(
        pl.lit("national").alias("level"), pl.lit(NATIONAL_CODE).alias("unit_code"))
    provinces = per_unit.group_by("year", "province_code").agg(grouped()).select(
        pl.exclude("province_code"), pl.lit("province").alias("level"), pl.col("province_code").alias("unit_code"))
    levels = [frame for level, frame in (("national", national), ("province", provinces))
              if level in target.levels]
    series = pl.concat(levels, how="diagonal_relaxed").with_columns(
        percentage("numerator", "denominator").alias("value"))
    declared = target.details.get("baseline_count")
    source = pl.format("poverty marts, {} rows, {} × {}: {} / {} summed over the units of the {} list at the start "
                       "of the period ({} of {} with figures); baseline {}",
                       pl.lit(target.details.get("unit_level", "district")), pl.lit(spec["ethnic_group"]),
                       pl.lit(spec["area"]), pl.lit(" + ".join(spec["numerator"])), pl.lit(spec["denominator"]),
                       pl.lit(", ".join(kinds)), pl.col("units_with_figures").fill_null(0),
                       pl.col("units_expected").fill_null(0),
                       pl.col("baseline_year").cast(pl.String).fill_null("not available"))
    notes = (
        pl.when(pl.col("units_expected").is_null())
        .then(pl.lit("no loaded list names units here at the start of the period (lnob lists load)")),
        pl.when(pl.col("units_with_figures") < pl.col("units_expected"))
        .then(pl.format("{} of the {} listed units have no figures this year: the sum is unknown",
                        pl.col("units_expected") - pl.col("units_with_figures"), pl.col("units_expected"))),
        pl.when(pl.col("partial_list").fill_null(False))
        .then(pl.lit(f"the loaded list is PARTIAL (the decision declares {declared} units): not a national figure, "
                     "no verdict")),
    )
    rows = _rate_change_rows(target, year, targets, series, source, notes)
    # a partial list is never the national figure: whatever its rate, the national verdict waits for the full list
    withheld = (pl.col("status").is_in([ON_TRACK, OFF_TRACK]) & pl.col("partial_list").fill_null(False))
    return rows.with_columns(
        pl.when(withheld).then(pl.lit(INSUFFICIENT)).otherwise(pl.col("status")).alias("status"),
        pl.when(withheld).then(None).otherwise(pl.col("on_track")).alias("on_track"))


def count_progress(poverty: pl.LazyFrame, target: Target, year: int, targets: Targets) -> pl.LazyFrame:
    """A count that must fall by a share by the end of the period (e.g. poor + near-poor households halved).

    Grain in: poverty rows as for `rate_progress`. Grain out: one row per level × unit for `year`; value = how
    much smaller the count is than at the baseline, in % of the baseline count; the goal read pro rata.
    """
    spec = target.details["count"]
    counts = (
        poverty
        .filter(pl.col("level").is_in(list(target.levels)), pl.col("ethnic_group") == spec["ethnic_group"],
                pl.col("area") == spec["area"], pl.col("year") <= year)
        .select("year", "level", "unit_code", known_row_sum(*spec["numerator"]).alias("value"))
    )
    current = _expected_units(target, counts).join(_with_baseline(counts, year, targets),
                                                   on=["level", "unit_code"], how="left")
    goal = target.goal
    fall = percentage(pl.col("baseline_value") - pl.col("value"), pl.col("baseline_value"))
    on_track = _compare(pl.col("value"), goal["comparison"], pl.col("expected_by_year"))
    source = pl.format("poverty marts, {} × {}: {} ({}) against the baseline year {}",
                       pl.lit(spec["ethnic_group"]), pl.lit(spec["area"]), pl.lit(" + ".join(spec["numerator"])),
                       pl.lit(year), pl.col("baseline_year").cast(pl.String).fill_null("not available"))
    return _finish(
        current.with_columns(pl.col("value").alias("numerator"), pl.col("baseline_value").alias("denominator"))
        .with_columns(fall.alias("value"), *_goal_columns(target, None))
        .with_columns(expected_share_since(target, year, targets, pl.col("baseline_year")).alias("expected_by_year"))
        .with_columns(*_verdict(target, targets, year, on_track), pl.lit(REVIEW_FIGURES).alias("basis"),
                      *_labels(target, year), source.alias("source"))
        .with_columns(_join_notes(
            pl.when(pl.col("status") == NOT_JUDGED).then(_why_not_judged(target, targets, year)),
            _baseline_note(targets, target),
            pl.lit("value = how much fewer than at the baseline, in % of the baseline count; the goal is read "
                   "pro rata from the baseline year to the goal's year")).alias("note"))
    )


# --- exits ---------------------------------------------------------------------------------------------

def exit_share_progress(target: Target, year: int, targets: Targets, *, removals: pl.LazyFrame,
                        baseline_members: pl.LazyFrame, exit_candidates: pl.LazyFrame, review_date: date,
                        rules: Mapping[str, StatusRule] | None = None) -> pl.LazyFrame:
    """Share of a list that exited, nationally and per province.

    Grain in: `removals` one row per name in every loaded removal decision, whatever its date (status_kind,
    decision, effective_from, province_code, unit_code — codes null where the name matched no unit); only those
    in effect by `review_date` count as exits, but any loaded decision of the list makes the count known.
    `baseline_members` one row per unit on the list at its first decision (status_kind, unit_code,
    province_code, partial); `exit_candidates` the mart of this year (status_kind, unit_code, province_code,
    verdict, depends_on_unconfirmed). `rules` (optional): the status rules, to say when a projection rests on
    a provisional rule or on none.
    Grain out: per level × unit, one row with basis `recognised_by_decision` and one with
    `projected_with_exit_candidates` (target_progress layout).
    """
    kinds = list(target.details.get("status_kinds", ()))
    rules = rules or {}
    goal = target.goal
    expected = expected_share(target, year, targets)
    loaded = removals.filter(pl.col("status_kind").is_in(kinds))
    removed = loaded.filter(pl.col("effective_from") <= pl.lit(review_date))
    candidates = exit_candidates.filter(pl.col("status_kind").is_in(kinds), pl.col("verdict") == EXIT_CANDIDATE)
    members = baseline_members.filter(pl.col("status_kind").is_in(kinds))
    decisions = loaded.select(
        pl.col("decision").unique().sort().str.join(", ").alias("decisions"),
        (pl.len() > 0).alias("removals_loaded"))
    unruled = [kind for kind in kinds if kind in rules and not rules[kind].rule_confirmed]
    provisional_rule = any(rules[kind].provisional for kind in kinds if kind in rules)

    national_baseline = target.details.get("baseline_count")
    national = pl.LazyFrame({"level": ["national"], "unit_code": [NATIONAL_CODE]}).join(
        pl.concat([
            removed.select(pl.len().cast(pl.Int64).alias("removed")),
            candidates.select(pl.len().cast(pl.Int64).alias("candidates"),
                              pl.col("depends_on_unconfirmed").any().alias("candidates_unconfirmed")),
            members.select(pl.len().cast(pl.Int64).alias("listed"), pl.col("partial").any().alias("partial")),
        ], how="horizontal"), how="cross").with_columns(
        pl.lit(national_baseline, dtype=pl.Int64).alias("denominator"),
        pl.lit(f"baseline {national_baseline} declared by {target.details.get('baseline_decision')} "
               f"({target.details.get('baseline_count_status', '')})").alias("baseline_source"))
    province_keys = pl.concat([removed.select("province_code"), candidates.select("province_code"),
                               members.select("province_code")]).filter(pl.col("province_code").is_not_null()) \
        .unique()
    per_province = (
        province_keys
        .join(removed.group_by("province_code").agg(pl.len().cast(pl.Int64).alias("removed")),
              on="province_code", how="left")
        .join(candidates.group_by("province_code").agg(
            pl.len().cast(pl.Int64).alias("candidates"),
            pl.col("depends_on_unconfirmed").any().alias("candidates_unconfirmed")),
            on="province_code", how="left")
        .join(members.group_by("province_code").agg(pl.len().cast(pl.Int64).alias("listed"),
                                                     pl.col("partial").any().alias("partial")),
              on="province_code", how="left")
        .select(pl.lit("province").alias("level"), pl.col("province_code").alias("unit_code"),
                pl.col("removed").fill_null(0), pl.col("candidates").fill_null(0), "candidates_unconfirmed",
                "listed", pl.col("partial").fill_null(False),
                pl.col("listed").alias("denominator"),
                pl.when(pl.col("listed").is_null())
                .then(pl.lit("no loaded list names this province's units at the start of the period"))
                .otherwise(pl.lit("baseline from the loaded list")).alias("baseline_source"))
    )
    levels = [frame for level, frame in (("national", national), ("province", per_province))
              if level in target.levels]
    counts = pl.concat(levels, how="diagonal_relaxed").join(decisions, how="cross")

    def rows(basis: str, numerator: pl.Expr, what: str, provisional: pl.Expr, extra_note: pl.Expr) -> pl.LazyFrame:
        on_track = _compare(pl.col("value"), goal["comparison"], pl.lit(expected))
        # with no removal decision of the list loaded at all, "no exit" would be a guess: the count is unknown
        numerator = pl.when(pl.col("removals_loaded")).then(numerator).otherwise(None)
        return counts.with_columns(numerator.alias("numerator")).with_columns(
            percentage("numerator", "denominator").alias("value")).with_columns(
            pl.lit(basis).alias("basis"), *_verdict(target, targets, year, on_track),
            provisional.alias("provisional"), pl.col("partial").fill_null(False).alias("partial_list"),
            pl.format("{}; {}; {}", pl.lit(what), pl.col("decisions").fill_null("no removal decision loaded"),
                      pl.col("baseline_source")).alias("source"),
        ).with_columns(_join_notes(
            pl.when(pl.col("status") == NOT_JUDGED).then(_why_not_judged(target, targets, year)),
            pl.when(~pl.col("removals_loaded"))
            .then(pl.lit("no removal decision of this list is loaded (lnob lists load): recognised exits unknown")),
            pl.when(pl.col("partial").fill_null(False))
            .then(pl.lit("the loaded list is PARTIAL: exits of units it does not name still count, over the "
                         "decision's declared total")),
            extra_note).alias("note"))

    recognised = rows(RECOGNISED, pl.col("removed"), "exits recognised by decision (names removed from the list)",
                      pl.lit(False), pl.lit(None, dtype=pl.String))
    if unruled:
        # no confirmed rule turns figures into exit candidates: the projection is the recognised exits alone
        projected = rows(PROJECTED, pl.col("removed"),
                         "recognised exits only: no confirmed exit rule gives candidates for this list",
                         pl.lit(True),
                         pl.lit(f"no confirmed rule for {', '.join(unruled)}: the projection counts recognised "
                                "exits only"))
    else:
        projected = rows(PROJECTED, pl.col("removed") + pl.col("candidates"),
                         "recognised exits plus this year's exit candidates (not yet decided)",
                         pl.lit(provisional_rule) | pl.col("candidates_unconfirmed").fill_null(False),
                         pl.when(pl.lit(provisional_rule) | pl.col("candidates_unconfirmed").fill_null(False))
                         .then(pl.lit("candidates rest on criteria or a rule that are not confirmed")))
    return _finish(
        pl.concat([recognised, projected], how="diagonal_relaxed").with_columns(
            *_labels(target, year),
            pl.lit(targets.baseline_year, dtype=pl.Int64).alias("baseline_year"),
            pl.lit(0.0).alias("baseline_value"), *_goal_columns(target, expected),
        )
    )


def target_progress(targets: Targets, year: int, *, poverty: pl.LazyFrame, removals: pl.LazyFrame,
                    baseline_members: pl.LazyFrame, exit_candidates: pl.LazyFrame, review_date: date,
                    rules: Mapping[str, StatusRule] | None = None) -> pl.LazyFrame:
    """Every target's progress for one year. Grain out: one row per target × level × unit × basis, sorted.

    `poverty` holds every year up to `year` at the national, province and list levels (district for the
    poor-district rate); the other inputs are described in `exit_share_progress`.
    """
    parts = []
    for target in targets.targets:
        if target.kind == "rate_change":
            parts.append(rate_progress(poverty, target, year, targets))
        elif target.kind == "list_rate_change":
            parts.append(list_rate_progress(poverty, target, year, targets, baseline_members=baseline_members))
        elif target.kind == "count_change":
            parts.append(count_progress(poverty, target, year, targets))
        else:
            parts.append(exit_share_progress(target, year, targets, removals=removals,
                                             baseline_members=baseline_members, exit_candidates=exit_candidates,
                                             review_date=review_date, rules=rules))
    order = {t.id: i for i, t in enumerate(targets.targets)}
    return (pl.concat(parts, how="vertical")
            .with_columns(pl.col("target_id").replace_strict(order, return_dtype=pl.Int64).alias("__order"),
                          pl.col("provisional").fill_null(False), pl.col("partial_list").fill_null(False))
            .sort("year", "__order", "level", "unit_code", "basis", descending=[False, False, False, False, True])
            .drop("__order"))
