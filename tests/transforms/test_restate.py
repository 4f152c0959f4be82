"""Across the 2025 reform the change in points compares the same territory: last year's counts are restated
on the new units through the conversion table, never matched by a code that now names a merged unit."""

from __future__ import annotations

import polars as pl

from pipeline.build import previous_on_this_list, rows_on_this_list
from schemas.geography import (
    CONVERSION_SCHEMA,
    VERSION_POST_REFORM,
    VERSION_PRE_REFORM,
    conversion_table,
    hierarchy_at,
    review_date,
)
from transforms.restate import predecessors, restate_counts, with_headline_rates
from transforms.rollup import add_change_from_previous, units_from_hierarchy

# New list: province 44 = old 44 + old 45; province 01 unchanged. New commune 00004 = old 00004 + 00013
# (whole); new 00016 takes part of a split old 00019 (with old 00016); special zone 19742 = island district 471.
CONVERSION = pl.DataFrame([
    ("00004", "Trúc Bạch", "001", "01", "00004", "Ba Đình", "01", "whole", False),
    ("00013", "Quán Thánh", "001", "01", "00004", "Ba Đình", "01", "whole", False),
    ("00016", "Ngọc Hà", "001", "01", "00016", "Ngọc Hà", "01", "whole", False),
    ("00019", "Điện Biên", "001", "01", "00016", "Ngọc Hà", "01", "part", True),
    ("00019", "Điện Biên", "001", "01", "00004", "Ba Đình", "01", "part", True),
    ("19000", "Đồng Hới", "450", "44", "19000", "Đồng Hới", "44", "whole", False),
    ("19500", "Đông Hà", "461", "45", "19500", "Đông Hà", "44", "whole", False),
    (None, None, "471", "45", "19742", "Cồn Cỏ", "44", "whole", False),
], schema=["old_commune_code", "old_commune_name", "old_district_code", "old_province_code", "new_commune_code",
           "new_commune_name", "new_province_code", "note_kind", "old_is_split"], orient="row").with_columns(
    note=pl.lit("…")).select(CONVERSION_SCHEMA.names())
HIERARCHY_2025 = pl.DataFrame({
    "commune_code": ["00004", "00016", "19000", "19500", "19742"], "district_code": [None] * 5,
    "province_code": ["01", "01", "44", "44", "44"],
    "region_key": ["red_river_delta", "red_river_delta", "north_central", "north_central", "north_central"]})


def previous_row(level: str, unit: str, total: int | None, poor: int | None, near: int | None = 0,
                 group: str = "ALL", area: str = "all") -> dict:
    return {"level": level, "unit_code": unit, "ethnic_group": group, "area": area, "households_total": total,
            "households_poor": poor, "households_near_poor": near, "geography_version": VERSION_PRE_REFORM}


def restated(rows: list[dict]) -> dict[tuple[str, str], dict]:
    table = predecessors(CONVERSION, units_from_hierarchy(HIERARCHY_2025))
    out = with_headline_rates(restate_counts(pl.DataFrame(rows).lazy(), table)).collect()
    return {(r["level"], r["unit_code"]): r for r in out.iter_rows(named=True)}


def test_a_merged_province_is_compared_with_the_sum_of_its_old_provinces_not_with_its_namesake():
    got = restated([previous_row("province", "44", 1_000, 100), previous_row("province", "45", 3_000, 600),
                    previous_row("province", "01", 2_000, 20)])
    assert got[("province", "44")]["households_total"] == 4_000
    assert got[("province", "44")]["poor_rate"] == 700 * 100 / 4_000      # 17.5 %, not old 44's 10 %
    assert got[("province", "01")]["poor_rate"] == 1.0
    assert got[("national", "VN")]["households_total"] == 6_000
    assert got[("region", "north_central")]["households_poor"] == 700


def test_a_province_one_of_whose_parts_is_unknown_is_not_restated():
    got = restated([previous_row("province", "44", 1_000, None), previous_row("province", "45", 3_000, 600)])
    assert ("province", "44") not in got
    missing_part = restated([previous_row("province", "44", 1_000, 100)])
    assert ("province", "44") not in missing_part and ("national", "VN") not in missing_part


def test_communes_are_restated_from_whole_communes_only():
    got = restated([previous_row("commune", c, 100, 10) for c in ("00004", "00013", "00016", "00019")]
                   + [previous_row("district", "471", 50, 5)])
    # 00004 received part of split 00019: its households cannot be divided from counts.
    assert ("commune", "00004") not in got and ("commune", "00016") not in got
    # The special zone is its old island district.
    assert got[("commune", "19742")]["households_total"] == 50 and got[("commune", "19742")]["poor_rate"] == 10.0


def test_the_change_uses_the_restated_rows():
    previous = pl.DataFrame([previous_row("province", "44", 1_000, 100), previous_row("province", "45", 3_000, 600)])
    on_new_list = previous_on_this_list(previous, units_from_hierarchy(HIERARCHY_2025), VERSION_POST_REFORM)
    current = pl.DataFrame({"level": ["province"], "unit_code": ["44"], "ethnic_group": ["ALL"], "area": ["all"],
                            "poor_rate": [15.0], "near_poor_rate": [0.0], "poor_or_near_poor_rate": [15.0]})
    changed = add_change_from_previous(current.lazy(), on_new_list).collect()
    assert changed["poor_rate_change_pp"].to_list() == [-2.5]


def test_rows_of_the_same_list_are_used_as_they_are_and_unknown_pairs_of_lists_give_no_change():
    previous = pl.DataFrame([previous_row("province", "44", 1_000, 100)])
    units = units_from_hierarchy(HIERARCHY_2025)
    same = previous.with_columns(geography_version=pl.lit(VERSION_POST_REFORM))
    assert previous_on_this_list(same, units, VERSION_POST_REFORM).collect().equals(same)
    assert previous_on_this_list(previous, units, "some-other-list") is None
    assert previous_on_this_list(None, units, VERSION_POST_REFORM) is None


def test_the_official_table_merges_whole_provinces_and_keeps_split_communes_apart():
    table = predecessors(conversion_table(), units_from_hierarchy(hierarchy_at(review_date(2025))))
    provinces = table.filter(pl.col("level") == "province")
    assert provinces.get_column("unit_code").n_unique() == 34
    assert provinces.get_column("old_unit_code").n_unique() == 63
    assert sorted(provinces.filter(pl.col("unit_code") == "44").get_column("old_unit_code")) == ["44", "45"]
    assert table.filter(pl.col("level") == "national").height == 63
    split_new = conversion_table().filter(pl.col("old_is_split")).get_column("new_commune_code").unique()
    inexact = table.filter((pl.col("level") == "commune") & ~pl.col("exact")).get_column("unit_code").unique()
    assert set(split_new.to_list()) == set(inexact.to_list())


def test_earlier_years_on_the_old_list_are_restated_for_target_progress():
    """A 2021 baseline for new province 44 is old 44 + old 45; a row of an unknown list is left out."""
    rows = pl.DataFrame([
        {**previous_row("province", "44", 1_000, 100), "year": 2021},
        {**previous_row("province", "45", 3_000, 600), "year": 2021},
        {**previous_row("province", "44", 3_900, 500), "year": 2025, "geography_version": VERSION_POST_REFORM},
        {**previous_row("province", "44", 9, 9), "year": 2019, "geography_version": "some-other-list"},
    ])
    out = rows_on_this_list(rows, units_from_hierarchy(HIERARCHY_2025), VERSION_POST_REFORM,
                            keys=("year", "ethnic_group", "area"))
    provinces = out.filter(pl.col("level") == "province").sort("year")
    assert provinces.select("year", "unit_code", "households_total", "households_poor").rows() == [
        (2021, "44", 4_000, 700), (2025, "44", 3_900, 500)]
    assert set(out.get_column("geography_version")) == {VERSION_POST_REFORM}
