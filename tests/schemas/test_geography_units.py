"""Which units exist on a date, and who is each one's parent (schemas.geography)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime

import polars as pl
import pytest

from schemas import geography
from schemas.geography import (
    REFORM_DATE,
    UNITS_SCHEMA,
    geography_version,
    hierarchy_at,
    regions,
    review_date,
    units_at,
)

BEFORE = date(2024, 12, 31)
AFTER = date(2025, 7, 1)
ISLAND_DISTRICTS = {"318", "471", "498", "536", "755"}

# docs/legal-basis.md#geography: the 34 province codes of Decision 19/2025/QĐ-TTg.
PROVINCE_CODES_2025 = {
    "01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "31", "33", "37", "38", "40",
    "42", "44", "46", "48", "51", "52", "56", "66", "68", "75", "79", "80", "82", "86", "91", "92", "96",
}


def _one(frame: pl.DataFrame, code: str) -> dict:
    rows = frame.filter(pl.col("unit_code") == code).to_dicts()
    assert len(rows) == 1, f"expected exactly one unit {code}, got {len(rows)}"
    return rows[0]


def test_the_reform_splits_time_at_1_july_2025():
    assert REFORM_DATE == date(2025, 7, 1)
    assert geography_version(date(2025, 6, 30)) == "GSO-2025-01-04"
    assert geography_version(date(2025, 7, 1)) == "QD19-2025"


def test_a_timestamp_is_read_as_its_date():
    assert geography_version(datetime(2025, 6, 30, 23, 59)) == "GSO-2025-01-04"
    assert units_at("province", datetime(2025, 7, 1, 0, 0)).height == 34


def test_a_review_year_is_read_on_31_december():
    assert review_date(2024) == date(2024, 12, 31)
    assert geography_version(review_date(2024)) == "GSO-2025-01-04"
    assert geography_version(review_date(2025)) == "QD19-2025"


@pytest.mark.parametrize("level", ["national", "region", "province", "district", "commune"])
@pytest.mark.parametrize("on", [BEFORE, AFTER])
def test_every_level_has_the_same_typed_columns_and_unique_codes(level, on):
    frame = units_at(level, on)
    assert frame.schema == UNITS_SCHEMA
    assert frame["unit_code"].is_duplicated().sum() == 0
    assert (frame["level"] == level).all()


def test_pre_reform_counts_are_63_provinces_696_districts_10051_communes():
    assert units_at("province", BEFORE).height == 63
    assert units_at("district", BEFORE).height == 696
    assert units_at("commune", BEFORE).height == 10_051
    assert units_at("region", BEFORE).height == 6
    assert units_at("national", BEFORE).height == 1


def test_post_reform_counts_are_34_provinces_3321_communes_and_no_districts():
    assert units_at("province", AFTER).height == 34
    assert units_at("commune", AFTER).height == 3_321
    districts = units_at("district", AFTER)
    assert districts.is_empty()
    assert districts.schema == UNITS_SCHEMA


def test_codes_are_zero_padded_to_their_official_widths():
    for on in (BEFORE, AFTER):
        for level, width in (("province", 2), ("district", 3), ("commune", 5)):
            codes = units_at(level, on)["unit_code"]
            assert (codes.str.len_chars() == width).all(), (level, on)
            assert codes.str.contains(r"^\d+$").all(), (level, on)


def test_commune_00001_climbs_to_the_nation_before_the_reform():
    commune = _one(units_at("commune", BEFORE), "00001")
    assert (commune["unit_type"], commune["area"]) == ("Phường", "urban")
    assert (commune["parent_code"], commune["parent_level"]) == ("001", "district")
    district = _one(units_at("district", BEFORE), commune["parent_code"])
    assert (district["unit_name"], district["unit_type"]) == ("Quận Ba Đình", "Quận")
    assert (district["parent_code"], district["parent_level"]) == ("01", "province")
    province = _one(units_at("province", BEFORE), district["parent_code"])
    assert (province["unit_name"], province["unit_type"]) == ("Thành phố Hà Nội", "Thành phố")
    assert (province["parent_code"], province["parent_level"]) == ("red_river_delta", "region")
    region = _one(units_at("region", BEFORE), province["parent_code"])
    assert (region["parent_code"], region["parent_level"]) == ("VN", "national")
    nation = _one(units_at("national", BEFORE), "VN")
    assert nation["parent_code"] is None and nation["province_code"] is None and nation["region_key"] is None


def test_province_and_district_unit_types_come_from_the_name_prefix():
    provinces = units_at("province", BEFORE)
    assert _one(provinces, "02")["unit_type"] == "Tỉnh"
    assert set(provinces["unit_type"]) == {"Tỉnh", "Thành phố"}
    districts = units_at("district", BEFORE)
    assert set(districts["unit_type"]) == {"Quận", "Huyện", "Thị xã", "Thành phố"}
    assert (districts["unit_name"].str.starts_with(districts["unit_type"])).all()


def test_communes_take_their_type_from_the_cap_column_except_where_it_contradicts_the_name():
    listed = geography._pre2025_units().filter(pl.col("commune_code").is_not_null())
    assert dict(listed.group_by("listed_commune_type").len().iter_rows()) == {
        "Xã": 7_718, "Phường": 1_715, "Thị trấn": 618}
    corrected = listed.filter(pl.col("commune_type") != pl.col("listed_commune_type"))
    # 27046 "Phường 5" of Quận Phú Nhuận is listed as "Xã"; an urban district has only wards.
    assert corrected.select("commune_code", "commune_name", "commune_type").rows() == [("27046", "Phường 5", "Phường")]
    counts = dict(units_at("commune", BEFORE).group_by("unit_type").len().iter_rows())
    assert counts == {"Xã": 7_717, "Phường": 1_716, "Thị trấn": 618}


def test_area_is_urban_for_wards_and_towns_and_rural_for_communes_and_rural_districts():
    communes = units_at("commune", BEFORE)
    assert set(communes.filter(pl.col("unit_type") == "Xã")["area"]) == {"rural"}
    assert set(communes.filter(pl.col("unit_type").is_in(["Phường", "Thị trấn"]))["area"]) == {"urban"}
    districts = units_at("district", BEFORE)
    assert set(districts.filter(pl.col("unit_type") == "Huyện")["area"]) == {"rural"}
    assert set(districts.filter(pl.col("unit_type") != "Huyện")["area"]) == {"urban"}
    assert units_at("province", BEFORE)["area"].null_count() == 63


def test_island_districts_without_communes_are_district_units_and_lowest_units():
    districts = units_at("district", BEFORE)
    communes = units_at("commune", BEFORE)
    ly_son = _one(districts, "536")
    assert ly_son["unit_name"] == "Huyện Lý Sơn"
    assert ly_son["parent_code"] == "51"
    assert communes.filter(pl.col("district_code").is_in(sorted(ISLAND_DISTRICTS))).is_empty()
    with_communes = set(communes["district_code"])
    assert set(districts["unit_code"]) - with_communes == ISLAND_DISTRICTS
    hierarchy = hierarchy_at(BEFORE)
    islands = hierarchy.filter(pl.col("commune_code").is_null())
    assert set(islands["district_code"]) == ISLAND_DISTRICTS
    assert hierarchy.height == 10_051 + len(ISLAND_DISTRICTS)


def test_post_reform_communes_hang_directly_under_provinces():
    communes = units_at("commune", AFTER)
    assert (communes["parent_level"] == "province").all()
    assert communes["district_code"].null_count() == communes.height
    assert (communes["parent_code"] == communes["province_code"]).all()
    ba_dinh = _one(communes, "00004")
    assert (ba_dinh["unit_name"], ba_dinh["province_code"], ba_dinh["area"]) == ("Phường Ba Đình", "01", "urban")
    hierarchy = hierarchy_at(AFTER)
    assert hierarchy.height == 3_321
    assert hierarchy["district_code"].null_count() == 3_321
    assert hierarchy["commune_code"].null_count() == 0


def test_special_zones_have_unknown_area():
    communes = units_at("commune", AFTER)
    zones = communes.filter(pl.col("unit_type") == "Đặc khu")
    assert zones.height > 0
    assert zones["area"].null_count() == zones.height
    assert set(communes["unit_type"]) == {"Xã", "Phường", "Đặc khu"}


def test_post_reform_province_codes_are_the_official_34_not_the_same_named_old_ones():
    provinces = units_at("province", AFTER)
    assert set(provinces["unit_code"]) == PROVINCE_CODES_2025
    assert _one(provinces, "15")["unit_name"] == "Tỉnh Lào Cai"
    assert _one(provinces, "52")["unit_name"] == "Tỉnh Gia Lai"
    assert "10" not in set(provinces["unit_code"])
    assert "64" not in set(provinces["unit_code"])
    assert _one(units_at("province", BEFORE), "10")["unit_name"] == "Tỉnh Lào Cai"


def test_every_new_commune_has_a_province_and_every_province_has_communes():
    communes = units_at("commune", AFTER)
    assert communes["province_code"].null_count() == 0
    assert set(communes["province_code"]) == PROVINCE_CODES_2025


def test_the_flat_list_province_names_agree_with_the_codes_taken_from_the_conversion_table():
    records = json.loads(geography.UNITS_2025_FILE.read_text(encoding="utf-8"))
    named = pl.DataFrame({"unit_code": [f"{int(r['code']):05d}" for r in records],
                          "province_name": [r["province_name"] for r in records]})
    provinces = units_at("province", AFTER).select("unit_code", "unit_name")
    joined = (units_at("commune", AFTER).select("unit_code", "province_code")
              .join(named, on="unit_code")
              .join(provinces, left_on="province_code", right_on="unit_code"))
    assert joined.height == 3_321
    assert (joined["province_name"] == joined["unit_name"]).all()


def test_every_unit_parent_exists_at_the_parent_level():
    for on in (BEFORE, AFTER):
        for level in ("commune", "district", "province", "region"):
            units = units_at(level, on)
            if units.is_empty():
                continue
            parent_level = units["parent_level"].unique().to_list()
            assert len(parent_level) == 1, (level, on)
            parents = set(units_at(parent_level[0], on)["unit_code"])
            assert set(units["parent_code"]) <= parents, (level, on)


def test_region_and_province_of_every_lowest_unit_match_the_region_table():
    for on in (BEFORE, AFTER):
        hierarchy = hierarchy_at(on)
        assert hierarchy["province_code"].null_count() == 0
        assert hierarchy["region_key"].null_count() == 0
        joined = hierarchy.join(regions(on), on="province_code", how="left", suffix="_table")
        assert (joined["region_key"] == joined["region_key_table"]).all()


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="unknown level"):
        units_at("village", BEFORE)


def test_callers_cannot_change_the_cached_frames():
    frame = units_at("province", BEFORE)
    frame.insert_column(0, pl.lit("x").alias("scribble"))
    assert "scribble" not in units_at("province", BEFORE).columns


def test_all_reference_frames_load_in_well_under_a_second_of_cpu():
    # CPU time of a fresh process on one Polars thread: wall time on a shared machine says little.
    script = (
        "import time, polars\n"
        "from datetime import date\n"
        "start = time.process_time()\n"
        "from schemas import geography, ethnicity, standards\n"
        "for on in (date(2024, 12, 31), date(2025, 7, 1)):\n"
        "    [geography.units_at(level, on) for level in geography.GEOGRAPHY_LEVELS]\n"
        "    geography.hierarchy_at(on); geography.regions(on)\n"
        "geography.conversion_table(); ethnicity.ethnic_groups(); ethnicity.ethnic_code_for('Mông')\n"
        "standards.load_standard(standards.standard_for_year(2024))\n"
        "print(time.process_time() - start)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env={**os.environ, "POLARS_MAX_THREADS": "1"})
    assert float(result.stdout.strip()) < 1.0
