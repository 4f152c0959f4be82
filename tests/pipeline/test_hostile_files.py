"""Nothing a submitter sends can take lnob down: files built to exhaust a reader are measured and refused
before any reader sees them, and every bad value is a located finding.

A file that could kill a process is read in a child process with a memory ceiling and a timeout, never
in the test's own process: a crash there fails the test instead of ending the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import unicodedata
import zipfile
from pathlib import Path

import polars as pl
import pytest
from fixtures_ingest import LABEL, frame_of, household_rows, write_csv

from pipeline.parse import parse_file
from store.settings import ReadingLimits

ROOT = Path(__file__).resolve().parents[2]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADERS = [LABEL[name] for name in ("household_id", "commune_code", "household_size")]

_CHILD = textwrap.dedent("""
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
    from pipeline.parse import parse_file
    table = parse_file(open(sys.argv[1], "rb").read(), file_name=sys.argv[1], kind="household")
    print(json.dumps({"issues": [[i["rule"], i["cell"], {k: str(v) for k, v in i["params"].items()}]
                                for i in table.issues],
                      "rows": None if table.frame is None else table.frame.height}))
""")


def read_in_child(path: Path, **environment: str) -> dict:
    """parse_file in a child process (1.5 GiB of memory, 60 s); fails the test if the child dies."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environment}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                          check=False, timeout=60, env=env, cwd=ROOT)
    assert done.returncode == 0, f"the reader's process died: {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def rules(outcome: dict) -> list[str]:
    return [rule for rule, _cell, _params in outcome["issues"]]


# --- hostile workbooks, built here ---------------------------------------------------------------

def _xlsx(path: Path, sheet_xml: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
                         '.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                         'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
                         '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
                         'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
                         'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                         'spreadsheetml.worksheet+xml"/></Types>')
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats'
                         '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                         'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                         'Target="xl/workbook.xml"/></Relationships>')
        package.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="http://'
                         'schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name='
                         '"Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        package.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://'
                         'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type='
                         '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                         'Target="worksheets/sheet1.xml"/></Relationships>')
        package.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return path


def _header_row_xml() -> str:
    cells = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADERS))
    return f'<row r="1">{cells}</row><row r="2"><c r="A2" t="inlineStr"><is><t>HH1</t></is></c></row>'


def _sheet(body: str, *, dimension: str = "A1:C2", padding: bytes = b"") -> bytes:
    return (f'<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/><sheetData>'.encode()
            + padding + body.encode() + b"</sheetData></worksheet>")


def _ods(path: Path, rows_xml: str) -> Path:
    table = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    content = (f'<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:'
               f'xmlns:office:1.0" xmlns:table="{table}" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:'
               f'text:1.0"><office:body><office:spreadsheet><table:table table:name="Trang1">{rows_xml}'
               '</table:table></office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        package.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
                         '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>', compress_type=zipfile.ZIP_DEFLATED)
        package.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _ods_row(*cells: str, repeat: int = 1) -> str:
    written = "".join(f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>'
                      for c in cells)
    repeated = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{repeated}>{written}</table:table-row>"


def test_a_sheet_holding_one_cell_at_XFD1048576_is_refused_before_it_is_read(tmp_path):
    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    path = _xlsx(tmp_path / "far.xlsx", _sheet(_header_row_xml() + far, dimension="A1:XFD1048576"))
    assert path.stat().st_size < 4096
    outcome = read_in_child(path)
    assert rules(outcome) == ["file.too_many_cells"]
    assert outcome["issues"][0][1] == "XFD1048576"
    assert outcome["issues"][0][2]["limit"] == "20000000"


def test_a_workbook_packed_a_thousand_times_is_refused_with_its_ratio(tmp_path):
    path = _xlsx(tmp_path / "bomb.xlsx", _sheet(_header_row_xml(), padding=b" " * (64 << 20)))
    assert path.stat().st_size < 200_000
    outcome = read_in_child(path)
    assert rules(outcome) == ["file.packed_too_tightly"]
    assert outcome["issues"][0][2]["part"] == "xl/worksheets/sheet1.xml"


def test_a_workbook_unpacking_past_the_limit_is_refused_naming_the_limit(tmp_path):
    path = _xlsx(tmp_path / "big.xlsx", _sheet(_header_row_xml(), padding=b" " * (3 << 20)))
    outcome = read_in_child(path, LNOB_MAX_UNPACKED_MIB="2")
    assert rules(outcome) == ["file.unpacks_too_large"]
    assert outcome["issues"][0][2]["limit"] == str(2 << 20)


def test_an_ods_repeating_a_row_a_million_times_is_refused_before_it_is_read(tmp_path):
    wide = ('<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-'
            'repeated="1000" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>')
    path = _ods(tmp_path / "repeats.ods", _ods_row(*HEADERS) + wide)
    assert path.stat().st_size < 4096
    outcome = read_in_child(path)
    assert rules(outcome) == ["file.too_many_cells"]
    # Within Excel's size but over an operator's lower limit: refused all the same.
    tall = _ods(tmp_path / "tall.ods", _ods_row(*HEADERS) + _ods_row("HH1", "00688", "3", repeat=1_000_000))
    assert rules(read_in_child(tall, LNOB_MAX_CELLS="100000")) == ["file.too_many_cells"]


def test_an_ods_saved_by_libreoffice_is_read_like_xlsx(tmp_path):
    rows = household_rows(3)
    frame = frame_of(rows)
    body = "<table:table-row><table:table-cell/></table:table-row>" + _ods_row(*frame.columns)
    body += "".join(_ods_row(*[str(v) for v in row]) for row in frame.iter_rows())
    # LibreOffice ends a sheet with its empty rows repeated to the bottom: they cost nothing.
    body += ('<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
             'table:number-columns-repeated="1024"/></table:table-row>')
    table = parse_file(_ods(tmp_path / "h.ods", body).read_bytes(), file_name="h.ods")
    assert table.format == "ods" and table.issues == []
    assert table.header_row == 2
    assert table.frame["__row__"].to_list() == [3, 4, 5]
    assert table.frame["c0"].to_list() == [r["household_id"] for r in rows]


def test_a_csv_line_past_the_limit_is_refused_where_it_is(tmp_path):
    text = ",".join(HEADERS) + "\nHH1,00688,3\nHH2,00688," + "9" * 5000 + "\n"
    table = parse_file(text.encode(), file_name="h.csv", limits=ReadingLimits(max_line_chars=1000))
    assert [(i["rule"], i["row"]) for i in table.issues] == [("file.line_too_long", 3)]


def test_json_nested_too_deeply_is_unreadable_without_the_readers_words(tmp_path):
    table = parse_file(b"[" * 200_000 + b"]" * 200_000, file_name="h.json")
    [found] = table.issues
    assert found["rule"] == "file.unreadable"
    assert "Recursion" not in json.dumps(found, ensure_ascii=False)
    assert found["params"]["detail_vi"] and found["params"]["detail"]


# --- files as communes save them -----------------------------------------------------------------

def test_a_nul_byte_in_a_csv_is_read_not_called_binary(tmp_path):
    for where in (1, 40):
        rows = household_rows(50)
        rows[where]["village"] = "Tổ\x002"
        table = parse_file(frame_of(rows).write_csv().encode(), file_name="h.csv")
        assert table.issues == [], where
        village = table.headers.index(LABEL["village"])
        assert table.frame[f"c{village}"][where] == "Tổ\x002"


def _cp1258(text: str) -> bytes:
    """Text as Excel on a Vietnamese Windows machine saves it: letters cp1258 holds (ô, ơ, ă …) as
    themselves, tone marks as combining characters after them."""
    out = bytearray()
    for ch in text:
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(m for m in decomposed[1:] if m in "\u0300\u0301\u0303\u0309\u0323")
        letter = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in tones))
        out += (letter + tones).encode("cp1258")
    return bytes(out)


def test_a_vietnamese_windows_csv_in_code_page_1258_is_read_as_nfc_with_a_warning(tmp_path):
    frame = frame_of(household_rows(3))
    data = _cp1258(frame.write_csv(separator=";"))
    assert b"\xd2" in data or b"\xec" in data or b"\xf2" in data    # a combining tone mark is there
    table = parse_file(data, file_name="h.csv")
    assert [i["rule"] for i in table.issues] == ["file.encoding_cp1258"]
    assert table.headers == frame.columns
    village = table.headers.index(LABEL["village"])
    assert table.frame[f"c{village}"][0] == "Tổ 1"


def test_a_csv_in_an_unknown_single_byte_code_page_is_still_refused(tmp_path):
    data = ",".join(HEADERS).encode() + "\nHH1,00688,3,Ñandú\n".encode("latin-1")
    table = parse_file(data, file_name="h.csv")
    assert [i["rule"] for i in table.issues] == ["file.encoding"]


def test_a_semicolon_csv_decides_each_columns_number_convention(tmp_path):
    rows = household_rows(4)
    incomes = ["1.165.420", "827.306", "1.002.000", "950.100"]
    for row, income in zip(rows, incomes, strict=True):
        row["income_per_capita_month"] = income
    path = write_csv(tmp_path / "h.csv", frame_of(rows), separator=";")
    table = parse_file(path.read_bytes(), file_name="h.csv")
    income = table.headers.index(LABEL["income_per_capita_month"])
    assert table.separator == ";" and table.number_conventions[income] == "vi"
    # Without a second group anywhere and with commas between fields, the column says nothing.
    for row in rows:
        row["income_per_capita_month"] = "827.306"
    table = parse_file(write_csv(tmp_path / "e.csv", frame_of(rows)).read_bytes(), file_name="e.csv")
    assert income not in table.number_conventions


def test_every_value_problem_reaches_the_submitter_located(tmp_path):
    from fixtures_ingest import COMMUNE, YEAR, make_settings

    from pipeline.intake import submit

    rows = household_rows(6)
    rows[0]["income_per_capita_month"] = "1e400"
    rows[1]["income_per_capita_month"] = "1" + "0" * 400
    rows[2]["household_size"] = "1e20"
    rows[3]["household_size"] = "99999999999999999999"
    rows[4]["village"] = "Tổ\x001"
    path = write_csv(tmp_path / "h.csv", frame_of(rows))
    verdict = submit(make_settings(tmp_path / "home"), path, level="commune", unit_code=COMMUNE, year=YEAR,
                     kind="household")
    assert verdict["status"] == "rejected"
    located = {(f["rule"], f["row"], f["column"]) for f in verdict["findings"]}
    assert ("value.out_of_range", 2, LABEL["income_per_capita_month"]) in located
    assert ("value.out_of_range", 3, LABEL["income_per_capita_month"]) in located
    assert ("value.out_of_range", 4, LABEL["household_size"]) in located
    assert ("value.out_of_range", 5, LABEL["household_size"]) in located
    [control] = [f for f in verdict["findings"] if f["rule"] == "value.control_character"]
    assert control["row"] == 6 and control["value"] == "Tổ\\x001" and "\x00" not in control["message_en"]
    assert not [f for f in verdict["findings"] if f["rule"] == "ingest.internal_error"]


def test_a_vietnamese_semicolon_csv_is_accepted_with_its_incomes_read_the_vietnamese_way(tmp_path):
    from fixtures_ingest import COMMUNE, YEAR, make_settings

    from pipeline.intake import submit

    rows = household_rows(4)
    for row, income in zip(rows, ["1.165.420", "827.306", "1.002.000", "950.100"], strict=True):
        row["income_per_capita_month"] = income
    path = write_csv(tmp_path / "h.csv", frame_of(rows), separator=";")
    settings = make_settings(tmp_path / "home")
    verdict = submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, kind="household")
    assert not [f for f in verdict["findings"] if f["rule"] == "value.ambiguous_number"], verdict["findings"]
    staged = pl.read_parquet(next((settings.staging).rglob("*.parquet")))
    assert sorted(staged["income_per_capita_month"].to_list()) == [827306.0, 950100.0, 1002000.0, 1165420.0]


@pytest.mark.parametrize("size", ["1e20", "99999999999999999999"])
def test_an_oversized_household_size_never_leaves_a_submission_stuck(tmp_path, size):
    from fixtures_ingest import COMMUNE, YEAR, make_settings

    from pipeline.intake import submit

    rows = household_rows(2)
    rows[0]["household_size"] = size
    verdict = submit(make_settings(tmp_path / "home"), write_csv(tmp_path / "h.csv", frame_of(rows)),
                     level="commune", unit_code=COMMUNE, year=YEAR, kind="household")
    assert verdict["status"] == "rejected"
