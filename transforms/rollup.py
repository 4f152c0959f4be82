"""Roll household counts up the administrative hierarchy valid at the review date.

The expensive step touches households once: `household_groups` reduces them to small groups, from which
`cells_from_groups` makes the finest grain (commune × ethnic code × area). Everything after works on that small aggregate: `add_group_totals`
adds EM/ALL and area "all", `choose_lowest_sources` decides where each lowest unit's figures come from,
and `roll_up` sums level by level (commune → district → province → region → national before the 2025
reform; commune → province → region → national from it).

Unknown is not zero. A unit whose figures come from household data knows every cell: a cell with no row
there is a true zero (no household of that group). A unit known only from a summary knows the cells the
summary has; any other cell is unknown. A parent's count is known only when every expected child's is,
so one missing commune leaves its district, province, region and the nation null for that count —
unless a summary of the parent itself fills the gap (`source_level` then names that summary's level).

Rates are over resident households (*tổng số hộ dân cư*), not over the households a commune reviewed. A
household list holds the reviewed households (those on the lists and the applicants, Decision 24/2021)
unless its submission declares that it lists every resident household (`lists_every_household`). A
reviewed-only list knows its poor and near-poor counts (`REVIEWED_MEASURES`) but not the counts that need
every household (`RESIDENT_MEASURES`): its resident total comes from the most detailed summary row about
that commune cell, and the rest stay unknown.
"""

from __future__ import annotations

import polars as pl

from schemas.contracts import INDICATOR_IDS
from schemas.marts import ALL_AREAS, ALL_GROUPS, ETHNIC_MINORITIES, KINH, NATIONAL_CODE
from transforms.classify import (
    DISAGREEING_HOUSEHOLD,
    DISAGREEMENT_DETAIL,
    agrees_with_reported,
    classification_name,
)

HEADLINE_MEASURES: tuple[str, ...] = ("households_total", "households_poor", "households_near_poor")
SUMMARY_INDICATOR_MEASURES: tuple[str, ...] = (
    *(f"poor_deprived_{ind}" for ind in INDICATOR_IDS),
    *(f"near_poor_deprived_{ind}" for ind in INDICATOR_IDS),
)
HOUSEHOLD_ONLY_MEASURES: tuple[str, ...] = (
    "households_average", "households_mpi_poor", "mpi_deprivations_sum",
    *(f"households_deprived_{ind}" for ind in INDICATOR_IDS),
)
# Additive counts carried through the roll-up; rates are derived from them at each level.
MEASURES: tuple[str, ...] = (*HEADLINE_MEASURES, "households_reviewed", *SUMMARY_INDICATOR_MEASURES,
                             *HOUSEHOLD_ONLY_MEASURES)
# What a list of the reviewed households alone cannot know: every count over all resident households.
RESIDENT_MEASURES: tuple[str, ...] = ("households_total", *HOUSEHOLD_ONLY_MEASURES)
# What any household list knows, complete or reviewed-only: the reviewed households and the poor and
# near-poor among them (every poor or near-poor household is reviewed).
REVIEWED_MEASURES: tuple[str, ...] = tuple(m for m in MEASURES if m not in RESIDENT_MEASURES)
# The submission's declaration that its household list holds every resident household of the commune.
COMPLETE_LIST = "lists_every_household"
# Why households_total is unknown (null when it is known).
MISSING_REVIEWED_ONLY = "reviewed_list_without_resident_total"
MISSING_NOT_REPORTED = "not_reported"
SUMMARY_MEASURES: tuple[str, ...] = (*HEADLINE_MEASURES, *SUMMARY_INDICATOR_MEASURES)

REQUIRED_GROUPS: tuple[str, ...] = (ALL_GROUPS, ETHNIC_MINORITIES, KINH)
AREAS: tuple[str, ...] = ("rural", "urban", ALL_AREAS)
CELL: tuple[str, ...] = ("unit_code", "ethnic_group", "area")

# Submitting levels from the most to the least detailed; a source's rank is its index.
SOURCE_LEVELS: tuple[str, ...] = ("commune", "district", "province")
INDICATOR_COUNT = len(INDICATOR_IDS)


def known_sum(name: str) -> pl.Expr:
    """Sum that is null as soon as one input is null: unknown stays unknown."""
    column = pl.col(name)
    return pl.when(column.null_count() == 0).then(column.sum()).otherwise(None).cast(pl.Int64).alias(name)


def known_row_sum(*names: str) -> pl.Expr:
    """Row-wise sum of count columns that is null as soon as one part is null: unknown plus anything is
    unknown (named after the first column; alias it)."""
    total = pl.col(names[0]).cast(pl.Int64)
    for name in names[1:]:
        total = total + pl.col(name).cast(pl.Int64)
    return total


def source_rank(level: str | pl.Expr) -> pl.Expr:
    """0, 1, 2 for data submitted by a commune, district, province (the most detailed first)."""
    level = pl.col(level) if isinstance(level, str) else level
    return (pl.when(level == "commune").then(0).when(level == "district").then(1)
            .when(level == "province").then(2).otherwise(None).cast(pl.Int64))


def source_level_name(rank: pl.Expr) -> pl.Expr:
    return (pl.when(rank == 0).then(pl.lit("commune")).when(rank == 1).then(pl.lit("district"))
            .when(rank == 2).then(pl.lit("province")).otherwise(pl.lit(None, dtype=pl.String)))


# --- households → finest grain ---------------------------------------------------------------------------

def household_groups(classified: pl.LazyFrame) -> pl.LazyFrame:
    """classified household → submission × commune × ethnic code × area × classification code × the
    commune's own classification × MPI status, plus one group of its own for each household whose commune
    classified it differently from the standard (`DISAGREEING_HOUSEHOLD` holds its id; null elsewhere).

    This is the one pass over households of the nightly build: every measure of the finest grain
    (`cells_from_groups`) and the list of disagreeing households (transforms.classify
    .disagreements_from_groups) are cut from its small result. Disagreeing households are few, so giving
    each its own group costs little, where a second pass over every household cost as much as the first.
    Measured on 27 M households, grouping then spreading is faster than one conditional sum per measure."""
    keys = ["submission_id", "commune_code", "head_ethnicity_code", "area"]
    compared = pl.col("reported_classification").is_not_null() & pl.col("classification_code").is_not_null()
    disagreeing = pl.when(compared & ~agrees_with_reported()).then(pl.col("household_id"))
    return (
        with_declaration(classified)
        .group_by(*keys, COMPLETE_LIST, "classification_code", "reported_classification", "is_mpi_poor",
                  disagreeing.alias(DISAGREEING_HOUSEHOLD))
        .agg(
            pl.len().cast(pl.Int64).alias("_households"),
            pl.col("submitting_level").first(),
            pl.col("deprivation_count").sum().cast(pl.Int64).alias("_deprivations"),
            *(pl.col(ind).sum().cast(pl.Int64) for ind in INDICATOR_IDS),
            # What the list of disagreeing households shows; only read on their own groups.
            *(pl.col(name).first() for name in DISAGREEMENT_DETAIL),
        )
    )


def with_declaration(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Any household grain → same, with `lists_every_household` false where the frame has no such column or
    the submission declared nothing: a list is reviewed-only unless declared complete."""
    if COMPLETE_LIST not in frame.collect_schema().names():
        return frame.with_columns(pl.lit(False).alias(COMPLETE_LIST))
    return frame.with_columns(pl.col(COMPLETE_LIST).fill_null(False))


def aggregate_households(classified: pl.LazyFrame) -> pl.LazyFrame:
    """classified household → submission × commune × ethnic code × area (the finest grain); see
    `cells_from_groups` for the measures."""
    return cells_from_groups(household_groups(classified))


def cells_from_groups(groups: pl.LazyFrame) -> pl.LazyFrame:
    """household groups (`household_groups`) → submission × commune × ethnic code × area (the finest
    grain), with every additive measure as Int64, plus households_compared and
    classification_disagreements (the commune's own classification against the standard's; see
    transforms.classify). Households whose classification is unknown make the classification counts of
    their cell null; households_average is null where the standard has no upper bound.

    households_reviewed counts the listed households. households_total and the other RESIDENT_MEASURES are
    the list's own counts only when the list is declared complete (`lists_every_household`); a
    reviewed-only list leaves them null (its resident total comes from a summary, choose_lowest_sources)."""
    keys = ["submission_id", "commune_code", "head_ethnicity_code", "area", COMPLETE_LIST]
    by_class = groups.with_columns(classification_name(pl.col("classification_code")).alias("classification"))
    classification = pl.col("classification")
    households = pl.col("_households")
    compared = pl.col("reported_classification").is_not_null() & pl.col("classification_code").is_not_null()

    def households_where(condition: pl.Expr) -> pl.Expr:
        return pl.when(condition).then(households).otherwise(0).sum()

    def unknown_if_any(condition: pl.Expr, value: pl.Expr, name: str) -> pl.Expr:
        return pl.when(condition.any()).then(None).otherwise(value).cast(pl.Int64).alias(name)

    unclassified = classification.is_null()
    return (
        by_class
        .group_by(keys)
        .agg(
            pl.col("submitting_level").first(),
            households.sum().cast(pl.Int64).alias("households_total"),
            households.sum().cast(pl.Int64).alias("households_reviewed"),
            unknown_if_any(unclassified, households_where(classification == "poor"), "households_poor"),
            unknown_if_any(unclassified, households_where(classification == "near_poor"), "households_near_poor"),
            unknown_if_any(unclassified | (classification == "not_poor"),
                           households_where(classification == "average"), "households_average"),
            *(pl.when(classification == "poor").then(pl.col(ind)).otherwise(0).sum().cast(pl.Int64)
              .alias(f"poor_deprived_{ind}") for ind in INDICATOR_IDS),
            *(pl.when(classification == "near_poor").then(pl.col(ind)).otherwise(0).sum().cast(pl.Int64)
              .alias(f"near_poor_deprived_{ind}") for ind in INDICATOR_IDS),
            households_where(pl.col("is_mpi_poor")).cast(pl.Int64).alias("households_mpi_poor"),
            pl.when(pl.col("is_mpi_poor")).then(pl.col("_deprivations")).otherwise(0).sum().cast(pl.Int64)
            .alias("mpi_deprivations_sum"),
            *(pl.col(ind).sum().cast(pl.Int64).alias(f"households_deprived_{ind}") for ind in INDICATOR_IDS),
            households_where(compared).cast(pl.Int64).alias("households_compared"),
            households_where(compared & ~agrees_with_reported()).cast(pl.Int64)
            .alias("classification_disagreements"),
        )
        .with_columns(pl.when(pl.col(COMPLETE_LIST)).then(pl.col(m)).otherwise(None).cast(pl.Int64).alias(m)
                      for m in RESIDENT_MEASURES)
        .rename({"commune_code": "unit_code", "head_ethnicity_code": "ethnic_group"})
    )


def add_group_totals(cells: pl.LazyFrame, by: tuple[str, ...] = ("submission_id", "submitting_level",
                                                                  "unit_code", COMPLETE_LIST)) -> pl.LazyFrame:
    """unit × ethnic code × area (rural/urban) → unit × ethnic group (each code, EM, ALL) × area (rural,
    urban, all). Sums stay null when a part is null. Only for complete data (household lists): a summary's
    own EM/ALL/all rows are taken as reported, never derived."""
    measures = [known_sum(m) for m in MEASURES]
    with_all_areas = pl.concat([
        cells,
        cells.group_by(*by, "ethnic_group").agg(measures).with_columns(area=pl.lit(ALL_AREAS)),
    ], how="diagonal")
    minorities = (with_all_areas.filter(pl.col("ethnic_group") != KINH)
                  .group_by(*by, "area").agg(measures).with_columns(ethnic_group=pl.lit(ETHNIC_MINORITIES)))
    everyone = with_all_areas.group_by(*by, "area").agg(measures).with_columns(ethnic_group=pl.lit(ALL_GROUPS))
    columns = [*by, "ethnic_group", "area", *MEASURES]
    return pl.concat([with_all_areas.select(columns), minorities.select(columns), everyone.select(columns)])


# --- geography -------------------------------------------------------------------------------------------

def level_chain(hierarchy: pl.DataFrame) -> list[str]:
    """Levels of the list the hierarchy comes from, lowest first: five tiers when it has districts."""
    if hierarchy.get_column("district_code").is_not_null().any():
        return ["commune", "district", "province", "region", "national"]
    return ["commune", "province", "region", "national"]


def units_from_hierarchy(hierarchy: pl.DataFrame) -> pl.DataFrame:
    """lowest unit (schemas.geography.hierarchy_at) → every unit at every level: unit_code, level,
    parent_code, province_code, region_key, is_lowest, lowest_units_expected."""
    has_districts = "district" in level_chain(hierarchy)
    lowest_count = pl.len().cast(pl.Int64).alias("lowest_units_expected")
    communes = hierarchy.filter(pl.col("commune_code").is_not_null()).select(
        unit_code="commune_code", level=pl.lit("commune"),
        parent_code=pl.coalesce("district_code", "province_code"), province_code="province_code",
        region_key="region_key", is_lowest=pl.lit(True), lowest_units_expected=pl.lit(1, dtype=pl.Int64))
    frames = [communes]
    if has_districts:
        frames.append(
            hierarchy.filter(pl.col("district_code").is_not_null())
            .group_by("district_code", "province_code", "region_key")
            .agg(lowest_count, pl.col("commune_code").is_null().all().alias("is_lowest"))
            .select(unit_code="district_code", level=pl.lit("district"), parent_code="province_code",
                    province_code="province_code", region_key="region_key", is_lowest="is_lowest",
                    lowest_units_expected="lowest_units_expected"))
    frames.append(
        hierarchy.group_by("province_code", "region_key").agg(lowest_count)
        .select(unit_code="province_code", level=pl.lit("province"), parent_code="region_key",
                province_code="province_code", region_key="region_key", is_lowest=pl.lit(False),
                lowest_units_expected="lowest_units_expected"))
    frames.append(
        hierarchy.group_by("region_key").agg(lowest_count)
        .select(unit_code="region_key", level=pl.lit("region"), parent_code=pl.lit(NATIONAL_CODE),
                province_code=pl.lit(None, dtype=pl.String), region_key="region_key", is_lowest=pl.lit(False),
                lowest_units_expected="lowest_units_expected"))
    frames.append(pl.DataFrame({
        "unit_code": [NATIONAL_CODE], "level": ["national"], "parent_code": [None], "province_code": [None],
        "region_key": [None], "is_lowest": [False], "lowest_units_expected": [hierarchy.height]},
        schema={"unit_code": pl.String, "level": pl.String, "parent_code": pl.String,
                "province_code": pl.String, "region_key": pl.String, "is_lowest": pl.Boolean,
                "lowest_units_expected": pl.Int64}))
    return pl.concat([f.cast({"lowest_units_expected": pl.Int64}) for f in frames], how="vertical_relaxed").sort(
        "level", "unit_code")


def level_of_code(code: pl.Expr) -> pl.Expr:
    """The level a submitted unit code names: its width (commune 5, district 3, province 2 digits)."""
    width = code.str.len_chars()
    return (pl.when(width == 5).then(pl.lit("commune")).when(width == 3).then(pl.lit("district"))
            .when(width == 2).then(pl.lit("province")).otherwise(pl.lit(None, dtype=pl.String)))


def _best_per(frame: pl.LazyFrame, keys: tuple[str, ...], rank: str) -> pl.LazyFrame:
    """Per key, the row of the lowest rank (ties: the smallest submission id), chosen without relying on
    row order, which the streaming engine does not keep."""
    best_rank = pl.col(rank).min().over(*keys)
    frame = frame.filter(pl.col(rank) == best_rank)
    return frame.filter(pl.col("submission_id") == pl.col("submission_id").min().over(*keys))


# --- where each lowest unit's figures come from -------------------------------------------------------------

def _with_measures(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Adds every measure a frame lacks, as unknown (null), and `derived` (false) when it has no such column."""
    names = frame.collect_schema().names()
    frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias(m) for m in MEASURES if m not in names)
    return frame if "derived" in names else frame.with_columns(pl.lit(False).alias("derived"))


def _derived_households() -> pl.Expr:
    """Households of a summary cell derived from the summary's other groups (summaries.derived_group_rows)."""
    derived = pl.col("derived").fill_null(False)
    return (pl.when(derived).then(pl.col("households_total")).otherwise(pl.lit(0, dtype=pl.Int64))
            .cast(pl.Int64).alias("households_derived"))


def choose_lowest_sources(household_cells: pl.LazyFrame, summary_cells: pl.LazyFrame, units: pl.DataFrame,
                          *, own_data_only: bool = False) -> pl.LazyFrame:
    """household cells (submission × commune × group × area, totals added) and summary cells (submission ×
    reported unit × group × area) → lowest unit × ethnic group × area: the figures each lowest unit gets.

    Household data win for their commune as a whole (they know every cell); otherwise, cell by cell, the
    summary of the most detailed submitting level that has a row for the unit (the unit's own summary, then
    its district's, then its province's). With own_data_only, summaries sent by other units are ignored
    (the "detail" that reconciliation compares summaries against).

    A reviewed-only list (not `lists_every_household`) knows its reviewed, poor and near-poor counts in
    every cell (zero where it lists nobody); its resident total, cell by cell, is that of the most detailed
    summary row about the commune (chosen as above), else unknown; its other RESIDENT_MEASURES stay unknown.

    Columns: CELL, level, MEASURES, households_from_household_data, households_derived, source_rank,
    breakdown_complete (a cell without a row holds no reviewed household), totals_complete (a cell without a
    row holds no resident household), has_own_data, lowest_units_without_resident_total, submission_id.
    """
    lowest = units.lazy().filter(pl.col("is_lowest")).select("unit_code", "level")
    households = (
        with_declaration(household_cells)
        .with_columns(source_rank("submitting_level").alias("source_rank"))
        # Several household lists for one commune (its own and its district's): the most detailed wins.
        .with_columns(pl.col("source_rank").min().over("unit_code").alias("_best"),
                      pl.col("submission_id").min().over("unit_code", "source_rank").alias("_first"))
        .filter((pl.col("source_rank") == pl.col("_best")) & (pl.col("submission_id") == pl.col("_first")))
        .join(lowest, on="unit_code", how="inner")
    )
    household_units = households.select("unit_code").unique()
    summaries = _with_measures(summary_cells).join(lowest, on="unit_code", how="inner")
    if own_data_only:
        summaries = summaries.filter(pl.col("submitting_unit") == pl.col("unit_code"))
    summaries = (summaries.with_columns(source_rank("submitting_level").alias("source_rank"))
                 .pipe(_best_per, CELL, "source_rank"))
    columns = [*CELL, "level", *MEASURES, "submission_id", "households_from_household_data", "households_derived",
               "source_rank", "breakdown_complete", "totals_complete", "has_own_data",
               "lowest_units_without_resident_total"]

    complete = (
        households.filter(pl.col(COMPLETE_LIST))
        .select(*CELL, "level", *MEASURES, "submission_id",
                pl.col("households_total").alias("households_from_household_data"),
                pl.lit(0, dtype=pl.Int64).alias("households_derived"),
                pl.lit(0, dtype=pl.Int64).alias("source_rank"),
                pl.lit(True).alias("breakdown_complete"), pl.lit(True).alias("totals_complete"),
                pl.lit(True).alias("has_own_data"), pl.lit(0, dtype=pl.Int64).alias("lowest_units_without_resident_total"))
    )
    reviewed = households.filter(~pl.col(COMPLETE_LIST))
    reviewed_units = reviewed.select("unit_code", "level", "submission_id").unique()
    # Every cell the list, the required grid or a summary about the commune speaks of.
    grid = pl.concat([
        reviewed.select(CELL),
        _required_grid(reviewed_units.select("unit_code")).select(CELL),
        summaries.join(reviewed_units.select("unit_code"), on="unit_code", how="semi").select(CELL),
    ]).unique()
    resident = summaries.select(*CELL, pl.col("households_total").alias("_resident"),
                                _derived_households().alias("_derived"), pl.col("source_rank").alias("_rank"))
    listed = reviewed.select(*CELL, *REVIEWED_MEASURES).with_columns(pl.lit(True).alias("_listed"))
    known_total = pl.col("_resident").is_not_null()
    reviewed_only = (
        grid.join(reviewed_units, on="unit_code", how="inner")
        .join(listed, on=CELL, how="left")
        .join(resident, on=CELL, how="left")
        .with_columns(
            # A cell the list does not have holds no reviewed household: its reviewed counts are zero.
            *(pl.when(pl.col("_listed").is_null()).then(pl.lit(0, dtype=pl.Int64)).otherwise(pl.col(m))
              .cast(pl.Int64).alias(m) for m in REVIEWED_MEASURES),
        )
        .with_columns(
            pl.col("_resident").cast(pl.Int64).alias("households_total"),
            *(pl.lit(None, dtype=pl.Int64).alias(m) for m in RESIDENT_MEASURES if m != "households_total"),
            pl.col("households_reviewed").alias("households_from_household_data"),
            pl.when(known_total).then(pl.col("_derived")).otherwise(0).cast(pl.Int64).alias("households_derived"),
            pl.when(known_total).then(pl.col("_rank")).otherwise(0).cast(pl.Int64).alias("source_rank"),
            pl.lit(True).alias("breakdown_complete"), pl.lit(False).alias("totals_complete"),
            pl.lit(True).alias("has_own_data"),
            pl.when(known_total).then(0).otherwise(1).cast(pl.Int64).alias("lowest_units_without_resident_total"),
        )
    )
    from_summaries = (
        summaries.join(household_units, on="unit_code", how="anti")
        .with_columns(
            (pl.col("submitting_unit") == pl.col("unit_code")).any().over("unit_code").alias("has_own_data"))
        .select(*CELL, "level", *MEASURES, "submission_id",
                pl.lit(0, dtype=pl.Int64).alias("households_from_household_data"),
                _derived_households(), "source_rank", pl.lit(False).alias("breakdown_complete"),
                pl.lit(False).alias("totals_complete"), "has_own_data",
                pl.lit(0, dtype=pl.Int64).alias("lowest_units_without_resident_total"))
    )
    return pl.concat([frame.select(columns) for frame in (complete, reviewed_only, from_summaries)],
                     how="vertical_relaxed")


# --- the roll-up --------------------------------------------------------------------------------------------

def _required_grid(unit_codes: pl.LazyFrame) -> pl.LazyFrame:
    cells = pl.LazyFrame({"ethnic_group": [g for g in REQUIRED_GROUPS for _ in AREAS],
                          "area": [a for _ in REQUIRED_GROUPS for a in AREAS]})
    return unit_codes.join(cells, how="cross")


def _complete_lowest(rows: pl.LazyFrame, lowest_units: pl.LazyFrame) -> pl.LazyFrame:
    """Adds the required cells a lowest unit lacks: zero when its data are complete (the reviewed counts
    when its list is, the resident counts when its resident households are all listed), else unknown."""
    completeness = rows.group_by("unit_code").agg(pl.col("breakdown_complete").any(),
                                                  pl.col("totals_complete").any(), pl.col("has_own_data").any())
    missing = (_required_grid(lowest_units.select("unit_code"))
               .join(rows.select(CELL), on=CELL, how="anti")
               .join(completeness, on="unit_code", how="left")
               .with_columns(pl.col("breakdown_complete").fill_null(False), pl.col("totals_complete").fill_null(False),
                             pl.col("has_own_data").fill_null(False)))
    zero_or_unknown = pl.when(pl.col("breakdown_complete")).then(pl.lit(0, dtype=pl.Int64)).otherwise(None)
    zero_if_all_listed = pl.when(pl.col("totals_complete")).then(pl.lit(0, dtype=pl.Int64)).otherwise(None)
    missing = missing.with_columns(
        *((zero_if_all_listed if m in RESIDENT_MEASURES else zero_or_unknown).alias(m) for m in MEASURES),
        pl.lit(0, dtype=pl.Int64).alias("lowest_units_without_resident_total"),
        zero_or_unknown.alias("households_from_household_data"),
        zero_or_unknown.alias("households_derived"),
        pl.when(pl.col("breakdown_complete")).then(pl.lit(0, dtype=pl.Int64)).otherwise(None).alias("source_rank"),
    )
    columns = [*CELL, *MEASURES, "households_from_household_data", "households_derived", "source_rank",
               "breakdown_complete", "totals_complete", "has_own_data", "lowest_units_without_resident_total"]
    return pl.concat([rows.select(columns), missing.select(columns)]).with_columns(
        pl.lit(None, dtype=pl.Int64).alias("child_units_expected"),
        pl.lit(None, dtype=pl.Int64).alias("child_units_reported"),
        pl.col("has_own_data").cast(pl.Int64).alias("lowest_units_reported"),
    )


def _sum_children(children: pl.LazyFrame, child_units: pl.LazyFrame) -> pl.LazyFrame:
    """child rows → parent × ethnic group × area. A parent's count is known when every expected child's
    is: a child with the cell's count, or a child with complete data and no row (a true zero; for the
    RESIDENT_MEASURES only a child whose resident households are all listed)."""
    parents = child_units.group_by("parent_code").agg(
        pl.len().cast(pl.Int64).alias("child_units_expected"),
        pl.col("breakdown_complete").sum().cast(pl.Int64).alias("_complete"),
        pl.col("totals_complete").sum().cast(pl.Int64).alias("_totals_complete"),
        pl.col("lowest_units_reported").sum().cast(pl.Int64).alias("lowest_units_reported"),
    )
    summed = (
        children
        .join(child_units.select("unit_code", "parent_code"), on="unit_code", how="inner")
        .group_by("parent_code", "ethnic_group", "area")
        .agg(
            *(pl.col(m).sum().alias(f"{m}__sum") for m in MEASURES),
            *(pl.col(m).count().cast(pl.Int64).alias(f"{m}__known") for m in MEASURES),
            pl.col("breakdown_complete").sum().cast(pl.Int64).alias("_complete_present"),
            pl.col("totals_complete").sum().cast(pl.Int64).alias("_totals_complete_present"),
            pl.col("lowest_units_without_resident_total").sum().cast(pl.Int64)
            .alias("lowest_units_without_resident_total"),
            pl.col("households_from_household_data").sum().cast(pl.Int64).alias("households_from_household_data"),
            pl.col("households_derived").sum().cast(pl.Int64).alias("households_derived"),
            pl.col("source_rank").max().alias("source_rank"),
        )
    )
    keys = pl.concat([summed.select("parent_code", "ethnic_group", "area"),
                      _required_grid(parents.select(pl.col("parent_code").alias("unit_code")))
                      .rename({"unit_code": "parent_code"})]).unique()
    implied_zeros = pl.col("_complete") - pl.col("_complete_present").fill_null(0)
    implied_resident_zeros = pl.col("_totals_complete") - pl.col("_totals_complete_present").fill_null(0)
    expected = pl.col("child_units_expected")

    def value(m: str) -> pl.Expr:
        zeros = implied_resident_zeros if m in RESIDENT_MEASURES else implied_zeros
        known = pl.col(f"{m}__known").fill_null(0) + zeros == expected
        return pl.when(known).then(pl.col(f"{m}__sum").fill_null(0)).otherwise(None).cast(pl.Int64).alias(m)

    return (
        keys.join(summed, on=["parent_code", "ethnic_group", "area"], how="left")
        .join(parents, on="parent_code", how="left")
        .with_columns(
            *(value(m) for m in MEASURES),
            (pl.col("households_total__known").fill_null(0) + implied_resident_zeros).alias("child_units_reported"),
            (pl.col("_complete") == expected).alias("breakdown_complete"),
            (pl.col("_totals_complete") == expected).alias("totals_complete"),
            pl.col("lowest_units_without_resident_total").fill_null(0),
            pl.col("households_from_household_data").fill_null(0),
            pl.col("households_derived").fill_null(0),
        )
        .with_columns(
            # A known row with no child row rests on complete household data only: commune level.
            pl.when(pl.col("households_total").is_not_null())
            .then(pl.col("source_rank").fill_null(0)).otherwise(pl.col("source_rank")).alias("source_rank"),
            pl.lit(False).alias("has_own_data"),
        )
        .rename({"parent_code": "unit_code"})
    )


def _fill_from_summaries(rows: pl.LazyFrame, own_summaries: pl.LazyFrame) -> pl.LazyFrame:
    """Where a rolled-up headline count is unknown and a summary has the unit's own row for that cell, the
    summary's figures replace the row's (the most detailed submitting level first)."""
    best = (_with_measures(own_summaries)
            .with_columns(source_rank("submitting_level").alias("_rank"))
            .pipe(_best_per, CELL, "_rank")
            .select(*CELL, "_rank", *(pl.col(m).alias(f"{m}__summary") for m in MEASURES),
                    _derived_households().alias("households_derived__summary")))
    incomplete = pl.any_horizontal(pl.col(m).is_null() for m in HEADLINE_MEASURES)
    fill = incomplete & pl.col("_rank").is_not_null()
    return (
        rows.join(best, on=CELL, how="left")
        .with_columns(
            *(pl.when(fill).then(pl.col(f"{m}__summary")).otherwise(pl.col(m)).alias(m) for m in MEASURES),
            pl.when(fill).then(0).otherwise(pl.col("households_from_household_data"))
            .alias("households_from_household_data"),
            pl.when(fill).then(pl.col("households_derived__summary")).otherwise(pl.col("households_derived"))
            .alias("households_derived"),
            pl.when(fill).then(pl.col("_rank")).otherwise(pl.col("source_rank")).alias("source_rank"),
        )
        .drop("_rank", "households_derived__summary", *(f"{m}__summary" for m in MEASURES))
    )


ROLLUP_COLUMNS: tuple[str, ...] = (
    "level", *CELL, *MEASURES, "households_from_household_data", "households_derived", "source_rank",
    "breakdown_complete", "totals_complete", "lowest_units_without_resident_total",
    "child_units_expected", "child_units_reported", "lowest_units_reported",
)


def roll_up(lowest_rows: pl.LazyFrame, units: pl.DataFrame, summary_cells: pl.LazyFrame | None = None
            ) -> pl.LazyFrame:
    """lowest unit × ethnic group × area (choose_lowest_sources) → level × unit × ethnic group × area for
    every level of the list (units_from_hierarchy), one level at a time from the previous one.

    With summary_cells, a unit above the lowest whose rolled-up headline counts are unknown takes its own
    summary row's figures (gap filling); without, the result is the pure roll-up of the detailed data.
    Columns: ROLLUP_COLUMNS (source_rank 0/1/2 = commune/district/province data; rates come later).
    lowest_units_without_resident_total counts, where households_total is unknown, the lowest units under the
    row whose reviewed-only list has no resident total for the cell (0 where the total is known).
    """
    chain = [level for level in ("commune", "district", "province", "region", "national")
             if units.filter(pl.col("level") == level).height]
    units_lazy = units.lazy()
    # Both inputs are small aggregates read at every level: materialise them once.
    lowest_rows = lowest_rows.collect().lazy()
    if summary_cells is not None:
        summary_cells = summary_cells.collect().lazy()
    by_level: dict[str, pl.LazyFrame] = {}
    previous: str | None = None
    for level in chain:
        level_units = units_lazy.filter(pl.col("level") == level)
        lowest_units = level_units.filter(pl.col("is_lowest"))
        parts = []
        if units.filter((pl.col("level") == level) & pl.col("is_lowest")).height:
            parts.append(_complete_lowest(lowest_rows.join(lowest_units.select("unit_code"), on="unit_code",
                                                           how="semi"), lowest_units))
        if previous is not None:
            children = by_level[previous]
            child_units = (units_lazy.filter(pl.col("level") == previous).select("unit_code", "parent_code")
                           .join(children.group_by("unit_code").agg(
                               pl.col("breakdown_complete").first(), pl.col("totals_complete").first(),
                               pl.col("lowest_units_reported").first()),
                               on="unit_code", how="left")
                           .with_columns(pl.col("breakdown_complete").fill_null(False),
                                         pl.col("totals_complete").fill_null(False),
                                         pl.col("lowest_units_reported").fill_null(0)))
            rolled = _sum_children(children, child_units)
            if summary_cells is not None:
                rolled = _fill_from_summaries(rolled, summary_cells.filter(
                    level_of_code(pl.col("unit_code")) == level) if level in ("district", "province")
                    else summary_cells.filter(pl.lit(False)))
            parts.append(rolled)
        columns = [c for c in ROLLUP_COLUMNS if c != "level"]
        frame = pl.concat([p.select(columns) for p in parts]).with_columns(
            level=pl.lit(level),
            lowest_units_without_resident_total=pl.when(pl.col("households_total").is_null())
            .then(pl.col("lowest_units_without_resident_total")).otherwise(0).cast(pl.Int64))
        # Each level is read by the next one and by the marts: compute it once.
        by_level[level] = frame.collect().lazy()
        previous = level
    return pl.concat([by_level[level].select(ROLLUP_COLUMNS) for level in chain])


# --- measures derived at each level ---------------------------------------------------------------------

def percentage(numerator: str | pl.Expr, denominator: str | pl.Expr) -> pl.Expr:
    """100 × numerator / denominator from counts; null when either is unknown or the denominator is 0.

    The one percentage of lnob: every rate, share and relative difference calls it. It multiplies before it
    divides because the order changes the last bit, and rates are compared to legal thresholds unrounded:
    7 / 25 × 100 is 28.000000000000004 and 57 / 100 × 100 is 56.99999999999999, while 7 × 100 / 25 and
    57 × 100 / 100 are exactly 28 and 57.
    """
    top = pl.col(numerator) if isinstance(numerator, str) else numerator
    bottom = pl.col(denominator) if isinstance(denominator, str) else denominator
    return pl.when(bottom > 0).then(top.cast(pl.Float64) * 100.0 / bottom.cast(pl.Float64)).otherwise(None)


def add_rates(rolled: pl.LazyFrame) -> pl.LazyFrame:
    """Any grain → same grain: poor + near-poor, the rates, H, A, M0, the share from household data and
    the source level's name. Every rate is computed from this row's summed counts."""
    return (
        rolled
        .with_columns(
            known_row_sum("households_poor", "households_near_poor").alias("households_poor_or_near_poor"),
        )
        .with_columns(
            percentage("households_poor", "households_total").alias("poor_rate"),
            percentage("households_near_poor", "households_total").alias("near_poor_rate"),
            percentage("households_poor_or_near_poor", "households_total").alias("poor_or_near_poor_rate"),
            percentage("households_mpi_poor", "households_total").alias("mpi_headcount_ratio"),
            percentage("mpi_deprivations_sum", pl.col("households_mpi_poor") * INDICATOR_COUNT)
            .alias("mpi_intensity"),
            (percentage("mpi_deprivations_sum", pl.col("households_total") * INDICATOR_COUNT) / 100.0)
            .alias("mpi_adjusted_headcount"),
            (pl.col("households_total") - pl.col("households_from_household_data")).alias(
                "households_from_summaries"),
            percentage("households_from_household_data", "households_total").alias("household_data_share"),
            pl.when(pl.col("households_total").is_not_null()).then(source_level_name(pl.col("source_rank")))
            .otherwise(pl.lit(None, dtype=pl.String)).alias("source_level"),
            missing_total_reason().alias("households_total_missing_reason"),
        )
    )


def missing_total_reason() -> pl.Expr:
    """Why households_total is unknown: a reviewed-only list without a resident total under the row, or
    nobody reported it; null when it is known."""
    return (pl.when(pl.col("households_total").is_not_null()).then(pl.lit(None, dtype=pl.String))
            .when(pl.col("lowest_units_without_resident_total").fill_null(0) > 0)
            .then(pl.lit(MISSING_REVIEWED_ONLY)).otherwise(pl.lit(MISSING_NOT_REPORTED)))


RATE_CHANGES: dict[str, str] = {
    "poor_rate": "poor_rate_change_pp",
    "near_poor_rate": "near_poor_rate_change_pp",
    "poor_or_near_poor_rate": "poor_or_near_poor_rate_change_pp",
}


def add_change_from_previous(current: pl.LazyFrame, previous: pl.LazyFrame | None) -> pl.LazyFrame:
    """level × unit × ethnic group × area → same: each rate minus the previous year's for the same key, in
    percentage points (null without a previous value, e.g. a unit that did not exist the year before)."""
    if previous is None:
        return current.with_columns(pl.lit(None, dtype=pl.Float64).alias(c) for c in RATE_CHANGES.values())
    keys = ["level", "unit_code", "ethnic_group", "area"]
    before = previous.select(*keys, *(pl.col(r).alias(f"{r}__previous") for r in RATE_CHANGES))
    return (
        current.join(before, on=keys, how="left")
        .with_columns((pl.col(r) - pl.col(f"{r}__previous")).alias(c) for r, c in RATE_CHANGES.items())
        .drop(f"{r}__previous" for r in RATE_CHANGES)
    )


def add_place(rows: pl.LazyFrame, units: pl.DataFrame, geography_version: str) -> pl.LazyFrame:
    """level × unit × … → same, with parent_code, province_code, region_key and the list's version."""
    return rows.join(units.lazy().select("level", "unit_code", "parent_code", "province_code", "region_key",
                                         "lowest_units_expected"),
                     on=["level", "unit_code"], how="left").with_columns(
        geography_version=pl.lit(geography_version))
