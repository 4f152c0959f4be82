"""A released commune × ethnic group table discloses no household: every row of fewer than k households is
withheld, and no withheld count can be worked out exactly from what is published beside it.

The attacker here is written independently of transforms/disclosure.py: it derives the additive relations
from what the table means (ALL = Σ groups = 01 + EM, EM = Σ groups but 01, all = rural + urban, a parent =
Σ its children), and solves them exactly (fractions, reduced row echelon form) for every withheld count."""

from __future__ import annotations

import random
from fractions import Fraction

import polars as pl
import pytest

from transforms.disclosure import PRIMARY, SECONDARY, SUPPRESSION, SUPPRESSION_REASON, suppress

COUNTS = ("households_total", "households_poor", "households_near_poor")
KEYS = ["year", "level", "unit_code", "ethnic_group", "area"]


def commune_table(seed: int, communes: int = 6, groups: tuple[str, ...] = ("01", "02", "03", "10", "24")) -> pl.DataFrame:
    """A district (001) of a province (01) with its communes, by ethnic group and area, every level and every
    ALL / EM / area 'all' row summed from the commune × group × area cells, as the build does."""
    rng = random.Random(seed)
    base = []
    for commune in range(communes):
        code = f"{commune + 1:05d}"
        for group in groups:
            for area in ("rural", "urban"):
                roll = rng.random()
                total = 0 if roll < 0.15 else rng.randint(1, 2) if roll < 0.4 else rng.randint(3, 60)
                if group == "01" and rng.random() < 0.7:
                    total += rng.randint(20, 200)
                poor = rng.randint(0, total)
                near = rng.randint(0, total - poor)
                base.append({"level": "commune", "unit_code": code, "parent_code": "001", "ethnic_group": group,
                             "area": area, "households_total": total, "households_poor": poor,
                             "households_near_poor": near})
    cells = pl.DataFrame(base).filter(pl.col("households_total") > 0)
    with_em = pl.concat([cells, cells.filter(pl.col("ethnic_group") != "01").with_columns(
        pl.lit("EM").alias("ethnic_group")), cells.with_columns(pl.lit("ALL").alias("ethnic_group"))])
    with_areas = pl.concat([with_em, with_em.with_columns(pl.lit("all").alias("area"))])
    communes_rows = with_areas.group_by("level", "unit_code", "parent_code", "ethnic_group", "area").agg(
        pl.col(c).sum() for c in COUNTS)
    district = communes_rows.group_by("ethnic_group", "area").agg(pl.col(c).sum() for c in COUNTS).with_columns(
        pl.lit("district").alias("level"), pl.lit("001").alias("unit_code"), pl.lit("01").alias("parent_code"))
    province = district.with_columns(pl.lit("province").alias("level"), pl.lit("01").alias("unit_code"),
                                     pl.lit(None, pl.String).alias("parent_code"))
    table = pl.concat([communes_rows, district.select(communes_rows.columns), province.select(communes_rows.columns)])
    return (table.with_columns(pl.lit(2024).cast(pl.Int64).alias("year"),
                               (pl.col("households_poor") / pl.col("households_total") * 100).alias("poor_rate"))
            .select(*KEYS, "parent_code", *COUNTS, "poor_rate").sort(KEYS))


def published_relations(table: pl.DataFrame) -> list[tuple[tuple, list[tuple]]]:
    """(total row key, [member row keys]) for every additive relation a reader knows holds."""
    rows = {tuple(r[k] for k in KEYS): r for r in table.iter_rows(named=True)}
    out = []
    for key in rows:
        year, _level, unit, group, area = key
        if area == "all":
            out.append((key, [k for k in rows if k[:4] == key[:4] and k[4] != "all"]))
        if group == "ALL":
            same = [k for k in rows if k[:3] == key[:3] and k[4] == area]
            out.append((key, [k for k in same if k[3].isdigit()]))
            out.append((key, [k for k in same if k[3] in ("01", "EM")]))
        if group == "EM":
            out.append((key, [k for k in rows if k[:3] == key[:3] and k[4] == area and k[3].isdigit()
                              and k[3] != "01"]))
        out.append((key, [k for k, r in rows.items() if r["parent_code"] == unit and k[0] == year
                          and k[3] == group and k[4] == area]))
    return [(total, members) for total, members in out if members]


def recoverable_by_arithmetic(released: pl.DataFrame, column: str) -> set[tuple]:
    """Every withheld count the published relations pin down exactly (Gauss–Jordan over fractions)."""
    values = {tuple(r[k] for k in KEYS): r[column] for r in released.iter_rows(named=True)}
    unknowns = sorted(k for k, v in values.items() if v is None)
    index = {k: i for i, k in enumerate(unknowns)}
    equations = []
    for total, members in published_relations(released):
        coefficients = [Fraction(0)] * (len(unknowns) + 1)
        for key, sign in [(total, 1), *[(m, -1) for m in members]]:
            if values[key] is None:
                coefficients[index[key]] += sign
            else:
                coefficients[-1] -= sign * values[key]
        if any(coefficients[:-1]):
            equations.append(coefficients)
    pivot_row = 0
    for column_index in range(len(unknowns)):
        found = next((r for r in range(pivot_row, len(equations)) if equations[r][column_index] != 0), None)
        if found is None:
            continue
        equations[pivot_row], equations[found] = equations[found], equations[pivot_row]
        lead = equations[pivot_row][column_index]
        equations[pivot_row] = [x / lead for x in equations[pivot_row]]
        for r in range(len(equations)):
            if r != pivot_row and equations[r][column_index] != 0:
                factor = equations[r][column_index]
                equations[r] = [a - factor * b for a, b in zip(equations[r], equations[pivot_row], strict=True)]
        pivot_row += 1
    return {unknowns[next(i for i, x in enumerate(eq[:-1]) if x != 0)]
            for eq in equations[:pivot_row] if sum(1 for x in eq[:-1] if x != 0) == 1}


# Seeds 18, 33 and 35 are tables where the one-relation-at-a-time rule alone leaves a row recoverable by
# combining relations: they hold the joint solve to account.
@pytest.mark.parametrize("seed", [*range(6), 18, 33, 35])
def test_no_withheld_count_can_be_worked_out_from_the_published_totals(seed):
    table = commune_table(seed)
    released = suppress(table, min_households=3)
    assert released.filter(pl.col(SUPPRESSION) == PRIMARY).height > 0, "the table must need protecting"
    for column in COUNTS:
        assert recoverable_by_arithmetic(released, column) == set()


@pytest.mark.parametrize("seed", range(4))
def test_every_small_row_is_withheld_and_every_other_published_row_is_unchanged(seed):
    table = commune_table(seed)
    before = table.clone()
    released = suppress(table, min_households=3)
    assert table.equals(before), "the internal table is never altered"
    small = released.join(table.filter(pl.col("households_total").is_between(1, 2)), on=KEYS, how="semi")
    assert small.get_column(SUPPRESSION).to_list() == [PRIMARY] * small.height
    assert small.select(*COUNTS, "poor_rate").null_count().row(0) == (small.height,) * 4
    published = released.filter(pl.col(SUPPRESSION).is_null()).drop(SUPPRESSION, SUPPRESSION_REASON)
    assert published.equals(table.join(published.select(KEYS), on=KEYS, how="semi").select(published.columns))


def test_a_lonely_small_row_takes_its_smallest_sibling_with_it_and_says_why():
    rows = [("ALL", 105), ("01", 100), ("02", 2), ("03", 3), ("EM", 5)]
    table = pl.DataFrame({
        "year": [2024] * 5, "level": ["commune"] * 5, "unit_code": ["00688"] * 5,
        "ethnic_group": [g for g, _ in rows], "area": ["all"] * 5, "parent_code": [None] * 5,
        "households_total": [n for _, n in rows]}, schema_overrides={"parent_code": pl.String})
    released = suppress(table, min_households=3)
    status = dict(zip(released.get_column("ethnic_group"), released.get_column(SUPPRESSION), strict=True))
    # 02 alone would be EM − 03: the smallest other row of that relation, 03, goes too.
    assert status["02"] == PRIMARY and status["03"] == SECONDARY
    assert recoverable_by_arithmetic(released, "households_total") == set()
    reasons = released.filter(pl.col(SUPPRESSION) == SECONDARY).get_column(SUPPRESSION_REASON).to_list()
    assert all("withheld so that" in reason and "ẩn" in reason for reason in reasons)


def test_a_row_of_no_household_discloses_nothing_and_stays_published():
    table = pl.DataFrame({"year": [2024] * 3, "level": ["commune"] * 3, "unit_code": ["00688"] * 3,
                          "ethnic_group": ["ALL"] * 3, "area": ["all", "rural", "urban"],
                          "parent_code": [None] * 3, "households_total": [40, 40, 0]},
                         schema_overrides={"parent_code": pl.String})
    assert suppress(table).get_column(SUPPRESSION).null_count() == 3


def test_k_is_a_parameter():
    table = commune_table(1)
    loose = suppress(table, min_households=3).get_column(SUPPRESSION).is_not_null().sum()
    strict = suppress(table, min_households=10).get_column(SUPPRESSION).is_not_null().sum()
    assert strict > loose
    with pytest.raises(ValueError):
        suppress(table, min_households=0)
