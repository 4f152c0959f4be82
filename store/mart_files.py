"""The files of a mart version: where each mart's rows live, how they are written, how they are read back.

marts/<version>/<mart>/<year>.parquet     one file per mart and review year, named by the year
marts/<version>/manifest.json             row counts, schemas, checksums (pipeline/manifest.py)

The year is a column inside every file and nowhere else: no `year=2024/` folder. A folder of `key=value`
folders makes pandas, PyArrow and DuckDB add the key a second time, typed from the folder name, and fail
on the clash ("Field year has incompatible types"); plain files named by their year are read by every
reader as they are (`pd.read_parquet(folder)`, `pq.read_table(folder)`, `read_parquet('<mart>/*.parquet')`).

Files are written with fixed settings so that the same rows give the same bytes: part of what makes a
rebuild byte-identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from schemas.marts import all_marts
from store.zones import sha256_of

MANIFEST = "manifest.json"
SUFFIX = ".parquet"
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3, "statistics": True,
                                   "row_group_size": 512 * 1024}


class RowChunks(Protocol):
    """Rows too many to hold at once, produced in file order one slice at a time."""

    @property
    def schema(self) -> pl.Schema: ...

    def chunks(self) -> Iterator[pl.DataFrame]: ...


def partition_path(root: Path, mart_name: str, year: int) -> Path:
    """The file of one mart and year inside a version folder."""
    return Path(root) / mart_name / f"{int(year)}{SUFFIX}"


def _year_of(path: Path) -> int | None:
    return int(path.stem) if path.suffix == SUFFIX and path.stem.isdigit() else None


def mart_files(root: Path | None, mart_name: str) -> list[Path]:
    """Every year's file of one mart in a version folder, oldest year first (none when absent)."""
    if root is None:
        return []
    folder = Path(root) / mart_name
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _year_of(p) is not None), key=_year_of)


def years_of(root: Path | None, mart_name: str) -> list[int]:
    """The years a mart has a file for in a version folder."""
    return [int(path.stem) for path in mart_files(root, mart_name)]


def write_partition(rows: pl.DataFrame | RowChunks, path: Path) -> int:
    """One Parquet file with fixed settings (same rows in, same bytes out); returns the rows written.
    Chunks are written as they come, so a mart larger than memory allows is never held at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(rows, pl.DataFrame):
        rows.write_parquet(path, **PARQUET_OPTIONS)
        return rows.height
    import pyarrow.parquet as pq

    schema = pl.DataFrame(schema=rows.schema).to_arrow().schema
    written = 0
    with pq.ParquetWriter(path, schema, compression=PARQUET_OPTIONS["compression"],
                          compression_level=PARQUET_OPTIONS["compression_level"], write_statistics=True) as writer:
        for chunk in rows.chunks():
            if chunk.height:
                writer.write_table(chunk.to_arrow().cast(schema), row_group_size=PARQUET_OPTIONS["row_group_size"])
                written += chunk.height
    return written


def file_entry(root: Path, path: Path, year: int, rows: int) -> dict:
    """A written file as the manifest lists it: its path in the version folder, year, rows, size, checksum."""
    digest, size = sha256_of(path)
    return {"path": path.relative_to(root).as_posix(), "year": int(year), "rows": int(rows), "bytes": size,
            "sha256": digest}


def read_mart(root: Path | None, mart_name: str, year: int | None = None) -> pl.DataFrame:
    """One mart of a version folder (or one year of it) as one frame; an empty frame with the mart's
    declared columns when it has no file there."""
    files = mart_files(root, mart_name)
    if year is not None:
        files = [p for p in files if _year_of(p) == int(year)]
    if not files:
        return pl.DataFrame(schema=all_marts()[mart_name].polars_schema())
    return pl.concat([pl.read_parquet(p, hive_partitioning=False) for p in files], how="diagonal_relaxed")
