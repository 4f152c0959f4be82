"""A province's households classified under its own (higher) poverty standard, beside the national figures.

The chain is the national one (classify → cells → lowest sources → roll-up → rates), run on the province's
household lists only, with the local standard's lines. Summaries were classified by the submitter under the
national standard, so only their resident totals are used here: every other count a summary gives is
unknown under a local standard. Rows stop at the province: a local standard covers one province.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from transforms.classify import classify_households
from transforms.rollup import (
    MEASURES,
    add_group_totals,
    add_place,
    add_rates,
    cells_from_groups,
    choose_lowest_sources,
    household_groups,
    roll_up,
    units_from_hierarchy,
)

LOCAL_LEVELS: tuple[str, ...] = ("commune", "district", "province")
CELL_KEY: tuple[str, ...] = ("level", "unit_code", "ethnic_group", "area")


def resident_totals_only(summaries: pl.LazyFrame) -> pl.LazyFrame:
    """Summary cells → the same cells with every count but households_total unknown (a summary's poor and
    near-poor counts were classified under the national standard)."""
    names = summaries.collect_schema().names()
    return summaries.with_columns(pl.lit(None, dtype=pl.Int64).alias(m)
                                  for m in MEASURES if m in names and m != "households_total")


def local_standard_rows(households: pl.LazyFrame, summaries: pl.LazyFrame, hierarchy: pl.DataFrame, *,
                        standard: Mapping[str, Any], year: int, geography_version: str,
                        national_poverty: pl.DataFrame | None = None) -> pl.DataFrame:
    """Grain in: `households` one row per household of the year (staging, any province); `summaries` summary
    cells (transforms.summaries.summary_cells); `hierarchy` the year's geography; `standard` one complete local
    standard (schemas.standards.local_standards_for) naming its `province_code`; `national_poverty` the year's
    poverty_by_ethnicity rows, for the national rate beside the local one.
    Grain out: one row per level × unit × ethnic group × area of the province (commune, district, province), with
    the poverty_local_standard columns (not yet conformed).
    """
    province = standard["province_code"]
    area_hierarchy = hierarchy.filter(pl.col("province_code") == province)
    if area_hierarchy.is_empty():
        return pl.DataFrame()
    communes = area_hierarchy.select(pl.col("commune_code").drop_nulls().unique()).lazy()
    local_households = (households.join(communes, on="commune_code", how="semi")
                        .with_columns(pl.lit(standard["id"]).alias("standard")))
    classified = classify_households(local_households, {standard["id"]: standard})
    cells = add_group_totals(cells_from_groups(household_groups(classified)))
    units = units_from_hierarchy(area_hierarchy)
    totals = resident_totals_only(summaries)
    lowest = choose_lowest_sources(cells, totals, units)
    rows = (add_place(add_rates(roll_up(lowest, units, totals)), units, geography_version)
            .filter(pl.col("level").is_in(LOCAL_LEVELS))
            .with_columns(pl.lit(year, dtype=pl.Int64).alias("year"),
                          pl.lit(standard["id"]).alias("standard_id"), pl.lit("local").alias("standard_scope"),
                          pl.lit(standard.get("based_on")).alias("based_on"))
            .collect())
    if national_poverty is not None and national_poverty.height:
        national = national_poverty.select(*CELL_KEY, pl.col("poor_rate").alias("poor_rate_national_standard"))
        rows = rows.join(national, on=list(CELL_KEY), how="left")
    return rows
