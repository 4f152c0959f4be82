"""Staging as the pipeline reads and writes it: one Parquet per accepted submission, holding the contract's
columns and then the submission's own columns below (STAGING_EXTRA), the same in every file of a kind.

Ingest writes these columns (pipeline/batch_write.py) and the build reads them (pipeline/build.py): one
definition, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

STAGING_EXTRA: dict[str, pl.DataType] = {"submission_id": pl.String, "year": pl.Int64,
                                         "submitting_level": pl.String, "submitting_unit": pl.String,
                                         "standard": pl.String,
                                         # A household list's declaration that it holds every resident
                                         # household (pipeline/declaration.py); null for other kinds.
                                         "lists_every_household": pl.Boolean}


def staging_schema(contract) -> dict[str, pl.DataType]:
    """The columns of one kind's staging file, in file order: the contract's, then STAGING_EXTRA."""
    return {**dict(contract.polars_schema()), **STAGING_EXTRA}


def scan_staging(paths: Sequence[str | Path], contract) -> pl.LazyFrame:
    """All staging files of one kind as one lazy scan (an empty frame of the right schema when none)."""
    schema = staging_schema(contract)
    if not paths:
        return pl.LazyFrame(schema=schema)
    return (pl.scan_parquet([str(p) for p in paths], missing_columns="insert", extra_columns="ignore")
            .select(pl.col(name).cast(dtype) for name, dtype in schema.items()))
