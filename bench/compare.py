"""Are lnob's counts and the DuckDB peer's the same? Exact comparison of every count at every level,
ethnic group and area, null (unknown) included; a row present on one side only is a difference."""

from __future__ import annotations

from pathlib import Path

from bench.peers import KEYS, MEASURES


def compare_counts(lnob_path: str | Path, peer_path: str | Path, *, listed: int = 10) -> dict:
    import polars as pl

    lnob = pl.read_parquet(lnob_path).select(*KEYS, *(pl.col(m).cast(pl.Int64) for m in MEASURES))
    peer = pl.read_parquet(peer_path).select(*KEYS, *(pl.col(m).cast(pl.Int64) for m in MEASURES))
    joined = lnob.join(peer, on=list(KEYS), how="full", coalesce=True, suffix="__peer", nulls_equal=True)
    presence = pl.col("__in_lnob") != pl.col("__in_peer")
    joined = joined.join(lnob.select(*KEYS).with_columns(__in_lnob=pl.lit(True)), on=list(KEYS), how="left",
                         nulls_equal=True).join(
        peer.select(*KEYS).with_columns(__in_peer=pl.lit(True)), on=list(KEYS), how="left", nulls_equal=True,
    ).with_columns(pl.col("__in_lnob").fill_null(False), pl.col("__in_peer").fill_null(False))
    differs = pl.any_horizontal(pl.col(m).ne_missing(pl.col(f"{m}__peer")) for m in MEASURES)
    different = joined.filter(presence | differs)
    by_level = (joined.group_by("level").agg(
        pl.len().alias("rows"),
        (presence | differs).sum().alias("different_rows"),
        pl.col("households_total").null_count().alias("lnob_unknown_totals"),
    ).sort("level"))
    return {
        "equal": different.height == 0,
        "rows_lnob": lnob.height,
        "rows_peer": peer.height,
        "rows_only_in_lnob": int((joined["__in_lnob"] & ~joined["__in_peer"]).sum()),
        "rows_only_in_peer": int((~joined["__in_lnob"] & joined["__in_peer"]).sum()),
        "different_rows": different.height,
        "measures_compared": len(MEASURES),
        "by_level": by_level.to_dicts(),
        "examples": different.head(listed).select(*KEYS, "households_total", "households_total__peer",
                                                  "households_poor", "households_poor__peer").to_dicts(),
    }
