"""Which figures are official: a unit's figures are official when it and every unit beneath it is approved."""

from __future__ import annotations

from datetime import date

import polars as pl

from schemas.marts import LATE, NOT_YET, ON_TIME
from schemas.vocabulary import APPROVED, MART_LEVELS, OFFICIAL, PRELIMINARY, RETURNED

# Regions and the nation are never approved themselves: their figures are official when all beneath are.
_NOT_APPROVED_ITSELF = ("region", "national")

APPROVED_SCHEMA = pl.Schema({"level": pl.String, "unit_code": pl.String})
STATUS_SCHEMA = pl.Schema({"level": pl.String, "unit_code": pl.String, "figures_status": pl.String,
                           "child_units_approved": pl.Int64})


def figures_status(units: pl.LazyFrame, approved: pl.LazyFrame) -> pl.LazyFrame:
    """units (transforms.rollup.units_from_hierarchy: one row per unit at every level, with parent_code) and
    approved unit-years of one year (APPROVED_SCHEMA: one row per approved level × unit) → one row per level ×
    unit (STATUS_SCHEMA): `figures_status` official when the unit is approved (regions and the nation need not
    be) and every unit directly beneath it is official, else preliminary; `child_units_approved` the units
    directly beneath whose figures are official (null for a unit with none beneath).

    Worked bottom-up one level at a time (five levels): a unit's children are the units whose parent_code is
    its code, and codes of different levels never collide (widths 5, 3, 2, region keys, VN)."""
    marked = (
        units.select("level", "unit_code", "parent_code")
        .join(approved.select("level", "unit_code").unique().with_columns(approved_itself=pl.lit(True)),
              on=["level", "unit_code"], how="left")
        .with_columns(pl.col("approved_itself").fill_null(False) | pl.col("level").is_in(_NOT_APPROVED_ITSELF))
    )
    done: list[pl.LazyFrame] = []
    below: pl.LazyFrame | None = None
    for level in MART_LEVELS:
        rows = marked.filter(pl.col("level") == level)
        if below is not None:
            children = below.group_by("parent_code").agg(
                pl.col("official").all().alias("children_official"),
                pl.col("official").sum().cast(pl.Int64).alias("child_units_approved"))
            rows = rows.join(children, left_on="unit_code", right_on="parent_code", how="left")
        else:
            rows = rows.with_columns(children_official=pl.lit(None, dtype=pl.Boolean),
                                     child_units_approved=pl.lit(None, dtype=pl.Int64))
        # A unit with nothing beneath it (a commune, an island district without communes) is official when
        # it is approved.
        rows = rows.with_columns(
            official=pl.col("approved_itself") & pl.col("children_official").fill_null(True))
        rows = rows.select("level", "unit_code", "parent_code", "official", "child_units_approved")
        done.append(rows)
        below = rows
    return pl.concat(done).select(
        "level", "unit_code",
        pl.when(pl.col("official")).then(pl.lit(OFFICIAL)).otherwise(pl.lit(PRELIMINARY)).alias("figures_status"),
        "child_units_approved")


APPROVALS_SCHEMA = pl.Schema({"level": pl.String, "unit_code": pl.String, "state": pl.String, "by": pl.String,
                              "at": pl.Datetime("us", "UTC")})
UNITS_SCHEMA = pl.Schema({"level": pl.String, "unit_code": pl.String})
# The levels counted beneath a province; the province's own approval is reported beside the counts.
COUNTED_LEVELS: tuple[str, ...] = ("commune", "district")


def approval_coverage(units: pl.LazyFrame, submitted: pl.LazyFrame, accepted: pl.LazyFrame,
                      approvals: pl.LazyFrame, *, year: int, deadline: date | None, deadline_confirmed: bool,
                      time_zone: str) -> pl.LazyFrame:
    """units (transforms.rollup.units_from_hierarchy), units that submitted anything for the year and units
    with a current accepted submission (UNITS_SCHEMA each), and the year's approvals (APPROVALS_SCHEMA: one row
    per level × unit with an approval state) → one row per province of the list: for its communes and its
    districts, how many are expected, submitted, accepted, approved, returned and awaiting approval; the
    province's own approval (state, who, when) and whether it came before `deadline` (on_time / late /
    not_yet; null timing when no deadline applies).

    "Awaiting approval" is a unit with accepted data that is neither approved nor returned (never acted on,
    or reopened). "Before" is strict, on the Vietnam-time date, as for the submission deadlines: an
    approval on the deadline day is late. A unit that submitted but is not on the list has no province
    here (submission_coverage still lists it)."""
    places = units.filter(pl.col("level").is_in([*COUNTED_LEVELS, "province"])).select(
        "level", "unit_code", "province_code")
    flags = (
        places
        .join(submitted.select("level", "unit_code").unique().with_columns(submitted=pl.lit(True)),
              on=["level", "unit_code"], how="left")
        .join(accepted.select("level", "unit_code").unique().with_columns(accepted=pl.lit(True)),
              on=["level", "unit_code"], how="left")
        .join(approvals.select("level", "unit_code", "state"), on=["level", "unit_code"], how="left")
        .with_columns(pl.col("submitted").fill_null(False), pl.col("accepted").fill_null(False))
        .with_columns(
            approved=pl.col("state") == APPROVED,
            returned=pl.col("state") == RETURNED,
        )
        .with_columns(
            pl.col("approved").fill_null(False), pl.col("returned").fill_null(False))
        .with_columns(awaiting=pl.col("accepted") & ~pl.col("approved") & ~pl.col("returned"))
    )
    counts = [
        flags.filter(pl.col("level") == level).group_by("province_code").agg(
            pl.len().cast(pl.Int64).alias(f"{level}s_expected"),
            *(pl.col(flag).sum().cast(pl.Int64).alias(f"{level}s_{name}") for flag, name in (
                ("submitted", "submitted"), ("accepted", "accepted"), ("approved", "approved"),
                ("returned", "returned"), ("awaiting", "awaiting_approval"))))
        for level in COUNTED_LEVELS
    ]
    provinces = units.filter(pl.col("level") == "province").select(
        pl.col("unit_code").alias("province_code"), "region_key")
    own = (
        flags.filter(pl.col("level") == "province")
        .join(approvals.filter(pl.col("level") == "province").select("unit_code", "by", "at"),
              on="unit_code", how="left")
        .select("province_code", pl.col("submitted").alias("province_submitted"),
                pl.col("accepted").alias("province_accepted"), pl.col("state").alias("province_approval_state"),
                pl.col("by").alias("province_approval_by"), pl.col("at").alias("province_approval_at"))
    )
    table = provinces.join(own, on="province_code", how="left")
    for level_counts in counts:
        table = table.join(level_counts, on="province_code", how="left")
    count_columns = [f"{level}s_{name}" for level in COUNTED_LEVELS for name in (
        "expected", "submitted", "accepted", "approved", "returned", "awaiting_approval")]
    approved_on = pl.when(pl.col("province_approval_state") == APPROVED).then(
        pl.col("province_approval_at").dt.convert_time_zone(time_zone).dt.date())
    deadline_value = pl.lit(deadline, dtype=pl.Date)
    return table.with_columns(
        *(pl.col(name).fill_null(0) for name in count_columns),   # a province with no district has none
        pl.lit(year, dtype=pl.Int64).alias("year"),
        approved_on.alias("province_approved_date_local"),
        deadline_value.alias("approval_deadline"),
        pl.lit(deadline_confirmed if deadline is not None else None, dtype=pl.Boolean).alias("deadline_confirmed"),
    ).with_columns(
        pl.when(pl.col("approval_deadline").is_null()).then(pl.lit(None, dtype=pl.String))
        .when(pl.col("province_approved_date_local").is_null()).then(pl.lit(NOT_YET))
        .when(pl.col("province_approved_date_local") < pl.col("approval_deadline")).then(pl.lit(ON_TIME))
        .otherwise(pl.lit(LATE)).alias("approval_timing"))
