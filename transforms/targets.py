"""Progress towards the programme targets (`schemas/targets.json`) for one review year.

Two kinds of target:
* `rate_change`: a rate that must fall by so many percentage points a year (the multidimensional poverty rate,
  the ethnic-minority poor-household rate). Progress is the average decrease per year since the baseline year,
  from the rates of the poverty marts (100 × summed counts / summed counts, unrounded).
* `exit_share`: a share of a status list that must exit by the end of the period. Exits recognised by decision
  (removals in the lists) and the projection that adds this year's exit candidates are separate rows (`basis`),
  never mixed. The goal is read pro rata over the period (lnob's reading, stated in targets.json).
"""

from __future__ import annotations

import polars as pl

from schemas.rules import EXIT_CANDIDATE, TARGET_PROGRESS, Target, Targets
from transforms.rollup import known_row_sum

ON_TRACK, OFF_TRACK, INSUFFICIENT = "on_track", "off_track", "insufficient_data"
NATIONAL_CODE = "VN"


def _compare(left: pl.Expr, comparison: str, right: pl.Expr) -> pl.Expr:
    return {">=": left >= right, ">": left > right, "<": left < right, "<=": left <= right,
            "==": left == right}[comparison]


def _status(on_track: pl.Expr) -> pl.Expr:
    return (pl.when(on_track.is_null()).then(pl.lit(INSUFFICIENT))
            .when(on_track).then(pl.lit(ON_TRACK)).otherwise(pl.lit(OFF_TRACK)))


def _finish(frame: pl.LazyFrame) -> pl.LazyFrame:
    schema = TARGET_PROGRESS.polars_schema()
    present = frame.collect_schema().names()
    return frame.select(
        (pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype=dtype)).alias(name)
        for name, dtype in schema.items())


def rate_progress(poverty: pl.LazyFrame, target: Target, year: int, targets: Targets) -> pl.LazyFrame:
    """Grain in: poverty rows, one per year × level × unit_code × ethnic_group × area (any years; the national
    and province rows are used). Grain out: one row per level × unit for `year` (target_progress layout)."""
    spec = target.details["rate"]
    rates = (
        poverty
        .filter(pl.col("level").is_in(list(target.levels)), pl.col("ethnic_group") == spec["ethnic_group"],
                pl.col("area") == spec["area"], pl.col("year") <= year)
        .select("year", "level", "unit_code",
                known_row_sum(*spec["numerator"]).alias("numerator"),
                pl.col(spec["denominator"]).cast(pl.Int64).alias("denominator"))
        .with_columns(pl.when(pl.col("denominator") > 0)
                      .then(pl.col("numerator").cast(pl.Float64) * 100.0 / pl.col("denominator").cast(pl.Float64))
                      .otherwise(None).alias("rate"))
    )
    # the nation always has a row (insufficient_data when it has no figures); provinces when any year has some
    expected_units = pl.concat([
        pl.LazyFrame({"level": ["national"], "unit_code": [NATIONAL_CODE]}).filter(
            pl.lit("national" in target.levels)),
        rates.select("level", "unit_code"),
    ]).unique()
    current = expected_units.join(rates.filter(pl.col("year") == year).drop("year"), on=["level", "unit_code"],
                                  how="left").with_columns(pl.lit(year, dtype=pl.Int64).alias("year"))
    # the baseline year's rate, else the earliest earlier year with a known rate (the row says which)
    baseline = (
        rates.filter(pl.col("year") < year, pl.col("rate").is_not_null(), pl.col("year") >= targets.baseline_year)
        .sort("year")
        .group_by("level", "unit_code").agg(pl.col("year").first().alias("baseline_year"),
                                            pl.col("rate").first().alias("baseline_value"))
    )
    goal = target.goal
    change = ((pl.col("baseline_value") - pl.col("value"))
              / (pl.lit(year) - pl.col("baseline_year")).cast(pl.Float64))
    on_track = _compare(pl.col("change_per_year"), goal["comparison"], pl.lit(float(goal["value"])))
    source = pl.format("poverty_by_ethnicity, {} × {}: {} / {} households ({}); baseline {}",
                       pl.lit(spec["ethnic_group"]), pl.lit(spec["area"]),
                       pl.lit(" + ".join(spec["numerator"])), pl.lit(spec["denominator"]), pl.lit(year),
                       pl.col("baseline_year").cast(pl.String).fill_null("not available"))
    note = (pl.when(pl.col("baseline_year").is_null())
            .then(pl.lit("no earlier figures: the change cannot be computed yet"))
            .when(pl.col("baseline_year") != targets.baseline_year)
            .then(pl.format("baseline year {} has no figures; the earliest year with figures is used",
                            pl.lit(targets.baseline_year)))
            .otherwise(None))
    return _finish(
        current.rename({"rate": "value"})
        .join(baseline, on=["level", "unit_code"], how="left")
        .with_columns(change.alias("change_per_year"))
        .with_columns(
            pl.lit(target.id).alias("target_id"), pl.lit("review_figures").alias("basis"),
            pl.lit(target.label_vi).alias("label_vi"), pl.lit(target.label_en).alias("label_en"),
            pl.lit(float(goal["value"])).alias("goal"), pl.lit(goal["comparison"]).alias("goal_comparison"),
            pl.lit(f"{goal.get('text_vi', '')} / {goal.get('text_en', '')}").alias("goal_text"),
            pl.lit(float(goal["value"])).alias("expected_by_year"),
            on_track.alias("on_track"), _status(on_track).alias("status"),
            pl.lit(target.confirmed).alias("confirmed"), source.alias("source"), note.alias("note"))
    )


def expected_share(target: Target, year: int, targets: Targets) -> float:
    """The goal pro rata over the period: by `by_year` the whole goal, nothing at the baseline year."""
    by_year = int(target.goal.get("by_year", targets.period_to))
    elapsed = min(max(year - targets.baseline_year, 0), by_year - targets.baseline_year)
    return float(target.goal["value"]) * elapsed / (by_year - targets.baseline_year)


def exit_share_progress(target: Target, year: int, targets: Targets, *, removals: pl.LazyFrame,
                        baseline_members: pl.LazyFrame, exit_candidates: pl.LazyFrame) -> pl.LazyFrame:
    """Share of a list that exited, nationally and per province.

    Grain in: `removals` one row per name in a removal decision effective by the review date (status_kind,
    decision, province_code, unit_code — codes null where the name matched no unit); `baseline_members` one row
    per unit on the list at its first decision (status_kind, unit_code, province_code, partial);
    `exit_candidates` the mart of this year (status_kind, unit_code, province_code, verdict).
    Grain out: per level × unit, one row with basis `recognised_by_decision` and one with
    `projected_with_exit_candidates` (target_progress layout).
    """
    kinds = list(target.details.get("status_kinds", ()))
    goal = target.goal
    expected = expected_share(target, year, targets)
    removed = removals.filter(pl.col("status_kind").is_in(kinds))
    candidates = exit_candidates.filter(pl.col("status_kind").is_in(kinds), pl.col("verdict") == EXIT_CANDIDATE)
    members = baseline_members.filter(pl.col("status_kind").is_in(kinds))
    decisions = removed.select(pl.col("decision").unique().sort().str.join(", ").alias("decisions"))

    national_baseline = target.details.get("baseline_count")
    national = pl.LazyFrame({"level": ["national"], "unit_code": [NATIONAL_CODE]}).join(
        pl.concat([
            removed.select(pl.len().cast(pl.Int64).alias("removed")),
            candidates.select(pl.len().cast(pl.Int64).alias("candidates")),
            members.select(pl.len().cast(pl.Int64).alias("listed"), pl.col("partial").any().alias("partial")),
        ], how="horizontal"), how="cross").with_columns(
        pl.lit(national_baseline, dtype=pl.Int64).alias("denominator"),
        pl.lit(f"baseline {national_baseline} from {target.details.get('baseline_decision')} "
               f"({target.details.get('baseline_count_status', '')})").alias("baseline_source"))
    province_keys = pl.concat([removed.select("province_code"), candidates.select("province_code"),
                               members.select("province_code")]).filter(pl.col("province_code").is_not_null()) \
        .unique()
    per_province = (
        province_keys
        .join(removed.group_by("province_code").agg(pl.len().cast(pl.Int64).alias("removed")),
              on="province_code", how="left")
        .join(candidates.group_by("province_code").agg(pl.len().cast(pl.Int64).alias("candidates")),
              on="province_code", how="left")
        .join(members.group_by("province_code").agg(pl.len().cast(pl.Int64).alias("listed"),
                                                     pl.col("partial").any().alias("partial")),
              on="province_code", how="left")
        .select(pl.lit("province").alias("level"), pl.col("province_code").alias("unit_code"),
                pl.col("removed").fill_null(0), pl.col("candidates").fill_null(0), "listed",
                pl.col("partial").fill_null(False),
                pl.col("listed").alias("denominator"),
                pl.when(pl.col("listed").is_null())
                .then(pl.lit("no loaded list names this province's units at the start of the period"))
                .when(pl.col("partial")).then(pl.lit("baseline from the loaded list, which is PARTIAL"))
                .otherwise(pl.lit("baseline from the loaded list")).alias("baseline_source"))
    )
    levels = [frame for level, frame in (("national", national), ("province", per_province))
              if level in target.levels]
    counts = pl.concat(levels, how="diagonal_relaxed").join(decisions, how="cross").with_columns(
        # with no decision of the kind loaded at all, "no exit" would be a guess: the count is unknown
        ((pl.col("listed").fill_null(0) + pl.col("removed").fill_null(0)) > 0).alias("lists_loaded"))

    def rows(basis: str, numerator: pl.Expr, what: str) -> pl.LazyFrame:
        value = (pl.when(pl.col("denominator") > 0)
                 .then(pl.col("numerator").cast(pl.Float64) * 100.0 / pl.col("denominator").cast(pl.Float64))
                 .otherwise(None))
        on_track = _compare(pl.col("value"), goal["comparison"], pl.lit(expected))
        numerator = pl.when(pl.col("lists_loaded")).then(numerator).otherwise(None)
        return counts.with_columns(numerator.alias("numerator")).with_columns(value.alias("value")).with_columns(
            pl.lit(basis).alias("basis"), on_track.alias("on_track"), _status(on_track).alias("status"),
            pl.format("{}; {}; {}", pl.lit(what), pl.col("decisions").fill_null("no removal decision loaded"),
                      pl.col("baseline_source")).alias("source"),
            pl.when(~pl.col("lists_loaded")).then(pl.lit("no decision of this list is loaded (lnob lists load)"))
            .when(pl.col("partial").fill_null(False))
            .then(pl.lit("the loaded list is PARTIAL")).otherwise(None).alias("note"),
        )

    recognised = rows("recognised_by_decision", pl.col("removed"),
                      "exits recognised by decision (names removed from the list)")
    projected = rows("projected_with_exit_candidates", pl.col("removed") + pl.col("candidates"),
                     "recognised exits plus this year's exit candidates (not yet decided)")
    return _finish(
        pl.concat([recognised, projected], how="diagonal_relaxed").with_columns(
            pl.lit(year, dtype=pl.Int64).alias("year"), pl.lit(target.id).alias("target_id"),
            pl.lit(target.label_vi).alias("label_vi"), pl.lit(target.label_en).alias("label_en"),
            pl.lit(targets.baseline_year, dtype=pl.Int64).alias("baseline_year"),
            pl.lit(0.0).alias("baseline_value"),
            pl.lit(float(goal["value"])).alias("goal"), pl.lit(goal["comparison"]).alias("goal_comparison"),
            pl.lit(f"{goal.get('text_vi', '')} / {goal.get('text_en', '')}").alias("goal_text"),
            pl.lit(expected).alias("expected_by_year"), pl.lit(target.confirmed).alias("confirmed"),
        )
    )


def target_progress(targets: Targets, year: int, *, poverty: pl.LazyFrame, removals: pl.LazyFrame,
                    baseline_members: pl.LazyFrame, exit_candidates: pl.LazyFrame) -> pl.LazyFrame:
    """Every target's progress for one year. Grain out: one row per target × level × unit × basis, sorted."""
    parts = []
    for target in targets.targets:
        if target.kind == "rate_change":
            parts.append(rate_progress(poverty, target, year, targets))
        else:
            parts.append(exit_share_progress(target, year, targets, removals=removals,
                                             baseline_members=baseline_members, exit_candidates=exit_candidates))
    order = {t.id: i for i, t in enumerate(targets.targets)}
    return (pl.concat(parts, how="vertical")
            .with_columns(pl.col("target_id").replace_strict(order, return_dtype=pl.Int64).alias("__order"))
            .sort("year", "__order", "level", "unit_code", "basis", descending=[False, False, False, False, True])
            .drop("__order"))
