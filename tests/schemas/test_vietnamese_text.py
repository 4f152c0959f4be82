"""Vietnamese text normalisation shared by header and name matching (schemas.text)."""

from __future__ import annotations

import unicodedata
from datetime import date

import polars as pl
import pytest

from schemas.geography import conversion_table, units_at
from schemas.text import (
    canonical_unit_name_expr,
    fold,
    fold_dak,
    fold_expr,
    name_key,
    normalize_text,
    normalize_text_expr,
    spelling_key,
    split_unit_type,
    strip_accents,
    strip_unit_type,
    strip_unit_type_expr,
    unit_type_expr,
    unit_type_of,
)


def test_normalize_text_folds_unicode_forms_and_whitespace_but_keeps_accents_and_case():
    nfd = unicodedata.normalize("NFD", "Hà Nội")
    assert nfd != "Hà Nội"
    assert normalize_text(nfd) == "Hà Nội"
    assert normalize_text("  Nhập một  phần\n") == "Nhập một phần"
    assert normalize_text("Giữ\u00a0nguyên\t") == "Giữ nguyên"


def test_strip_accents_removes_every_mark_including_the_stroke_of_d():
    assert strip_accents("Đắk Lắk") == "Dak Lak"
    assert strip_accents("Thừa Thiên Huế") == "Thua Thien Hue"
    assert strip_accents("ĐỒNG THÁP") == "DONG THAP"


@pytest.mark.parametrize(("text", "key"), [
    ("Thành  phố\nHà Nội", "thanh pho ha noi"),
    ("HÒA BÌNH", "hoa binh"),
    ("Hoà Bình", "hoa binh"),  # tone mark on a or on o: the same name
    ("Thuỷ", "thuy"), ("Thủy", "thuy"),
    ("Đăk Glei", "dak glei"), ("Đắk Glei", "dak glei"),
])
def test_fold_is_accent_case_and_whitespace_insensitive(text, key):
    assert fold(text) == key


def test_fold_dak_writes_one_spelling_for_the_dak_syllable():
    assert fold_dak("Huyện Đăk Glei") == "Huyện Đắk Glei"
    assert fold_dak("đăk tô") == "đắk tô"
    assert fold_dak("Dak Lak") == "Đắk Lak"
    assert fold_dak("ĐĂK") == "ĐẮK"
    assert fold_dak("Đắk Lắk") == "Đắk Lắk"
    assert fold_dak("Xã Đắc Sơn") == "Xã Đắc Sơn"  # Đắc is another syllable
    assert fold_dak("Dakao") == "Dakao"


@pytest.mark.parametrize(("name", "unit_type", "rest"), [
    ("Thành phố Hà Nội", "Thành phố", "Hà Nội"),
    ("Thành Phố Bắc Kạn", "Thành phố", "Bắc Kạn"),
    ("TP. Hồ Chí Minh", "Thành phố", "Hồ Chí Minh"),
    ("TP.HCM", "Thành phố", "HCM"),
    ("Tỉnh Hà Giang", "Tỉnh", "Hà Giang"),
    ("tinh ha giang", "Tỉnh", "ha giang"),
    ("Huyện Lý Sơn", "Huyện", "Lý Sơn"),
    ("Quận 1", "Quận", "1"),
    ("Thị xã Sơn Tây", "Thị xã", "Sơn Tây"),
    ("THỊ XÃ  Buôn Hồ", "Thị xã", "Buôn Hồ"),
    ("Thị trấn Phố Ràng", "Thị trấn", "Phố Ràng"),
    ("xã Bắc Sơn", "Xã", "Bắc Sơn"),
    ("Phường 15", "Phường", "15"),
    ("Đặc khu Côn Đảo", "Đặc khu", "Côn Đảo"),
    ("Phường", None, "Phường"),
    ("Hà Nội", None, "Hà Nội"),
])
def test_the_unit_type_prefix_is_recognised_and_stripped(name, unit_type, rest):
    assert split_unit_type(name) == (unit_type, rest)
    assert unit_type_of(name) == unit_type
    assert strip_unit_type(name) == rest


@pytest.mark.parametrize(("left", "right"), [
    ("Tỉnh Đắk Lắk", "Dak Lak"),
    ("Tỉnh Bà Rịa - Vũng Tàu", "Bà Rịa–Vũng Tàu"),
    ("Huyện Đăk Glei", "Đắk Glei"),
    ("Phường 01", "Phường 1"),
    ("Thị xã Buôn Hồ", "buon ho"),
    ("Huyện M'Đrắk", "Mđrắk"),
    ("Thừa Thiên - Huế", "Thừa Thiên Huế"),
])
def test_name_keys_match_spellings_of_one_place(left, right):
    assert name_key(left) == name_key(right)


def test_name_keys_keep_different_places_apart():
    assert name_key("Phường 1") != name_key("Phường 11")
    assert name_key("Huyện Lý Sơn") != name_key("Huyện Lý Nhân")


def test_spelling_key_does_not_strip_unit_words():
    assert spelling_key("Xã hội") == "xa hoi"
    assert name_key("Xã Tiên Hải") == "tien hai"


def _reference_names() -> list[str]:
    names = [
        *units_at("province", date(2024, 1, 1))["unit_name"], *units_at("district", date(2024, 1, 1))["unit_name"],
        *units_at("commune", date(2024, 1, 1))["unit_name"], *units_at("commune", date(2026, 1, 1))["unit_name"],
        *conversion_table()["note"].unique(),
    ]
    return [*names, "TP. Hồ Chí Minh", "thi xa son tay", " xã Bắc Sơn\n", "Phường", unicodedata.normalize("NFD", "Hà Nội")]


def test_column_versions_agree_with_the_functions_on_every_reference_name():
    names = pl.DataFrame({"name": _reference_names()})
    computed = names.with_columns(
        normalized=normalize_text_expr(pl.col("name")),
        folded=fold_expr(pl.col("name")),
        unit_type=unit_type_expr(pl.col("name")),
        stripped=strip_unit_type_expr(pl.col("name")),
        canonical=canonical_unit_name_expr(pl.col("name")),
    )
    for row in computed.iter_rows(named=True):
        name = row["name"]
        unit_type, rest = split_unit_type(name)
        assert row["normalized"] == normalize_text(name), name
        assert row["folded"] == fold(name), name
        assert (row["unit_type"], row["stripped"]) == (unit_type, rest), name
        assert row["canonical"] == (f"{unit_type} {rest}" if unit_type else normalize_text(name)), name


def test_every_official_name_opens_with_its_unit_type():
    for level, on in (("province", date(2024, 1, 1)), ("district", date(2024, 1, 1)),
                      ("commune", date(2024, 1, 1)), ("province", date(2026, 1, 1)), ("commune", date(2026, 1, 1))):
        units = units_at(level, on)
        assert (units["unit_name"].map_elements(unit_type_of, return_dtype=pl.String) == units["unit_type"]).all()


def test_a_name_that_starts_like_a_unit_type_keeps_its_first_word():
    # Quản Bạ (Hà Giang) and Quan Hóa (Thanh Hóa) are district names, not "Quận Bạ" / "Quận Hóa".
    assert name_key("Quản Bạ") == "quan ba"
    assert name_key("Huyện Quản Bạ") == "quan ba"
    assert name_key("Quan Hóa") == "quan hoa"
    assert name_key("Huyện Quan Hóa") == "quan hoa"


def test_an_unaccented_unit_type_counts_when_the_whole_name_is_typed_plainly():
    assert name_key("Xa Ea Kly") == name_key("Xã Ea Kly") == "ea kly"
    assert name_key("huyen quan ba") == "quan ba"
