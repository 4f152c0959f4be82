"""Every mart keeps its declared layout when it is written (schemas/marts.py): a frame is conformed to its
mart (`conform`), then checked against it (`check_mart`, or `ContractCheck` chunk by chunk) before it is
written; a mart that breaks its layout stops the build, so it is never published.

What is checked, for every mart and year:
- exactly the declared columns, in order, with the declared dtypes;
- the grain: the mart's sort key (the columns its grain names, in the order rows are written) is unique;
- no null in a column declared not nullable; only declared values in a column with `allowed` values;
- codes at their official widths: a column's `code_width`; `unit_code` by `level` (commune and village
  5 digits, district 3, province 2, a region its text key, the nation VN); `ethnic_group` a 2-digit
  code, ALL or EM.
A violation raises BuildError naming the mart, the column and a few offending values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from schemas.marts import ALL_GROUPS, ETHNIC_MINORITIES, NATIONAL_CODE, Mart
from store.mart_files import RowChunks, file_entry, partition_path, write_partition

SHOWN_VALUES = 5
UNIT_CODE_DIGITS = {"commune": 5, "village": 5, "district": 3, "province": 2}
REGION_KEY = r"^[a-z][a-z_]*$"


class BuildError(RuntimeError):
    pass


# --- conforming ---------------------------------------------------------------------------------------

def conform(frame: pl.DataFrame | pl.LazyFrame, mart: Mart, *, presorted: bool = False,
            fill_absent: bool = False) -> pl.DataFrame:
    """The mart's columns in its order and dtypes, rows in its sort order (a total order on its grain).

    presorted: the caller built the rows in that order already (checked, not trusted). fill_absent: a
    declared column the frame lacks is added as nulls (rows of rule evaluations that say nothing of it);
    otherwise a missing column is an error."""
    frame = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    names = frame.collect_schema().names()
    missing = [c.name for c in mart.columns if c.name not in names]
    if missing and not fill_absent:
        raise BuildError(f"mart {mart.name} is missing columns {missing}")
    conformed = frame.select(
        (pl.col(c.name).cast(c.dtype) if c.name in names else pl.lit(None, dtype=c.dtype)).alias(c.name)
        for c in mart.columns).collect(engine="in-memory")
    if presorted and is_sorted(conformed, mart.sort_key):
        return conformed
    return conformed.sort(list(mart.sort_key), nulls_last=True, maintain_order=True)


def is_sorted(frame: pl.DataFrame, key: Sequence[str]) -> bool:
    """True when consecutive rows never go down on the key (compared lexicographically, as a struct)."""
    return frame.height < 2 or frame.select(pl.struct(list(key))).to_series().is_sorted()


# --- checking -----------------------------------------------------------------------------------------

def _shown(values: pl.Series | list) -> str:
    values = values.to_list() if isinstance(values, pl.Series) else list(values)
    return ", ".join(repr(v) for v in values[:SHOWN_VALUES]) + (" …" if len(values) > SHOWN_VALUES else "")


def _violation(mart: Mart, column: str, what: str, values: pl.Series | list) -> BuildError:
    return BuildError(f"mart {mart.name}, column {column}: {what} (e.g. {_shown(values)}); the version is not "
                      f"published / bảng {mart.name}, cột {column}: sai khuôn dạng đã khai báo, phiên bản "
                      f"không được công bố")


def _unit_code_ok(level: pl.Expr, code: pl.Expr) -> pl.Expr:
    digits = level.replace_strict(UNIT_CODE_DIGITS, default=None, return_dtype=pl.Int64)
    return (pl.when(level == "national").then(code == NATIONAL_CODE)
            .when(level == "region").then(code.str.contains(REGION_KEY))
            .when(digits.is_not_null()).then(code.str.contains(r"^[0-9]+$") & (code.str.len_chars() == digits))
            .otherwise(pl.lit(True)))


def _check_rows(frame: pl.DataFrame, mart: Mart) -> None:
    """Everything but the uniqueness of the key, which may span chunks."""
    expected = mart.polars_schema()
    if frame.schema != expected:
        wrong = [f"{name}: {frame.schema.get(name)} (declared {dtype})" for name, dtype in expected.items()
                 if frame.schema.get(name) != dtype]
        extra = [name for name in frame.columns if name not in expected]
        order = [] if wrong or extra else [f"order {frame.columns}"]
        raise _violation(mart, ", ".join(n.split(":")[0] for n in wrong) or "(columns)",
                         "columns or dtypes differ from the layout", wrong + [f"undeclared {n}" for n in extra]
                         + order)
    for column in mart.columns:
        values = pl.col(column.name)
        if not column.nullable and frame.get_column(column.name).null_count():
            keys = frame.filter(values.is_null()).select(list(mart.sort_key)).rows()
            raise _violation(mart, column.name, "null in a column declared not nullable, at keys", keys)
        checks: list[tuple[str, pl.Expr]] = []
        if column.allowed is not None:
            checks.append(("value not among the allowed ones", values.is_in(list(column.allowed))))
        if column.code_width is not None:
            widths = column.code_width if isinstance(column.code_width, tuple) else (column.code_width,)
            checks.append((f"code not of {'/'.join(map(str, widths))} digits",
                           values.str.contains(r"^[0-9]+$") & values.str.len_chars().is_in(list(widths))))
        if column.name == "unit_code" and "level" in frame.columns:
            checks.append(("code not of its level's official width",
                           _unit_code_ok(pl.col("level"), values)))
        if column.name == "ethnic_group":
            checks.append(("not a 2-digit ethnic group code, ALL or EM",
                           values.str.contains(r"^[0-9]{2}$") | values.is_in([ALL_GROUPS, ETHNIC_MINORITIES])))
        for what, ok in checks:
            bad = frame.filter(values.is_not_null() & ~ok.fill_null(False))
            if bad.height:
                shown = (bad.select("level", column.name).unique(maintain_order=True).rows()
                         if column.name == "unit_code" and "level" in frame.columns
                         else bad.get_column(column.name).unique(maintain_order=True))
                raise _violation(mart, column.name, what, shown)


class ContractCheck:
    """Checks one mart's rows as they are written, chunk by chunk: each chunk in full, and the key over
    all of them. Chunks arrive in the mart's sort order (`conform`), so a key repeated across chunks
    shows as a chunk that does not start after the previous one ended."""

    def __init__(self, mart: Mart) -> None:
        self.mart = mart
        self.key = list(mart.sort_key)
        self._last: tuple | None = None

    def __call__(self, chunk: pl.DataFrame) -> pl.DataFrame:
        _check_rows(chunk, self.mart)
        if not chunk.height:
            return chunk
        keys = chunk.select(self.key)
        repeated = keys.filter(keys.is_duplicated())
        if repeated.height:
            raise _violation(self.mart, ", ".join(self.key), "the grain key is not unique", repeated.unique(
                maintain_order=True).rows())
        first, last = keys.row(0), keys.row(keys.height - 1)
        if self._last is not None and not _after(first, self._last):
            raise _violation(self.mart, ", ".join(self.key),
                             "the grain key is not unique (or rows are out of order across chunks)", [first])
        self._last = last
        return chunk


def _after(key: tuple, previous: tuple) -> bool:
    """key > previous in the order `conform` sorts by (nulls last); keys here hold no null when the
    layout declares them not nullable, and a null key column compares as the greatest."""
    for value, before in zip(key, previous, strict=True):
        if value == before:
            continue
        if value is None or before is None:
            return value is None
        return value > before
    return False


def check_mart(frame: pl.DataFrame, mart: Mart) -> pl.DataFrame:
    """Raise BuildError when a whole mart (one year) breaks its declared layout; returns the frame."""
    ContractCheck(mart)(frame)
    return frame


# --- writing ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _CheckedChunks:
    rows: RowChunks
    check: ContractCheck

    @property
    def schema(self) -> pl.Schema:
        return self.rows.schema

    def chunks(self) -> Iterator[pl.DataFrame]:
        for chunk in self.rows.chunks():
            yield self.check(chunk)


def write_mart(root: Path, mart: Mart, year: int, rows: pl.DataFrame | RowChunks) -> dict:
    """One year of one mart, checked against its layout as it is written (chunk by chunk for a mart too
    large to hold), into the version folder `root`; returns its file entry for the manifest."""
    check = ContractCheck(mart)
    checked = check(rows) if isinstance(rows, pl.DataFrame) else _CheckedChunks(rows, check)
    path = partition_path(root, mart.name, year)
    return file_entry(root, path, year, write_partition(checked, path))
