"""Build the marts from the current accepted submissions and publish them as one new version.

    build_marts(settings, year=None, registry=None)      the night's (or an operator's) build
      └ _build_years: build_year(year, submissions, hierarchy=…, standards=…)   plain inputs → {mart: rows}
                      write_year(frames, building_dir, year)   checked, deterministic `<mart>/<year>.parquet`
      └ _carry_other_years                                  a one-year build keeps the other years' files
      └ _add_exit_marts (pipeline/exit_marts.py)            exit and target marts, read from this version
      └ _publish: manifest.json, store.publish.publish(...)  one atomic switch of `marts/current`

Households are scanned once per year with one `pl.scan_parquet(list_of_files)`, classified with
expressions and aggregated to commune × ethnic group × area in the streaming engine; every level above
is rolled up from that small aggregate. Rebuilding from the same accepted submissions writes
byte-identical Parquet: rows are sorted by each mart's full key, files are written with fixed settings
(store/mart_files.py), and nothing time-dependent goes into them (the build time lives in manifest.json
only). Every mart is checked against its declared layout as it is written (pipeline/mart_contract.py): a
build that breaks one is abandoned, and the version that was current stays current.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.exit_marts import build_exit_marts
from pipeline.manifest import (
    as_utc,
    finish_manifest,
    new_manifest,
    read_manifest,
    submission_entry,
    write_manifest,
)
from pipeline.mart_contract import BuildError, conform, write_mart
from pipeline.restating import previous_on_this_list, rows_on_this_list
from pipeline.staging import scan_staging
from schemas.approval import chain_for_year
from schemas.contracts import AREA_SUMMARY, HOUSEHOLD, INDICATOR_IDS
from schemas.geography import geography_version, hierarchy_at, review_date
from schemas.marts import (
    ALL_AREAS,
    ALL_GROUPS,
    APPROVAL_DEADLINE,
    DEADLINE_TIME_ZONE,
    MARTS,
    RECONCILIATION_ABSOLUTE_TOLERANCE,
    RECONCILIATION_RELATIVE_TOLERANCE,
    Mart,
    all_marts,
)
from schemas.standards import load_standard, local_standards_for, standard_for_year
from schemas.vocabulary import APPROVED
from store import publish as publishing
from store.mart_files import MANIFEST, partition_path, read_mart
from store.registry import Registry
from store.zones import with_local_staging
from transforms.approval import (
    APPROVALS_SCHEMA,
    APPROVED_SCHEMA,
    UNITS_SCHEMA,
    approval_coverage,
    figures_status,
)
from transforms.classify import (
    classify_households,
    disagreement_counts,
    disagreements_from_groups,
    with_commune_counts,
)
from transforms.coverage import SUBMISSIONS_SCHEMA, submission_coverage
from transforms.local_standard import local_standard_rows
from transforms.reconcile import detail_submissions, reconcile
from transforms.rollup import (
    add_change_from_previous,
    add_group_totals,
    add_place,
    add_rates,
    cells_from_groups,
    choose_lowest_sources,
    household_groups,
    percentage,
    roll_up,
    units_from_hierarchy,
)
from transforms.summaries import summary_cells

# rows_on_this_list is kept importable from here for callers written before pipeline/restating.py.
__all__ = ["BuildError", "BuildResult", "ChunkedRows", "SubmissionInput", "Tolerance", "build_marts", "build_year",
           "previous_on_this_list", "rows_on_this_list", "write_year"]


@dataclass(frozen=True)
class SubmissionInput:
    """What a build needs to know about one current accepted submission (a registry SubmissionRecord has
    these attributes too, and may be passed instead)."""

    submission_id: str
    level: str
    unit_code: str
    year: int
    kind: str
    staging_path: str | Path
    standard: str | None = None
    received_at: datetime | None = None
    findings_count: int | None = 0
    warnings_count: int | None = 0
    content_hash: str | None = None


@dataclass(frozen=True)
class Tolerance:
    """Reconciliation tolerances: a difference is reported when it exceeds both."""

    absolute: int = RECONCILIATION_ABSOLUTE_TOLERANCE
    relative: float = RECONCILIATION_RELATIVE_TOLERANCE


@dataclass
class BuildResult:
    version: str
    path: Path
    manifest: dict
    built_years: list[int] = field(default_factory=list)
    carried_years: list[int] = field(default_factory=list)


# --- reading staging ------------------------------------------------------------------------------------

def _submission_frame(submissions: Sequence[Any]) -> pl.LazyFrame:
    rows = [{
        "submission_id": s.submission_id, "level": s.level, "unit_code": s.unit_code, "kind": s.kind,
        "standard": s.standard, "received_at": as_utc(s.received_at),
        "findings_count": s.findings_count, "warnings_count": s.warnings_count,
    } for s in submissions]
    return pl.LazyFrame(rows, schema=SUBMISSIONS_SCHEMA)


# --- one year -------------------------------------------------------------------------------------------

def indicator_labels(standard: Mapping[str, Any] | None) -> pl.DataFrame:
    """indicator id → its names in one standard file (`indicators`): what d12 means differs by standard."""
    named = {entry["id"]: entry for entry in (standard or {}).get("indicators") or []}
    return pl.DataFrame({
        "indicator": list(INDICATOR_IDS),
        "indicator_label_vi": [named.get(i, {}).get("label_vi") for i in INDICATOR_IDS],
        "indicator_label_en": [named.get(i, {}).get("label_en") for i in INDICATOR_IDS],
    }, schema={"indicator": pl.String, "indicator_label_vi": pl.String, "indicator_label_en": pl.String})


def _deprivation_rows(standard_id: str | None, standard: Mapping[str, Any] | None
                      ) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """The deprivation mart's rows of one slice of the poverty rows, each indicator named by the year's
    standard."""
    labels = indicator_labels(standard)

    def make_rows(poverty: pl.DataFrame) -> pl.DataFrame:
        long = _deprivation_long(poverty)
        # A left join keeps the left order: the rows stay in the mart's order.
        return long.join(labels, on="indicator", how="left", maintain_order="left").with_columns(
            pl.lit(standard_id, dtype=pl.String).alias("standard"))

    return make_rows


def _deprivation_long(poverty: pl.DataFrame) -> pl.DataFrame:
    """poverty row (wide: 36 indicator counts, sorted by the cell key) → one row per indicator, already in
    the deprivation mart's order: each row becomes its 12 indicator rows in place (explode keeps order),
    which spares sorting two million rows at national scale."""
    keep = ["year", "level", "unit_code", "ethnic_group", "area", "parent_code", "province_code", "region_key",
            "geography_version", "households_total", "households_poor", "households_near_poor", "source_level"]
    lists = {
        "indicator": pl.concat_list(pl.lit(i) for i in INDICATOR_IDS),
        "households_deprived": pl.concat_list(f"households_deprived_{i}" for i in INDICATOR_IDS),
        "households_poor_deprived": pl.concat_list(f"poor_deprived_{i}" for i in INDICATOR_IDS),
        "households_near_poor_deprived": pl.concat_list(f"near_poor_deprived_{i}" for i in INDICATOR_IDS),
    }
    deprived = ("households_deprived", "households_poor_deprived", "households_near_poor_deprived")

    return (
        poverty.lazy()
        # A cell that knows none of the deprived counts (a unit nobody reported on) says nothing here: the
        # poverty marts already list every unit with its coverage.
        .filter(pl.any_horizontal(pl.col(f"{prefix}_{i}").is_not_null() for i in INDICATOR_IDS
                                  for prefix in ("households_deprived", "poor_deprived", "near_poor_deprived")))
        .select(*keep, **lists)
        .explode(list(lists))
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in deprived))
        .with_columns(
            percentage("households_deprived", "households_total").alias("deprived_share_of_all"),
            percentage("households_poor_deprived", "households_poor").alias("deprived_share_of_poor"),
            percentage("households_near_poor_deprived", "households_near_poor").alias("deprived_share_of_near_poor"),
        )
        .collect(engine="in-memory")   # row order matters here; the in-memory engine keeps it
    )


DEPRIVATION_CHUNK_ROWS = 20_000     # poverty rows per chunk: ≤ 240,000 deprivation rows in memory at once


@dataclass(frozen=True)
class ChunkedRows:
    """A mart too large to hold at once (deprivation_by_area is 12 rows per poverty row: two million a year
    at national scale). Its rows are produced in order, one slice of the source at a time, and written as
    they come; `collect()` gives them all at once for small builds and tests."""

    mart: Mart
    source: pl.DataFrame
    make_rows: Callable[[pl.DataFrame], pl.DataFrame]
    chunk_rows: int = DEPRIVATION_CHUNK_ROWS

    @property
    def schema(self) -> pl.Schema:
        return self.mart.polars_schema()

    def chunks(self) -> Iterator[pl.DataFrame]:
        for offset in range(0, max(self.source.height, 1), self.chunk_rows):
            yield conform(self.make_rows(self.source.slice(offset, self.chunk_rows)), self.mart, presorted=True)

    def collect(self) -> pl.DataFrame:
        return pl.concat(list(self.chunks()))


def _check_one_household_per_disagreement(disagreeing: pl.DataFrame, totals: pl.DataFrame) -> None:
    """Each listed disagreement is one household, and the list holds every one the counts hold. Ingest
    rejects a file that repeats a household id, so this fails only on staging written some other way;
    it fails loudly rather than list two households as one."""
    merged = disagreeing.filter(pl.col("households_in_group") != 1)
    counted = int(totals.get_column("classification_disagreements").sum() or 0)
    if merged.height or disagreeing.height != counted:
        example = merged.row(0, named=True) if merged.height else {}
        raise BuildError(
            f"staging repeats household ids, so disagreements cannot be listed one household per row "
            f"(listed {disagreeing.height}, counted {counted}; e.g. {example.get('household_id')!r} in "
            f"submission {example.get('submission_id')!r})")


def build_year(year: int, submissions: Sequence[Any], *, hierarchy: pl.DataFrame, geography_version: str,
               standards: Mapping[str, Mapping], default_standard: str | None = None,
               previous_poverty: pl.DataFrame | None = None, tolerance: Tolerance = Tolerance(),
               local_standards: Sequence[Mapping[str, Any]] = (), approved: pl.DataFrame | None = None,
               approvals: pl.DataFrame | None = None, submitted_units: pl.DataFrame | None = None,
               ) -> dict[str, pl.DataFrame | ChunkedRows]:
    """Every mart's rows for one review year, from plain inputs.

    submissions: the current accepted submissions of that year (SubmissionInput or registry records), each
    with its staging Parquet; hierarchy: schemas.geography.hierarchy_at(review_date(year)); standards: the
    content of every standard the submissions name (plus default_standard, used where a household row
    names none); previous_poverty: last year's poverty_by_ethnicity rows, for the change in points;
    local_standards: the provinces' own standards for the year (schemas.standards.local_standards_for), whose
    classification goes to poverty_local_standard beside the national figures; approved: the approved
    (locked) unit-years of the year (level, unit_code), which make a poverty row's figures official;
    approvals: the year's approval states (transforms.approval.APPROVALS_SCHEMA), for approval_coverage (and
    `approved` when it is not given); submitted_units: every unit with a submission of the year whatever its
    verdict (level, unit_code; the accepted ones when not given).
    Returns {mart name: DataFrame} conformed to schemas.marts (sorted, typed); deprivation_by_area, twelve
    times larger, comes as ChunkedRows (write_year writes it chunk by chunk; .collect() for all).
    """
    submissions = [s for s in submissions if int(s.year) == int(year)]
    approvals = approvals if approvals is not None else pl.DataFrame(schema=APPROVALS_SCHEMA)
    if approved is None:
        approved = approvals.filter(pl.col("state") == APPROVED).select("level", "unit_code")
    # The year's standard names the deprivation indicators (d12 changes meaning in 2027).
    year_standard = default_standard if default_standard is not None else (
        next(iter(standards)) if len(standards) == 1 else None)
    by_kind: dict[str, list[Path]] = {}
    for submission in sorted(submissions, key=lambda s: s.submission_id):
        by_kind.setdefault(submission.kind, []).append(Path(submission.staging_path))

    households = scan_staging(by_kind.get("household", []), HOUSEHOLD)
    if default_standard is not None:
        households = households.with_columns(pl.col("standard").fill_null(default_standard))
    classified = classify_households(households, standards)
    # The one pass over households: small groups, from which the cells and the list of disagreeing
    # households are both cut (collect_all of two queries on the shared scan would hold every household).
    groups = household_groups(classified).collect(engine="streaming")
    household_cells = cells_from_groups(groups.lazy()).collect()
    disagreement_totals = disagreement_counts(household_cells.lazy()).collect()
    disagreeing = disagreements_from_groups(groups.lazy()).collect()
    del groups
    _check_one_household_per_disagreement(disagreeing, disagreement_totals)
    disagreements = with_commune_counts(disagreeing.drop("households_in_group").lazy(), disagreement_totals.lazy())

    units = units_from_hierarchy(hierarchy)
    household_cells = add_group_totals(household_cells.lazy()).collect().lazy()
    summaries = summary_cells(scan_staging(by_kind.get("area_summary", []), AREA_SUMMARY)).collect().lazy()

    lowest = choose_lowest_sources(household_cells, summaries, units).collect().lazy()
    rolled = roll_up(lowest, units, summaries)
    previous = previous_on_this_list(previous_poverty, units, geography_version)
    poverty = (add_place(add_change_from_previous(add_rates(rolled), previous), units, geography_version)
               .with_columns(year=pl.lit(year, dtype=pl.Int64))
               .join(figures_status(units.lazy(), approved.select(APPROVED_SCHEMA.names()).lazy()),
                     on=["level", "unit_code"], how="left")
               .collect())

    if by_kind.get("area_summary"):
        own_lowest = choose_lowest_sources(household_cells, summaries, units, own_data_only=True).collect().lazy()
        detail = roll_up(own_lowest, units, None)
        reconciliation = reconcile(summaries, detail, units, detail_submissions(own_lowest, units),
                                   absolute_tolerance=tolerance.absolute, relative_tolerance=tolerance.relative
                                   ).with_columns(year=pl.lit(year, dtype=pl.Int64))
    else:   # no summary was submitted: nothing to compare the detail with (and a roll-up spared)
        reconciliation = pl.LazyFrame(schema=MARTS["reconciliation"].polars_schema())

    everyone = pl.col("ethnic_group") == ALL_GROUPS
    households_listed = (household_cells.filter(everyone & (pl.col("area") == ALL_AREAS))
                         .group_by("unit_code").agg(pl.col("households_reviewed").sum().alias("households_listed")))
    figures_source = poverty.lazy().filter(everyone & (pl.col("area") == ALL_AREAS)).select(
        "level", "unit_code", pl.col("source_level").alias("figures_source_level"))
    coverage = submission_coverage(
        units, _submission_frame(submissions), year=year, households_listed=households_listed,
        disagreements=disagreement_totals.lazy().select("unit_code", "classification_disagreements"),
        figures_source=figures_source).with_columns(
        geography_version=pl.lit(geography_version))

    accepted_units = pl.DataFrame([(s.level, s.unit_code) for s in submissions], schema=UNITS_SCHEMA, orient="row")
    approval_rows = approval_coverage(
        units.lazy(), (submitted_units if submitted_units is not None else accepted_units).lazy(),
        accepted_units.lazy(), approvals.lazy(), year=year, deadline=date(year, *APPROVAL_DEADLINE),
        deadline_confirmed=chain_for_year(year).confirmed, time_zone=DEADLINE_TIME_ZONE,
    ).with_columns(geography_version=pl.lit(geography_version))

    local_rows = [local_standard_rows(households, summaries, hierarchy, standard=local, year=year,
                                      geography_version=geography_version, national_poverty=poverty)
                  for local in local_standards]
    local_rows = [rows for rows in local_rows if rows.height]

    # Sorted once here; the wide indicator columns are kept for the deprivation mart, then dropped.
    poverty = poverty.sort(list(MARTS["poverty_by_ethnicity"].sort_key), maintain_order=True)
    return {
        "poverty_by_area": conform(poverty.filter(everyone), MARTS["poverty_by_area"], presorted=True),
        "poverty_by_ethnicity": conform(poverty, MARTS["poverty_by_ethnicity"], presorted=True),
        "deprivation_by_area": ChunkedRows(MARTS["deprivation_by_area"], poverty,
                                           _deprivation_rows(year_standard, standards.get(year_standard))),
        "reconciliation": conform(reconciliation, MARTS["reconciliation"]),
        "submission_coverage": conform(coverage, MARTS["submission_coverage"]),
        "classification_disagreements": conform(disagreements, MARTS["classification_disagreements"]),
        "approval_coverage": conform(approval_rows, MARTS["approval_coverage"]),
        "poverty_local_standard": conform(pl.concat(local_rows, how="diagonal_relaxed") if local_rows
                                          else pl.DataFrame(schema=MARTS["poverty_local_standard"].polars_schema()),
                                          MARTS["poverty_local_standard"], fill_absent=True),
    }


# --- writing --------------------------------------------------------------------------------------------

def write_year(frames: Mapping[str, pl.DataFrame | ChunkedRows], root: Path, year: int,
               progress: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Writes one year of every poverty mart under root, each checked against its layout as it is written
    (BuildError when one breaks it); returns {mart: file entry for the manifest}."""
    entries = {}
    for name, mart in MARTS.items():
        entries[name] = write_mart(root, mart, year, frames[name])
        if progress is not None:
            progress(f"{name} {year}: {entries[name]['rows']} rows")
    return entries


# --- the whole build ------------------------------------------------------------------------------------

def build_marts(settings, year: int | None = None, registry=None, *, tolerance: Tolerance | None = None,
                progress: Callable[[str], None] | None = None, official: bool = False) -> BuildResult:
    """Build and publish a new mart version; one build at a time (see `_build_marts`)."""
    with publishing.exclusive_build(settings):
        return _build_marts(settings, year, registry, tolerance=tolerance, progress=progress, official=official)


def _approval_states(registry, years: Sequence[int]) -> dict[int, pl.DataFrame]:
    """year → the approval state of every unit-year acted on (APPROVALS_SCHEMA)."""
    return {int(y): pl.DataFrame([(a.level, a.unit_code, a.state, a.by, as_utc(a.at))
                                  for a in registry.approvals(int(y))], schema=APPROVALS_SCHEMA, orient="row")
            for y in years}


def _submitted_units(registry, years: Sequence[int]) -> dict[int, pl.DataFrame]:
    """year → every unit with a submission of that year, whatever its verdict (level, unit_code)."""
    return {int(y): pl.DataFrame(sorted({(s.level, s.unit_code) for s in registry.list_submissions(year=int(y))}),
                                 schema=UNITS_SCHEMA, orient="row") for y in years}


def _build_marts(settings, year: int | None = None, registry=None, *, tolerance: Tolerance | None = None,
                 progress: Callable[[str], None] | None = None, official: bool = False) -> BuildResult:
    """Build a new mart version from the registry's current accepted submissions and make it current.

    year=None rebuilds every year that has accepted submissions; with a year, only that year is rebuilt and
    the other years' files are copied unchanged from the current version. A build that fails is abandoned
    (its folder removed), and one killed never becomes current (store.publish). `progress` receives one
    line per step.

    official=True builds from approved data only: the submissions of approved (locked) unit-years, every
    other unit counted as not reported; its manifest says `"official": true`.
    """
    say = progress or (lambda message: None)
    tolerance = tolerance or Tolerance()
    registry = registry or Registry(settings.database_url)
    publishing.clean_abandoned(settings)
    accepted = with_local_staging(settings, registry.current_accepted())
    years = sorted({int(s.year) for s in accepted}) if year is None else [int(year)]
    approvals = _approval_states(registry, years)
    if official:
        locked = {(y, level, unit) for y, frame in approvals.items()
                  for level, unit, state, _by, _at in frame.iter_rows() if state == APPROVED}
        accepted = [s for s in accepted if (int(s.year), s.level, s.unit_code) in locked]
    if not years:
        raise BuildError("no accepted submissions yet: nothing to build "
                         "(chưa có bản nộp nào được chấp nhận: không có gì để tổng hợp)")

    previous_folder = publishing.current_path(settings)
    previous_manifest = read_manifest(previous_folder)
    version, building_dir = publishing.start_version(settings)
    try:
        say(f"building version {version}")
        manifest = new_manifest(version, {"absolute_tolerance": tolerance.absolute,
                                          "relative_tolerance": tolerance.relative})
        manifest["official"] = official
        _build_years(manifest, building_dir, years, accepted, previous_folder, tolerance, say, approvals,
                     _submitted_units(registry, years))
        carried = (_carry_other_years(manifest, building_dir, years, previous_folder, previous_manifest, say)
                   if year is not None and previous_manifest is not None else [])
        _add_exit_marts(settings, manifest, building_dir, years, say)
        write_manifest(building_dir, finish_manifest(manifest))
    except BaseException:
        publishing.abandon(settings, version)
        raise
    published = _publish(settings, registry, manifest, building_dir, say)
    return BuildResult(version=version, path=published, manifest=manifest, built_years=years,
                       carried_years=carried)


def _build_years(manifest: dict[str, Any], building_dir: Path, years: list[int], accepted: Sequence[Any],
                 previous_folder: Path | None, tolerance: Tolerance, say: Callable[[str], None],
                 approvals: Mapping[int, pl.DataFrame] | None = None,
                 submitted_units: Mapping[int, pl.DataFrame] | None = None) -> None:
    """Every year asked for, oldest first: its poverty marts written and listed in the manifest."""
    built_poverty: dict[int, pl.DataFrame] = {}     # only last year's is kept: it gives the change in points
    for year in years:
        on = review_date(year)
        year_submissions = sorted((s for s in accepted if int(s.year) == year), key=lambda s: s.submission_id)
        default_standard = standard_for_year(year)
        standard_ids = {s.standard for s in year_submissions if s.standard} | {default_standard}
        standards = {sid: load_standard(sid) for sid in sorted(standard_ids)}
        previous_poverty = built_poverty.get(year - 1)
        if (previous_poverty is None and previous_folder is not None
                and partition_path(previous_folder, "poverty_by_ethnicity", year - 1).is_file()):
            previous_poverty = read_mart(previous_folder, "poverty_by_ethnicity", year - 1)
        say(f"year {year}: {len(year_submissions)} accepted submissions")
        frames = build_year(year, year_submissions, hierarchy=hierarchy_at(on), geography_version=geography_version(on),
                            standards=standards, default_standard=default_standard,
                            previous_poverty=previous_poverty, tolerance=tolerance,
                            local_standards=local_standards_for(year), approvals=(approvals or {}).get(year),
                            submitted_units=(submitted_units or {}).get(year))
        built_poverty = {year: frames["poverty_by_ethnicity"]}
        for name, entry in write_year(frames, building_dir, year, say).items():
            manifest["marts"][name]["files"].append(entry)
        manifest["years"][str(year)] = {
            "built": True, "geography_version": geography_version(on), "standards": sorted(standard_ids),
            "submissions": [submission_entry(s) for s in year_submissions],
        }


def _carry_other_years(manifest: dict[str, Any], building_dir: Path, years: list[int], previous_folder: Path,
                       previous_manifest: dict, say: Callable[[str], None]) -> list[int]:
    """A one-year build keeps every other year of the current version: its files copied unchanged (to this
    layout's path), its manifest entry marked as carried. Returns the years carried."""
    carried: list[int] = []
    for year_key, year_entry in sorted(previous_manifest.get("years", {}).items()):
        if int(year_key) in years:
            continue
        for name in all_marts():
            for entry in previous_manifest["marts"].get(name, {}).get("files", []):
                if int(entry["year"]) != int(year_key):
                    continue
                target = partition_path(building_dir, name, entry["year"])
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(previous_folder / entry["path"], target)
                manifest["marts"][name]["files"].append(
                    {**entry, "path": target.relative_to(building_dir).as_posix()})
        manifest["years"][year_key] = {**year_entry, "built": False, "carried_from": previous_manifest.get("version")}
        carried.append(int(year_key))
    say(f"carried unchanged from {previous_manifest.get('version')}: {carried or 'no other year'}")
    return carried


def _add_exit_marts(settings, manifest: dict[str, Any], building_dir: Path, years: list[int],
                    say: Callable[[str], None]) -> None:
    """Exit candidates and targets read this version's poverty marts (and earlier years' for baselines)."""
    for year in years:
        for name, entry in build_exit_marts(settings, building_dir, year, progress=say).items():
            manifest["marts"][name]["files"].append(entry)


def _publish(settings, registry, manifest: dict[str, Any], building_dir: Path,
             say: Callable[[str], None]) -> Path:
    version = manifest["version"]
    published = publishing.publish(settings, version, building_dir)
    registry.record_publish(version, manifest_path=published / MANIFEST, action="publish",
                            submission_ids=manifest["submission_ids"])
    say(f"published {version} at {published}")
    return published
