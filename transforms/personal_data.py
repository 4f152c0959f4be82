"""Personal data in a submitted file: which columns look like it, and national ID numbers made pseudonymous.

Household review lists are personal data, and a household's ethnicity and poverty status are sensitive
personal data (Decree 13/2023/NĐ-CP; the Law on Personal Data Protection). lnob keeps a submitted file
byte for byte in landing as the evidence and carries only its contract's columns further, so:
- A column outside the contract never leaves landing. One that looks like personal data, by its header
  (Vietnamese or English: names, CCCD/CMND and other ID numbers, dates of birth, phone numbers,
  addresses) or by the shape of its values (12-digit ID numbers, Vietnamese phone numbers, dates), is
  named in a warning that tells the submitter lnob does not keep it beyond the raw file.
- A contract column that holds national ID numbers (a household_id that is a 12-digit CCCD) has each such
  value replaced by a keyed hash (HMAC-SHA256) before anything else reads it: the same number gives the
  same replacement, so uniqueness checks and supersession still work, and nobody without the key can
  go back from the replacement to the number.
- No finding ever echoes a value of this shape back (`looks_personal` is how findings check).
"""

from __future__ import annotations

import hashlib
import hmac
import re

import polars as pl

# Header match keys (accents, case and punctuation folded, as transforms/normalize.header_key makes them).
PERSONAL_HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "name": ("ho ten", "ho va ten", "ten chu ho", "chu ho", "full name", "head name", "household head",
             "head of household", "first name", "last name", "surname"),
    "national_id": ("cccd", "cmnd", "can cuoc", "chung minh", "dinh danh", "so dinh danh", "ma dinh danh",
                    "id number", "national id", "identity", "citizen id", "passport", "ho chieu"),
    "date_of_birth": ("ngay sinh", "nam sinh", "ngay thang nam sinh", "date of birth", "birth date", "dob",
                      "birthday"),
    "phone": ("dien thoai", "so dien thoai", "sdt", "dt", "phone", "mobile", "telephone", "tel", "zalo"),
    "address": ("dia chi", "noi o", "cho o", "address"),
}
NATIONAL_ID = re.compile(r"^\s*\d{12}\s*$")            # CCCD: 12 digits (the old CMND had 9 or 12)
PHONE = re.compile(r"^\s*(\+?84|0)[\s.-]?[35789](?:[\s.-]?\d){8}\s*$")
DATE = re.compile(r"^\s*\d{1,2}[/.-]\d{1,2}[/.-](19|20)\d{2}\s*$|^\s*(19|20)\d{2}-\d{2}-\d{2}")
# A column is taken for personal data by its values when most of its filled cells have one of these shapes.
SHAPE_SHARE = 0.5
PSEUDONYM_PREFIX = "h:"
PSEUDONYM_HEX = 24


# Words that name personal data only when they are the whole header ("Tên" alone, but not "Tên xã").
WHOLE_HEADER_ONLY: dict[str, str] = {"ten": "name", "name": "name", "ho": "name"}


def kind_by_header(key: str) -> str | None:
    """The kind of personal data a header (as header_key folds it) names, or None."""
    if key in WHOLE_HEADER_ONLY:
        return WHOLE_HEADER_ONLY[key]
    words = f" {key} "
    for kind, spellings in PERSONAL_HEADER_WORDS.items():
        if any(f" {spelling} " in words for spelling in spellings):
            return kind
    return None


def kind_by_values(values: pl.Series) -> str | None:
    """The kind of personal data most filled cells of a text column look like, or None."""
    filled = values.cast(pl.String).drop_nulls()
    filled = filled.filter(filled.str.strip_chars() != "")
    if filled.len() == 0:
        return None
    for kind, shape in (("national_id", NATIONAL_ID), ("phone", PHONE), ("date_of_birth", DATE)):
        if filled.str.contains(shape.pattern).mean() >= SHAPE_SHARE:
            return kind
    return None


def looks_personal(value: object) -> bool:
    """True when a single value has the shape of an ID number or a phone number: never echo it back."""
    if value is None:
        return False
    text = str(value)
    return bool(NATIONAL_ID.match(text) or PHONE.match(text))


def pseudonym(key: bytes, value: str) -> str:
    """The keyed hash that stands for a national ID number (stable for one key, not reversible without it)."""
    return PSEUDONYM_PREFIX + hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def pseudonymise_ids(rows: pl.DataFrame, column: str, key: bytes) -> tuple[pl.DataFrame, int]:
    """Replace every value of `column` that is a national ID number by its keyed hash.

    Grain in and out: the same rows (one per row of the file), `column` as text. Returns the rows and how
    many values were replaced. The hash is computed once per distinct number (a list repeats few)."""
    if column not in rows.columns:
        return rows, 0
    is_id = pl.col(column).str.contains(NATIONAL_ID.pattern).fill_null(False)
    numbers = rows.filter(is_id).get_column(column).unique().to_list()
    if not numbers:
        return rows, 0
    replaced = rows.filter(is_id).height
    mapping = {number: pseudonym(key, number) for number in numbers}
    return rows.with_columns(pl.col(column).replace(mapping)), replaced
