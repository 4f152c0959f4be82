"""The 54 ethnic groups of Decision 1019/QĐ-TCTK (2008) and how names resolve to codes (schemas.ethnicity)."""

from __future__ import annotations

import polars as pl
import pytest

from schemas.ethnicity import ETHNIC_GROUPS_SCHEMA, ethnic_code_for, ethnic_groups


def test_there_are_54_groups_coded_01_to_54():
    groups = ethnic_groups()
    assert groups.schema == ETHNIC_GROUPS_SCHEMA
    assert groups.height == 54
    assert groups["code"].to_list() == [f"{number:02d}" for number in range(1, 55)]


def test_only_kinh_is_not_a_minority():
    majority = ethnic_groups().filter(~pl.col("is_minority"))
    assert majority.select("code", "name").rows() == [("01", "Kinh")]
    assert ethnic_groups()["is_minority"].sum() == 53


def test_the_2008_order_differs_from_1979():
    # 1979: 04 Hoa, 05 Khơ-me, 06 Mường. 2008: 04 Mường, 05 Khmer, 06 Hoa.
    names = dict(ethnic_groups().select("code", "name").iter_rows())
    assert (names["04"], names["05"], names["06"]) == ("Mường", "Khmer", "Hoa")


def test_every_name_and_alias_resolves_to_its_own_code():
    for row in ethnic_groups().iter_rows(named=True):
        for spelling in [row["name"], *row["aliases"]]:
            assert ethnic_code_for(spelling) == row["code"], spelling


@pytest.mark.parametrize(("text", "code"), [
    ("Mông", "08"), ("H'Mông", "08"), ("hmong", "08"), ("H MÔNG", "08"), ("Dân tộc Mông", "08"),
    ("Khơ-me", "05"), ("Khơ me", "05"), ("KHMER", "05"),
    ("Ê Đê", "11"), ("e de", "11"), ("Ê-đê", "11"),
    ("Gia Rai", "10"), ("Gia-rai", "10"), ("Giarai", "10"), ("Jrai", "10"),
    ("Ra Glai", "19"), ("Raglai", "19"), ("Xtiêng", "22"), ("X'Tiêng", "22"), ("Stiêng", "22"),
    ("Bru Vân Kiều", "24"), ("Cơ Lao", "47"), ("Cờ Lao", "47"), ("Ơ Đu", "54"), ("o du", "54"),
    ("kinh", "01"), ("  Kinh\n", "01"), ("Ha\u0300 Nhi\u0300", "33"),  # NFD spelling of Hà Nhì
    ("8", "08"), ("08", "08"), ("54", "54"),
])
def test_names_aliases_and_codes_resolve_whatever_the_accents_or_case(text, code):
    assert ethnic_code_for(text) == code


@pytest.mark.parametrize("text", ["", "   ", "55", "0", "Việt", "người nước ngoài", "Mông Cổ"])
def test_anything_else_resolves_to_nothing(text):
    assert ethnic_code_for(text) is None


def test_accent_free_spellings_do_not_collide_between_groups():
    from schemas.text import spelling_key

    keys = ethnic_groups().select(pl.col("name").map_elements(spelling_key, return_dtype=pl.String))
    assert keys["name"].n_unique() == 54
