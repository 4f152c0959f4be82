"""Which region each province belongs to, by period (schemas.geography.regions)."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl

from schemas import geography
from schemas.geography import REGIONS_SCHEMA, regions, units_at

BEFORE = date(2024, 12, 31)
AFTER = date(2026, 12, 31)


def test_six_regions_with_14_11_14_5_6_13_provinces_before_the_reform():
    table = regions(BEFORE)
    assert table.schema == REGIONS_SCHEMA
    counts = dict(table.group_by("region_key").len().iter_rows())
    assert counts == {
        "northern_midlands_mountains": 14, "red_river_delta": 11, "north_central_central_coast": 14,
        "central_highlands": 5, "southeast": 6, "mekong_delta": 13,
    }
    assert table["confirmed"].all()
    assert set(table["province_code"]) == set(units_at("province", BEFORE)["unit_code"])


def test_post_reform_membership_is_provisional_and_covers_the_34_provinces():
    table = regions(AFTER)
    assert table.height == 34
    assert not table["confirmed"].any()
    assert set(table["province_code"]) == set(units_at("province", AFTER)["unit_code"])
    assert table["region_key"].n_unique() == 6


def test_each_new_province_takes_the_region_of_the_old_province_whose_code_it_keeps():
    before = regions(BEFORE).select("province_code", old_region="region_key")
    joined = regions(AFTER).join(before, on="province_code", how="left")
    assert joined["old_region"].null_count() == 0
    assert (joined["region_key"] == joined["old_region"]).all()
    with open(geography.REGIONS_2025_FILE, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert all(row["derived_from_old_province_code"] == row["province_code"] for row in rows)


def test_new_gia_lai_follows_its_seat_in_old_binh_dinh():
    table = regions(AFTER)
    gia_lai = table.filter(pl.col("province_code") == "52")
    assert gia_lai["region_key"].to_list() == ["north_central_central_coast"]
