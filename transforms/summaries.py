"""Summary submissions (area_summary staging) reduced to one row per reported unit cell."""

from __future__ import annotations

import polars as pl

from schemas.marts import ALL_GROUPS, ETHNIC_MINORITIES, KINH
from transforms.rollup import SUMMARY_MEASURES, known_sum

SUMMARY_KEYS: tuple[str, ...] = ("submission_id", "submitting_level", "submitting_unit", "unit_code",
                                 "ethnic_group", "area")


def summary_cells(area_summary: pl.LazyFrame) -> pl.LazyFrame:
    """area_summary row (unit × village × ethnic group × area, per submission) → submission × unit ×
    ethnic group × area.

    A commune may report by village: its village rows add up to the commune (a village's unreported count
    leaves the commune's unknown), unless the same submission also has the commune's own row for that
    cell, which is then taken as written. EM/ALL/"all" rows are taken as reported.

    Known is known: where a unit's cell reports two of ALL, EM and Kinh (01), the third is their difference
    (Kinh = ALL − EM, EM = ALL − Kinh), and where ALL reports no household at all (an uninhabited island
    district), EM and Kinh are zero. Such rows carry `derived` = true; every other row false, and a cell
    neither reported nor derivable stays absent (unknown).
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
    reported = pl.concat([unit_rows, village_totals.select(unit_rows.collect_schema().names())])
    return pl.concat([reported.with_columns(pl.lit(False).alias("derived")), derived_group_rows(reported)])


def derived_group_rows(cells: pl.LazyFrame) -> pl.LazyFrame:
    """Reported summary cells (submission × unit × ethnic group × area) → the EM or Kinh cells they leave out
    but determine, one row per submission × unit × group × area, with `derived` = true.

    A difference is known only where both counts are; a negative one (EM above ALL) is inconsistent and left
    unknown. With ALL's households_total = 0, every count of the missing groups is 0.
    """
    cell = [k for k in SUMMARY_KEYS if k != "ethnic_group"]

    def group(name: str) -> pl.LazyFrame:
        return cells.filter(pl.col("ethnic_group") == name).drop("ethnic_group")

    empty_unit = pl.col("households_total") == 0

    def value(m: str) -> pl.Expr:
        difference = pl.col(m) - pl.col(f"{m}__other")
        return (pl.when(empty_unit).then(pl.lit(0, dtype=pl.Int64))
                .when(difference >= 0).then(difference).otherwise(None).alias(m))

    everyone = group(ALL_GROUPS)
    parts = []
    for missing, other in ((KINH, ETHNIC_MINORITIES), (ETHNIC_MINORITIES, KINH)):
        absent = everyone.join(group(missing).select(cell), on=cell, how="anti")
        by_difference = absent.join(group(other), on=cell, how="left", suffix="__other")
        has_other = pl.col("households_total__other").is_not_null() | empty_unit
        parts.append(by_difference.filter(has_other).select(
            *cell, pl.lit(missing).alias("ethnic_group"), *(value(m) for m in SUMMARY_MEASURES)))
    return pl.concat(parts).select(*SUMMARY_KEYS, *SUMMARY_MEASURES).with_columns(pl.lit(True).alias("derived"))
