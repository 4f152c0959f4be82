"""The 54 ethnic groups of Vietnam with their codes (Decision 1019/QĐ-TCTK, 2008;
docs/legal-basis.md#ethnic-codes).

Codes are two-digit strings, 01–54. Ethnic minority (dân tộc thiểu số) means every group but 01 Kinh. The
1979 list (Decision 121-TCTK/PPCĐ) numbers the groups differently (there 04 is Hoa, here Mường), so a code
is only meaningful with this list; free-text names are resolved through `ethnic_code_for`.
"""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl

from schemas.text import normalize_text_expr, spelling_key

ETHNIC_GROUPS_FILE = Path(__file__).resolve().parent / "reference" / "ethnic_groups_gso_2008.csv"
KINH_CODE = "01"
CODE_WIDTH = 2

ETHNIC_GROUPS_SCHEMA = pl.Schema({
    "code": pl.String, "name": pl.String, "is_minority": pl.Boolean, "aliases": pl.List(pl.String),
})


def ethnic_groups() -> pl.DataFrame:
    """One row per ethnic group: code, name, is_minority, aliases (other spellings), sorted by code."""
    return _ethnic_groups().clone()


def ethnic_code_for(text: str) -> str | None:
    """The code of a group named by its name, an alias or its code, accent-, case- and spacing-insensitive.

    "Mông", "H'Mông", "hmong", "Dân tộc Mông", "Khơ-me", "KHMER", "8", "08" all resolve; anything else
    (including the 1979-only code 55 or an unknown name) gives None.
    """
    if text is None:
        return None
    cleaned = text.strip()
    if cleaned.isdigit():
        code = cleaned.zfill(CODE_WIDTH)
        return code if code in _codes() else None
    key = spelling_key(cleaned)
    # "Dân tộc Mông" names the group the way forms often do.
    if key.startswith("dan toc "):
        key = key.removeprefix("dan toc ")
    return _code_by_key().get(key) or _code_by_key().get(key.replace(" ", ""))


@functools.cache
def _ethnic_groups() -> pl.DataFrame:
    raw = pl.read_csv(ETHNIC_GROUPS_FILE, infer_schema=False)
    return raw.select(
        code=pl.col("code").str.zfill(CODE_WIDTH),
        name=normalize_text_expr(pl.col("name")),
        is_minority=pl.col("is_minority").str.to_lowercase() == "true",
        aliases=pl.col("aliases").fill_null("").str.split("|")
        .list.eval(normalize_text_expr(pl.element()).filter(pl.element() != "")),
    ).cast(dict(ETHNIC_GROUPS_SCHEMA)).sort("code")


@functools.cache
def _codes() -> frozenset[str]:
    return frozenset(_ethnic_groups()["code"].to_list())


@functools.cache
def _code_by_key() -> dict[str, str]:
    """Match key of every name and alias → code. Two groups sharing a key would make names ambiguous."""
    by_key: dict[str, str] = {}
    for row in _ethnic_groups().iter_rows(named=True):
        for spelling in [row["name"], *row["aliases"]]:
            # Spaces are dropped too: "Gia Rai", "Gia-rai" and "Giarai" are one spelling.
            for key in {spelling_key(spelling), spelling_key(spelling).replace(" ", "")}:
                if by_key.setdefault(key, row["code"]) != row["code"]:
                    raise ValueError(f"ethnic group spelling {spelling!r} matches two codes")
    return by_key
