"""Excel submission templates, generated from the contracts (never drawn by hand).

One workbook per (level, kind, unit, year):
- sheet "Dữ liệu" (data): a title block naming the unit and the year, then the header row of the
  contract's Vietnamese labels (English label, field name, unit and rule in each header cell's
  comment, so that no English row sits where ingest would read data), then the rows to fill. Coded
  columns carry in-cell drop-downs; code columns are text cells so that "00688" keeps its zeros.
  A district or province summary comes with one row per unit it reports on (code and name), at the
  geography in force on the review year's reference date.
- sheet "Hướng dẫn" (instructions): what to fill and how, Vietnamese first with English beside, and
  every column with its labels, type, unit and allowed values.
- sheet "Danh mục" (lists): the values the drop-downs offer.

The header row is the contract's `label_vi`, which ingest matches. The unit-name column beside a
summary's unit code is not a contract column: its header cell is left empty (its label sits in the row
above), and ingest ignores columns without a header, so the reference names never reach the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from schemas.contracts import (
    CLASSIFICATIONS,
    COMPLETE_LIST_LABEL,
    LEVELS,
    VALUE_ALIASES,
    Column,
    Contract,
    contract_for,
)

DATA_SHEET = "Dữ liệu"
INSTRUCTIONS_SHEET = "Hướng dẫn"
LISTS_SHEET = "Danh mục"

# Rows 1–4 are the title block, row 5 labels the reference-only columns, row 6 is the header.
HEADER_ROW = 5  # zero-based: Excel row 6
# How many rows below the header carry drop-downs and text formats when nothing is pre-filled.
FILL_ROWS = {"household": 20_000, "area_summary": 2_000, "area_attributes": 2_000}

# Beside a pre-filled unit code, the unit's name, for the person filling the sheet. Not a contract
# column: its header cell stays empty so that ingest skips it without a word.
NAME_COLUMN_LABEL = "Tên đơn vị (tham khảo)"
NAME_COLUMN_COMMENT = "Unit name (for reference only; not read by lnob)"

LEVEL_LABELS_VI = {"commune": "xã", "district": "huyện", "province": "tỉnh"}

# What a drop-down shows for each coded value. The Vietnamese words are the aliases ingest maps back
# to the codes (schemas.contracts.VALUE_ALIASES), so the sheet speaks Vietnamese and the data stays coded.
AREA_CHOICES = {"rural": "nông thôn", "urban": "thành thị", "all": "tất cả"}
CLASSIFICATION_CHOICES = {"poor": "hộ nghèo", "near_poor": "hộ cận nghèo", "average": "trung bình",
                          "other": "khác"}
YES, NO = "có", "không"
ETHNIC_TOTAL_CHOICES = {"ALL": "tất cả", "EM": "dtts"}


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str


def _check_aliases() -> None:
    # The displayed words must be the ones ingest reads back; fail loudly if the contract changes.
    for field, choices in (("area", AREA_CHOICES), ("reported_classification", CLASSIFICATION_CHOICES),
                           ("ethnic_group", ETHNIC_TOTAL_CHOICES)):
        aliases = VALUE_ALIASES[field]
        for code, word in choices.items():
            if aliases.get(word) != code:
                raise RuntimeError(f"template word {word!r} is not an alias of {code!r} for {field}")


def ethnic_choice(code: str, name: str) -> str:
    """What the ethnic-group drop-down writes for a group: "01 - Kinh" (ingest reads it back as 01)."""
    return f"{code} - {name}"


def _display_name(row: Mapping) -> str:
    from schemas.text import unit_type_of

    name, unit_type = row["unit_name"], row.get("unit_type")
    if unit_type and unit_type_of(name) is None:
        return f"{unit_type} {name}"
    return name


def _units(level: str, unit_code: str, year: int) -> tuple[Unit, list[Unit]]:
    """The submitting unit and the units its summary rows report on, at the review year's reference date."""
    from schemas.geography import REFORM_DATE, review_date, units_at

    on = review_date(year)
    if level == "district" and on >= REFORM_DATE:
        raise ValueError(f"districts were abolished on {REFORM_DATE.isoformat()}: no district template for "
                         f"{year} / huyện không còn từ ngày 01/07/2025, không có mẫu cấp huyện cho năm {year}")
    own = units_at(level, on).filter(pl.col("unit_code") == unit_code)
    if own.height == 0:
        raise ValueError(f"no {level} with code {unit_code!r} on {on.isoformat()} / không có đơn vị cấp "
                         f"{LEVEL_LABELS_VI[level]} mã {unit_code!r} tại ngày {on.isoformat()}")
    unit = Unit(unit_code, _display_name(own.row(0, named=True)), level)
    if level == "commune":
        return unit, [unit]
    if level == "district":
        children_level, key = "commune", "district_code"
    elif on < REFORM_DATE:
        children_level, key = "district", "province_code"
    else:
        children_level, key = "commune", "province_code"
    children = units_at(children_level, on).filter(pl.col(key) == unit_code).sort("unit_code")
    listed = [Unit(r["unit_code"], _display_name(r), children_level) for r in children.iter_rows(named=True)]
    # A district without communes (the island districts) reports on itself.
    return unit, listed or [unit]


def _communes(level: str, unit_code: str, year: int) -> list[Unit]:
    """The communes whose households a unit may list (its own communes at the reference date)."""
    from schemas.geography import review_date, units_at

    if level == "commune":
        return []
    key = "district_code" if level == "district" else "province_code"
    communes = units_at("commune", review_date(year)).filter(pl.col(key) == unit_code).sort("unit_code")
    return [Unit(r["unit_code"], _display_name(r), "commune") for r in communes.iter_rows(named=True)]


def _ethnic_groups() -> list[tuple[str, str]]:
    from schemas.ethnicity import ethnic_groups

    groups = ethnic_groups().sort("code")
    return list(zip(groups["code"].to_list(), groups["name"].to_list(), strict=True))


def _standard(year: int) -> str | None:
    try:
        from schemas.standards import standard_for_year
    except ImportError:
        return None
    return standard_for_year(year)


# -- what each column accepts ------------------------------------------------------------------------

def _choices(column: Column, units: list[Unit],
             ethnic: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """(value the cell takes, what it means) for each choice of a drop-down column, or None."""
    if column.dtype == pl.Boolean:
        return [(YES, "yes / đúng"), (NO, "no / không đúng")]
    if column.name == "area":
        return [(AREA_CHOICES[a], a) for a in column.allowed]
    if column.name == "reported_classification":
        return [(CLASSIFICATION_CHOICES[c], c) for c in CLASSIFICATIONS]
    if column.name == "head_ethnicity_code":
        return [(ethnic_choice(code, name), name) for code, name in ethnic]
    if column.name == "ethnic_group":
        totals = [(ETHNIC_TOTAL_CHOICES["ALL"], "mọi hộ / all households (ALL)"),
                  (ETHNIC_TOTAL_CHOICES["EM"], "mọi dân tộc thiểu số / all ethnic minorities (EM)")]
        return [*totals, *((ethnic_choice(code, name), name) for code, name in ethnic)]
    if column.name in ("unit_code", "commune_code"):
        return [(u.code, u.name) for u in units]
    return None


def _prompt(column: Column, choices: list[tuple[str, str]]) -> str:
    """The prompt Excel shows on a drop-down cell (at most 255 characters)."""
    text = "Chọn từ danh sách / Choose from the list: " + ", ".join(value for value, _ in choices)
    return text if len(text) <= 255 else text[:251].rsplit(",", 1)[0] + ", …"


def _display(column: Column, value, ethnic_names: Mapping[str, str]):
    """A contract value as the sheet shows it (what the drop-down would have written)."""
    if value is None:
        return None
    if column.dtype == pl.Boolean:
        return YES if value else NO
    if column.name == "area":
        return AREA_CHOICES.get(value, value)
    if column.name == "reported_classification":
        return CLASSIFICATION_CHOICES.get(value, value)
    if column.name in ("head_ethnicity_code", "ethnic_group"):
        if value in ETHNIC_TOTAL_CHOICES:
            return ETHNIC_TOTAL_CHOICES[value]
        return ethnic_choice(value, ethnic_names[value]) if value in ethnic_names else value
    return value


def _kind_of_value(column: Column) -> str:
    if column.dtype == pl.Boolean:
        return "có / không"
    if column.dtype == pl.Int64:
        return "số nguyên / integer"
    if column.dtype == pl.Float64:
        return "số / number"
    if column.code_width:
        widths = column.code_width if isinstance(column.code_width, tuple) else (column.code_width,)
        return "mã, văn bản " + " hoặc ".join(f"{w} chữ số" for w in widths) + " / code, text of " + \
            " or ".join(str(w) for w in widths) + " digits"
    return "văn bản / text"


def _range_text(column: Column) -> str:
    parts = []
    if column.minimum is not None:
        parts.append(f"≥ {column.minimum:g}")
    if column.maximum is not None:
        parts.append(f"≤ {column.maximum:g}")
    return ", ".join(parts)


def _comment(column: Column) -> str:
    lines = [column.label_en, f"field: {column.name}"]
    if column.unit:
        lines.append(f"unit: {column.unit}")
    if column.required and not column.nullable:
        lines.append("required / bắt buộc")
    if column.description:
        lines.append(column.description)
    return "\n".join(lines)


def _column_letter(index: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(index)


# -- the workbook ------------------------------------------------------------------------------------

def write_template(path: str | Path, *, level: str, kind: str, unit_code: str, year: int,
                   rows: Iterable[Mapping] | None = None, lists_every_household: bool = False) -> Path:
    """Write the submission template for one unit and year to `path` (.xlsx) and return the path.

    A household template's title block asks whether the list holds every resident household of the
    commune (schemas.contracts.COMPLETE_LIST_LABEL, "có" / "không" beside it; ingest reads it back):
    "không" unless `lists_every_household`, as a list normally holds the households reviewed.

    `rows` (contract values: codes, True/False, numbers, None for "not reported") fill the data rows
    as a submitter choosing from the drop-downs would; without them a district or province summary
    (or attributes sheet) is pre-filled with its units' codes and names and the counts left empty.
    """
    import xlsxwriter

    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    contract = contract_for(kind)
    _check_aliases()
    unit, reported_units = _units(level, unit_code, year)
    if kind == "household":
        units = _communes(level, unit_code, year) or [unit]
    else:
        # A summary may also report on the submitting unit itself.
        units = reported_units if unit in reported_units else [*reported_units, unit]
    ethnic = _ethnic_groups()
    ethnic_names = dict(ethnic)
    standard = _standard(year)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                               "strings_to_urls": False})
    workbook.set_properties({"title": f"{contract.label_vi} – {unit.name} – {year}",
                             "subject": f"lnob {kind} template", "author": "lnob",
                             "comments": f"level={level}; unit={unit_code}; year={year}; kind={kind}"})
    formats = _formats(workbook)
    data = workbook.add_worksheet(DATA_SHEET)
    instructions = workbook.add_worksheet(INSTRUCTIONS_SHEET)
    lists = workbook.add_worksheet(LISTS_SHEET)

    # The unit-name helper column sits right after the unit code in a summary or attributes sheet.
    layout: list[Column | None] = []
    for column in contract.columns:
        layout.append(column)
        if column.name == "unit_code":
            layout.append(None)

    # -- title block
    last_col = len(layout) - 1
    data.set_row(0, 24)
    data.merge_range(0, 0, 0, min(last_col, 8), f"{contract.label_vi} – {contract.label_en}", formats["title"])
    data.merge_range(1, 0, 1, min(last_col, 8),
                     f"Đơn vị / Unit: {unit.name} (mã / code {unit.code}) · cấp {LEVEL_LABELS_VI[level]} / "
                     f"{level}", formats["subtitle"])
    standard_text = f" · Chuẩn nghèo / Standard: {standard}" if standard else ""
    data.merge_range(2, 0, 2, min(last_col, 8), f"Năm rà soát / Review year: {year}{standard_text}",
                     formats["subtitle"])
    data.merge_range(3, 0, 3, min(last_col, 8),
                     "Ô trống = không báo cáo (không phải 0) · Empty cell = not reported (not zero) · "
                     f"Xem hướng dẫn ở trang \"{INSTRUCTIONS_SHEET}\" / See the instructions sheet",
                     formats["note"])

    if kind == "household":
        # Row 5 has no reference-only column in a household sheet: the declaration sits there.
        declaration_row = HEADER_ROW - 1
        data.merge_range(declaration_row, 0, declaration_row, 3,
                         f"{COMPLETE_LIST_LABEL[0]} / {COMPLETE_LIST_LABEL[1]} (có / không):", formats["subtitle"])
        data.write_string(declaration_row, 4, YES if lists_every_household else NO, formats["text"])
        data.data_validation(declaration_row, 4, declaration_row, 4, {
            "validate": "list", "source": [YES, NO], "input_title": "có / không",
            "input_message": "có: danh sách gồm mọi hộ dân cư của xã; không: chỉ các hộ được rà soát. / yes: every "
                             "resident household; no: the reviewed households only."[:255],
            "error_title": "Giá trị không hợp lệ", "error_type": "stop", "error_message": "có / không"})

    # -- lists sheet, read by the drop-downs
    list_ranges: dict[str, str] = {}
    prompts: dict[str, str] = {}
    list_col = 0
    shared: dict[tuple, str] = {}   # the same choices (every yes/no column) share one list
    for column in contract.columns:
        choices = _choices(column, units, ethnic)
        if not choices:
            continue
        prompts[column.name] = _prompt(column, choices)
        if tuple(choices) in shared:
            list_ranges[column.name] = shared[tuple(choices)]
            continue
        # "Danh sách: …", not the bare label, so that no header search mistakes this sheet for the data.
        title = "có / không (yes / no)" if column.dtype == pl.Boolean else column.label_vi
        meaning = "yes / no" if column.dtype == pl.Boolean else column.label_en
        lists.write_string(0, list_col, f"Danh sách: {title}", formats["header"])
        lists.write_string(0, list_col + 1, f"Nghĩa / meaning ({meaning})", formats["header"])
        for offset, (value, explained) in enumerate(choices, start=1):
            lists.write_string(offset, list_col, value, formats["text"])
            lists.write_string(offset, list_col + 1, explained, formats["text"])
        letter = _column_letter(list_col)
        list_ranges[column.name] = shared[tuple(choices)] = \
            f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(choices) + 1}"
        lists.set_column(list_col, list_col, max(12, min(40, max(len(v) for v, _ in choices) + 2)))
        lists.set_column(list_col + 1, list_col + 1, max(14, min(48, max(len(m) for _, m in choices) + 2)))
        list_col += 3

    # -- header row and column formats
    prefill = rows is None and kind in ("area_summary", "area_attributes")
    supplied = list(rows) if rows is not None else []
    if prefill:
        supplied = _prefill_rows(contract, reported_units)
    last_row = HEADER_ROW + max(FILL_ROWS[kind], len(supplied) + 200)

    data.set_row(HEADER_ROW, 60)
    for col, column in enumerate(layout):
        if column is None:
            data.write_string(HEADER_ROW - 1, col, f"↓ {NAME_COLUMN_LABEL}", formats["helper_header"])
            data.write_blank(HEADER_ROW, col, None, formats["helper_header"])
            data.write_comment(HEADER_ROW, col, f"{NAME_COLUMN_LABEL}\n{NAME_COLUMN_COMMENT}",
                               {"x_scale": 2, "y_scale": 1})
            data.set_column(col, col, 30, formats["helper"])
            continue
        data.write_string(HEADER_ROW, col, column.label_vi,
                          formats["header_required" if column.required else "header"])
        data.write_comment(HEADER_ROW, col, _comment(column), {"x_scale": 3, "y_scale": 2})
        is_text = column.dtype == pl.String or column.name in list_ranges
        width = 14 if column.dtype != pl.String else 18
        if column.name in ("head_ethnicity_code", "ethnic_group"):
            width = 22
        data.set_column(col, col, width, formats["text"] if is_text else None)
        _validate(data, column, HEADER_ROW + 1, last_row, col, list_ranges.get(column.name),
                  prompts.get(column.name, ""))
    data.freeze_panes(HEADER_ROW + 1, 0)
    data.autofilter(HEADER_ROW, 0, HEADER_ROW, last_col)

    # -- rows
    names = {u.code: u.name for u in units}
    for offset, row in enumerate(supplied, start=1):
        excel_row = HEADER_ROW + offset
        for col, column in enumerate(layout):
            if column is None:
                code = row.get("unit_code")
                if code in names:
                    data.write_string(excel_row, col, names[code], formats["helper"])
                continue
            value = _display(column, row.get(column.name), ethnic_names)
            if value is None:
                continue
            if isinstance(value, str):
                data.write_string(excel_row, col, value, formats["text"])
            else:
                data.write_number(excel_row, col, value)

    _write_instructions(instructions, formats, contract, unit, level, kind, year, standard, layout)
    data.activate()
    workbook.close()
    return path


def _prefill_rows(contract: Contract, units: list[Unit]) -> list[dict]:
    """One row per listed unit (all households, and ethnic minorities for a summary), counts left empty."""
    if contract.name == "area_attributes":
        return [{"unit_code": u.code} for u in units]
    return [{"unit_code": u.code, "ethnic_group": group, "area": "all"} for u in units for group in ("ALL", "EM")]


def _validate(sheet, column: Column, first_row: int, last_row: int, col: int, list_range: str | None,
              prompt: str) -> None:
    title = column.label_vi[:32]
    if list_range:
        sheet.data_validation(first_row, col, last_row, col, {
            "validate": "list", "source": list_range, "ignore_blank": True,
            "input_title": title, "input_message": prompt,
            "error_title": "Giá trị không hợp lệ", "error_type": "stop",
            "error_message": f"Chọn một giá trị trong danh sách ({column.label_en}). / Choose a value from the list.",
        })
        return
    if column.dtype in (pl.Int64, pl.Float64) and (column.minimum is not None or column.maximum is not None):
        criteria = {"validate": "integer" if column.dtype == pl.Int64 else "decimal", "ignore_blank": True,
                    "error_title": "Giá trị không hợp lệ", "error_type": "stop"}
        low = column.minimum if column.minimum is not None else -1e15
        high = column.maximum if column.maximum is not None else 1e15
        if column.dtype == pl.Int64:
            low, high = int(low), int(high)
        criteria.update({"criteria": "between", "minimum": low, "maximum": high,
                         "error_message": f"{column.label_vi}: {_range_text(column)}"
                                          f"{' (' + column.unit + ')' if column.unit else ''}. / "
                                          f"{column.label_en}: {_range_text(column)}."})
        sheet.data_validation(first_row, col, last_row, col, criteria)


def _formats(workbook) -> dict:
    base = {"font_name": "Arial", "font_size": 10}
    return {
        "title": workbook.add_format({**base, "bold": True, "font_size": 14}),
        "subtitle": workbook.add_format({**base, "font_size": 11}),
        "note": workbook.add_format({**base, "italic": True, "font_color": "#555555"}),
        "header": workbook.add_format({**base, "bold": True, "text_wrap": True, "valign": "top",
                                       "bg_color": "#DDEBF7", "border": 1}),
        "header_required": workbook.add_format({**base, "bold": True, "text_wrap": True, "valign": "top",
                                                "bg_color": "#BDD7EE", "border": 1}),
        "helper_header": workbook.add_format({**base, "italic": True, "text_wrap": True, "valign": "top",
                                              "bg_color": "#F2F2F2", "border": 1}),
        "helper": workbook.add_format({**base, "italic": True, "font_color": "#555555", "num_format": "@"}),
        "text": workbook.add_format({**base, "num_format": "@"}),
        "wrap": workbook.add_format({**base, "text_wrap": True, "valign": "top"}),
        "bold": workbook.add_format({**base, "bold": True}),
    }


def _write_instructions(sheet, formats, contract: Contract, unit: Unit, level: str, kind: str, year: int,
                        standard: str | None, layout: list[Column | None]) -> None:
    header_excel_row = HEADER_ROW + 1
    sheet.set_column(0, 0, 70, formats["wrap"])
    sheet.set_column(1, 1, 70, formats["wrap"])
    sheet.write_string(0, 0, f"Hướng dẫn điền mẫu: {contract.label_vi}", formats["title"])
    sheet.write_string(0, 1, f"How to fill in: {contract.label_en}", formats["title"])
    steps = [
        (f"Mẫu này dành cho {unit.name} (mã {unit.code}), năm rà soát {year}"
         + (f", chuẩn nghèo {standard}" if standard else "") + ".",
         f"This template is for {unit.name} (code {unit.code}), review year {year}"
         + (f", poverty standard {standard}" if standard else "") + "."),
        (f"Mỗi dòng là: {_grain_vi(contract.name)}.", f"Grain: {contract.grain}."),
        ((f"Điền dữ liệu ở trang \"{DATA_SHEET}\", từ dòng {header_excel_row + 1}, ngay dưới dòng tiêu đề "
         f"(dòng {header_excel_row}). Không đổi tên, thứ tự cột và không xóa các dòng tiêu đề phía trên."),
         (f"Fill the \"{DATA_SHEET}\" sheet from row {header_excel_row + 1}, right below the header row "
         f"(row {header_excel_row}). Do not rename or reorder columns, and keep the title rows above.")),
        ("Ô để trống nghĩa là không báo cáo (chưa biết), không phải số 0. Ghi 0 khi đúng là không có.",
         "An empty cell means not reported (unknown), never zero. Write 0 only when the count is zero."),
        (("Mã đơn vị và mã dân tộc là văn bản, giữ số 0 ở đầu (ví dụ 00688, 01). Các ô mã đã được định dạng "
         "văn bản; khi dán dữ liệu, hãy dán giá trị (Paste Values)."),
         ("Unit and ethnic-group codes are text with their leading zeros (e.g. 00688, 01). The code cells are "
         "formatted as text; when pasting, paste values.")),
        (("Các cột Khu vực, Dân tộc, Phân loại và các cột có/không có danh sách thả xuống: hãy chọn từ danh "
         f"sách. Danh sách đầy đủ ở trang \"{LISTS_SHEET}\"."),
         ("Area, ethnic group, classification and yes/no columns have drop-down lists: choose from them. "
         f"The full lists are on the \"{LISTS_SHEET}\" sheet.")),
        ("Đưa chuột vào ô tiêu đề để xem tên tiếng Anh, tên trường và quy tắc của cột.",
         "Hover over a header cell to see the column's English name, field name and rule."),
    ]
    if kind != "household" and level != "commune":
        steps.append(((f"Các dòng đã điền sẵn mã và tên các đơn vị trực thuộc. Cột \"{NAME_COLUMN_LABEL}\" chỉ "
                      "để tham khảo. Có thể thêm dòng cho từng dân tộc hoặc khu vực."),
                      (f"The rows are pre-filled with the codes and names of your units. The column "
                      f"\"{NAME_COLUMN_LABEL}\" is for reference only. You may add rows per ethnic group or "
                      "area.")))
    steps.append(((f"Nộp tệp: lnob submit TỆP.xlsx --level {level} --unit {unit.code} --year {year}, hoặc qua "
                  "trang nộp tệp. Kết quả kiểm tra nêu rõ trang, dòng, ô, cột, giá trị và quy tắc cần sửa."),
                  (f"Submit: lnob submit FILE.xlsx --level {level} --unit {unit.code} --year {year}, or through "
                  "the upload page. The validation report names the sheet, row, cell, column, value and rule "
                  "to fix.")))
    for note in contract.notes:
        steps.append((_note_vi(note), note))
    row = 2
    for number, (vi, en) in enumerate(steps, start=1):
        sheet.write_string(row, 0, f"{number}. {vi}", formats["wrap"])
        sheet.write_string(row, 1, f"{number}. {en}", formats["wrap"])
        row += 1

    row += 1
    sheet.write_string(row, 0, "Các cột / Columns", formats["title"])
    row += 1
    headings = ("Cột và tên cột / Column and Vietnamese name", "Tên tiếng Anh / English name",
                "Tên trường / Field", "Bắt buộc / Required", "Kiểu / Type", "Đơn vị / Unit",
                "Giá trị cho phép / Allowed", "Ghi chú / Notes")
    for col, heading in enumerate(headings):
        sheet.write_string(row, col, heading, formats["header"])
    # Columns A and B are the wide prose columns above; the narrower fields follow from C.
    sheet.set_column(2, 6, 22, formats["wrap"])
    sheet.set_column(7, 7, 60, formats["wrap"])
    for col, column in enumerate(layout):
        row += 1
        letter = _column_letter(col)
        if column is None:
            sheet.write_string(row, 0, f"{letter}. {NAME_COLUMN_LABEL} (ô tiêu đề để trống)", formats["wrap"])
            sheet.write_string(row, 1, "Unit name, for reference only (empty header cell: never read)",
                               formats["wrap"])
            continue
        cells = (f"{letter}. {column.label_vi}", column.label_en, column.name,
                 "có / yes" if column.required else "không / no", _kind_of_value(column), column.unit or "",
                 _allowed_text(column), column.description)
        for position, text in enumerate(cells):
            sheet.write_string(row, position, text, formats["wrap"])


def _allowed_text(column: Column) -> str:
    if column.name == "area":
        return ", ".join(AREA_CHOICES[a] for a in column.allowed or ())
    if column.name == "reported_classification":
        return ", ".join(CLASSIFICATION_CHOICES.values())
    if column.name == "head_ethnicity_code":
        return "01 – 54 (Quyết định 1019/QĐ-TCTK), ví dụ / e.g. " + ethnic_choice("01", "Kinh") + \
            f"; tên ở trang / names on \"{LISTS_SHEET}\""
    if column.name == "ethnic_group":
        return "tất cả (ALL), dtts (EM), 01 – 54, ví dụ / e.g. " + ethnic_choice("02", "Tày") + \
            f"; tên ở trang / names on \"{LISTS_SHEET}\""
    if column.dtype == pl.Boolean:
        return f"{YES}, {NO}"
    return _range_text(column)


_GRAINS_VI = {
    "household": "một hộ trong danh sách rà soát của xã",
    "area_summary": "một đơn vị × nhóm dân tộc × khu vực (× thôn khi xã báo cáo theo thôn)",
    "area_attributes": "một xã (hoặc thôn, hoặc huyện): các thông tin địa bàn mà tiêu chí thoát nghèo cần",
}


def _grain_vi(kind: str) -> str:
    return _GRAINS_VI[kind]


_NOTES_VI = {
    "Every count may be empty: empty means not reported, never zero.":
        "Mọi ô số liệu có thể để trống: trống nghĩa là không báo cáo, không phải 0.",
    "Every attribute may be empty: a criterion whose input is empty is insufficient_data, never a pass.":
        "Mọi thông tin có thể để trống: tiêu chí thiếu số liệu được ghi là chưa đủ dữ liệu, không bao giờ được "
        "coi là đạt.",
}


def _note_vi(note: str) -> str:
    return _NOTES_VI.get(note, note)
