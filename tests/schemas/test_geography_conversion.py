"""The official old → new commune conversion of 1 July 2025, cleaned (schemas.geography.conversion_table)."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl
import pytest

from schemas import geography
from schemas.geography import CONVERSION_SCHEMA, conversion_table, note_kind, units_at

BEFORE = date(2024, 12, 31)
AFTER = date(2025, 7, 1)


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return conversion_table()


def test_columns_are_typed_as_the_interface_says(table):
    assert table.schema == CONVERSION_SCHEMA


def test_counts_match_the_official_table(table):
    # docs/legal-basis.md#geography counts about 10,571 rows, 3,321 new and 10,033 old communes.
    assert table.height == 10_571
    assert table["new_commune_code"].n_unique() == 3_321
    assert table["old_commune_code"].drop_nulls().n_unique() == 10_033


def test_every_mapping_row_of_the_source_file_is_kept_and_heading_rows_are_dropped(table):
    with open(geography.CONVERSION_FILE, encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[2:]
    mapping_rows = [row for row in rows if row[2].strip()]
    heading_rows = [row for row in rows if row[0].strip() and not any(cell.strip() for cell in row[1:])]
    assert len(mapping_rows) == table.height
    assert len(mapping_rows) + len(heading_rows) == len(rows)


def test_old_truc_bach_becomes_new_phuong_ba_dinh(table):
    row = table.filter(pl.col("old_commune_code") == "00004").to_dicts()
    assert len(row) == 1
    assert row[0]["old_commune_name"] == "Phường Trúc Bạch"
    assert (row[0]["old_district_code"], row[0]["old_province_code"]) == ("001", "01")
    assert (row[0]["new_commune_code"], row[0]["new_commune_name"]) == ("00004", "Phường Ba Đình")
    assert (row[0]["new_province_code"], row[0]["note_kind"], row[0]["old_is_split"]) == ("01", "whole", False)


def test_a_split_old_commune_maps_to_several_new_ones_and_every_row_says_so(table):
    split = table.filter(pl.col("old_is_split"))
    per_old = split.group_by("old_commune_code").agg(pl.col("new_commune_code").n_unique().alias("new"))
    assert (per_old["new"] >= 2).all()
    ngoc_ha = table.filter(pl.col("old_commune_code") == "00016")
    assert ngoc_ha.height >= 2
    assert ngoc_ha["old_is_split"].all()
    assert set(ngoc_ha["note_kind"]) <= {"part", "part_area", "part_population", "part_area_all_population"}


def test_441_old_communes_are_split(table):
    # docs/legal-basis.md#geography says 442: that count takes the blank old code of the six code-less rows
    # as one more commune.
    split_codes = table.filter(pl.col("old_is_split"))["old_commune_code"]
    assert split_codes.null_count() == 0
    assert split_codes.n_unique() == 441


def test_an_unsplit_old_commune_has_exactly_one_row(table):
    unsplit = table.filter(~pl.col("old_is_split") & pl.col("old_commune_code").is_not_null())
    assert unsplit["old_commune_code"].is_duplicated().sum() == 0


def test_island_districts_become_special_zones_without_an_old_commune_code(table):
    islands = table.filter(pl.col("old_commune_code").is_null() & pl.col("old_commune_name").is_null())
    assert set(islands["old_district_code"]) == {"318", "471", "498", "536", "755"}
    ly_son = islands.filter(pl.col("old_district_code") == "536").to_dicts()[0]
    assert ly_son["new_commune_name"] == "Đặc khu Lý Sơn"
    assert (ly_son["old_province_code"], ly_son["new_province_code"], ly_son["note_kind"]) == ("51", "51", "whole")
    assert not islands["old_is_split"].any()


def test_old_province_comes_from_the_old_district_not_the_tables_misprinted_column(table):
    districts = units_at("district", BEFORE).select(old_district_code="unit_code", district_province="province_code")
    joined = table.join(districts, on="old_district_code", how="left")
    assert joined["district_province"].null_count() == 0
    assert (joined["old_province_code"] == joined["district_province"]).all()
    con_co = table.filter(pl.col("old_district_code") == "471")["old_province_code"].to_list()
    assert con_co == ["45"]  # the file prints "Quảng Trị (44)"; old Quảng Trị was 45
    assert table.filter(pl.col("old_commune_code") == "27691")["old_province_code"].to_list() == ["80"]


def test_new_codes_are_the_units_of_the_new_list_and_old_codes_mostly_the_old_list(table):
    new_communes = units_at("commune", AFTER).select(new_commune_code="unit_code", province="province_code")
    joined = table.join(new_communes, on="new_commune_code", how="left")
    assert joined["province"].null_count() == 0
    assert (joined["province"] == joined["new_province_code"]).all()
    old_codes = set(table["old_commune_code"].drop_nulls())
    listed = set(units_at("commune", BEFORE)["unit_code"])
    # Units merged or created between the January 2025 snapshot and the reform.
    assert len(old_codes - listed) == 10
    assert len(listed - old_codes) == 28


def test_each_old_province_feeds_exactly_one_new_province(table):
    # Read from the misprinted "Tỉnh cũ" column, old Tiền Giang (82) would seem to feed new Tây Ninh (80) too;
    # that row is Phường 4 of Tân An, in old Long An (80).
    per_old = table.group_by("old_province_code").agg(pl.col("new_province_code").n_unique().alias("new"))
    assert per_old.height == 63
    assert (per_old["new"] == 1).all()
    assert set(table.filter(pl.col("old_province_code") == "82")["new_province_code"]) == {"82"}
    assert set(table.filter(pl.col("old_province_code") == "80")["new_province_code"]) == {"80"}


def test_notes_are_whitespace_normalised_and_classified(table):
    assert not table["note"].str.contains(r"\s{2,}|\n|^\s|\s$").any()
    counts = dict(table.group_by("note_kind").len().iter_rows())
    assert counts == {"whole": 9_471, "part": 826, "unchanged": 127, "part_area": 83,
                      "part_area_all_population": 58, "part_population": 2, "type_change": 2, "rename": 2}


@pytest.mark.parametrize(("note", "kind"), [
    ("Nhập toàn bộ", "whole"),
    ("Nhập một  phần\n", "part"),
    ("Nhâp một phần diện tích", "part_area"),
    ("Nhập một phần diện tích, toàn bộ dân số", "part_area_all_population"),
    ("Nhập một phần dân số", "part_population"),
    ("Giữ nguyên ", "unchanged"),
    ("Đổi loại hình", "type_change"),
    ("Đổi tên", "rename"),
    ("Đổi tên từ một phần Phường 15", "part"),
    ("Phần còn lại sau khi tách một phần vào xã Canh Vinh", "part"),
    ("Sắp xếp toàn bộ huyện Lý Sơn thành đặc khu Lý Sơn", "whole"),
])
def test_note_wordings_fold_to_kinds(note, kind):
    assert note_kind(note) == kind


def test_an_unknown_note_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="unrecognised conversion note"):
        note_kind("Chia tách")
