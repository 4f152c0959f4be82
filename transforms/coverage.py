"""Who reported, with what, and on time: the submission_coverage mart."""

from __future__ import annotations

from datetime import date

import polars as pl

from schemas.marts import DEADLINE_OFFICIAL, DEADLINE_PRELIMINARY, DEADLINE_TIME_ZONE

REPORTING_LEVELS: tuple[str, ...] = ("commune", "district", "province")

SUBMISSIONS_SCHEMA = pl.Schema({
    "submission_id": pl.String, "level": pl.String, "unit_code": pl.String, "kind": pl.String,
    "standard": pl.String, "received_at": pl.Datetime("us", "UTC"), "findings_count": pl.Int64,
    "warnings_count": pl.Int64,
})


def submission_coverage(units: pl.DataFrame, submissions: pl.LazyFrame, *, year: int,
                        households_listed: pl.LazyFrame, disagreements: pl.LazyFrame,
                        figures_source: pl.LazyFrame) -> pl.LazyFrame:
    """expected unit (communes, districts, provinces of the list) and current accepted submission
    (SUBMISSIONS_SCHEMA) → year × level × unit: submitted or not, the versions used, when the latest was
    received and whether that was before the legal deadlines (15 November preliminary, 20 December
    official, Decision 24/2021 Art. 7, read in Vietnam time), findings, and the household-list checks.

    households_listed: unit_code, households_listed; disagreements: unit_code, classification_disagreements;
    figures_source: level, unit_code, figures_source_level. A unit that submitted but is not on the list
    (a code of another period) still gets its row, with no place columns.
    """
    expected = units.lazy().filter(pl.col("level").is_in(REPORTING_LEVELS)).select(
        "level", "unit_code", "parent_code", "province_code", "region_key")
    local_date = pl.col("received_at").dt.convert_time_zone(DEADLINE_TIME_ZONE).dt.date()
    per_unit = (
        submissions
        .group_by("level", "unit_code")
        .agg(
            pl.col("kind").unique().sort().str.join(",").alias("submission_kinds"),
            pl.col("submission_id").sort().str.join(",").alias("submission_ids"),
            pl.col("received_at").max().alias("received_at"),
            pl.col("findings_count").sum().cast(pl.Int64).alias("findings_count"),
            pl.col("warnings_count").sum().cast(pl.Int64).alias("warnings_count"),
        )
    )
    everyone = pl.concat([expected.select("level", "unit_code"), per_unit.select("level", "unit_code")]).unique()
    return (
        everyone
        .join(expected, on=["level", "unit_code"], how="left")
        .join(per_unit, on=["level", "unit_code"], how="left")
        .join(households_listed, on="unit_code", how="left")
        .join(disagreements, on="unit_code", how="left")
        .join(figures_source, on=["level", "unit_code"], how="left")
        .with_columns(
            pl.lit(year, dtype=pl.Int64).alias("year"),
            pl.col("submission_ids").is_not_null().alias("submitted"),
            local_date.alias("received_date_local"),
        )
        .with_columns(
            (pl.col("received_date_local") < pl.lit(date(year, *DEADLINE_PRELIMINARY))).alias("on_time_preliminary"),
            (pl.col("received_date_local") < pl.lit(date(year, *DEADLINE_OFFICIAL))).alias("on_time_official"),
        )
    )
