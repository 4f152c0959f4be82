"""What a submitter reads: the bilingual messages of every ingest rule, and the JSON and HTML report of
each submission (Vietnamese first, then English).

Messages of the column rules live with their Great Expectations suites (expectations/*.json, in each
expectation's `meta`); the messages of the rules that ingest checks itself (reading the file, reading
values, reference lists) are here. Templates may use {column} (as written in the file), {value}, {row},
{cell}, {count} and the rule's own parameters.
"""

from __future__ import annotations

import html
import json
import os
from collections import defaultdict
from pathlib import Path

from schemas.vocabulary import RECEIVED, STATUS_WORDS
from store.zones import temporary_beside

# rule id → (severity, Vietnamese, English)
MESSAGES: dict[str, tuple[str, str, str]] = {
    # reading the file
    "file.empty": ("error",
        "Tệp rỗng, không có dữ liệu. Hãy gửi lại tệp có dòng tiêu đề cột và các dòng số liệu.",
        "The file is empty. Send it again with its header row and data rows."),
    "file.too_large": ("error",
        "Tệp có {size} byte, vượt giới hạn {limit} byte. lnob không lưu tệp này. Hãy chia tệp (ví dụ theo xã) rồi gửi từng phần.",
        "The file has {size} bytes, over the limit of {limit} bytes. lnob did not keep it. Split it (e.g. by commune) and send the parts."),
    "file.unreadable": ("error",
        "Không đọc được tệp ({detail_vi}). Tệp có thể bị hỏng, chưa tải xong, hoặc không phải CSV, XLSX, ODS, JSON hay Parquet. Hãy mở và lưu lại bằng Excel rồi gửi lại.",
        "The file cannot be read ({detail}). It may be damaged, incompletely uploaded, or not CSV, XLSX, ODS, JSON or Parquet. Open and save it again in Excel, then resend."),
    "file.too_many_cells": ("error",
        "Trang tính trải tới {cells} ô (đến ô {cell}), vượt giới hạn {limit} ô của lnob. lnob không đọc tệp này. Thường là do có ô lẻ ở rất xa phần số liệu: hãy xóa các hàng và cột thừa rồi lưu lại.",
        "The sheet spans {cells} cells (up to cell {cell}), over lnob's limit of {limit} cells. lnob did not read it. Usually a stray cell lies far from the data: delete the extra rows and columns and save again."),
    "file.unpacks_too_large": ("error",
        "Bảng tính khi giải nén có {size} byte, vượt giới hạn {limit} byte của lnob. lnob không đọc tệp này. Hãy chia tệp (ví dụ theo xã) rồi gửi từng phần.",
        "The workbook unpacks to {size} bytes, over lnob's limit of {limit} bytes. lnob did not read it. Split it (e.g. by commune) and send the parts."),
    "file.packed_too_tightly": ("error",
        "Phần “{part}” của bảng tính nén chặt gấp {ratio} lần, vượt giới hạn {limit} lần của lnob (số liệu thật chỉ nén 5–30 lần). lnob không đọc tệp này. Hãy mở và lưu lại bằng Excel hoặc LibreOffice rồi gửi lại.",
        "Part “{part}” of the workbook is packed {ratio} times, over lnob's limit of {limit} (real data packs 5 to 30 times). lnob did not read it. Open and save it again in Excel or LibreOffice, then resend."),
    "file.line_too_long": ("error",
        "Dòng {row} dài {length} ký tự, vượt giới hạn {limit} ký tự của lnob. lnob không đọc tệp này. Hãy kiểm tra tệp có đúng là CSV với mỗi hộ một dòng.",
        "Line {row} is {length} characters long, over lnob's limit of {limit}. lnob did not read the file. Check that it is a CSV with one line per row."),
    "file.cell_too_long": ("error",
        "Ô ở cột “{column}” dài {length} ký tự, vượt giới hạn {limit} ký tự. Hãy rút ngắn nội dung ô.",
        "The cell in column “{column}” is {length} characters long, over the limit of {limit}. Shorten it."),
    "file.encoding_cp1258": ("warning",
        "Tệp CSV được lưu bằng bảng mã Windows tiếng Việt (1258); lnob đã đọc và chuyển sang Unicode. Lần sau hãy chọn Lưu thành “CSV UTF-8”.",
        "The CSV file was saved in the Vietnamese Windows code page (1258); lnob read it and converted it to Unicode. Next time choose Save As “CSV UTF-8”."),
    "file.encoding": ("error",
        "Tệp văn bản không dùng bảng mã UTF-8 (byte lạ “{value}” ở dòng {row}). Trong Excel hãy chọn Lưu thành “CSV UTF-8” hoặc “Unicode Text”, rồi gửi lại.",
        "The text file is not UTF-8 (unexpected bytes “{value}” on line {row}). In Excel choose Save As “CSV UTF-8” or “Unicode Text”, then resend."),
    "file.no_header": ("error",
        "Không tìm thấy dòng tiêu đề cột: không dòng nào trong 30 dòng đầu có tên cột của mẫu {kind}. Hãy dùng mẫu của lnob (lnob template) hoặc đặt tên cột như trong mẫu.",
        "No header row found: none of the first 30 rows names the columns of the {kind} template. Use lnob's template (lnob template) or name the columns as it does."),
    "file.sheet_missing": ("error",
        "Không có trang tính “{value}” trong tệp. Các trang tính có: {sheets}.",
        "The workbook has no sheet “{value}”. Its sheets are: {sheets}."),
    "file.format_mismatch": ("warning",
        "Tên tệp có đuôi “{value}” nhưng nội dung là {detected}; lnob đọc theo nội dung.",
        "The file name ends in “{value}” but the content is {detected}; lnob read it by its content."),
    "file.formulas": ("warning",
        "Có {count} ô chứa công thức ({cells}). lnob đọc giá trị Excel tính lần cuối khi lưu tệp; hãy kiểm tra các giá trị này, hoặc dán giá trị (Paste Values) thay cho công thức.",
        "{count} cells hold formulas ({cells}). lnob reads the value Excel last calculated when the file was saved; check these values, or paste values instead of formulas."),
    "file.merged_cells": ("warning",
        "Có {count} vùng ô gộp trong phần số liệu ({cells}). Chỉ ô đầu của vùng gộp có giá trị, các ô còn lại được đọc là trống. Hãy bỏ gộp ô và điền đủ giá trị.",
        "{count} merged ranges lie in the data ({cells}). Only the first cell of a merged range holds the value; the others read as empty. Unmerge them and fill every cell."),
    "file.duplicate_column": ("error",
        "Cột “{column}” có nhiều lần trong tệp ({cells}). Mỗi cột chỉ được có một lần: hãy xóa cột thừa.",
        "Column “{column}” appears more than once ({cells}). Each column may appear once: delete the extra one."),
    "file.unknown_column": ("warning",
        "Cột “{column}” không thuộc mẫu {kind}; lnob bỏ qua cột này.",
        "Column “{column}” is not part of the {kind} template; lnob ignores it."),
    "file.personal_data_column": ("warning",
        ("Cột “{column}” có vẻ chứa dữ liệu cá nhân ({personal_vi}) và không thuộc mẫu {kind}. lnob không giữ "
        "cột này ngoài tệp gốc đã nộp (lưu nguyên vẹn làm bằng chứng) và không hiển thị lại giá trị của nó. "
        "Lần sau, hãy bỏ cột này trước khi nộp."),
        ("Column “{column}” seems to hold personal data ({personal_en}) and is not part of the {kind} template. "
        "lnob keeps it nowhere but in the raw submitted file (kept unchanged as evidence) and never shows its "
        "values back. Next time, remove the column before submitting.")),
    "value.national_id_pseudonymised": ("warning",
        ("{count} giá trị ở cột “{column}” là số định danh cá nhân (CCCD 12 chữ số). lnob đã thay mỗi số bằng một "
        "mã băm có khoá trước khi lưu; số gốc chỉ còn trong tệp gốc. Hãy dùng mã hộ của danh sách rà soát, "
        "không dùng số CCCD."),
        ("{count} values in column “{column}” are national ID numbers (12-digit CCCD). lnob replaced each with a "
        "keyed hash before keeping it; the numbers remain only in the raw submitted file. Use the review "
        "list's household code, not the CCCD number.")),
    "file.missing_column": ("error",
        "Thiếu cột bắt buộc “{label_vi}” (tên cột tiếng Anh: {name}). Hãy thêm cột này vào dòng tiêu đề.",
        "The required column “{label_en}” (Vietnamese header: {label_vi}; name: {name}) is missing. Add it to the header row."),
    "file.kind_unknown": ("error",
        "Không nhận ra loại số liệu từ các cột của tệp. Hãy ghi rõ --kind (household, area_summary hoặc area_attributes) hoặc dùng mẫu của lnob.",
        "The kind of data cannot be told from the file's columns. Give --kind (household, area_summary or area_attributes) or use lnob's template."),
    "file.no_rows": ("error",
        "Tệp có dòng tiêu đề nhưng không có dòng số liệu nào.",
        "The file has a header row but no data rows."),
    # reading values
    "value.not_a_number": ("error",
        "“{value}” ở cột “{column}” không phải là số. Hãy ghi một số, ví dụ 1.500.000 hoặc 1500000.",
        "“{value}” in column “{column}” is not a number. Write a number, e.g. 1500000 or 1.500.000."),
    "value.not_a_whole_number": ("error",
        "Cột “{column}” cần số nguyên; “{value}” có phần thập phân. Hãy ghi số nguyên.",
        "Column “{column}” needs a whole number; “{value}” has a fractional part. Write a whole number."),
    "value.ambiguous_number": ("error",
        "“{value}” ở cột “{column}” có thể đọc là {value} theo kiểu Việt Nam hay kiểu Anh, hai cách cho hai số khác nhau (ví dụ 1,500 = một phẩy năm hay một nghìn năm trăm). Hãy ghi không dấu phân cách nghìn (1500) hoặc ghi rõ phần thập phân (1,5).",
        "“{value}” in column “{column}” reads as two different numbers in Vietnamese and English notation (1,500 is one and a half or fifteen hundred). Write it without a thousands separator (1500) or with an unambiguous decimal (1.5)."),
    "value.thousands_comma": ("warning",
        "“{value}” ở cột “{column}” được đọc là số nguyên {value} với dấu phẩy phân cách hàng nghìn (số hộ không thể là số lẻ). Nếu không đúng, hãy sửa lại.",
        "“{value}” in column “{column}” was read as a whole number with a comma as thousands separator (a count cannot be fractional). Correct it if that is wrong."),
    "value.out_of_range": ("error",
        "“{value}” ở cột “{column}” quá lớn (lnob chỉ giữ đúng được các số trong khoảng ±9.007.199.254.740.992). Hãy kiểm tra và ghi lại số đúng.",
        "“{value}” in column “{column}” is too large (lnob holds numbers exactly only within ±9,007,199,254,740,992). Check it and write the right number."),
    "value.control_character": ("error",
        "Ô ở cột “{column}” chứa ký tự điều khiển ẩn (như NUL), hiện thành “{value}”. Hãy gõ lại nội dung ô.",
        "The cell in column “{column}” holds a hidden control character (such as NUL), shown as “{value}”. Type the cell again."),
    "value.not_yes_no": ("error",
        "“{value}” ở cột “{column}” không phải có/không. Hãy ghi 1 (có) hoặc 0 (không).",
        "“{value}” in column “{column}” is not yes/no. Write 1 (yes) or 0 (no)."),
    "code.leading_zeros_restored": ("warning",
        "Mã “{value}” ở cột “{column}” bị mất số 0 ở đầu (Excel lưu mã như một số); lnob đã thêm lại. Hãy định dạng cột mã là Văn bản (Text).",
        "Code “{value}” in column “{column}” had lost its leading zeros (Excel stored it as a number); lnob restored them. Format code columns as Text."),
    "code.name_replaced_by_code": ("warning",
        "Cột “{column}” ghi tên dân tộc “{value}” thay cho mã; lnob đã đổi sang mã theo danh mục 2008. Hãy ghi mã 2 chữ số.",
        "Column “{column}” holds the group name “{value}” instead of its code; lnob used the 2008 code. Write the 2-digit code."),
    # reference lists
    "reference.year_out_of_range": ("error",
        "Năm rà soát {value} không hợp lệ: chỉ nhận các năm từ 2021 đến năm sau năm hiện tại.",
        "Review year {value} is not plausible: lnob accepts 2021 up to next year."),
    "reference.level_abolished": ("error",
        "Cấp huyện không còn từ ngày 01/7/2025, nên không nhận số liệu cấp huyện cho năm rà soát {year}. Hãy nộp theo cấp xã hoặc tỉnh.",
        "Districts were abolished on 1 July 2025, so district submissions are not accepted for review year {year}. Submit at commune or province level."),
    "reference.submitting_unit_unknown": ("error",
        "Mã đơn vị nộp “{value}” không có trong danh mục {level} của năm {year} ({geography}). Hãy kiểm tra --unit.",
        "Submitting unit “{value}” is not a {level} in the {year} unit list ({geography}). Check --unit."),
    "reference.unit_unknown": ("error",
        "Mã “{value}” ở cột “{column}” không có trong danh mục đơn vị hành chính năm {year} ({geography}). Hãy dùng mã của danh mục áp dụng cho năm rà soát.",
        "Code “{value}” in column “{column}” is not in the {year} administrative unit list ({geography}). Use a code of the list valid for the review year."),
    "reference.unit_outside_submitter": ("error",
        "Đơn vị “{value}” không thuộc {level} {unit_code} đang nộp. Mỗi đơn vị chỉ nộp số liệu của mình và các đơn vị trực thuộc.",
        "Unit “{value}” does not belong to the submitting {level} {unit_code}. A unit reports only itself and its own units."),
    "reference.commune_mismatch": ("error",
        "Mã xã “{value}” khác với xã nộp ({unit_code}). Danh sách hộ của một xã chỉ gồm hộ của xã đó.",
        "Commune “{value}” is not the submitting commune ({unit_code}). A commune's household list holds only its own households."),
    "reference.ethnicity_unknown": ("error",
        "Mã dân tộc “{value}” không có trong danh mục 54 dân tộc năm 2008 (Quyết định 1019/QĐ-TCTK, mã 01–54). Mã từ 55 trở lên thường là do dùng danh mục cũ năm 1979 hoặc mã “người nước ngoài”; hãy đổi sang mã năm 2008.",
        "Ethnic group code “{value}” is not in the 2008 list of 54 groups (Decision 1019/QĐ-TCTK, codes 01–54). Codes of 55 and above usually come from the old 1979 list or the “foreigners” code; use the 2008 code."),
    # ingest itself
    "ingest.internal_error": ("error",
        "lnob chưa kiểm tra xong tệp do lỗi nội bộ (mã tham chiếu {reference}). Tệp đã được lưu; nhóm dữ liệu sẽ kiểm tra lại, bạn không cần gửi lại.",
        "lnob could not finish checking the file because of an internal error (reference {reference}). The file is kept; the data team will re-run it, no need to resend."),
    "validation.rule_failed_to_run": ("error",
        "Không kiểm tra được quy tắc ở cột “{column}”; hãy báo cho nhóm dữ liệu.",
        "The rule on column “{column}” could not be checked; tell the data team."),
}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(template: str, **values) -> str:
    """Fill a message template; a placeholder without a value is left empty rather than failing."""
    return template.format_map(_Blank({k: ("" if v is None else v) for k, v in values.items()}))


# How a personal-data finding names what it saw, in each language.
PERSONAL_DATA_WORDS: dict[str, tuple[str, str]] = {
    "name": ("họ tên", "names"),
    "national_id": ("số CCCD/CMND, số định danh", "national ID numbers"),
    "date_of_birth": ("ngày sinh", "dates of birth"),
    "phone": ("số điện thoại", "phone numbers"),
    "address": ("địa chỉ", "addresses"),
}


def severity_of(rule: str) -> str:
    return MESSAGES[rule][0] if rule in MESSAGES else "error"


def sort_findings(findings: list[dict]) -> list[dict]:
    """Errors first, then warnings; by rule, column, row."""
    return sorted(findings, key=lambda f: (f["severity"] != "error", f["rule"], f.get("column") or "",
                                           f.get("row") or 0))


def summarise(findings: list[dict]) -> list[dict]:
    """One line per rule and column: severity, rule, column, total rows, rows listed."""
    groups: dict[tuple, dict] = {}
    for finding in findings:
        key = (finding["severity"], finding["rule"], finding.get("column"))
        entry = groups.setdefault(key, {"severity": key[0], "rule": key[1], "column": key[2],
                                        "count": finding.get("count", 1), "listed": 0})
        entry["listed"] += 1
    return sorted(groups.values(), key=lambda g: (g["severity"] != "error", g["rule"], g["column"] or ""))


# --- files ------------------------------------------------------------------------------------------

def _write_atomically(path: Path, text: str) -> None:
    temporary = temporary_beside(path)
    with open(temporary, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def json_text(report: dict) -> str:
    """The JSON report as written to its file."""
    return json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n"


def write_json_report(path: Path, report: dict) -> Path:
    _write_atomically(path, json_text(report))
    return path


def render_html(report: dict) -> str:
    """A self-contained page: verdict, then one table of findings; Vietnamese first in every cell."""
    e = html.escape
    status = report.get("status") or RECEIVED
    status_vi, status_en = STATUS_WORDS.get(status, (status, status))
    findings = report.get("findings", [])
    rows = []
    for f in findings:
        place = " ".join(x for x in (
            f"trang/sheet {e(f['sheet'])}" if f.get("sheet") else "",
            f"ô/cell {e(f['cell'])}" if f.get("cell") else (f"dòng/row {f['row']}" if f.get("row") else ""),
        ) if x)
        rows.append(
            f"<tr class='{e(f['severity'])}'><td>{'Lỗi / error' if f['severity'] == 'error' else 'Cảnh báo / warning'}"
            f"</td><td><code>{e(f['rule'])}</code></td><td>{place}</td><td>{e(str(f.get('column') or ''))}</td>"
            f"<td>{e(str(f.get('value') or ''))}</td><td>{f.get('count', 1)}</td>"
            f"<td><p lang='vi'>{e(f['message_vi'])}</p><p lang='en'>{e(f['message_en'])}</p></td></tr>")
    summary = "".join(
        f"<li><code>{e(s['rule'])}</code> {e(s['column'] or '')}: {s['count']} "
        f"(liệt kê / listed {s['listed']})</li>" for s in summarise(findings))
    facts = "".join(
        f"<tr><th>{vi} / {en}</th><td>{e(str(report.get(key) if report.get(key) is not None else ''))}</td></tr>"
        for key, vi, en in (
            ("submission_id", "Mã bản nộp", "Submission"), ("original_name", "Tệp", "File"),
            ("level", "Cấp", "Level"), ("unit_code", "Đơn vị", "Unit"), ("year", "Năm", "Year"),
            ("kind", "Loại", "Kind"), ("standard", "Chuẩn nghèo", "Standard"),
            ("content_hash", "SHA-256", "SHA-256"), ("supersedes", "Thay thế bản", "Supersedes")))
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>lnob — {e(report.get('submission_id') or '')} — {e(status)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3rem .5rem; vertical-align: top; }}
tr.error td:first-child {{ color: #a00; font-weight: bold; }} tr.warning td:first-child {{ color: #a60; }}
p[lang=en] {{ color: #555; margin-top: .2rem; }} .verdict {{ font-size: 1.4rem; }}
</style></head><body>
<h1>Kết quả kiểm tra bản nộp / Submission check</h1>
<p class="verdict">Bản nộp {e(status_vi)} / The submission is {e(status_en)}
{' — tệp này đã được nộp trước đó / these bytes were already submitted' if report.get('duplicate') else ''}</p>
<table>{facts}</table>
<h2>Tóm tắt theo quy tắc / Summary by rule</h2>
<ul>{summary or '<li>Không có vấn đề nào / No findings</li>'}</ul>
<h2>Chi tiết / Details</h2>
<table><tr><th>Mức / Severity</th><th>Quy tắc / Rule</th><th>Vị trí / Place</th><th>Cột / Column</th>
<th>Giá trị / Value</th><th>Số dòng / Rows</th><th>Nội dung và cách sửa / What is wrong and what to do</th></tr>
{''.join(rows)}</table>
</body></html>
"""


def write_html_report(path: Path, report: dict) -> Path:
    _write_atomically(path, render_html(report))
    return path


def group_counts(findings: list[dict]) -> tuple[int, int]:
    """(errors, warnings): rows breaking each rule, counted once per rule and column."""
    totals: dict[str, int] = defaultdict(int)
    for entry in summarise(findings):
        totals[entry["severity"]] += entry["count"]
    return totals["error"], totals["warning"]
