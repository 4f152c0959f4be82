"""The exit marts of a mart version: exit_candidates, exit_criteria, entry_candidates and target_progress.

    build_exit_marts(settings, building_dir, year)    the four marts of `year`, written into a version being
                                                      built, after its poverty marts
    exit_frames(settings, year, ...)                  their rows, nothing written

Every status list of the year is evaluated on this version's poverty marts and the current accepted area
attributes (transforms/exit_criteria.py); targets compare the national and province rates of every year up
to this one, earlier years restated on this year's units (pipeline/restating.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipeline.mart_contract import conform, write_mart
from pipeline.restating import rows_on_this_list
from pipeline.status_lists import memberships_frame
from schemas.geography import geography_version, hierarchy_at, review_date, units_at
from schemas.marts import Mart, all_marts
from schemas.rules import StatusRule, load_rules, load_targets
from schemas.vocabulary import LEVEL_RANK, LIST_KINDS
from store.mart_files import partition_path, read_mart, years_of
from store.publish import current_path
from store.registry import Registry
from store.status_lists import ADD, REMOVE, StatusLists
from store.zones import staged_file
from transforms.exit_criteria import evaluate_status, unit_measures
from transforms.rollup import units_from_hierarchy
from transforms.targets import target_progress

POVERTY_MART = "poverty_by_ethnicity"
COVERAGE_MART = "submission_coverage"
EXIT_MART_NAMES: tuple[str, ...] = ("exit_candidates", "exit_criteria", "entry_candidates", "target_progress")
POVERTY_COLUMNS = {"year": pl.Int64, "level": pl.String, "unit_code": pl.String, "ethnic_group": pl.String,
                   "area": pl.String, "households_total": pl.Int64, "households_poor": pl.Int64,
                   "households_near_poor": pl.Int64}


def _layout(name: str) -> Mart:
    return all_marts()[name]


# ---------------------------------------------------------------------------------------------
# Reading what the build wrote


def mart_frame(building_dir: Path | None, published: Path | None, mart: str, years: list[int]) -> pl.DataFrame | None:
    """Rows of `years` of one mart: from the version being built, else from the published one; None when
    neither has any of those years."""
    frames = []
    for year in years:
        for folder in (building_dir, published):
            if folder is not None and partition_path(folder, mart, year).is_file():
                frames.append(read_mart(folder, mart, year))
                break
    return pl.concat(frames, how="diagonal_relaxed") if frames else None


def _years_available(building_dir: Path | None, published: Path | None, mart: str) -> list[int]:
    return sorted(set(years_of(building_dir, mart)) | set(years_of(published, mart)))


def poverty_or_empty(poverty: pl.DataFrame | None) -> pl.DataFrame:
    return poverty if poverty is not None else pl.DataFrame(schema=POVERTY_COLUMNS)


def with_sources(poverty: pl.DataFrame, coverage: pl.DataFrame | None) -> pl.DataFrame:
    """Add the submissions each poverty row came from: the unit's own, or those of the level that filled it."""
    if coverage is None or "submission_ids" not in coverage.columns:
        return poverty.with_columns(pl.lit(None, dtype=pl.String).alias("source_submissions"))
    ids = coverage.select("year", "unit_code", pl.col("submission_ids").alias("ids")).unique(["year", "unit_code"])
    if "parent_code" in coverage.columns and "level" in coverage.columns:
        # a district's figures rolled up from its communes came from the communes' submissions
        child_ids = (coverage.filter(pl.col("level") == "commune", pl.col("submission_ids").is_not_null())
                     .group_by("year", "parent_code")
                     .agg(pl.col("submission_ids").sort().str.join(",").alias("child_ids"))
                     .rename({"parent_code": "unit_code"}))
    else:
        child_ids = pl.DataFrame(schema={"year": pl.Int64, "unit_code": pl.String, "child_ids": pl.String})
    source_level = pl.col("source_level") if "source_level" in poverty.columns else pl.lit(None, dtype=pl.String)
    parent = pl.col("parent_code") if "parent_code" in poverty.columns else pl.lit(None, dtype=pl.String)
    province = pl.col("province_code") if "province_code" in poverty.columns else pl.lit(None, dtype=pl.String)
    own_figures = source_level.is_null() | (source_level == pl.col("level"))
    source_unit = (pl.when(own_figures).then(pl.col("unit_code"))
                   .when((source_level == "district") & (pl.col("level") == "commune")).then(parent)
                   .when(source_level == "province").then(province)
                   .otherwise(pl.col("unit_code")))
    return (poverty.with_columns(source_unit.alias("__source_unit"))
            .join(ids, left_on=["year", "__source_unit"], right_on=["year", "unit_code"], how="left")
            .join(child_ids.with_columns(pl.col("year").cast(pl.Int64)), on=["year", "unit_code"], how="left")
            .with_columns(pl.concat_str([pl.col("ids"), pl.col("child_ids")], separator=",", ignore_nulls=True)
                          .alias("source_submissions"))
            .drop("__source_unit", "ids", "child_ids"))


def area_attributes(settings, year: int) -> pl.DataFrame:
    """The current accepted area attributes of `year` or earlier: per unit (and village) the latest year, then
    the most detailed submitting level, then the lowest submission id (deterministic)."""
    records = [r for r in Registry(settings.database_url).current_accepted(kind="area_attributes")
               if int(r.year) <= year and r.staging_path and staged_file(settings, r.staging_path).is_file()]
    if not records:
        return pl.DataFrame(schema={"unit_code": pl.String, "village": pl.String, "submission_id": pl.String})
    frame = pl.concat([pl.read_parquet(staged_file(settings, r.staging_path)) for r in records],
                      how="diagonal_relaxed")
    if "village" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("village"))
    return (frame
            .with_columns(pl.col("submitting_level").replace_strict(LEVEL_RANK, default=9, return_dtype=pl.Int64)
                          .alias("__rank"))
            .sort(["unit_code", "village", "year", "__rank", "submission_id"],
                  descending=[False, False, True, False, False], nulls_last=True)
            .unique(subset=["unit_code", "village"], keep="first", maintain_order=True)
            .drop("__rank"))


def places(on: date) -> pl.DataFrame:
    frames = []
    for level in ("commune", "district"):
        try:
            frames.append(units_at(level, on).select("unit_code", "unit_name", "province_code", "region_key"))
        except (KeyError, ValueError):
            continue   # no districts after the 2025 reform
    return pl.concat(frames) if frames else pl.DataFrame(
        schema={"unit_code": pl.String, "unit_name": pl.String, "province_code": pl.String, "region_key": pl.String})


def _applicable(rule: StatusRule, year: int) -> bool:
    return rule.applies_from_year <= year <= rule.applies_to_year


@dataclass(frozen=True)
class ExitFrames:
    exit_candidates: pl.DataFrame
    exit_criteria: pl.DataFrame
    entry_candidates: pl.DataFrame
    target_progress: pl.DataFrame


def exit_frames(settings, year: int, *, building_dir: Path | None = None, published: Path | None = None,
                rules: dict[str, StatusRule] | None = None) -> ExitFrames:
    """Evaluate every status list for `year` and every target; nothing is written."""
    rules = rules or load_rules()
    on = review_date(year)
    poverty = poverty_or_empty(mart_frame(building_dir, published, POVERTY_MART, [year]))
    poverty = with_sources(poverty, mart_frame(building_dir, published, COVERAGE_MART, [year]))
    measures = unit_measures(poverty.lazy(), area_attributes(settings, year).lazy(), places(on).lazy())
    members = memberships_frame(settings, on)
    exits, criteria, entries = [], [], []
    for kind in LIST_KINDS:
        if kind not in rules or not _applicable(rules[kind], year):
            continue
        result = evaluate_status(measures, members.filter(pl.col("status_kind") == kind).lazy(), kind, rules, year)
        # one pass: the three outputs share the evaluation of the rule tree
        exit_rows, criterion_rows, entry_rows = pl.collect_all(
            [result.exit_candidates, result.criteria, result.entry_candidates])
        exits.append(exit_rows)
        criteria.append(criterion_rows)
        entries.append(entry_rows)
    exit_candidates, exit_criteria, entry_candidates = (
        _rows_of(parts, _layout(name)) for parts, name in ((exits, "exit_candidates"), (criteria, "exit_criteria"),
                                                           (entries, "entry_candidates")))

    # targets: national and province rates of every year up to this one
    years = [y for y in _years_available(building_dir, published, POVERTY_MART) if y <= year] or [year]
    all_poverty = mart_frame(building_dir, published, POVERTY_MART, years)
    if all_poverty is not None:
        # Earlier years on the pre-reform list are restated on this year's units: most codes survived the
        # reform but name merged provinces, which must not be compared with their namesakes.
        all_poverty = rows_on_this_list(all_poverty, units_from_hierarchy(hierarchy_at(on)), geography_version(on),
                                        keys=("year", "ethnic_group", "area"))
    # the nation and provinces for the rates, districts for the rate of the poor districts
    rates = (all_poverty.filter(pl.col("level").is_in(["national", "province", "district"]))
             if all_poverty is not None else poverty.clear())
    progress = target_progress(load_targets(), year, poverty=rates.lazy(), removals=_removals(settings).lazy(),
                               baseline_members=_baseline_members(settings).lazy(),
                               exit_candidates=exit_candidates.lazy(), review_date=on, rules=rules).collect()
    return ExitFrames(exit_candidates, exit_criteria, entry_candidates,
                      conform(progress, _layout("target_progress"), fill_absent=True))


def _rows_of(parts: list[pl.DataFrame], layout: Mart) -> pl.DataFrame:
    """The evaluations of every list as one mart (absent columns null); empty, with its columns, when no
    list applied."""
    if not parts:
        return pl.DataFrame(schema=layout.polars_schema())
    return conform(pl.concat(parts, how="diagonal_relaxed"), layout, fill_absent=True)


def _removals(settings) -> pl.DataFrame:
    """One row per name of every loaded removal decision, with its effective date (matched or not): the targets
    count those in effect by the review date, and know from the others that the list's removals are loaded."""
    lists = StatusLists(settings.database_url)
    rows = [{"status_kind": load.status_kind, "decision": load.decision, "effective_from": load.effective_from,
             "province_code": entry.province_code, "unit_code": entry.unit_code}
            for load in lists.loads() if load.action == REMOVE
            for entry in lists.entries(load.load_id)]
    return pl.DataFrame(rows, schema={"status_kind": pl.String, "decision": pl.String, "effective_from": pl.Date,
                                      "province_code": pl.String, "unit_code": pl.String})


def _baseline_members(settings) -> pl.DataFrame:
    """Members of each list on the date of its first adding decision."""
    lists = StatusLists(settings.database_url)
    first: dict[str, date] = {}
    for load in lists.loads():
        if load.action == ADD:
            first.setdefault(load.status_kind, load.effective_from)
    rows = [{"status_kind": m.status_kind, "unit_code": m.unit_code, "province_code": m.province_code,
             "partial": m.partial}
            for kind, on in first.items() for m in lists.members_on(on, kind)]
    return pl.DataFrame(rows, schema={"status_kind": pl.String, "unit_code": pl.String, "province_code": pl.String,
                                      "partial": pl.Boolean})


def build_exit_marts(settings, building_dir: Path, year: int,
                     progress: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Write `exit_candidates`, `exit_criteria`, `entry_candidates` and `target_progress` for `year` into the
    mart version being built (after its poverty marts), each checked against its layout (pipeline/
    mart_contract.py) and written as `<mart>/<year>.parquet`. Returns {mart: file entry for the manifest}."""
    building_dir = Path(building_dir)
    frames = exit_frames(settings, year, building_dir=building_dir, published=current_path(settings))
    written = {}
    for name in EXIT_MART_NAMES:
        written[name] = write_mart(building_dir, _layout(name), year, getattr(frames, name))
        if progress is not None:
            progress(f"{name} {year}: {written[name]['rows']} rows")
    return written
