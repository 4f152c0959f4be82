"""Names written in decisions match official codes level by level, or are reported: never guessed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from transforms.name_matching import folded_key, match_names

SHIPPED = Path(__file__).parents[2] / "schemas" / "status_lists"


def units(rows: list[tuple[str, str, str, str | None]], level: str) -> pl.DataFrame:
    """(code, name with its type word, type, parent code) → a units_at-like frame."""
    parent = {"province": None, "district": "province_code", "commune": "district_code"}[level]
    frame = pl.DataFrame({"unit_code": [r[0] for r in rows], "unit_name": [r[1] for r in rows],
                          "unit_type": [r[2] for r in rows]})
    if parent:
        frame = frame.with_columns(pl.Series(parent, [r[3] for r in rows], dtype=pl.String))
    if level == "commune":
        provinces_of = {"100": "10", "101": "10", "200": "20"}
        frame = frame.with_columns(pl.col("district_code").replace_strict(provinces_of).alias("province_code"))
    return frame


PROVINCES = units([("10", "Tỉnh Đắk Lắk", "Tỉnh", None), ("20", "Tỉnh Kon Tum", "Tỉnh", None),
                   ("30", "Tỉnh Hoà Bình", "Tỉnh", None)], "province")
DISTRICTS = units([("100", "Huyện M'Đrắk", "Huyện", "10"), ("101", "Thị xã Buôn Hồ", "Thị xã", "10"),
                   ("102", "Huyện Buôn Hồ", "Huyện", "10"), ("200", "Huyện Đăk Glei", "Huyện", "20"),
                   ("201", "Huyện Quan Hóa", "Huyện", "20")], "district")
COMMUNES = units([("00001", "Xã Ea Trang", "Xã", "100"), ("00002", "Thị trấn M'Đrắk", "Thị trấn", "100"),
                  ("00003", "Xã Cư Prao", "Xã", "100"), ("00004", "Xã Cư Prao", "Xã", "101"),
                  ("00005", "Xã An Quy", "Xã", "100"), ("00006", "Xã Đắk Choong", "Xã", "200"),
                  ("00007", "Xã Tân Hoà", "Xã", "100"), ("00008", "Xã Tân Hóa", "Xã", "100")], "commune")


def match(rows: list[dict]) -> pl.DataFrame:
    names = pl.DataFrame(rows).with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))
    return match_names(names, PROVINCES, DISTRICTS, COMMUNES)


def test_accents_case_spacing_and_type_words_do_not_matter():
    result = match([
        {"province": "tỉnh đắk  lắk", "district": "Huyện M'Đrắk", "commune": "XÃ EA TRANG"},
        {"province": "Dak Lak", "district": "M'Drak", "commune": "Ea Trang"},
        {"province": "Đắk Lắk", "district": "MĐrắk", "commune": "Thị trấn M'Đrắk"},
    ])
    assert result["unit_code"].to_list() == ["00001", "00001", "00002"]
    assert set(result["status"]) == {"matched"}


def test_dak_spellings_and_tone_placement_are_the_same_name():
    assert match([{"province": "Kon Tum", "district": "Đắk Glei", "commune": "Đăk Choong"}])["unit_code"].item() \
        == "00006"
    assert match([{"province": "Hòa Bình"}])["unit_code"].item() == "30"


def test_a_syllable_that_starts_like_a_unit_type_is_not_taken_for_one():
    result = match([{"province": "Kon Tum", "district": "Quan Hóa", "commune": None}])
    assert result["unit_code"].to_list() == ["201"]


def test_qui_and_quy_are_one_spelling():
    result = match([{"province": "Đắk Lắk", "district": "M'Đrắk", "commune": "An Qui"}])
    assert (result["unit_code"].item(), result["stage"].item()) == ("00005", "spelling")


def test_an_accent_that_tells_two_communes_apart_is_respected():
    result = match([{"province": "Đắk Lắk", "district": "M'Đrắk", "commune": "Tân Hóa"}])
    assert result["unit_code"].item() == "00008"


def test_a_commune_is_looked_for_under_its_own_district():
    # "Cư Prao" exists in two districts of the province; the district picks one
    result = match([{"province": "Đắk Lắk", "district": "M'Đrắk", "commune": "Cư Prao"}])
    assert result["unit_code"].item() == "00003"


def test_a_name_that_matches_several_units_is_reported_with_its_candidates():
    result = match([{"province": "Đắk Lắk", "district": None, "commune": "Cư Prao"},
                    {"province": "Đắk Lắk", "district": "Buôn Hồ", "commune": None}])
    assert result["status"].to_list() == ["ambiguous", "ambiguous"]
    assert result["unit_code"].to_list() == [None, None]
    assert result["candidates"][0] == "00003 Xã Cư Prao; 00004 Xã Cư Prao"
    assert "nhiều đơn vị" in result["message_vi"][1] and "several units" in result["message_en"][1]


def test_the_written_unit_type_settles_a_town_and_a_district_of_one_name():
    result = match([{"province": "Đắk Lắk", "district": "Thị xã Buôn Hồ", "commune": None}])
    assert result["unit_code"].item() == "101"


def test_an_unknown_name_is_reported_at_the_level_that_failed():
    result = match([{"province": "Đắk Lắk", "district": "M'Đrắk", "commune": "Ea Không Có"},
                    {"province": "Tỉnh Không Có", "district": "M'Đrắk", "commune": "Ea Trang"}])
    assert result["status"].to_list() == ["unknown", "unknown"]
    assert result["failed_level"].to_list() == ["commune", "province"]
    assert "Ea Không Có" in result["message_en"][0]
    assert "Tỉnh Không Có" in result["message_vi"][1]


def test_documented_renames_are_applied_before_matching():
    aliases = pl.DataFrame({"level": ["province"], "name": ["Đắc Lắc cũ"], "province": [None],
                            "district": [None], "official_name": ["Đắk Lắk"]})
    names = pl.DataFrame({"row": [0], "province": ["Đắc Lắc cũ"], "district": ["M'Đrắk"],
                          "commune": ["Ea Trang"]}).with_columns(pl.col("row").cast(pl.Int64))
    result = match_names(names, PROVINCES, DISTRICTS, COMMUNES, aliases)
    assert result["unit_code"].item() == "00001"
    assert "read as" in result["alias_note"].item()


def test_folded_keys_treat_separators_and_leading_zeros_alike():
    assert folded_key("Phường 01") == folded_key("phường 1") == "1"
    assert folded_key("Bà Rịa - Vũng Tàu") == folded_key("Bà Rịa–Vũng Tàu")


def test_the_shipped_lists_match_the_geography_of_their_decision_dates():
    from schemas.geography import units_at

    on = date(2024, 6, 28)
    aliases = pl.read_csv(SHIPPED / "unit_aliases.csv", infer_schema=False)
    districts = pl.read_csv(SHIPPED / "poor_districts_qd353_2022_partial.csv", infer_schema=False) \
        .with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))
    matched = match_names(districts, units_at("province", date(2022, 3, 15)), units_at("district", date(2022, 3, 15)),
                          None, aliases)
    assert matched["status"].to_list() == ["matched"] * 38
    exits = pl.read_csv(SHIPPED / "coastal_commune_exits.csv", infer_schema=False) \
        .with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))
    matched = match_names(exits, units_at("province", on), units_at("district", on), units_at("commune", on),
                          aliases)
    # Điền Hương is not in the 2025-01-04 list (it was reorganised); it is reported, not guessed
    assert matched.filter(pl.col("status") != "matched")["commune"].to_list() == ["Điền Hương"]
    an_thuy = matched.filter(pl.col("alias_note").str.contains("An Thủy"))
    assert an_thuy["unit_code"].to_list() == ["29179"]
