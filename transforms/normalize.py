"""Normalise a submitted table to its contract: header matching, text, codes, numbers, yes/no values.

Grain in and out: one row per data row of the submitted file (keyed by `__row__`, the row number the
submitter sees), in the same order.

Everything arrives here as text (the parser never lets a reader guess types), and each value is parsed
deliberately:
- headers match the contract's English names or Vietnamese labels, with or without accents, any case;
- text is NFC, with runs of whitespace folded; an empty cell is null (not reported), never zero;
- codes get back the leading zeros that spreadsheets drop (a warning says so);
- numbers are read the Vietnamese way (`1.057.374`, `4,03`) and the English way (`1,057,374`, `4.03`).
  A value that reads differently in the two conventions is never guessed silently:
  * in a whole-number column, `1,500` can only be one thousand five hundred (a count of 1.5 households
    does not exist), so it is read that way and a warning lists where;
  * in a decimal column, `1,500` or `1.500` (one to three digits, one separator, three digits) could be
    1.5 or 1500. The column settles it when it can (`number_convention`): a `1.165.420` or a `4,03`
    elsewhere in it, or a `;`-separated file (Excel on a Vietnamese machine, whose decimal mark is the
    comma), make it Vietnamese; a `1,165,420` or a `4.03` make it English. Only a column that says
    neither, or both, leaves the row an error asking the submitter to write it unambiguously.
- a number is kept only when it is finite and within ±2^53, where a Float64 still holds every whole
  number exactly (`1e400`, a 400-digit income or a household size of `99999999999999999999` are errors
  where they are written, never an infinity or an overflow);
- a NUL or other control character in a cell is an error at that cell (it would otherwise be stored
  inside a village's name).
- coded values written in Vietnamese (`nông thôn`, `hộ nghèo`) become their codes (schemas VALUE_ALIASES).

`normalize` keeps, for every contract column, the typed value plus `<column>__text` (the text as written,
NFC) and `<column>__issue` (a rule id when the value could not be read, or was changed in a way the
submitter should know about). `value_issues` turns those into one row per problem cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from schemas.contracts import CONTRACTS, VALUE_ALIASES, Contract
from schemas.text import fold, fold_expr, normalize_text_expr

ROW = "__row__"
TEXT_SUFFIX = "__text"
ISSUE_SUFFIX = "__issue"
_COMPACT = "__compact"
_READ = "__read"

# Rule ids raised here, with their severity. Messages live with the other submitter-facing texts in
# documents/findings_report.py's catalogue, keyed by these ids.
VALUE_RULES: dict[str, str] = {
    "value.not_a_number": "error",
    "value.not_a_whole_number": "error",
    "value.ambiguous_number": "error",
    "value.thousands_comma": "warning",
    "value.not_yes_no": "error",
    "value.out_of_range": "error",
    "value.control_character": "error",
    "code.leading_zeros_restored": "warning",
    "code.name_replaced_by_code": "warning",
}

_TRUE_WORDS = ("1", "1.0", "true", "t", "yes", "y", "x", "co", "dung")
_FALSE_WORDS = ("0", "0.0", "false", "f", "no", "n", "khong", "k", "sai")

# Number shapes, tried in the order written. `AMBIGUOUS` is one to three digits (not a lone 0), one
# separator, then exactly three digits: 1.500 / 1,500.
_SIGN = r"^[-+]?"
_AMBIGUOUS = _SIGN + r"[1-9]\d{0,2}[.,]\d{3}$"
_PLAIN = _SIGN + r"\d+$"
_DOT_DECIMAL = _SIGN + r"\d*\.\d+$"
_COMMA_DECIMAL = _SIGN + r"\d*,\d+$"
_DOT_GROUPS = _SIGN + r"\d{1,3}(\.\d{3})+$"
_COMMA_GROUPS = _SIGN + r"\d{1,3}(,\d{3})+$"
_DOT_GROUPS_COMMA_DECIMAL = _SIGN + r"\d{1,3}(\.\d{3})+,\d+$"
_COMMA_GROUPS_DOT_DECIMAL = _SIGN + r"\d{1,3}(,\d{3})+\.\d+$"
_SCIENTIFIC = _SIGN + r"\d+(\.\d+)?[eE][-+]?\d+$"
_WHOLE_DECIMAL = _SIGN + r"\d+[.,]0+$"
# Shapes that only one convention writes: several groups, or a decimal part that is not three digits
# (or follows a lone 0).
_ONLY_VIETNAMESE = (_SIGN + r"\d{1,3}(\.\d{3}){2,}$", _DOT_GROUPS_COMMA_DECIMAL,
                    _SIGN + r"(\d*,(\d{1,2}|\d{4,})|0?,\d+)$")
_ONLY_ENGLISH = (_SIGN + r"\d{1,3}(,\d{3}){2,}$", _COMMA_GROUPS_DOT_DECIMAL,
                 _SIGN + r"(\d*\.(\d{1,2}|\d{4,})|0?\.\d+)$")
VIETNAMESE, ENGLISH = "vi", "en"

# Beyond 2^53 a Float64 no longer holds every whole number: a value there cannot be kept as written.
LARGEST_NUMBER = float(2 ** 53)
_CONTROL = r"[\x00-\x08\x0e-\x1f\x7f]"     # what whitespace folding leaves of the control characters

_NON_WORD = re.compile(r"[^0-9a-z]+")


def header_key(text: str | None) -> str:
    """Match key of a header: accents, case, punctuation and spacing ignored ("Mã xã" = "ma_xa" = "MA XA")."""
    if text is None:
        return ""
    return _NON_WORD.sub(" ", fold(str(text))).strip()


def _header_keys(contract: Contract) -> dict[str, str]:
    if contract.name in _HEADER_KEYS:
        return _HEADER_KEYS[contract.name]
    keys: dict[str, str] = {}
    for column in contract.columns:
        for spelling in (column.name, column.label_vi, column.label_en):
            keys.setdefault(header_key(spelling), column.name)
    if contract.name in CONTRACTS and CONTRACTS[contract.name] is contract:
        _HEADER_KEYS[contract.name] = keys
    return keys


_HEADER_KEYS: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class HeaderMatch:
    """How the headers of a file map to a contract. Positions are 0-based column positions in the file."""

    contract: str
    columns: dict[int, str]                      # position → contract column name (first occurrence)
    headers: dict[int, str]                      # position → header as written
    unknown: list[int] = field(default_factory=list)                 # positions matching no column
    duplicates: dict[str, list[int]] = field(default_factory=dict)   # contract column → every position
    missing_required: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return len(self.columns)

    def position_of(self, name: str) -> int | None:
        for position, column in self.columns.items():
            if column == name:
                return position
        return None


def match_headers(headers: Sequence[str | None], contract: Contract) -> HeaderMatch:
    """Map each header to a contract column. Empty headers are ignored; a second column with the same
    meaning is a duplicate (only the first is read)."""
    keys = _header_keys(contract)
    columns: dict[int, str] = {}
    written: dict[int, str] = {}
    unknown: list[int] = []
    positions: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        if header is None or not str(header).strip():
            continue
        written[position] = str(header).strip()
        name = keys.get(header_key(header))
        if name is None:
            unknown.append(position)
            continue
        positions.setdefault(name, []).append(position)
        if len(positions[name]) == 1:
            columns[position] = name
    present = set(columns.values())
    return HeaderMatch(
        contract=contract.name,
        columns=columns,
        headers=written,
        unknown=unknown,
        duplicates={name: where for name, where in positions.items() if len(where) > 1},
        missing_required=[c.name for c in contract.columns if c.required and c.name not in present],
        missing_optional=[c.name for c in contract.columns if not c.required and c.name not in present],
    )


def _key_expr(text: pl.Expr) -> pl.Expr:
    """Column version of `header_key`."""
    return fold_expr(text).str.replace_all(r"[^0-9a-z]+", " ").str.strip_chars()


# "01 - Kinh": a code followed by its group's name, as lnob's templates offer it in their drop-downs.
_CODE_AND_NAME = r"^(\d{1,2})\s*[-–—:]\s*(\S.*)$"


def _code_of_code_and_name(text: pl.Expr, ethnic_names: dict[str, str]) -> pl.Expr:
    """The code of a "code - name" value whose name is that code's group; any other text unchanged, so a
    code and name that disagree ("01 - Tày") are reported, never resolved either way."""
    code = text.str.extract(_CODE_AND_NAME, 1).str.zfill(2)
    named = _key_expr(text.str.extract(_CODE_AND_NAME, 2)).replace_strict(ethnic_names, default=None,
                                                                         return_dtype=pl.String)
    return pl.when(code.is_not_null() & (code == named)).then(code).otherwise(text)


def header_score(cells: Sequence[str | None], contract: Contract) -> int:
    """How many cells of a row are headers of this contract (used to find the header row under titles)."""
    keys = _header_keys(contract)
    return len({keys[k] for k in (header_key(c) for c in cells if c is not None) if k in keys})


def infer_kind(headers: Sequence[str | None]) -> str | None:
    """The contract whose required columns the headers cover best; None when no contract has half of its
    required columns."""
    best, best_share = None, 0.0
    for name, contract in CONTRACTS.items():
        match = match_headers(headers, contract)
        required = contract.required_names
        share = (len(required) - len(match.missing_required)) / len(required)
        if share > best_share or (share == best_share and best is not None
                                  and match.matched > match_headers(headers, CONTRACTS[best]).matched):
            best, best_share = name, share
    return best if best_share >= 0.5 else None


# --- value parsing (column expressions) ---------------------------------------------------------

def _strip_number(text: pl.Expr) -> pl.Expr:
    """Spaces (also non-breaking ones) inside numbers are digit grouping; a trailing % is a unit."""
    return text.str.replace_all(r"[\s\u00a0\u202f]", "").str.strip_suffix("%")


def number_convention(texts: pl.Series, *, separator: str | None = None) -> str | None:
    """The number convention a column of text is written in: "vi" (`1.165.420`, `4,03`), "en"
    (`1,165,420`, `4.03`) or None when its values do not say (or say both).

    Grain in: the cells of one column of one file; out: one word for the column. A `;` separator
    says Vietnamese when the values say nothing: Excel separates with `;` where the comma is the
    decimal mark."""
    compact = texts.drop_nulls().to_frame("t").select(_strip_number(pl.col("t")).alias("t")).to_series()
    if compact.len() == 0 or not compact.str.contains(r"\d").any():
        return None

    def any_of(patterns: tuple[str, ...]) -> bool:
        return bool(compact.str.contains("|".join(f"(?:{p})" for p in patterns)).any())

    vietnamese, english = any_of(_ONLY_VIETNAMESE), any_of(_ONLY_ENGLISH)
    if vietnamese != english:
        return VIETNAMESE if vietnamese else ENGLISH
    if not vietnamese and separator == ";":
        return VIETNAMESE
    return None


def _within_range(read: pl.Expr, value: pl.Expr, issue: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Only finite values within ±LARGEST_NUMBER are kept; the others are located errors."""
    too_large = read.is_infinite() | (read.abs() > LARGEST_NUMBER)
    issue = (pl.when(read.is_nan()).then(pl.lit("value.not_a_number"))
             .when(too_large).then(pl.lit("value.out_of_range")).otherwise(issue))
    return pl.when(read.is_nan() | too_large).then(None).otherwise(value), issue


def _number_stages(name: str, *, whole: bool, machine: bool,
                   convention: str | None = None) -> tuple[pl.Expr, pl.Expr, tuple[pl.Expr, pl.Expr]]:
    """Expressions for a number column, in three stages over `<name>__text` so that each stage refers to
    the previous one's columns (one long expression per column makes Polars' planning slow):
    (compact text, value as read, (final Float64 value, issue rule id)). `convention` ("vi", "en" or
    None) is how the column's `1.500` and `1,500` read, decided from the whole column."""
    compact_expr, read_expr, (value, issue) = _number_reading(name, whole=whole, machine=machine,
                                                             convention=convention)
    return compact_expr, read_expr, _within_range(pl.col(name + _READ), value, issue)


def _number_reading(name: str, *, whole: bool, machine: bool,
                    convention: str | None) -> tuple[pl.Expr, pl.Expr, tuple[pl.Expr, pl.Expr]]:
    text = pl.col(name + TEXT_SUFFIX)
    compact_expr = _strip_number(text).alias(name + _COMPACT)
    compact = pl.col(name + _COMPACT)
    read = pl.col(name + _READ)
    if machine:
        # Written by a program as a number (an XLSX numeric cell, JSON, Parquet): no locale to guess.
        read_expr = compact.cast(pl.Float64, strict=False).alias(name + _READ)
        issue = pl.when(compact.is_not_null() & read.is_null()).then(pl.lit("value.not_a_number"))
        if whole:
            issue = issue.when(read.is_not_null() & (read != read.round(0))).then(pl.lit("value.not_a_whole_number"))
        value = pl.when(read == read.round(0)).then(read).otherwise(None) if whole else read
        return compact_expr, read_expr, (value, issue.otherwise(pl.lit(None, dtype=pl.String)))

    def matches(pattern: str) -> pl.Expr:
        return compact.str.contains(pattern)

    without_dots = compact.str.replace_all(".", "", literal=True)
    without_commas = compact.str.replace_all(",", "", literal=True)
    if whole:
        reading = (
            pl.when(matches(_PLAIN)).then(compact)
            .when(matches(_DOT_GROUPS)).then(without_dots)
            .when(matches(_COMMA_GROUPS)).then(without_commas)
            .when(matches(_WHOLE_DECIMAL)).then(compact.str.replace(r"[.,]0+$", ""))
            .when(matches(_SCIENTIFIC)).then(compact)
        )
        read_expr = reading.otherwise(None).cast(pl.Float64, strict=False).alias(name + _READ)
        fractional = matches(r"^[-+]?[\d.,]*[.,]\d+$")
        issue = (
            pl.when(compact.is_null()).then(pl.lit(None, dtype=pl.String))
            .when(read.is_not_null() & (read != read.round(0))).then(pl.lit("value.not_a_whole_number"))
            .when(read.is_null() & fractional).then(pl.lit("value.not_a_whole_number"))
            .when(read.is_null()).then(pl.lit("value.not_a_number"))
            .when(matches(_AMBIGUOUS) & compact.str.contains(",", literal=True)).then(pl.lit("value.thousands_comma"))
            .otherwise(pl.lit(None, dtype=pl.String))
        )
        return compact_expr, read_expr, (pl.when(read == read.round(0)).then(read).otherwise(None), issue)
    dot = compact.str.contains(".", literal=True)
    if convention == VIETNAMESE:
        settled = pl.when(dot).then(without_dots).otherwise(compact.str.replace(",", ".", literal=True))
    elif convention == ENGLISH:
        settled = pl.when(dot).then(compact).otherwise(without_commas)
    else:
        settled = pl.lit(None, dtype=pl.String)
    reading = (
        pl.when(matches(_AMBIGUOUS)).then(settled)
        .when(matches(_PLAIN) | matches(_DOT_DECIMAL) | matches(_SCIENTIFIC)).then(compact)
        .when(matches(_COMMA_DECIMAL)).then(compact.str.replace_all(",", ".", literal=True))
        .when(matches(_DOT_GROUPS)).then(without_dots)
        .when(matches(_COMMA_GROUPS)).then(without_commas)
        .when(matches(_DOT_GROUPS_COMMA_DECIMAL)).then(without_dots.str.replace(",", ".", literal=True))
        .when(matches(_COMMA_GROUPS_DOT_DECIMAL)).then(without_commas)
    )
    read_expr = reading.otherwise(None).cast(pl.Float64, strict=False).alias(name + _READ)
    issue = (
        pl.when(compact.is_null()).then(pl.lit(None, dtype=pl.String))
        .when(matches(_AMBIGUOUS) & read.is_null()).then(pl.lit("value.ambiguous_number"))
        .when(read.is_null()).then(pl.lit("value.not_a_number"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return compact_expr, read_expr, (read, issue)


def parse_number_text(text: str, *, whole: bool, convention: str | None = None) -> tuple[float | None, str | None]:
    """One value through the same rules as the column expressions (for messages, templates and tests)."""
    frame = pl.DataFrame({"v" + TEXT_SUFFIX: [text]}, schema={"v" + TEXT_SUFFIX: pl.String})
    compact, read, (value, issue) = _number_stages("v", whole=whole, machine=False, convention=convention)
    out = frame.with_columns(compact).with_columns(read).select(value=value, issue=issue).row(0)
    return out[0], out[1]


def yes_no_of(text: str) -> bool | None:
    """True for a written yes ("Có", "x", "1", "TRUE" …), False for a no, None for anything else."""
    key = re.sub(r"[^0-9a-z.]", "", fold(text))
    return True if key in _TRUE_WORDS else False if key in _FALSE_WORDS else None


def _yes_no_series(texts: pl.Series) -> pl.Series:
    # Once per distinct value: a yes/no column holds a handful of spellings over thousands of rows.
    mapping = {text: yes_no_of(text) for text in texts.drop_nulls().unique().to_list()}
    return texts.replace_strict(mapping, default=None, return_dtype=pl.Boolean)


def _boolean(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    value = text.map_batches(_yes_no_series, return_dtype=pl.Boolean, is_elementwise=True)
    issue = pl.when(text.is_not_null() & value.is_null()).then(pl.lit("value.not_yes_no")).otherwise(
        pl.lit(None, dtype=pl.String))
    return value, issue


def _code(text: pl.Expr, widths: tuple[int, ...], pad_to: int) -> tuple[pl.Expr, pl.Expr]:
    """Digits only codes shorter than their width get their leading zeros back (spreadsheets drop them)."""
    digits = text.str.replace(r"\.0+$", "")  # 688.0: a code stored as an Excel number
    is_digits = digits.str.contains(r"^\d+$")
    short = is_digits & ~digits.str.len_chars().is_in(list(widths)) & (digits.str.len_chars() < pad_to)
    value = pl.when(short).then(digits.str.zfill(pad_to)).when(is_digits).then(digits).otherwise(text)
    issue = pl.when(short).then(pl.lit("code.leading_zeros_restored")).otherwise(pl.lit(None, dtype=pl.String))
    return value, issue


def _alias_map(column: str, allowed: Sequence[str] | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in allowed or ():
        mapping[header_key(value)] = value
        mapping[header_key(value.replace("_", " "))] = value
    for written, code in VALUE_ALIASES.get(column, {}).items():
        mapping[header_key(written)] = code
    for written, code in (extra or {}).items():
        mapping[header_key(written)] = code
    return mapping


def normalize(
    raw: pl.LazyFrame,
    contract: Contract,
    *,
    machine_numeric: frozenset[str] | set[str] = frozenset(),
    pad_widths: dict[str, int] | None = None,
    ethnic_names: dict[str, str] | None = None,
    keep: tuple[str, ...] = (),
    conventions: dict[str, str] | None = None,
) -> pl.LazyFrame:
    """Type a text table (contract column names, all String, plus `__row__`) to its contract.

    Grain in and out: one row per data row of the file. Contract columns absent from `raw` come out null.
    `machine_numeric`: columns whose values a program wrote as numbers (no locale to read).
    `pad_widths`: the width to restore a code to when a column allows several widths (area_summary's
    unit_code: 5 for a district's communes, 3 for a province's districts before 2025).
    `ethnic_names`: folded ethnic group name or alias → 2-digit code, for files that write names.
    `keep`: columns passed through unchanged (e.g. which submission a row came from, when several files
    are typed together as one frame).
    `conventions`: column → "vi" or "en", how its `1.500` and `1,500` read (`number_convention`).
    """
    present = set(raw.collect_schema().names())
    texts = [_text_expr(column.name) for column in contract.columns if column.name in present]
    return _type_texts(raw.with_columns(texts), contract, present=present, machine_numeric=machine_numeric,
                       pad_widths=pad_widths, ethnic_names=ethnic_names, keep=keep, conventions=conventions)


def _text_expr(name: str) -> pl.Expr:
    """`<name>__text`: the cell as written, NFC with whitespace folded; an empty cell is null."""
    cleaned = normalize_text_expr(pl.col(name).cast(pl.String))
    return pl.when(cleaned == "").then(None).otherwise(cleaned).alias(name + TEXT_SUFFIX)


# Texts that `_text_expr` leaves as they are: printable ASCII, single spaces between words.
_NEEDS_CLEANING = r"[^!-~ ]|  |^ | $|^$"


def _text_series(written: pl.Series) -> pl.Series:
    """`_text_expr` on a column, computed only for the cells it can change (ids are mostly plain ASCII)."""
    needs = written.str.contains(_NEEDS_CLEANING).fill_null(False)
    name = written.name + TEXT_SUFFIX
    if not needs.any():
        return written.alias(name)
    cleaned = written.filter(needs).to_frame().select(_text_expr(written.name)).to_series()
    return written.clone().scatter(needs.arg_true(), cleaned).alias(name)


def _type_texts(
    staged: pl.LazyFrame,
    contract: Contract,
    *,
    present: set[str],
    machine_numeric: frozenset[str] | set[str],
    pad_widths: dict[str, int] | None,
    ethnic_names: dict[str, str] | None,
    keep: tuple[str, ...],
    conventions: dict[str, str] | None = None,
) -> pl.LazyFrame:
    """The rules of `normalize` over `<column>__text` (one per column in `present`)."""
    pad_widths = pad_widths or {}
    conventions = conventions or {}
    compacts: list[pl.Expr] = []
    reads: list[pl.Expr] = []
    outputs: list[pl.Expr] = [pl.col(ROW), *[pl.col(name) for name in keep]]
    for column in contract.columns:
        name = column.name
        if name not in present:
            outputs += [pl.lit(None, dtype=column.dtype).alias(name),
                        pl.lit(None, dtype=pl.String).alias(name + TEXT_SUFFIX),
                        pl.lit(None, dtype=pl.String).alias(name + ISSUE_SUFFIX)]
            continue
        text = pl.col(name + TEXT_SUFFIX)
        issue: pl.Expr = pl.lit(None, dtype=pl.String)
        if column.dtype == pl.Boolean:
            value, issue = _boolean(text)
        elif column.dtype in (pl.Int64, pl.Float64):
            compact, read, (value, issue) = _number_stages(name, whole=column.dtype == pl.Int64,
                                                           machine=name in machine_numeric,
                                                           convention=conventions.get(name))
            compacts.append(compact)
            reads.append(read)
        elif column.code_width is not None:
            widths = (column.code_width,) if isinstance(column.code_width, int) else tuple(column.code_width)
            as_code = _code_of_code_and_name(text, ethnic_names) \
                if name == "head_ethnicity_code" and ethnic_names else text
            value, issue = _code(as_code, widths, pad_widths.get(name, max(widths)))
            if name == "head_ethnicity_code" and ethnic_names:
                by_name = _key_expr(text).replace_strict(ethnic_names, default=None, return_dtype=pl.String)
                named = ~text.str.contains(r"^\d+(\.0+)?$") & by_name.is_not_null()
                value = pl.when(named).then(by_name).otherwise(value)
                issue = pl.when(named).then(pl.lit("code.name_replaced_by_code")).otherwise(issue)
        elif column.allowed is not None or name in VALUE_ALIASES:
            mapping = _alias_map(name, column.allowed)
            value = _key_expr(text).replace_strict(mapping, default=text, return_dtype=pl.String)
            if name == "ethnic_group":
                as_code = _code_of_code_and_name(text, ethnic_names) if ethnic_names else text
                value = pl.when(as_code.str.contains(r"^\d{1,2}(\.0+)?$")).then(
                    as_code.str.replace(r"\.0+$", "").str.zfill(2)).otherwise(value)
        else:
            value = text
        # A control character is the cell's first problem, whatever the column: it is never stored.
        control = text.str.contains(_CONTROL)
        issue = pl.when(control).then(pl.lit("value.control_character")).otherwise(issue)
        value = pl.when(control).then(None).otherwise(value)
        outputs += [value.cast(column.dtype).alias(name), text, issue.alias(name + ISSUE_SUFFIX)]
    if compacts:
        staged = staged.with_columns(compacts).with_columns(reads)
    return staged.select(outputs)


_SAMPLE_ROWS = 10_000   # rows looked at to guess a column's few distinct texts
_FEW_TEXTS = 8          # up to this many, rows are matched to them by comparison (no hash table)
_CODE = "__code"
_SHORT_LIST = 4096      # distinct texts typed together in one frame; longer lists are typed apart


def _distinct_codes(texts: pl.Series) -> tuple[pl.Series, pl.Series] | None:
    """(the distinct texts of a column, then null; the position of each row's text among them), or None
    when most texts are distinct (there is nothing to share).

    A column of yes/no flags or codes holds a few texts: they are guessed from a sample of rows, and
    each row is matched to them by comparison; only when a row matches none of them (or there are
    more) is every text looked up in a table of them all."""
    height = len(texts)
    step = max(1, height // _SAMPLE_ROWS)
    sample = texts.gather_every(step)
    guessed = sample.unique().drop_nulls()
    if len(guessed) <= _FEW_TEXTS:
        none_of_them = len(guessed)
        codes = texts.to_frame().with_columns(pl.coalesce(
            *[pl.when(pl.col(texts.name) == text).then(pl.lit(position, dtype=pl.UInt32))
              for position, text in enumerate(guessed.to_list())],
            pl.lit(none_of_them, dtype=pl.UInt32)).alias(_CODE)).get_column(_CODE)
        if not ((codes == none_of_them) & texts.is_not_null()).any():
            return guessed.extend_constant(None, 1), codes
    if len(guessed) * 2 > len(sample) and texts.approx_n_unique() * 2 > height:
        return None
    values = texts.unique().drop_nulls()
    codes = texts.cast(pl.Enum(values)).to_physical().cast(pl.UInt32).fill_null(len(values))
    return values.extend_constant(None, 1), codes


def normalize_distinct(
    raw: pl.DataFrame,
    contract: Contract,
    *,
    machine_numeric: frozenset[str] | set[str] = frozenset(),
    pad_widths: dict[str, int] | None = None,
    ethnic_names: dict[str, str] | None = None,
    keep: tuple[str, ...] = (),
    conventions: dict[str, str] | None = None,
) -> pl.DataFrame:
    """`normalize(raw.lazy(), …).collect()`, row for row, with each column's rules run once per distinct text
    of that column instead of once per cell.

    Grain in and out: one row per data row, in the same order. Exact because every rule of `normalize`
    reads one cell of one column and nothing else (keep it so): a text gives the same value, text and
    issue wherever it stands. A batch of commune files holds millions of cells but a handful of spellings
    per column (true/false, codes, areas), and the rules (Unicode normalisation, regex cascades) cost
    microseconds per cell. A column whose texts are mostly distinct (household ids) is typed cell by cell.
    """
    options = {"machine_numeric": machine_numeric, "pad_widths": pad_widths, "ethnic_names": ethnic_names,
               "conventions": conventions}
    height = raw.height
    present = [column for column in contract.columns if column.name in raw.columns]
    texts = {column.name: raw.get_column(column.name).cast(pl.String) for column in present}
    distinct: dict[str, pl.Series] = {}      # column → its distinct texts, then null
    codes: dict[str, pl.Series] = {}         # column → position of each row's text in `distinct`
    per_cell: list[str] = []
    for name, column_texts in texts.items():
        found = _distinct_codes(column_texts)
        if found is None:
            per_cell.append(name)
        else:
            distinct[name], codes[name] = found
    # The distinct texts of all columns side by side, padded with nulls to the longest list, typed in one
    # query; the few long lists (incomes) apart, so that the short ones are not padded to their length.
    typed_distinct: dict[str, pl.DataFrame] = {}
    for together in ([n for n, v in distinct.items() if len(v) <= _SHORT_LIST],
                     [n for n, v in distinct.items() if len(v) > _SHORT_LIST]):
        if together:
            longest = max(len(distinct[name]) for name in together)
            dictionary = pl.DataFrame([pl.Series(ROW, [0] * longest, dtype=pl.Int64),
                                       *[distinct[name].extend_constant(None, longest - len(distinct[name]))
                                         .alias(name) for name in together]])
            typed = normalize(dictionary.lazy(), contract, **options).collect()
            typed_distinct.update(dict.fromkeys(together, typed))
    typed_cells = pl.DataFrame()
    if per_cell:
        cleaned = pl.DataFrame([raw.get_column(ROW), *[_text_series(texts[name]) for name in per_cell]])
        typed_cells = _type_texts(cleaned.lazy(), contract, present=set(per_cell), keep=(),
                                  **options).collect()

    outputs: list[pl.Series] = [raw.get_column(ROW), *[raw.get_column(name) for name in keep]]
    for column in contract.columns:
        name = column.name
        names = (name, name + TEXT_SUFFIX, name + ISSUE_SUFFIX)
        if name in per_cell:
            outputs += [typed_cells.get_column(n) for n in names]
        elif name in distinct:
            written = distinct[name]
            for output in names:
                values = typed_distinct[name].get_column(output)[:len(written)]
                if values.null_count() == len(values):
                    outputs.append(pl.repeat(None, height, dtype=values.dtype, eager=True).alias(output))
                elif values.dtype == pl.String and values.eq_missing(written).all():
                    outputs.append(texts[name].alias(output))   # the text as written: nothing to look up
                else:
                    outputs.append(values.gather(codes[name]))
        else:
            outputs += [pl.repeat(None, height, dtype=dtype, eager=True).alias(n)
                        for n, dtype in zip(names, (column.dtype, pl.String, pl.String), strict=True)]
    return pl.DataFrame(outputs)


def value_issues(normalized: pl.LazyFrame, contract: Contract, *, keep: tuple[str, ...] = ()) -> pl.LazyFrame:
    """One row per cell that could not be read or was changed: `__row__`, column, value, rule, severity.

    Grain in: one row per file row (output of `normalize`); grain out: one row per problem cell, ordered
    by the `keep` columns (passed through, e.g. the submission), then rule, column and row."""
    parts = [
        normalized.filter(pl.col(c.name + ISSUE_SUFFIX).is_not_null()).select(
            pl.col(ROW), *[pl.col(name) for name in keep], pl.lit(c.name).alias("column"),
            _visible(pl.col(c.name + TEXT_SUFFIX)).alias("value"), pl.col(c.name + ISSUE_SUFFIX).alias("rule"))
        for c in contract.columns
    ]
    severity = pl.col("rule").replace_strict(VALUE_RULES, default="error", return_dtype=pl.String)
    return pl.concat(parts).with_columns(severity=severity).sort(*keep, "rule", "column", ROW)


def _visible(text: pl.Expr) -> pl.Expr:
    """A value as a submitter can read it in a report: a NUL shown as \\x00, never sent as itself."""
    for code in [*range(0x09), *range(0x0E, 0x20), 0x7F]:
        text = text.str.replace_all(chr(code), f"\\x{code:02x}", literal=True)
    return text


def contract_frame(normalized: pl.LazyFrame, contract: Contract, *,
                   keep: tuple[str, ...] = ()) -> pl.LazyFrame:
    """The typed contract columns only, in contract order, with `__row__` first (then the `keep` columns)."""
    return normalized.select([ROW, *contract.names, *keep])
