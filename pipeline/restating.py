"""Earlier years' poverty rows on this year's list of units, for comparisons over several years (the change
in points in the poverty marts, the baselines of the targets).

Across the 2025 reform most codes survived but name merged territories: a row of the pre-reform list is
restated through the official conversion table (transforms/restate.py), never compared with the unit that
now has its code.
"""

from __future__ import annotations

import polars as pl

from schemas.geography import VERSION_POST_REFORM, VERSION_PRE_REFORM, conversion_table
from transforms.restate import predecessors, restate_counts, with_headline_rates


def previous_on_this_list(previous_poverty: pl.DataFrame | None, units: pl.DataFrame,
                          geography_version: str) -> pl.LazyFrame | None:
    """Last year's poverty rows keyed by this year's units, for the change in points (`rows_on_this_list`);
    None when none of them is on, or can be restated on, this year's list: no change rather than a wrong one."""
    if previous_poverty is None:
        return None
    rows = rows_on_this_list(previous_poverty, units, geography_version, keys=("ethnic_group", "area"))
    return rows.lazy() if rows.height else None


def rows_on_this_list(rows: pl.DataFrame, units: pl.DataFrame, geography_version: str, *,
                      keys: tuple[str, ...]) -> pl.DataFrame:
    """Poverty rows of any years keyed by this year's units (for comparisons over several years): rows on
    this list as they are; rows on the pre-reform list, when this list is the post-reform one, restated
    through the conversion table (their headline counts and rates only; transforms.restate); rows of any
    other list left out, so that they are never compared with a different territory that has the same code."""
    parts = [rows.filter(pl.col("geography_version") == geography_version)]
    older = rows.filter(pl.col("geography_version") == VERSION_PRE_REFORM)
    if geography_version == VERSION_POST_REFORM and older.height:
        restated = restate_counts(older.lazy(), predecessors(conversion_table(), units), keys=keys)
        parts.append(with_headline_rates(restated).collect()
                     .with_columns(geography_version=pl.lit(geography_version)))
    return pl.concat(parts, how="diagonal_relaxed")
