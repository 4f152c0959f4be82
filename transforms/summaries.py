"""Summary submissions (area_summary staging) reduced to one row per reported unit cell."""

from __future__ import annotations

import polars as pl

from transforms.rollup import SUMMARY_MEASURES, known_sum

SUMMARY_KEYS: tuple[str, ...] = ("submission_id", "submitting_level", "submitting_unit", "unit_code",
                                 "ethnic_group", "area")


def summary_cells(area_summary: pl.LazyFrame) -> pl.LazyFrame:
    """area_summary row (unit × village × ethnic group × area, per submission) → submission × unit ×
    ethnic group × area.

    A commune may report by village: its village rows add up to the commune (a village's unreported count
    leaves the commune's unknown), unless the same submission also has the commune's own row for that
    cell, which is then taken as written. EM/ALL/"all" rows are taken as reported, never derived.
    """
    measures = [pl.col(m).cast(pl.Int64) for m in SUMMARY_MEASURES]
    rows = area_summary.select(*SUMMARY_KEYS, pl.col("village"), *measures)
    unit_rows = rows.filter(pl.col("village").is_null()).drop("village")
    village_totals = (rows.filter(pl.col("village").is_not_null())
                      .group_by(*SUMMARY_KEYS).agg(known_sum(m) for m in SUMMARY_MEASURES)
                      .join(unit_rows.select(SUMMARY_KEYS), on=list(SUMMARY_KEYS), how="anti"))
    # Duplicate unit rows within one submission cannot pass validation (the contract's unique key); if
    # they ever did, summing them keeps the result independent of row order.
    unit_rows = unit_rows.group_by(*SUMMARY_KEYS).agg(known_sum(m) for m in SUMMARY_MEASURES)
    return pl.concat([unit_rows, village_totals.select(unit_rows.collect_schema().names())])
