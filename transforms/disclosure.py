"""Statistical disclosure control of the poverty tables before they are released to the public.

Grain in and out: one row per year × level × unit × ethnic group × area (the layout of poverty_by_ethnicity
or poverty_by_area), the same rows out with their counts and rates withheld where needed and two more
columns: `suppression` (null, "primary", "secondary" or "change") and `suppression_reason` (bilingual).

Decisions an analyst or an operator will ask about (docs/disclosure-control.md says the same at length):
- Primary: a row with between 1 and k − 1 households behind it (k = 3 by default) has every count and
  rate withheld. The households behind a row are its households_total; where that is unknown (a unit
  whose total number of households was not reported), the largest household count the row does publish,
  a lower bound: one poor household of a group is withheld whatever the unknown total. A row of
  0 households discloses no household and stays published.
- Secondary: the published tables hold additive relations (a group of rows whose first row is the sum of
  the others): a unit's ALL = 01 + EM = the sum of its 2-digit groups, EM = the sum of its groups but 01;
  area all = rural + urban; a parent unit = the sum of the units whose parent_code names it. Where a
  relation has exactly one withheld row, that row is the published total minus the published rest, so the
  smallest published row of that relation is withheld too (rows of 0 households last, they protect least);
  repeated over every relation of every table jointly until no relation has exactly one withheld row.
- That rule alone can leave a row exactly recoverable by combining several relations (a chain of
  relations with two withheld rows each can still pin one down), so every group of withheld rows linked
  by relations is then solved as a linear system; a row the system determines gets one more secondary
  suppression in a relation it belongs to, and the two steps repeat until nothing is recoverable.
- Exact recovery is what is prevented; a reader may still learn bounds (counts are never negative).
- Rows are withheld whole, so the relations inside a row (poor + near-poor = poor or near-poor, rate =
  count / total) cannot reveal a withheld count either. A rate change against the previous year is
  withheld ("change") when the previous year's row was withheld, since this year's rate minus the change
  would give it back.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from schemas.marts import ALL_AREAS, ALL_GROUPS, ETHNIC_MINORITIES, KINH, POVERTY_BY_ETHNICITY

DEFAULT_MIN_HOUSEHOLDS = 3
SUPPRESSION = "suppression"
SUPPRESSION_REASON = "suppression_reason"
PRIMARY = "primary"
SECONDARY = "secondary"
CHANGE = "change"

CELL = "__cell__"
RELATION = "relation"
IS_TOTAL = "is_total"
KEYS = ("year", "level", "unit_code", "ethnic_group", "area")
# Columns with a unit are figures about households (counts, rates, changes, shares); the others are keys,
# places and counts of administrative units, which disclose nothing about a household.
WITHHELD_COLUMNS: tuple[str, ...] = tuple(c.name for c in POVERTY_BY_ETHNICITY.columns if c.unit is not None)
CHANGE_COLUMNS: tuple[str, ...] = tuple(c for c in WITHHELD_COLUMNS if c.endswith("_change_pp"))
HOUSEHOLD_COUNTS: tuple[str, ...] = tuple(c.name for c in POVERTY_BY_ETHNICITY.columns if c.unit == "households")
HOUSEHOLDS_BEHIND = "__households_behind__"
# A linked group of withheld rows larger than this is solved in pieces of its own relations' rows; past it
# the dense solve would cost more than it is worth, and the iterative rule has already run.
LARGEST_SYSTEM = 4000


def _is_group_code(column: str) -> pl.Expr:
    return pl.col(column).str.contains(r"^\d{2}$")


def relations(cells: pl.DataFrame) -> pl.DataFrame:
    """Every additive relation the published table holds.

    Grain in: one row per cell (KEYS, parent_code, CELL). Grain out: one row per relation × member row:
    RELATION (a readable name), CELL, IS_TOTAL (the member the others add up to)."""
    base = cells.select(*KEYS, "parent_code", CELL)

    def grouped(name: str, totals: pl.DataFrame, members: pl.DataFrame, on: list[str]) -> pl.DataFrame:
        label = pl.concat_str([pl.lit(name), *[pl.col(k).cast(pl.String) for k in on]], separator=" ")
        total_rows = totals.select(*on, CELL).with_columns(label.alias(RELATION), pl.lit(True).alias(IS_TOTAL))
        member_rows = (members.select(*on, CELL).join(totals.select(on), on=on, how="semi")
                       .with_columns(label.alias(RELATION), pl.lit(False).alias(IS_TOTAL)))
        # A relation needs its total and at least one member to say anything.
        has_members = member_rows.select(RELATION).unique()
        return (pl.concat([total_rows.join(has_members, on=RELATION, how="semi"), member_rows])
                .select(RELATION, CELL, IS_TOTAL))

    unit = ["year", "level", "unit_code"]
    area_relation = grouped("area", base.filter(pl.col("area") == ALL_AREAS),
                            base.filter(pl.col("area") != ALL_AREAS), [*unit, "ethnic_group"])
    every_group = grouped("ethnic ALL=Σgroups", base.filter(pl.col("ethnic_group") == ALL_GROUPS),
                          base.filter(_is_group_code("ethnic_group")), [*unit, "area"])
    all_is_kinh_and_minorities = grouped(
        "ethnic ALL=01+EM", base.filter(pl.col("ethnic_group") == ALL_GROUPS),
        base.filter(pl.col("ethnic_group").is_in([KINH, ETHNIC_MINORITIES])), [*unit, "area"])
    minorities = grouped("ethnic EM=Σgroups≠01", base.filter(pl.col("ethnic_group") == ETHNIC_MINORITIES),
                         base.filter(_is_group_code("ethnic_group") & (pl.col("ethnic_group") != KINH)),
                         [*unit, "area"])
    parents = base.select("year", pl.col("unit_code").alias("parent_code"), "ethnic_group", "area", CELL)
    hierarchy = grouped("parent", parents, base.filter(pl.col("parent_code").is_not_null()),
                        ["year", "parent_code", "ethnic_group", "area"])
    relation_frames = [area_relation, every_group, all_is_kinh_and_minorities, minorities, hierarchy]
    return pl.concat(relation_frames).with_columns(pl.col(CELL).cast(pl.UInt32))


def _lonely_relations_filled(members: pl.DataFrame, state: pl.DataFrame) -> pl.DataFrame:
    """One step of the iterative rule: for every relation with exactly one withheld row, its smallest
    published row (rows of 0 households last). Returns (CELL, RELATION) of the rows to withhold now."""
    joined = members.join(state, on=CELL, how="left")
    lonely = (joined.group_by(RELATION).agg(pl.col("withheld").sum().alias("withheld_rows"))
              .filter(pl.col("withheld_rows") == 1).select(RELATION))
    if lonely.height == 0:
        return pl.DataFrame(schema={CELL: pl.UInt32, RELATION: pl.String})
    return _smallest_published(joined.join(lonely, on=RELATION, how="semi"))


def _smallest_published(joined: pl.DataFrame) -> pl.DataFrame:
    candidates = joined.filter(~pl.col("withheld")).with_columns(
        (pl.col(HOUSEHOLDS_BEHIND).fill_null(0) <= 0).alias("protects_least"))
    return (candidates.sort("protects_least", HOUSEHOLDS_BEHIND, CELL, nulls_last=True)
            .group_by(RELATION, maintain_order=True).first()
            .select(CELL, RELATION).unique(CELL, keep="first", maintain_order=True))


def _components(members: pl.DataFrame, withheld: set[int]) -> list[tuple[list[int], list[str]]]:
    """Groups of withheld rows linked through relations, each with the relations that touch it."""
    touching = members.filter(pl.col(CELL).is_in(list(withheld)))
    parent: dict[int, int] = {}

    def root(cell: int) -> int:
        while parent.setdefault(cell, cell) != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    # A union-find over the withheld rows: a graph walk, not a loop over table rows.
    for cells in touching.group_by(RELATION).agg(pl.col(CELL)).get_column(CELL).to_list():
        first = root(cells[0])
        for other in cells[1:]:
            parent[root(other)] = first
    groups: dict[int, list[int]] = {}
    for cell in withheld:
        groups.setdefault(root(cell), []).append(cell)
    relation_of = touching.group_by(RELATION).agg(pl.col(CELL).first().alias("any_cell"))
    names: dict[int, list[str]] = {}
    for name, cell in relation_of.iter_rows():
        names.setdefault(root(cell), []).append(name)
    return [(sorted(cells), sorted(names.get(key, []))) for key, cells in groups.items()]


def recoverable(members: pl.DataFrame, withheld: set[int]) -> set[int]:
    """The withheld rows whose counts the published relations determine exactly.

    Every relation is `total − Σ members = 0`; with the published rows moved to the right-hand side, the
    withheld rows are the unknowns. An unknown is determined exactly when no solution of the homogeneous
    system moves it, i.e. its entry is zero in every null-space vector."""
    if not withheld:
        return set()
    found: set[int] = set()
    signed = members.filter(pl.col(CELL).is_in(list(withheld))).with_columns(
        pl.when(pl.col(IS_TOTAL)).then(1.0).otherwise(-1.0).alias("sign"))
    for cells, names in _components(members, withheld):
        if len(cells) > LARGEST_SYSTEM or not names:
            continue
        position = {cell: index for index, cell in enumerate(cells)}
        row_of = {name: index for index, name in enumerate(names)}
        system = np.zeros((len(names), len(cells)))
        part = signed.filter(pl.col(RELATION).is_in(names))
        for name, cell, sign in part.select(RELATION, CELL, "sign").iter_rows():
            system[row_of[name], position[cell]] = sign
        _, singular, right = np.linalg.svd(system)
        rank = int((singular > 1e-9).sum())
        null_space = right[rank:]
        free = np.abs(null_space).max(axis=0) if null_space.size else np.zeros(len(cells))
        found |= {cell for cell, movement in zip(cells, free, strict=True) if movement < 1e-9}
    return found


def suppress(table: pl.DataFrame, *, min_households: int = DEFAULT_MIN_HOUSEHOLDS) -> pl.DataFrame:
    """Withhold every count and rate of the rows that could disclose a household (see the module notes).

    Grain in: one row per year × level × unit × ethnic group × area, with households_total and parent_code.
    Grain out: the same rows, WITHHELD_COLUMNS null where withheld, plus SUPPRESSION and SUPPRESSION_REASON."""
    if min_households < 1:
        raise ValueError(f"k must be at least 1 household, not {min_households}")
    cells = table.with_row_index(CELL)
    members = relations(cells)
    counts = [c for c in HOUSEHOLD_COUNTS if c in cells.columns and c != "households_total"]
    behind = pl.coalesce(pl.col("households_total"), pl.max_horizontal(counts) if counts else pl.lit(None))
    sizes = cells.select(CELL, behind.alias(HOUSEHOLDS_BEHIND))
    primary = sizes.filter(pl.col(HOUSEHOLDS_BEHIND).is_between(1, min_households - 1)).get_column(CELL)
    withheld = set(primary.to_list())
    secondary: dict[int, str] = {}
    while True:
        while True:
            state = sizes.with_columns(pl.col(CELL).is_in(list(withheld)).alias("withheld"))
            picked = _lonely_relations_filled(members, state)
            if picked.height == 0:
                break
            for cell, relation in picked.iter_rows():
                withheld.add(cell)
                secondary.setdefault(cell, relation)
        exposed = recoverable(members, withheld)
        if not exposed:
            break
        state = sizes.with_columns(pl.col(CELL).is_in(list(withheld)).alias("withheld"))
        around = members.join(members.filter(pl.col(CELL).is_in(list(exposed))).select(RELATION).unique(),
                              on=RELATION, how="semi").join(state, on=CELL, how="left")
        picked = _smallest_published(around)
        if picked.height == 0:
            break  # every row of those relations is already withheld: nothing published to solve with
        cell, relation = picked.row(0)
        withheld.add(cell)
        secondary.setdefault(cell, relation)
    return _apply(cells, set(primary.to_list()), secondary, min_households)


def _apply(cells: pl.DataFrame, primary: set[int], secondary: dict[int, str], k: int) -> pl.DataFrame:
    because = pl.DataFrame({CELL: list(secondary), "because": list(secondary.values())},
                           schema={CELL: pl.UInt32, "because": pl.String})
    marked = cells.join(because, on=CELL, how="left").with_columns(
        pl.when(pl.col(CELL).is_in(list(primary))).then(pl.lit(PRIMARY))
        .when(pl.col("because").is_not_null()).then(pl.lit(SECONDARY))
        .otherwise(None).alias(SUPPRESSION))
    previous = (marked.filter(pl.col(SUPPRESSION).is_not_null())
                .select((pl.col("year") + 1).alias("year"), *KEYS[1:]).with_columns(pl.lit(True).alias("was_withheld")))
    marked = marked.join(previous, on=list(KEYS), how="left").with_columns(
        pl.when(pl.col(SUPPRESSION).is_null() & pl.col("was_withheld").fill_null(False)).then(pl.lit(CHANGE))
        .otherwise(pl.col(SUPPRESSION)).alias(SUPPRESSION))
    reason = (
        pl.when(pl.col(SUPPRESSION) == PRIMARY)
        .then(pl.lit(f"ít hơn {k} hộ / fewer than {k} households"))
        .when(pl.col(SUPPRESSION) == SECONDARY)
        .then(pl.concat_str([pl.lit("ẩn thêm để không suy ra được dòng đã ẩn từ tổng đã công bố / withheld so "
                                    "that a withheld row cannot be worked out from a published total: "),
                             pl.col("because")]))
        .when(pl.col(SUPPRESSION) == CHANGE)
        .then(pl.lit("dòng năm trước đã ẩn / the previous year's row is withheld"))
        .otherwise(None)
    )
    whole_row = pl.col(SUPPRESSION).is_in([PRIMARY, SECONDARY])
    return (marked.sort(CELL)
            .with_columns(reason.alias(SUPPRESSION_REASON))
            .with_columns(*[pl.when(whole_row).then(None).otherwise(pl.col(c)).alias(c)
                            for c in WITHHELD_COLUMNS if c in cells.columns and c not in CHANGE_COLUMNS],
                          *[pl.when(pl.col(SUPPRESSION).is_not_null()).then(None).otherwise(pl.col(c)).alias(c)
                            for c in CHANGE_COLUMNS if c in cells.columns])
            .drop(CELL, "because", "was_withheld"))


def carry_over(table: pl.DataFrame, released: pl.DataFrame) -> pl.DataFrame:
    """The same withholding on another table of the same cells (poverty_by_area = the ALL rows of
    poverty_by_ethnicity), so that two released tables never publish what the other withholds. A row the
    released table does not hold is withheld: it was never checked.

    Grain in and out: one row per year × level × unit × ethnic group × area."""
    flags = released.select(*KEYS, SUPPRESSION, SUPPRESSION_REASON, pl.lit(True).alias("checked"))
    joined = table.join(flags, on=list(KEYS), how="left").with_columns(
        pl.when(pl.col("checked").is_null()).then(pl.lit(SECONDARY)).otherwise(pl.col(SUPPRESSION))
        .alias(SUPPRESSION),
        pl.when(pl.col("checked").is_null())
        .then(pl.lit("không có trong bảng đã kiểm tra / not in the checked table"))
        .otherwise(pl.col(SUPPRESSION_REASON)).alias(SUPPRESSION_REASON))
    whole_row = pl.col(SUPPRESSION).is_in([PRIMARY, SECONDARY])
    return joined.with_columns(
        *[pl.when(whole_row).then(None).otherwise(pl.col(c)).alias(c)
          for c in WITHHELD_COLUMNS if c in table.columns and c not in CHANGE_COLUMNS],
        *[pl.when(pl.col(SUPPRESSION).is_not_null()).then(None).otherwise(pl.col(c)).alias(c)
          for c in CHANGE_COLUMNS if c in table.columns]).drop("checked")
