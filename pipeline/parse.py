"""Read a submitted file into a table of text, whatever it is: CSV (UTF-8, UTF-8 with BOM, UTF-16, or
Vietnamese Windows' code page 1258 when the bytes say so with confidence; `,` `;` or tab), XLSX/XLS,
LibreOffice's ODS, JSON records or Parquet.

The libraries do the reading (Polars for CSV, JSON and Parquet; fastexcel/calamine for Excel). What is
added here is what a submitter's file needs and no reader gives:
- the format is decided by the bytes, not by the file name (a warning says when they disagree);
- every value is kept as text, so that nothing is guessed before `transforms.normalize` reads it
  deliberately (codes keep their zeros, `1.057.374` is not read as 1.057);
- the header row is found below the title rows that Vietnamese report forms carry: it is the first row
  where most cells are names or labels of a contract column;
- every row keeps the number the submitter sees (header and title rows counted; in XLSX the sheet's
  own row number, so `C14` is the cell to open). CSV rows are counted as lines: a quoted value spanning
  lines shifts the numbers after it, which spreadsheets never write for these forms;
- an XLSX sheet is also looked at (not read) through its XML for what calamine does not report: where
  the used range starts, which columns hold numbers rather than text, formulas and merged cells;
- nothing is handed to a reader before its cost is known (`pipeline.bounded_reading`): a workbook's
  parts, its sheet's extent and a text's lines and cells are measured against the reading limits first;
- each text column's number convention is decided from its values and the file's separator
  (`transforms.normalize.number_convention`): `1.165.420` in a column settles its `827.306`.

A file that cannot be read gives findings, never an exception; a reader's own error text is logged for
the operator, never shown to the submitter.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from xml.etree import ElementTree
from xml.parsers import expat

import polars as pl

from pipeline import bounded_reading
from pipeline.bounded_reading import OverLimit, SheetFacts, column_letters
from schemas.contracts import CONTRACTS, Contract
from store.settings import ReadingLimits, reading_limits
from transforms.normalize import ROW, header_score, number_convention

log = logging.getLogger(__name__)

HEADER_SEARCH_ROWS = 30
SEPARATORS = (",", ";", "\t")
MAX_LISTED_CELLS = 20

_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")   # below 32, except tab, CR and LF
# Why a reader refused a file, in the submitter's two languages (the reader's own words go to the log).
_UNREADABLE: dict[str, tuple[str, str]] = {
    "binary": ("tệp không phải văn bản hay bảng tính", "the file is neither text nor a spreadsheet"),
    "damaged": ("tệp bị hỏng hoặc chưa tải xong", "the file is damaged or incompletely uploaded"),
    "layout": ("không mở được trang tính của bảng tính", "the workbook's sheet could not be opened"),
    "quoting": ("dấu ngoặc kép trong tệp CSV không khớp", "the CSV file's quotes do not pair up"),
    "records": ("cần một danh sách các bản ghi", "expected a list of records"),
    "json": ("JSON sai cú pháp", "the JSON is not well formed"),
    "nesting": ("JSON lồng nhau quá sâu", "the JSON is nested too deeply"),
    "reader": ("trình đọc tệp không hiểu được nội dung", "the reader could not make sense of it"),
}


@dataclass
class ParsedTable:
    """A submitted table as text: `frame` has `__row__` (row number in the file) and one String column
    per file column, named c0, c1, …; `headers[i]` is the header of c{i} as written."""

    format: str                                   # csv | xlsx | xls | ods | json | parquet | unknown
    frame: pl.DataFrame | None = None
    headers: list[str | None] = field(default_factory=list)
    column_refs: list[str] | None = None          # XLSX column letters, for cell addresses
    sheet: str | None = None
    header_row: int | None = None
    machine_numeric: set[int] = field(default_factory=set)   # columns written as numbers by a program
    issues: list[dict] = field(default_factory=list)          # file-level findings (rule, row, cell, ...)
    row_kind: str = "row"                          # "row" (sheet/line number) or "record" (JSON, Parquet)
    separator: str | None = None                   # a CSV's field separator
    number_conventions: dict[int, str] = field(default_factory=dict)   # column position → "vi" or "en"

    @property
    def readable(self) -> bool:
        return self.frame is not None and not any(i["severity"] == "error" for i in self.issues)

    def cell(self, position: int, row: int | None) -> str | None:
        if self.column_refs is None or row is None or position >= len(self.column_refs):
            return None
        return f"{self.column_refs[position]}{row}"


def issue(rule: str, severity: str = "error", *, row: int | None = None, cell: str | None = None,
          column: str | None = None, value: str | None = None, count: int = 1, **params) -> dict:
    """A finding before its message is written (documents/findings_report.py holds the messages)."""
    return {"rule": rule, "severity": severity, "row": row, "cell": cell, "column": column,
            "value": value, "count": count, "params": params}


def unreadable(reason: str, exc: BaseException | None = None, **where) -> dict:
    """`file.unreadable` with a reason the submitter can read; a reader's exception goes to the log only."""
    if exc is not None:
        log.warning("a submitted file could not be read (%s): %s: %s", reason, type(exc).__name__,
                    str(exc)[:500])
    detail_vi, detail_en = _UNREADABLE[reason]
    return issue("file.unreadable", detail=detail_en, detail_vi=detail_vi, **where)


def over_limit(exc: OverLimit) -> dict:
    params = dict(exc.params)
    return issue(exc.rule, row=params.pop("row", None), cell=params.pop("cell", None), **params)


# --- format -----------------------------------------------------------------------------------------

def detect_format(data: bytes) -> str:
    """What the bytes are: xlsx, xls, parquet, json, csv, empty or binary."""
    return _detect(data)[0]


def _detect(data: bytes) -> tuple[str, tuple[str | None, str | None] | None]:
    """(format, the bytes decoded as text by `_decode` when that was needed to tell)."""
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        return "empty", None
    if data[:4] == b"PK\x03\x04":
        # An ODS package starts with its uncompressed `mimetype` part (OpenDocument requires it first).
        return ("ods" if data[30:38] == b"mimetype" and bounded_reading.ODS_MIMETYPE in data[:120] else "xlsx"), None
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls", None
    if data[:4] == b"PAR1":
        return "parquet", None
    decoded = text, reason = _decode(data)
    if text is None:
        return ("csv" if reason == "not-utf8" else "binary"), decoded
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        return "json", decoded
    return "csv", decoded


_SUFFIX_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls",
                   ".ods": "ods", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
_SPREADSHEETS = {"xlsx", "xls", "ods"}


_RAW_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, encoding) by BOM, then UTF-8; (None, reason) when the bytes are not text lnob reads."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                return None, "bad-" + encoding
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") * 3 >= len(sample):
        # UTF-16 without its BOM: every other byte of Latin text is zero.
        encoding = "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            return None, "binary"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _cp1258(data)
        if text is not None:
            return text, "cp1258"
        # Text in another code page has letters beyond ASCII but no control bytes: worth an encoding finding.
        # Bytes that are neither UTF-8 nor free of control bytes are not a text file at all.
        return None, ("binary" if _RAW_CONTROL_BYTES.search(sample) else "not-utf8")
    # A stray NUL or control character is a cell's problem (reported where it is, by normalize); a start
    # that is mostly control characters is not text at all.
    controls = len(_CONTROL_CHARACTERS.findall(text, 0, 4096))
    if controls * 4 > min(len(text), 4096):
        return None, "binary"
    return text, "utf-8"


# Code page 1258's letters beyond ASCII that Vietnamese writes (ă â đ ê ô ơ ư, capitals, the precomposed
# vowels it has) and the five tone marks it writes as combining characters after the vowel.
_CP1258_VIETNAMESE = set("ăâđêôơưĂÂĐÊÔƠƯàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵÀÁÈÉÌÍÒÓÙÚÝ"
                         "\u0300\u0301\u0303\u0309\u0323")
_CP1258_TONE_MARKS = set("\u0300\u0301\u0303\u0309\u0323")


def _cp1258(data: bytes) -> str | None:
    """The text of a CSV saved by Excel on a Vietnamese Windows machine, NFC; None unless that is certain:
    every byte decodes, every non-ASCII character is one Vietnamese writes, and tone marks are there
    (cp1258 writes them as combining characters, which no other single-byte code page does)."""
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError:
        return None
    foreign = {ch for ch in set(text) if ord(ch) > 127}
    if not foreign or not foreign <= _CP1258_VIETNAMESE or not foreign & _CP1258_TONE_MARKS:
        return None
    if _CONTROL_CHARACTERS.search(text):
        return None
    return unicodedata.normalize("NFC", text)


# --- header row -----------------------------------------------------------------------------------

def _best_header_row(rows: list[list[str | None]], contracts: list[Contract]) -> tuple[int | None, int]:
    """Index of the first row where most non-empty cells are contract headers (at least two)."""
    best_index, best_score = None, 0
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        filled = [c for c in cells if c is not None and str(c).strip()]
        if len(filled) < 2:   # scores at most 1: can be neither the header nor the best below 2
            continue
        score = max(header_score(filled, contract) for contract in contracts)
        if score >= 2 and score * 2 >= len(filled):
            return index, score
        if score > best_score:
            best_index, best_score = index, score
    if best_score >= 2:
        return best_index, best_score
    return None, 0


# --- CSV ------------------------------------------------------------------------------------------

def _read_csv(data: bytes, contracts: list[Contract], table: ParsedTable, limits: ReadingLimits,
              decoded: tuple[str | None, str | None] | None = None) -> None:
    text, encoding = decoded or _decode(data)
    if text is None:
        if encoding == "not-utf8":
            bad_at = _first_bad_utf8(data)
            line = data[:bad_at].count(b"\n") + 1
            table.issues.append(issue("file.encoding", row=line, value=data[bad_at:bad_at + 8].hex(" ")))
        else:
            table.issues.append(unreadable("binary"))
        return
    if encoding == "cp1258":
        table.issues.append(issue("file.encoding_cp1258", "warning"))
    lines = _first_lines(text, HEADER_SEARCH_ROWS)
    best: tuple[int, int, str] | None = None  # (score, fields, separator)
    header_line = None
    for separator in SEPARATORS:
        rows = list(csv.reader(lines, delimiter=separator))
        index, score = _best_header_row(rows, contracts)
        if index is None:
            continue
        candidate = (score, len(rows[index]), separator)
        if best is None or candidate[:2] > best[:2]:
            best, header_line = candidate, index
    if best is None:
        table.issues.append(issue("file.no_header", row=1))
        return
    separator = best[2]
    table.separator = separator
    try:
        bounded_reading.check_text(text, limits, best[1])
    except OverLimit as exc:
        table.issues.append(over_limit(exc))
        return
    try:
        # Bytes already UTF-8 are read as they are (decoding them and encoding again gives them back).
        utf8 = data if encoding == "utf-8" else text.encode("utf-8")
        raw = pl.read_csv(io.BytesIO(utf8), separator=separator, has_header=False,
                          infer_schema=False, skip_lines=header_line, truncate_ragged_lines=True,
                          raise_if_empty=False)
    except Exception as exc:  # noqa: BLE001 — Polars raises several kinds on bad quoting
        table.issues.append(unreadable("quoting", exc))
        return
    if raw.height == 0:
        table.issues.append(issue("file.no_header", row=1))
        return
    table.headers = [None if v is None else str(v) for v in raw.row(0)]
    table.header_row = header_line + 1
    body = raw.slice(1)
    table.frame = _numbered(body, first_row=table.header_row + 1)


def _first_lines(text: str, count: int) -> list[str]:
    """`text.splitlines()[:count]` without splitting the whole text: lines of a longer and longer start
    of it, until it holds more than `count` lines (the first `count` are then whole) or it is all of it."""
    size = 16_384
    while True:
        lines = text[:size].splitlines()
        if len(lines) > count or size >= len(text):
            return lines[:count]
        size *= 4


def _first_bad_utf8(data: bytes) -> int:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def _numbered(body: pl.DataFrame, *, first_row: int) -> pl.DataFrame:
    """Columns renamed c0… (headers may repeat or be empty), every value text, the row number added,
    and rows with no value at all dropped (their numbers stay with the rows around them)."""
    data_columns = [f"c{i}" for i in range(body.width)]
    if any(dtype != pl.String for dtype in body.dtypes):     # JSON and Parquet values may be numbers
        body = body.rename(dict(zip(body.columns, data_columns, strict=True))).with_columns(pl.all().cast(pl.String))
    # Built column by column: no query to plan for what is, once per file, a renaming.
    body = pl.DataFrame([
        pl.int_range(first_row, first_row + body.height, dtype=pl.Int64, eager=True).alias(ROW),
        *[column.alias(name) for column, name in zip(body.get_columns(), data_columns, strict=True)]])
    if data_columns:
        # A row is kept when a cell of it holds a character that is not whitespace. Most rows say so in
        # their first cell; only when some do not are all cells of each row searched, written together.
        filled = body.get_column(data_columns[0]).str.contains(r"\S").fill_null(False)
        if not filled.all():
            any_cell = pl.concat_str(data_columns, ignore_nulls=True).str.contains(r"\S").fill_null(False)
            body = body.filter(any_cell)
    return body


# --- Excel and ODS -------------------------------------------------------------------------------

def _sheet_names_xlsx(archive: zipfile.ZipFile) -> list[str]:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    return [sheet.get("name") or "" for sheet in workbook.iter(f"{_SHEET_NS}sheet")]


def _sheet_xml_path(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{_PKG_REL_NS}Relationship")}
    for sheet in workbook.iter(f"{_SHEET_NS}sheet"):
        if sheet.get("name") == sheet_name:
            target = targets.get(sheet.get(f"{_REL_NS}id"))
            if target is None:
                return None
            return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    return None


_DAMAGED = (KeyError, zipfile.BadZipFile, ElementTree.ParseError, expat.ExpatError, OSError, EOFError,
            ValueError, NotImplementedError, RuntimeError)


def _measure_workbook(data: bytes, fmt: str, sheet: str | None, table: ParsedTable,
                      limits: ReadingLimits) -> tuple[str, SheetFacts] | None:
    """(the sheet to read, what its XML says) when the workbook is within the reading limits; None with
    the finding added when it is not, is damaged, or lacks the sheet. Nothing here allocates per cell."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            bounded_reading.check_package(archive, limits)
            names = bounded_reading.ods_sheet_names(archive) if fmt == "ods" else _sheet_names_xlsx(archive)
            if sheet is not None and sheet not in names:
                table.issues.append(issue("file.sheet_missing", value=sheet, sheets=", ".join(names)))
                return None
            if not names:
                table.issues.append(issue("file.empty"))
                return None
            sheet_name = sheet or names[0]
            if fmt == "ods":
                extent = bounded_reading.scan_ods_sheet(archive, limits, sheet_name)
                return sheet_name, SheetFacts(extent=extent, values=extent)
            path = _sheet_xml_path(archive, sheet_name)
            if path is None:
                table.issues.append(unreadable("layout"))
                return None
            return sheet_name, bounded_reading.scan_xlsx_sheet(archive, path, limits)
    except OverLimit as exc:
        table.issues.append(over_limit(exc))
    except _DAMAGED as exc:
        table.issues.append(unreadable("damaged", exc))
    return None


def _read_excel(data: bytes, fmt: str, sheet: str | None, contracts: list[Contract], table: ParsedTable,
                limits: ReadingLimits) -> None:
    import fastexcel

    facts = SheetFacts()
    if fmt in ("xlsx", "ods"):
        # XLS (BIFF) needs no measuring: the format itself stops at 65,536 rows of 256 columns.
        measured = _measure_workbook(data, fmt, sheet, table, limits)
        if measured is None:
            return
        sheet, facts = measured
    try:
        workbook = fastexcel.read_excel(data)
        names = list(workbook.sheet_names)
    except Exception as exc:  # noqa: BLE001 — fastexcel has its own error classes
        table.issues.append(unreadable("damaged", exc))
        return
    if sheet is not None and sheet not in names:
        table.issues.append(issue("file.sheet_missing", value=sheet, sheets=", ".join(names)))
        return
    if not names:
        table.issues.append(issue("file.empty"))
        return
    sheet_name = sheet or names[0]
    table.sheet = sheet_name
    try:
        loaded = workbook.load_sheet(sheet_name, header_row=None, dtypes="string", whitespace_as_null=True)
        raw = loaded.to_polars()
    except Exception as exc:  # noqa: BLE001 — bad input must become a finding, never a crash
        table.issues.append(unreadable("reader", exc))
        return
    if raw.height == 0:
        table.issues.append(issue("file.empty"))
        return
    rows = [list(r) for r in raw.head(HEADER_SEARCH_ROWS).iter_rows()]
    index, _score = _best_header_row(rows, contracts)
    if index is None:
        table.issues.append(issue("file.no_header", row=facts.first_row))
        return
    table.headers = [None if v is None else str(v) for v in rows[index]]
    table.header_row = facts.first_row + index
    table.column_refs = [column_letters(facts.first_column + i) for i in range(raw.width)]
    table.frame = _numbered(raw.slice(index + 1), first_row=table.header_row + 1)
    for position in range(raw.width):
        absolute = facts.first_column + position
        number_rows = [r for r in facts.number_rows.get(absolute, []) if r > table.header_row]
        text_rows = [r for r in facts.text_rows.get(absolute, []) if r > table.header_row]
        if number_rows and not text_rows:
            table.machine_numeric.add(position)
    if facts.formulas:
        table.issues.append(issue("file.formulas", "warning", cell=facts.formulas[0], count=len(facts.formulas),
                                  cells=", ".join(facts.formulas[:MAX_LISTED_CELLS])))
    merged_in_data = [m for m in facts.merged if _merged_below(m, table.header_row)]
    if merged_in_data:
        first = merged_in_data[0].split(":")[0]
        table.issues.append(issue("file.merged_cells", "warning", cell=first, count=len(merged_in_data),
                                  cells=", ".join(merged_in_data[:MAX_LISTED_CELLS])))


def _merged_below(ref: str, header_row: int) -> bool:
    corner = _CELL_REF.match(ref.split(":")[-1])
    return bool(corner) and int(corner.group(2)) >= header_row


# --- JSON and Parquet -----------------------------------------------------------------------------

def _records_frame(headers: list[str], columns: dict[str, list], table: ParsedTable) -> None:
    table.headers = list(headers)
    frame = pl.DataFrame({f"c{i}": pl.Series(columns[h], dtype=pl.String) for i, h in enumerate(headers)})
    table.header_row = None
    table.row_kind = "record"
    table.frame = _numbered(frame, first_row=1)


def _read_json(data: bytes, table: ParsedTable, limits: ReadingLimits,
               decoded: tuple[str | None, str | None] | None = None) -> None:
    text, _encoding = decoded or _decode(data)
    try:
        document = json.loads(text or "")
    except (json.JSONDecodeError, TypeError) as exc:
        table.issues.append(unreadable("json", exc, row=getattr(exc, "lineno", None)))
        return
    except RecursionError as exc:   # brackets nested thousands deep: no table is written like that
        table.issues.append(unreadable("nesting", exc))
        return
    if isinstance(document, dict):
        document = next((v for v in document.values() if isinstance(v, list)), None)
    if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
        table.issues.append(unreadable("records"))
        return
    headers: list[str] = []
    for record in document:
        headers += [k for k in record if k not in headers]
        if len(headers) > bounded_reading.SHEET_COLUMNS:
            break
    cells = len(headers) * len(document)
    if len(headers) > bounded_reading.SHEET_COLUMNS or cells > limits.max_cells:
        table.issues.append(issue("file.too_many_cells", cells=cells, limit=limits.max_cells))
        return
    columns: dict[str, list] = {h: [] for h in headers}
    numeric = {h: True for h in headers}
    for record in document:
        for h in headers:
            value = record.get(h)
            if value is None:
                columns[h].append(None)
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                numeric[h] = False
            columns[h].append(_json_text(value))
    _records_frame(headers, columns, table)
    table.machine_numeric = {i for i, h in enumerate(headers) if numeric[h] and any(v is not None for v in columns[h])}


def _json_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _read_parquet(data: bytes, table: ParsedTable, limits: ReadingLimits) -> None:
    import pyarrow.parquet as pq

    try:
        # The footer says what reading would cost; it is read alone first.
        metadata = pq.ParquetFile(io.BytesIO(data)).metadata
        cells = metadata.num_rows * metadata.num_columns
        unpacked = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    except Exception as exc:  # noqa: BLE001 — damaged footer, unsupported encoding …
        table.issues.append(unreadable("damaged", exc))
        return
    if metadata.num_columns > bounded_reading.SHEET_COLUMNS or cells > limits.max_cells:
        table.issues.append(issue("file.too_many_cells", cells=cells, limit=limits.max_cells))
        return
    if unpacked > limits.max_unpacked_bytes:
        table.issues.append(issue("file.unpacks_too_large", size=unpacked, limit=limits.max_unpacked_bytes))
        return
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 — damaged pages, unsupported encoding …
        table.issues.append(unreadable("damaged", exc))
        return
    table.headers = list(frame.columns)
    table.machine_numeric = {i for i, dtype in enumerate(frame.dtypes) if dtype.is_numeric()}
    table.row_kind = "record"
    table.frame = _numbered(frame, first_row=1)


# --- entry point ----------------------------------------------------------------------------------

def parse_file(data: bytes, *, file_name: str = "", sheet: str | None = None,
               kind: str | None = None, limits: ReadingLimits | None = None) -> ParsedTable:
    """Read a submitted file's bytes into a ParsedTable; problems become `issues`, never exceptions.

    `kind` narrows the header search to one contract; without it every contract is tried. `limits`:
    the reading limits (by default those of the environment, `store.settings.reading_limits`).
    """
    limits = limits or reading_limits()
    contracts = [CONTRACTS[kind]] if kind in CONTRACTS else list(CONTRACTS.values())
    fmt, decoded = _detect(data)
    table = ParsedTable(format=fmt)
    if fmt == "empty":
        table.issues.append(issue("file.empty"))
        return table
    if fmt == "binary":
        table.issues.append(unreadable("binary"))
        return table
    suffix = PurePosixPath(file_name.lower()).suffix
    named = _SUFFIX_FORMATS.get(suffix)
    if named is not None and named != fmt and not {named, fmt} <= _SPREADSHEETS:
        table.issues.append(issue("file.format_mismatch", "warning", value=suffix, detected=fmt))
    try:
        if fmt in _SPREADSHEETS:
            _read_excel(data, fmt, sheet, contracts, table, limits)
        elif fmt == "parquet":
            _read_parquet(data, table, limits)
        elif fmt == "json":
            _read_json(data, table, limits, decoded)
        else:
            _read_csv(data, contracts, table, limits, decoded)
        if table.frame is not None:
            _check_cell_lengths(table, limits)
            _decide_conventions(table)
    except Exception as exc:  # noqa: BLE001 — any other reader failure is a finding too
        table.frame = None
        table.issues.append(unreadable("reader", exc))
    if table.frame is not None and table.frame.height == 0:
        table.issues.append(issue("file.no_rows", row=table.header_row))
    return table


def _check_cell_lengths(table: ParsedTable, limits: ReadingLimits) -> None:
    """A cell longer than the limit is refused where it is (no contract value is that long)."""
    frame = table.frame
    for position, name in enumerate(c for c in frame.columns if c != ROW):
        lengths = frame.get_column(name).str.len_chars()
        if (lengths.max() or 0) > limits.max_cell_chars:
            at = int((lengths > limits.max_cell_chars).arg_true()[0])
            row = int(frame.get_column(ROW)[at])
            table.issues.append(issue("file.cell_too_long", row=row, cell=table.cell(position, row),
                                      column=table.headers[position] if position < len(table.headers) else None,
                                      length=int(lengths[at]), limit=limits.max_cell_chars))
            return


def _decide_conventions(table: ParsedTable) -> None:
    """Each text column's number convention, from its own values and the file's separator."""
    frame = table.frame
    for position, name in enumerate(c for c in frame.columns if c != ROW):
        if position in table.machine_numeric:
            continue
        convention = number_convention(frame.get_column(name), separator=table.separator)
        if convention is not None:
            table.number_conventions[position] = convention
