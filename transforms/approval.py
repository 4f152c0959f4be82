"""Which figures are official: a unit's figures are official when it and every unit beneath it is approved."""

from __future__ import annotations

import polars as pl

from schemas.vocabulary import MART_LEVELS, OFFICIAL, PRELIMINARY

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
