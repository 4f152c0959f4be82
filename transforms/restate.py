"""Restate last year's headline counts on this year's list of units, so that a change in points always
compares the same territory.

Across the 2025 reform most unit codes survive but mean something else: 3,316 of the 3,321 new commune
codes, and every one of the 34 new province codes, were also codes of the old list, of one of the units
merged into the new one. Matching last year's rows by code would compare a merged province with one of
its parts. Instead each new unit is rebuilt from the old units that make it up (the official conversion
table, schemas.geography.conversion_table):
- a province, from the old provinces merged into it (whole provinces were merged);
- a region, from the old provinces of the new provinces in it; the nation, from every old province;
- a commune, from the old communes merged into it — only when none of them was split between new
  communes (a split commune's households cannot be divided from counts) — and, for a special zone, from
  the island district it was.
A restated cell is known only when every predecessor has that cell with known counts; otherwise it is
absent and the change stays null. Unknown is never restated as zero.
"""

from __future__ import annotations

import polars as pl

from schemas.marts import NATIONAL_CODE
from transforms.rollup import known_row_sum, known_sum, percentage

RESTATED_COUNTS: tuple[str, ...] = ("households_total", "households_poor", "households_near_poor")
PREDECESSORS_SCHEMA = pl.Schema({"level": pl.String, "unit_code": pl.String, "old_level": pl.String,
                                 "old_unit_code": pl.String, "exact": pl.Boolean})


def predecessors(conversion: pl.DataFrame, units_now: pl.DataFrame) -> pl.DataFrame:
    """conversion row (old unit → new commune) and this year's units (transforms.rollup.units_from_hierarchy)
    → one row per (this year's unit, an old unit that makes it up): level, unit_code, old_level,
    old_unit_code, exact (False when the unit cannot be restated exactly from whole old units)."""
    provinces = conversion.select(pl.col("new_province_code").alias("unit_code"),
                                  pl.col("old_province_code").alias("old_unit_code")).unique()
    region_of = units_now.filter(pl.col("level") == "province").select(
        pl.col("unit_code"), pl.col("region_key"))
    regions = (provinces.join(region_of, on="unit_code", how="left")
               .select(pl.col("region_key").alias("unit_code"), "old_unit_code").unique())
    nation = provinces.select(pl.lit(NATIONAL_CODE).alias("unit_code"), "old_unit_code").unique()

    # An island district that became a special zone has no old commune code and no name; a coastal area
    # listed without a code (no unit of its own, no households) adds nothing.
    old_unit = (pl.when(pl.col("old_commune_code").is_not_null()).then(pl.col("old_commune_code"))
                .when(pl.col("old_commune_name").is_null()).then(pl.col("old_district_code")))
    old_level = (pl.when(pl.col("old_commune_code").is_not_null()).then(pl.lit("commune"))
                 .when(pl.col("old_commune_name").is_null()).then(pl.lit("district")))
    communes = (
        conversion
        .with_columns(old_unit.alias("old_unit_code"), old_level.alias("old_level"))
        .with_columns(pl.col("old_is_split").any().over("new_commune_code").alias("_has_split"))
        .filter(pl.col("old_unit_code").is_not_null())
        .select(pl.lit("commune").alias("level"), pl.col("new_commune_code").alias("unit_code"), "old_level",
                "old_unit_code", (~pl.col("_has_split")).alias("exact"))
        .unique()
    )
    whole = [frame.select(pl.lit(level).alias("level"), "unit_code", pl.lit("province").alias("old_level"),
                          "old_unit_code", pl.lit(True).alias("exact"))
             for level, frame in (("province", provinces), ("region", regions), ("national", nation))]
    return (pl.concat([communes, *whole], how="vertical_relaxed").cast(dict(PREDECESSORS_SCHEMA))
            .sort("level", "unit_code", "old_level", "old_unit_code"))


def restate_counts(rows: pl.LazyFrame, predecessor_rows: pl.DataFrame, *,
                   keys: tuple[str, ...] = ("ethnic_group", "area"),
                   counts: tuple[str, ...] = RESTATED_COUNTS) -> pl.LazyFrame:
    """rows on last year's list (level × unit × `keys`, with `counts`) → level × unit × `keys` on this year's
    list, with `counts` summed over the predecessors (`predecessors`). A row is kept only when the unit is
    exact and every predecessor has it with every count known: unknown is never restated as zero."""
    expected = predecessor_rows.group_by("level", "unit_code").agg(
        pl.len().alias("_expected"), pl.col("exact").all().alias("_exact"))
    old = rows.select(pl.col("level").alias("old_level"), pl.col("unit_code").alias("old_unit_code"), *keys,
                      *counts)
    every_count_known = pl.all_horizontal(pl.col(c).is_not_null() for c in counts)
    return (
        predecessor_rows.lazy().select("level", "unit_code", "old_level", "old_unit_code")
        .join(old, on=["old_level", "old_unit_code"], how="inner")
        .group_by("level", "unit_code", *keys)
        .agg(*(known_sum(c) for c in counts), every_count_known.all().alias("_known"),
             pl.len().alias("_present"))
        .join(expected.lazy(), on=["level", "unit_code"], how="inner")
        .filter(pl.col("_exact") & pl.col("_known") & (pl.col("_present") == pl.col("_expected")))
        .drop("_known", "_present", "_expected", "_exact")
    )


def with_headline_rates(counts: pl.LazyFrame) -> pl.LazyFrame:
    """Any grain with RESTATED_COUNTS → same, with the poor, near-poor and poor-or-near-poor rates."""
    return counts.with_columns(
        percentage("households_poor", "households_total").alias("poor_rate"),
        percentage("households_near_poor", "households_total").alias("near_poor_rate"),
        percentage(known_row_sum("households_poor", "households_near_poor"), "households_total")
        .alias("poor_or_near_poor_rate"),
    )
