"""How much a submitted file would cost to read, measured before any reader is given it.

A spreadsheet reader allocates what the file declares: calamine builds a sheet as one block from its first
to its last cell, so an XLSX holding one cell at XFD1048576 asks for 17 billion cells, and an ODS row
repeated a million times is a million rows in a few bytes. A workbook is a zip, and a zip part can unpack
a thousand times larger than it is stored. None of this may reach a reader: one upload would end the
process, and with it every submission it was checking.

So the package is walked first with the standard library, in bounded memory: every part unpacked as a
stream and counted (a part whose header lies about its size fails its checksum), the sheet's XML read by
expat in chunks, keeping only the used range's corners and counts. A file over a limit
(`store.settings.ReadingLimits`) gives a finding naming the limit, and is never handed to a reader.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

from store.settings import ReadingLimits

CHUNK = 1 << 20
# The largest sheet Excel and LibreOffice Calc save: anything past it was not saved by a person's spreadsheet.
SHEET_ROWS = 1_048_576
SHEET_COLUMNS = 16_384
# Parts smaller than this unpack quickly whatever their ratio (a sheet of empty rows packs 100 times).
RATIO_FLOOR_BYTES = 8 << 20

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 "


class OverLimit(Exception):
    """A file over a reading limit; `finding` says which (rule id and parameters, as `parse.issue` takes)."""

    def __init__(self, rule: str, **params) -> None:
        super().__init__(rule)
        self.rule = rule
        self.params = params


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


# --- the package -------------------------------------------------------------------------------------

def check_package(archive: zipfile.ZipFile, limits: ReadingLimits) -> None:
    """Unpack every part as a stream, counting: OverLimit when the parts unpack to more than the limit or
    one part packs too tightly; zipfile.BadZipFile when a part is damaged or lies about its size."""
    declared = sum(info.file_size for info in archive.infolist())
    if declared > limits.max_unpacked_bytes:
        raise OverLimit("file.unpacks_too_large", size=declared, limit=limits.max_unpacked_bytes)
    unpacked = 0
    for info in archive.infolist():
        part = 0
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                part += len(chunk)
                unpacked += len(chunk)
                if unpacked > limits.max_unpacked_bytes:
                    raise OverLimit("file.unpacks_too_large", size=unpacked, limit=limits.max_unpacked_bytes)
        ratio = part / max(info.compress_size, 1)
        if part > RATIO_FLOOR_BYTES and ratio > limits.max_compression_ratio:
            raise OverLimit("file.packed_too_tightly", part=info.filename, ratio=f"{ratio:,.0f}",
                            limit=f"{limits.max_compression_ratio:,.0f}")


def _parse_stream(archive: zipfile.ZipFile, path: str, parser) -> None:
    with archive.open(path) as stream:
        while chunk := stream.read(CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


@dataclass
class Extent:
    """The corners of a sheet's used range as a reader will allocate it (1-based rows, 0-based columns)."""

    first_row: int | None = None
    last_row: int = 0
    first_column: int | None = None
    last_column: int = 0

    def add(self, first_row: int, last_row: int, first_column: int, last_column: int) -> None:
        self.first_row = first_row if self.first_row is None else min(self.first_row, first_row)
        self.first_column = first_column if self.first_column is None else min(self.first_column, first_column)
        self.last_row = max(self.last_row, last_row)
        self.last_column = max(self.last_column, last_column)

    @property
    def cells(self) -> int:
        if self.first_row is None or self.first_column is None:
            return 0
        return (self.last_row - self.first_row + 1) * (self.last_column - self.first_column + 1)

    def check(self, limits: ReadingLimits) -> None:
        if self.last_row > SHEET_ROWS or self.last_column >= SHEET_COLUMNS or self.cells > limits.max_cells:
            raise OverLimit("file.too_many_cells", cells=self.cells,
                            cell=f"{column_letters(self.last_column)}{self.last_row}", limit=limits.max_cells)


# --- XLSX --------------------------------------------------------------------------------------------

_SHEET_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "


@dataclass
class SheetFacts:
    """What the sheet XML says beyond the values: the used range, which cells are numbers or text,
    formulas and merged ranges (calamine gives values only)."""

    extent: Extent = field(default_factory=Extent)    # every cell, as the limits count them
    values: Extent = field(default_factory=Extent)    # cells holding a value, where a reader's range starts
    text_rows: dict[int, list[int]] = field(default_factory=dict)     # column index → rows holding text
    number_rows: dict[int, list[int]] = field(default_factory=dict)   # column index → rows holding numbers
    formulas: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)

    @property
    def first_row(self) -> int:
        return self.values.first_row or 1

    @property
    def first_column(self) -> int:
        return self.values.first_column or 0


def _ref_corners(ref: str) -> tuple[int, int, int, int] | None:
    """(first row, last row, first column, last column) of "A1:XFD1048576" or "B2"; None when unreadable."""
    corners = []
    for part in ref.split(":")[:2]:
        letters = part.rstrip("0123456789")
        digits = part[len(letters):]
        if not letters.isalpha() or not letters.isupper() or not digits or len(letters) > 3 or len(digits) > 8:
            return None
        corners.append((int(digits), column_index(letters)))
    if len(corners) == 1:
        corners.append(corners[0])
    (row1, column1), (row2, column2) = corners
    return min(row1, row2), max(row1, row2), min(column1, column2), max(column1, column2)


def scan_xlsx_sheet(archive: zipfile.ZipFile, path: str, limits: ReadingLimits) -> SheetFacts:
    """Stream the sheet's XML: its declared dimension and the extent of its cells are checked against the
    limits as they are met (OverLimit), and the facts a reader does not give are kept."""
    facts = SheetFacts()
    extent = facts.extent
    cell_tag, row_tag, merge_tag = _SHEET_MAIN + "c", _SHEET_MAIN + "row", _SHEET_MAIN + "mergeCell"
    value_tags, formula_tag = (_SHEET_MAIN + "v", _SHEET_MAIN + "is"), _SHEET_MAIN + "f"
    dimension_tag = _SHEET_MAIN + "dimension"
    current: dict = {}
    position = {"row": 0, "column": -1}
    column_of: dict[str, int] = {}
    max_cells = limits.max_cells

    def finish_cell() -> None:
        row, column = current["row"], current["column"]
        extent.add(row, row, column, column)
        if (extent.last_row - extent.first_row + 1) * (extent.last_column - extent.first_column + 1) > max_cells \
                or row > SHEET_ROWS or column >= SHEET_COLUMNS:
            extent.check(limits)
        if current.get("value"):
            facts.values.add(row, row, column, column)
            numeric = current.get("t") in (None, "n")
            (facts.number_rows if numeric else facts.text_rows).setdefault(column, []).append(row)
        if current.get("formula"):
            facts.formulas.append(f"{column_letters(column)}{row}")
        current.clear()

    def start(name: str, attributes: dict) -> None:
        if name == cell_tag:
            if current:
                finish_cell()
            ref = attributes.get("r") or ""
            letters = ref.rstrip("0123456789")
            if letters and letters != ref and letters.isalpha():
                column = column_of.get(letters)
                if column is None:
                    column = column_of[letters] = column_index(letters)
                row = int(ref[len(letters):])
            else:   # no reference: the cell after the previous one, as readers place it
                row, column = position["row"], position["column"] + 1
            position["row"], position["column"] = row, column
            current.update(row=row, column=column, t=attributes.get("t"))
        elif name in value_tags:
            current["value"] = True
        elif name == formula_tag:
            current["formula"] = True
        elif name == row_tag:
            if current:
                finish_cell()
            written = attributes.get("r")
            position["row"] = int(written) if written and written.isdigit() else position["row"] + 1
            position["column"] = -1
        elif name == merge_tag:
            facts.merged.append(attributes.get("ref") or "")
        elif name == dimension_tag:
            corners = _ref_corners(attributes.get("ref") or "")
            if corners is not None:
                declared = Extent(corners[0], corners[1], corners[2], corners[3])
                declared.check(limits)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    _parse_stream(archive, path, parser)
    if current:
        finish_cell()
    return facts


# --- ODS ---------------------------------------------------------------------------------------------

def is_ods(archive: zipfile.ZipFile) -> bool:
    try:
        return archive.read("mimetype").strip() == ODS_MIMETYPE
    except KeyError:
        return False


def scan_ods_sheet(archive: zipfile.ZipFile, limits: ReadingLimits, sheet: str | None = None) -> Extent:
    """Stream content.xml for the sheet (the first one unless named): the extent a reader will allocate,
    repeats counted (OverLimit as soon as it passes a limit). Repeated empty rows and cells after the
    last value cost nothing (readers drop them); before a value they are rows and cells like any other."""
    extent = Extent()
    table_tag, row_tag = _TABLE_NS + "table", _TABLE_NS + "table-row"
    cell_tags = (_TABLE_NS + "table-cell", _TABLE_NS + "covered-table-cell")
    rows_repeated, columns_repeated = _TABLE_NS + "number-rows-repeated", _TABLE_NS + "number-columns-repeated"
    value_type, paragraph = _OFFICE_NS + "value-type", _TEXT_NS + "p"
    state = {"table": 0, "in_table": False, "row": 0, "row_repeat": 1, "column": 0, "column_repeat": 1,
             "cell_filled": False, "row_first": None, "row_last": -1}

    def repeat(attributes: dict, name: str) -> int:
        written = attributes.get(name) or "1"
        return int(written) if written.isdigit() and len(written) < 12 else 1

    def start(name: str, attributes: dict) -> None:
        if name == table_tag:
            state["table"] += 1
            wanted = attributes.get(_TABLE_NS + "name") == sheet if sheet is not None else state["table"] == 1
            state["in_table"] = wanted
        elif not state["in_table"]:
            return
        elif name == row_tag:
            state.update(row_repeat=repeat(attributes, rows_repeated), column=0, row_first=None, row_last=-1)
        elif name in cell_tags:
            state.update(column_repeat=repeat(attributes, columns_repeated),
                         cell_filled=attributes.get(value_type) is not None)
        elif name == paragraph:
            state["cell_filled"] = True

    def end(name: str) -> None:
        if not state["in_table"]:
            return
        if name in cell_tags:
            if state["cell_filled"]:
                first = state["column"]
                last = first + state["column_repeat"] - 1
                state["row_first"] = first if state["row_first"] is None else state["row_first"]
                state["row_last"] = last
                if last >= SHEET_COLUMNS:
                    extent.add(state["row"] + 1, state["row"] + 1, first, last)
                    extent.check(limits)
            state["column"] += state["column_repeat"]
            state["cell_filled"] = False
        elif name == row_tag:
            first_row, last_row = state["row"] + 1, state["row"] + state["row_repeat"]
            if state["row_first"] is not None:
                extent.add(first_row, last_row, state["row_first"], state["row_last"])
                extent.check(limits)
            state["row"] = last_row
        elif name == table_tag:
            state["in_table"] = False

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    _parse_stream(archive, "content.xml", parser)
    return extent


def ods_sheet_names(archive: zipfile.ZipFile) -> list[str]:
    """The sheets of an ODS in order, read from content.xml up to the first cell of each (streamed)."""
    names: list[str] = []
    table_tag = _TABLE_NS + "table"

    def start(name: str, attributes: dict) -> None:
        if name == table_tag:
            names.append(attributes.get(_TABLE_NS + "name") or "")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    _parse_stream(archive, "content.xml", parser)
    return names


# --- text ----------------------------------------------------------------------------------------------

def check_text(text: str, limits: ReadingLimits, fields: int) -> None:
    """A CSV's longest line and its cells (lines × fields of the header): OverLimit past either."""
    longest, length = limits.max_line_chars, len(text)
    if length > longest:   # a shorter text has no line to look for
        start, line = 0, 1
        while start < length:
            end = text.find("\n", start)
            end = length if end < 0 else end
            if end - start > longest:
                raise OverLimit("file.line_too_long", row=line, length=end - start, limit=longest)
            start, line = end + 1, line + 1
    cells = fields * (text.count("\n") + 1)
    if fields > SHEET_COLUMNS or cells > limits.max_cells:
        raise OverLimit("file.too_many_cells", cells=cells, cell=None, limit=limits.max_cells)
