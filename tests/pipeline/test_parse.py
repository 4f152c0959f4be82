"""Reading files: by their bytes, every value as text, the header found below title rows, rows numbered as
the submitter sees them."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest
from fixtures_ingest import LABEL, frame_of, household_rows, write_csv, write_xlsx

from pipeline.parse import detect_format, parse_file


def test_csv_in_every_encoding_and_separator_reads_the_same(tmp_path):
    frame = frame_of(household_rows(3))
    tables = []
    for index, (encoding, separator) in enumerate([("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"),
                                                   ("utf-16-le", ",")]):
        data = write_csv(tmp_path / f"{index}.csv", frame, separator=separator, encoding=encoding).read_bytes()
        tables.append(parse_file(data, file_name="h.csv"))
    for table in tables:
        assert table.issues == []
        assert table.headers == frame.columns
        assert table.frame.drop("__row__").rows() == tables[0].frame.drop("__row__").rows()
        assert table.frame["__row__"].to_list() == [2, 3, 4]


def test_values_stay_text_so_nothing_is_guessed(tmp_path):
    rows = household_rows(2)
    rows[0]["income_per_capita_month"] = "1.057.374"
    table = parse_file(write_csv(tmp_path / "h.csv", frame_of(rows)).read_bytes(), file_name="h.csv")
    assert set(table.frame.drop("__row__").dtypes) == {pl.String}
    income = table.headers.index(LABEL["income_per_capita_month"])
    assert table.frame[f"c{income}"][0] == "1.057.374"
    assert table.frame[f"c{table.headers.index(LABEL['commune_code'])}"][0] == "00688"


def test_xlsx_header_is_found_below_title_rows_and_cells_are_addressed(tmp_path):
    frame = frame_of(household_rows(3))
    path = write_xlsx(tmp_path / "h.xlsx", frame, title_rows=("BÁO CÁO", "Xã Quang Trung", "Năm 2024"),
                      numeric=(LABEL["household_size"],))
    table = parse_file(path.read_bytes(), file_name="h.xlsx")
    assert table.format == "xlsx" and table.sheet == "Sheet1"
    assert table.header_row == 4
    assert table.frame["__row__"].to_list() == [5, 6, 7]
    size = table.headers.index(LABEL["household_size"])
    assert table.cell(size, 5) == "F5"
    assert table.machine_numeric == {size}               # written as numbers, not text


def test_empty_rows_are_dropped_but_row_numbers_keep_their_place(tmp_path):
    text = "Mã hộ,Mã xã,Khu vực\nHH1,00688,rural\n,,\nHH2,00688,urban\n"
    table = parse_file(text.encode(), file_name="h.csv")
    assert table.frame["__row__"].to_list() == [2, 4]


def test_json_records_and_parquet_are_numbered_by_record(tmp_path):
    records = [{"household_id": "HH1", "commune_code": 688, "household_size": 3}]
    table = parse_file(json.dumps(records).encode(), file_name="h.json")
    assert table.format == "json" and table.row_kind == "record"
    assert table.frame.row(0) == (1, "HH1", "688", "3")
    assert table.machine_numeric == {1, 2}
    buffer = io.BytesIO()
    pl.DataFrame(records).write_parquet(buffer)
    table = parse_file(buffer.getvalue(), file_name="h.parquet")
    assert table.format == "parquet" and table.frame.row(0) == (1, "HH1", "688", "3")


@pytest.mark.parametrize("data,expected", [
    (b"", "empty"), (b"  \r\n", "empty"), (b"PK\x03\x04rest", "xlsx"), (b"PAR1....PAR1", "parquet"),
    (b'[{"a": 1}]', "json"), ("a,b\n1,2\n".encode("utf-16"), "csv"), (b"\x00\x01\x02\x03" * 50, "binary"),
    (b"M\xe3 h\xf4,x\n", "csv"),
])
def test_the_format_comes_from_the_bytes(data, expected):
    assert detect_format(data) == expected


def test_a_damaged_workbook_is_a_finding_not_an_exception(tmp_path):
    data = write_xlsx(tmp_path / "h.xlsx", frame_of(household_rows(30))).read_bytes()
    table = parse_file(data[: len(data) - 200], file_name="h.xlsx")
    assert table.frame is None
    assert [i["rule"] for i in table.issues] == ["file.unreadable"]


def test_a_missing_sheet_names_the_sheets_there_are(tmp_path):
    data = write_xlsx(tmp_path / "h.xlsx", frame_of(household_rows(2)), sheet="Biểu 1").read_bytes()
    table = parse_file(data, file_name="h.xlsx", sheet="Biểu 2")
    [found] = table.issues
    assert found["rule"] == "file.sheet_missing" and found["params"]["sheets"] == "Biểu 1"
