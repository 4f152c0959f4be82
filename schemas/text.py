"""Vietnamese text normalisation shared by header matching, name matching and reference loading.

Two kinds of output, kept apart on purpose:
- `normalize_text` keeps what a person wrote (accents, case) and only removes what carries no meaning:
  NFD/NFC differences, line breaks, runs of spaces, non-breaking spaces. Use it for labels and notes.
- `fold` and `name_key` build *match keys*: accent- and case-insensitive, for comparing a submitted
  header or a unit name written in a decision with the official spelling. A key is never displayed.

The same spelling written in two Unicode forms ("Hà Nội" as NFC or NFD) must compare equal, and so
must the spellings that differ only by where the tone mark sits ("Hoà"/"Hòa", "Thuỷ"/"Thủy") or by the
"Đăk"/"Đắk" convention (Kon Tum writes Đăk, Đắk Lắk writes Đắk): the keys fold all of them.
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

# Unit-type words that open an official unit name ("Thành phố Hà Nội", "Huyện Lý Sơn"), longest first
# so that "Thị xã" wins over "Xã". Canonical spelling, as in the national lists.
UNIT_TYPES: tuple[str, ...] = (
    "Thành phố", "Thị trấn", "Thị xã", "Đặc khu", "Phường", "Huyện", "Quận", "Tỉnh", "Xã",
)

# Abbreviations written in forms and decisions for the same unit types (folded spelling → canonical).
_UNIT_TYPE_ABBREVIATIONS: dict[str, str] = {
    "tp": "Thành phố", "tx": "Thị xã", "tt": "Thị trấn",
}

_WHITESPACE = re.compile(r"\s+")
# Apostrophes and dashes inside names are spelling variants (H'Mông, HMông; Khơ-me, Khơ me; Bà Rịa – Vũng Tàu).
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_SEPARATORS = re.compile(r"[-‐‑‒–—―_.,;:/()]")
_LEADING_ZEROS = re.compile(r"\b0+(\d)")


def normalize_text(text: str) -> str:
    """NFC, every run of whitespace (line breaks, tabs, non-breaking spaces) folded to one space, trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _base_letters() -> dict[int, str]:
    """Precomposed Latin letter → its letter without marks, for every letter Vietnamese uses (and more)."""
    table = {ord("đ"): "d", ord("Đ"): "D"}
    for code_point in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        decomposed = unicodedata.normalize("NFD", chr(code_point))
        if len(decomposed) > 1 and decomposed[0].isascii():
            table[code_point] = decomposed[0]
    return table


_BASE_LETTERS = _base_letters()


def strip_accents(text: str) -> str:
    """Remove Vietnamese diacritics, including the stroke of đ/Đ (which Unicode does not decompose)."""
    stripped = unicodedata.normalize("NFC", text).translate(_BASE_LETTERS)
    if stripped.isascii():
        return stripped
    # Letters outside the table, or marks with no precomposed form: decompose and drop the marks.
    decomposed = unicodedata.normalize("NFD", stripped)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


def fold_dak(text: str) -> str:
    """Write "Đăk" (also "Đak", "Dăk", "Dak") as "Đắk": conventions for one syllable in place names
    (Kon Tum's units write Đăk Glei, Đăk Tô; Đắk Lắk and Đắk Nông write Đắk). Case is kept."""
    return _DAK.sub(_canonical_dak, unicodedata.normalize("NFC", text))


_DAK = re.compile(r"\b[ĐD][ăaắ]k\b", flags=re.IGNORECASE)


def _canonical_dak(match: re.Match[str]) -> str:
    written = match.group(0)
    if written == "Đắk" or written == "đắk":
        return written
    if written.isupper():
        return "ĐẮK"
    return "Đắk" if written[0] in "ĐD" else "đắk"


def fold(text: str) -> str:
    """Match key of any text: normalised, case-folded, without accents. "Thành  phố\\nHà Nội" → "thanh pho ha noi"."""
    return strip_accents(normalize_text(text)).casefold()


# Folded prefixes of each unit type, in the order they are tried (longest type first, then abbreviations).
_UNIT_TYPE_PREFIXES: tuple[tuple[str, str], ...] = (
    *((unit_type, fold(unit_type) + " ") for unit_type in UNIT_TYPES),
    *((unit_type, abbreviation + ".") for abbreviation, unit_type in _UNIT_TYPE_ABBREVIATIONS.items()),
    *((unit_type, abbreviation + " ") for abbreviation, unit_type in _UNIT_TYPE_ABBREVIATIONS.items()),
)


def split_unit_type(name: str) -> tuple[str | None, str]:
    """Split an official name into its unit type and the rest: "Thành phố Hà Nội" → ("Thành phố", "Hà Nội").

    Accent- and case-insensitive ("thanh pho ha noi", "TP. Hà Nội", "TP.Hà Nội" work). A name that is only a
    unit-type word, or has no such word, comes back whole with type None. Numbered units keep their number:
    "Phường 15" → ("Phường", "15").
    """
    cleaned = normalize_text(name)
    folded = strip_accents(cleaned).casefold()
    # Folding keeps one character per Vietnamese letter, so a prefix's length is the same in both spellings.
    if len(folded) != len(cleaned):
        return None, cleaned
    written_plainly = strip_accents(cleaned) == cleaned
    for unit_type, prefix in _UNIT_TYPE_PREFIXES:
        if not folded.startswith(prefix):
            continue
        # A unit-type word written without its accents counts only when the whole name is typed without
        # accents ("Xa Ea Kly"): "Quản Bạ" and "Quan Hóa" are district names, not "Quận …".
        is_abbreviation = prefix != fold(unit_type) + " "
        written = cleaned[: len(prefix)].casefold()
        if not (is_abbreviation or written_plainly or written == unit_type.casefold() + " "):
            continue
        rest = cleaned[len(prefix):].lstrip()
        if rest:
            return unit_type, rest
    return None, cleaned


def unit_type_of(name: str) -> str | None:
    """The canonical unit type a name opens with ("Tỉnh Hà Giang" → "Tỉnh"), or None."""
    return split_unit_type(name)[0]


def strip_unit_type(name: str) -> str:
    """The name without its unit-type prefix: "Huyện Lý Sơn" → "Lý Sơn"."""
    return split_unit_type(name)[1]


def name_key(name: str) -> str:
    """Match key of a unit or group name, so spellings of one place compare equal.

    Drops the unit-type prefix, accents and case; removes apostrophes (H'Mông = HMông); reads dashes, dots
    and other separators as spaces (Bà Rịa - Vũng Tàu = Bà Rịa–Vũng Tàu); drops leading zeros of numbers
    (Phường 01 = Phường 1). "Tỉnh Đắk Lắk", "Dak Lak", "ĐĂK LẮK" → "dak lak".
    """
    return spelling_key(strip_unit_type(name))


def spelling_key(text: str) -> str:
    """`name_key` without the unit-type step, for names that are not places (ethnic groups, headers)."""
    key = fold(_SEPARATORS.sub(" ", _APOSTROPHES.sub("", text)))
    return _LEADING_ZEROS.sub(r"\1", _WHITESPACE.sub(" ", key).strip())


# Polars counterparts, for folding a whole column at once. They agree with the functions above
# (tests/schemas/test_text.py holds them to it).
def normalize_text_expr(expr: pl.Expr) -> pl.Expr:
    """Column version of `normalize_text`."""
    return expr.str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()


def fold_expr(expr: pl.Expr) -> pl.Expr:
    """Column version of `fold`."""
    return (
        normalize_text_expr(expr)
        .str.normalize("NFD")
        .str.replace_all(r"\p{Mn}", "")
        .str.normalize("NFC")
        .str.replace_all("đ", "d", literal=True)
        .str.replace_all("Đ", "D", literal=True)
        .str.to_lowercase()
    )


def _per_distinct_value(function):
    """A column function applying `function` once per distinct value (names repeat across thousands of rows)."""
    def apply(series: pl.Series) -> pl.Series:
        mapping = {value: function(value) for value in series.drop_nulls().unique().to_list()}
        return series.replace_strict(mapping, default=None, return_dtype=pl.String)
    return apply


def unit_type_expr(expr: pl.Expr) -> pl.Expr:
    """Column version of `unit_type_of` (null when the name opens with no unit type)."""
    return expr.map_batches(_per_distinct_value(unit_type_of), return_dtype=pl.String, is_elementwise=True)


def strip_unit_type_expr(expr: pl.Expr) -> pl.Expr:
    """Column version of `strip_unit_type`."""
    return expr.map_batches(_per_distinct_value(strip_unit_type), return_dtype=pl.String, is_elementwise=True)


def canonical_unit_name(name: str) -> str:
    """The name with its unit-type word in canonical spelling: "Thành Phố Bắc Kạn" → "Thành phố Bắc Kạn"."""
    unit_type, rest = split_unit_type(name)
    return f"{unit_type} {rest}" if unit_type else rest


def canonical_unit_name_expr(expr: pl.Expr) -> pl.Expr:
    """Column version of `canonical_unit_name`."""
    return expr.map_batches(_per_distinct_value(canonical_unit_name), return_dtype=pl.String, is_elementwise=True)
