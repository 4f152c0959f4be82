"""Reconciliation across levels: a summary sent by a district or province (rows for its units and/or for
itself) against the roll-up of what the units themselves sent. The detailed data win in the marts; this
mart shows where the two disagree beyond tolerance, with both values and the submissions involved."""

from __future__ import annotations

import polars as pl

from transforms.rollup import CELL, SUMMARY_MEASURES, percentage


def ancestors(units: pl.DataFrame) -> pl.LazyFrame:
    """unit (units_from_hierarchy) → lowest unit × each unit at or above it: lowest_code, unit_code.
    Codes are unique across levels (their widths differ; regions are text keys; the nation is VN)."""
    parents = units.lazy().select("unit_code", "parent_code")
    current = units.lazy().filter(pl.col("is_lowest")).select(pl.col("unit_code").alias("lowest_code"),
                                                              "unit_code")
    steps = [current]
    for _ in range(4):   # commune → district → province → region → national at most
        current = (current.join(parents, on="unit_code", how="inner")
                   .filter(pl.col("parent_code").is_not_null())
                   .select("lowest_code", pl.col("parent_code").alias("unit_code")))
        steps.append(current)
    return pl.concat(steps).unique()


def detail_submissions(own_lowest_rows: pl.LazyFrame, units: pl.DataFrame) -> pl.LazyFrame:
    """lowest unit's own data rows → unit: the ids of the detailed submissions under it, sorted and
    comma-separated."""
    sources = own_lowest_rows.filter(pl.col("submission_id").is_not_null()).select(
        pl.col("unit_code").alias("lowest_code"), "submission_id").unique()
    return (ancestors(units).join(sources, on="lowest_code", how="inner")
            .group_by("unit_code")
            .agg(pl.col("submission_id").unique().sort().str.join(",").alias("detail_submission_ids")))


def reconcile(summaries: pl.LazyFrame, detail: pl.LazyFrame, units: pl.DataFrame, submissions_by_unit: pl.LazyFrame,
              *, absolute_tolerance: int, relative_tolerance: float) -> pl.LazyFrame:
    """summary cell (submission × unit × ethnic group × area) and the detailed roll-up (level × unit ×
    ethnic group × area, no gap filling) → level × unit × ethnic group × area × measure × summary
    submission, kept where |summary − detail| > absolute_tolerance AND > relative_tolerance × detail.

    A lowest unit's own summary is its detail, not a second opinion, so it is not compared with itself.
    Cells the detail does not know (some unit did not report) cannot be compared and are left out, and so
    are cells the summary did not state but lnob derived from its other rows (summaries.derived_group_rows).
    """
    lowest = units.lazy().filter(pl.col("is_lowest")).select("unit_code")
    if "derived" in summaries.collect_schema().names():
        summaries = summaries.filter(~pl.col("derived")).drop("derived")
    second_opinions = summaries.join(
        lowest.with_columns(pl.lit(True).alias("_lowest")), on="unit_code", how="left"
    ).filter(~((pl.col("submitting_unit") == pl.col("unit_code")) & pl.col("_lowest").fill_null(False)))
    summary_long = second_opinions.unpivot(
        index=["submission_id", "submitting_level", "submitting_unit", *CELL], on=list(SUMMARY_MEASURES),
        variable_name="measure", value_name="summary_value")
    # Only the cells some summary speaks of: the detail has every unit of the country.
    detail_long = (detail.join(second_opinions.select(CELL).unique(), on=list(CELL), how="semi")
                   .unpivot(index=["level", *CELL], on=list(SUMMARY_MEASURES), variable_name="measure",
                            value_name="detail_value"))
    difference = pl.col("summary_value") - pl.col("detail_value")
    beyond = ((difference.abs() > absolute_tolerance)
              & (difference.abs().cast(pl.Float64) > relative_tolerance * pl.col("detail_value").cast(pl.Float64)))
    return (
        summary_long.join(detail_long, on=[*CELL, "measure"], how="inner")
        .filter(pl.col("summary_value").is_not_null() & pl.col("detail_value").is_not_null())
        .filter(beyond)
        .join(submissions_by_unit, on="unit_code", how="left")
        .select(
            "level", *CELL, "measure",
            pl.col("summary_value").cast(pl.Int64), pl.col("detail_value").cast(pl.Int64),
            difference.cast(pl.Int64).alias("difference"),
            percentage(difference, "detail_value").alias("relative_difference"),
            pl.col("submission_id").alias("summary_submission_id"),
            pl.col("submitting_level").alias("summary_level"),
            pl.col("submitting_unit").alias("summary_unit_code"),
            "detail_submission_ids",
            pl.lit(absolute_tolerance, dtype=pl.Int64).alias("absolute_tolerance"),
            pl.lit(relative_tolerance, dtype=pl.Float64).alias("relative_tolerance"),
        )
    )
