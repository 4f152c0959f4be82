"""Status lists and exit candidates: load a decision's list, build the exit marts, explain one unit.

    load_status_list(settings, path, kind=, decision=, effective=, removes=)   a decision → the lists
    load_shipped_lists(settings)                                            the lists shipped in schemas/
    build_exit_marts(settings, building_dir, year)    exit_candidates, exit_criteria, entry_candidates,
                                                      target_progress into a mart version being built
    explain_unit(settings, unit_code, year)           statuses and criteria of one unit, for `lnob explain`

Decisions publish names, not codes: loading matches them against the administrative list valid on the decision
date (`schemas.geography.units_at`) and reports every name that matches no unit or several. By default such a
load stores nothing; `allow_unmatched` stores the matched names and keeps the others on record, unmatched.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.build import partition_path, write_partition
from schemas.marts import Mart
from schemas.rules import (
    ENTRY_CANDIDATES,
    EXIT_CANDIDATES,
    EXIT_CRITERIA,
    LIST_KINDS,
    TARGET_PROGRESS,
    StatusRule,
    load_rules,
    load_targets,
)
from schemas.text import fold
from store.status_lists import ADD, REMOVE, ListEntry, StatusLists
from transforms.exit_criteria import NO_VILLAGE, evaluate_status, evaluate_unit, unit_measures
from transforms.name_matching import MATCHED, match_names
from transforms.targets import target_progress

SHIPPED_LISTS = Path(__file__).resolve().parents[1] / "schemas" / "status_lists"
LIST_LEVEL: dict[str, str] = {"poor_district": "district", "ed_commune_coastal": "commune",
                              "region_iii_commune": "commune", "ed_village": "village"}
POVERTY_MART = "poverty_by_ethnicity"
COVERAGE_MART = "submission_coverage"
LEVEL_RANK = {"commune": 0, "district": 1, "province": 2}

# Header spellings accepted in a list file (folded: accents and case do not matter).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "province": ("province", "tinh", "tinh/thanh pho", "tinh thanh pho", "ten tinh", "province_name"),
    "district": ("district", "huyen", "quan/huyen", "quan huyen", "ten huyen", "district_name"),
    "commune": ("commune", "xa", "xa/phuong/thi tran", "phuong xa", "ten xa", "commune_name"),
    "village": ("village", "thon", "thon/ban", "thon, ban", "ten thon", "village_name"),
    "decision": ("decision", "quyet dinh", "so quyet dinh"),
}


class ListFileError(ValueError):
    """A list file that cannot be read as a list of the given kind (bilingual message)."""


@dataclass
class LoadReport:
    """What loading one decision's list did, and every name that matched no unit or several."""

    status_kind: str
    decision: str
    action: str
    effective: date
    decision_date: date | None
    source: str
    names_listed: int
    names_matched: int
    problems: list[dict] = field(default_factory=list)
    stored: bool = False
    already_present: bool = False
    partial: bool = False
    completeness: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"status_kind": self.status_kind, "decision": self.decision, "action": self.action,
                "effective": self.effective.isoformat(),
                "decision_date": self.decision_date.isoformat() if self.decision_date else None,
                "source": self.source, "names_listed": self.names_listed, "names_matched": self.names_matched,
                "stored": self.stored, "already_present": self.already_present, "partial": self.partial,
                "completeness": self.completeness, "problems": self.problems}


# ---------------------------------------------------------------------------------------------
# Loading a decision's list


def read_list_file(path: Path) -> pl.DataFrame:
    """A CSV or XLSX list with its headers mapped to province / district / commune / village / decision."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pl.read_excel(path, infer_schema_length=0)
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem, said in both languages
        raise ListFileError(f"Không đọc được tệp {path.name}: {exc} / Cannot read {path.name}: {exc}") from None
    renamed: dict[str, str] = {}
    for column in frame.columns:
        key = fold(column).replace("_", " ").strip()
        for target, spellings in HEADER_ALIASES.items():
            if key in {fold(s).replace("_", " ") for s in spellings} and target not in renamed.values():
                renamed[column] = target
    frame = frame.rename(renamed)
    if "province" not in frame.columns:
        raise ListFileError(
            f"Tệp {path.name} thiếu cột tên tỉnh (province/tỉnh); các cột có: {', '.join(frame.columns)} / "
            f"{path.name} has no province column (province/tỉnh); its columns: {', '.join(frame.columns)}")
    return frame


def _same_decision(written: str | None, decision: str) -> bool:
    return written is not None and fold(written).replace(" ", "") == fold(decision).replace(" ", "")


def _geography(on: date, levels: tuple[str, ...]) -> dict[str, pl.DataFrame | None]:
    from schemas.geography import units_at

    return {level: units_at(level, on) if level in levels else None for level in ("province", "district", "commune")}


def _aliases() -> pl.DataFrame | None:
    path = SHIPPED_LISTS / "unit_aliases.csv"
    return pl.read_csv(path, infer_schema=False) if path.is_file() else None


def load_status_list(settings, path: Path, *, kind: str, decision: str, effective: date, removes: bool = False,
                     decision_date: date | None = None, partial: bool = False, completeness: str | None = None,
                     allow_unmatched: bool = False, replace: bool = False) -> LoadReport:
    """Match a decision's names to codes and store the decision's members (or removals) from `effective` on.

    A file with a `decision` column may hold several decisions: only the rows of `decision` are read. Names are
    matched against the units valid on the decision date (or `effective` when no date is given).
    """
    if kind not in LIST_LEVEL:
        raise ListFileError(f"Loại danh sách không hợp lệ: {kind} / Unknown list kind {kind!r}; expected one of "
                            f"{', '.join(LIST_LEVEL)}")
    path = Path(path)
    content = path.read_bytes()
    # row = the row as seen in the file, header counted, before any filtering
    frame = read_list_file(path).with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    if "decision" in frame.columns:
        frame = frame.filter(pl.col("decision").map_elements(lambda d: _same_decision(d, decision),
                                                             return_dtype=pl.Boolean))
        if frame.is_empty():
            raise ListFileError(f"Tệp {path.name} không có dòng nào của quyết định {decision} / {path.name} has "
                                f"no row for decision {decision}")
    level = LIST_LEVEL[kind]
    needed = {"district": ("district",), "commune": ("commune",), "village": ("commune", "village")}[level]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ListFileError(f"Tệp {path.name} thiếu cột {', '.join(missing)} cho danh sách {kind} / {path.name} "
                            f"lacks the column(s) {', '.join(missing)} that a {kind} list needs")
    names = frame
    matching_date = decision_date or effective
    geography = _geography(matching_date, ("province", "district") + (("commune",) if level != "district" else ()))
    matched = match_names(names.select("row", *[c for c in ("province", "district", "commune") if c in names.columns]),
                          geography["province"], geography["district"], geography["commune"], _aliases())
    if level == "village":
        matched = matched.join(names.select("row", "village"), on="row", how="left")
    problems = [
        {"row": r["row"], "province": r["province"], "district": r["district"], "commune": r["commune"],
         "status": r["status"], "level": r["failed_level"], "candidates": r["candidates"],
         "message_vi": f"{path.name}, dòng {r['row']}: {r['message_vi']}",
         "message_en": f"{path.name}, row {r['row']}: {r['message_en']}"}
        for r in matched.iter_rows(named=True) if r["status"] != MATCHED
    ]
    entries = [
        ListEntry(
            row_number=r["row"], unit_level=level, unit_code=r["unit_code"], match_status=r["status"],
            village=(r.get("village") or NO_VILLAGE).strip() if level == "village" else NO_VILLAGE,
            province_code=r["province_code"], district_code=r["district_code"], commune_code=r["commune_code"],
            province_name=r["province"], district_name=r["district"], commune_name=r["commune"],
            match_stage=r["stage"], candidates=r["candidates"],
            note=r["alias_note"] or (r["message_en"] if r["status"] != MATCHED else None))
        for r in matched.iter_rows(named=True)
    ]
    report = LoadReport(kind, decision, REMOVE if removes else ADD, effective, decision_date, path.name,
                        len(entries), sum(1 for e in entries if e.unit_code), problems, partial=partial,
                        completeness=completeness)
    if problems and not allow_unmatched:
        return report
    digest = hashlib.sha256(content + b"\x1f" + decision.encode("utf-8")).hexdigest()
    _, created = StatusLists(settings.database_url).record_load(
        status_kind=kind, decision=decision, action=report.action, effective_from=effective, entries=entries,
        decision_date=decision_date, source_name=path.name, content_hash=digest, partial=partial,
        completeness=completeness, replace=replace)
    report.stored, report.already_present = True, not created
    return report


def load_shipped_lists(settings, *, replace: bool = False) -> list[LoadReport]:
    """Load every list of `schemas/status_lists/manifest.json` (names without a unit are kept on record)."""
    manifest = json.loads((SHIPPED_LISTS / "manifest.json").read_text(encoding="utf-8"))
    reports = []
    for item in manifest["lists"]:
        reports.append(load_status_list(
            settings, SHIPPED_LISTS / item["file"], kind=item["kind"], decision=item["decision"],
            effective=date.fromisoformat(item["effective"]), removes=bool(item["removes"]),
            decision_date=date.fromisoformat(item["decision_date"]) if item.get("decision_date") else None,
            partial=bool(item.get("partial")), completeness=item.get("completeness"), allow_unmatched=True,
            replace=replace))
    return reports


def memberships_frame(settings, on: date, status_kind: str | None = None) -> pl.DataFrame:
    """The lists on a date, one row per member (for `lnob lists show` and the build)."""
    members = StatusLists(settings.database_url).members_on(on, status_kind)
    return pl.DataFrame(
        [{"status_kind": m.status_kind, "unit_code": m.unit_code, "village": m.village, "unit_level": m.unit_level,
          "province_code": m.province_code, "since": m.since, "list_decisions": m.decision, "partial": m.partial}
         for m in members],
        schema={"status_kind": pl.String, "unit_code": pl.String, "village": pl.String, "unit_level": pl.String,
                "province_code": pl.String, "since": pl.Date, "list_decisions": pl.String, "partial": pl.Boolean})


# ---------------------------------------------------------------------------------------------
# Reading what the build wrote


def _partition_files(folder: Path | None, mart: str, year: int | None = None) -> list[Path]:
    if folder is None:
        return []
    pattern = f"year={int(year)}/*.parquet" if year is not None else "year=*/*.parquet"
    return sorted((folder / mart).glob(pattern))


def _mart_frame(building_dir: Path | None, published: Path | None, mart: str, years: list[int]) -> pl.DataFrame | None:
    """Rows of `years` of one mart: from the version being built, else from the published one."""
    frames = []
    for year in years:
        files = _partition_files(building_dir, mart, year) or _partition_files(published, mart, year)
        frames += [pl.read_parquet(f) for f in files]
    return pl.concat(frames, how="diagonal_relaxed") if frames else None


def _years_available(building_dir: Path | None, published: Path | None, mart: str) -> list[int]:
    years = set()
    for folder in (building_dir, published):
        for path in _partition_files(folder, mart):
            years.add(int(path.parent.name.removeprefix("year=")))
    return sorted(years)


def _with_sources(poverty: pl.DataFrame, coverage: pl.DataFrame | None) -> pl.DataFrame:
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


def _area_attributes(settings, year: int) -> pl.DataFrame:
    """The current accepted area attributes of `year` or earlier: per unit (and village) the latest year, then
    the most detailed submitting level, then the lowest submission id (deterministic)."""
    from store.registry import Registry

    records = [r for r in Registry(settings.database_url).current_accepted(kind="area_attributes")
               if int(r.year) <= year and r.staging_path and Path(r.staging_path).is_file()]
    if not records:
        return pl.DataFrame(schema={"unit_code": pl.String, "village": pl.String, "submission_id": pl.String})
    frame = pl.concat([pl.read_parquet(r.staging_path) for r in records], how="diagonal_relaxed")
    if "village" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("village"))
    return (frame
            .with_columns(pl.col("submitting_level").replace_strict(LEVEL_RANK, default=9, return_dtype=pl.Int64)
                          .alias("__rank"))
            .sort(["unit_code", "village", "year", "__rank", "submission_id"],
                  descending=[False, False, True, False, False], nulls_last=True)
            .unique(subset=["unit_code", "village"], keep="first", maintain_order=True)
            .drop("__rank"))


def _places(on: date) -> pl.DataFrame:
    from schemas.geography import units_at

    frames = []
    for level in ("commune", "district"):
        try:
            frames.append(units_at(level, on).select("unit_code", "unit_name", "province_code", "region_key"))
        except (KeyError, ValueError):
            continue   # no districts after the 2025 reform
    return pl.concat(frames) if frames else pl.DataFrame(
        schema={"unit_code": pl.String, "unit_name": pl.String, "province_code": pl.String, "region_key": pl.String})


def _conform(frame: pl.DataFrame, layout: Mart) -> pl.DataFrame:
    """The layout's columns (absent ones null) in its order and dtypes, rows in its sort order."""
    frame = frame.sort(list(layout.sort_key), nulls_last=True, maintain_order=True)
    return frame.select((pl.col(c.name).cast(c.dtype) if c.name in frame.columns
                         else pl.lit(None, dtype=c.dtype)).alias(c.name) for c in layout.columns)


def _write(frame: pl.DataFrame, building_dir: Path, name: str, year: int) -> None:
    path = partition_path(building_dir, name, year)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_partition(frame, path)


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
    from schemas.geography import review_date

    rules = rules or load_rules()
    on = review_date(year)
    poverty = _mart_frame(building_dir, published, POVERTY_MART, [year])
    coverage = _mart_frame(building_dir, published, COVERAGE_MART, [year])
    if poverty is None:
        poverty = pl.DataFrame(schema={"year": pl.Int64, "level": pl.String, "unit_code": pl.String,
                                       "ethnic_group": pl.String, "area": pl.String, "households_total": pl.Int64,
                                       "households_poor": pl.Int64, "households_near_poor": pl.Int64})
    poverty = _with_sources(poverty, coverage)
    measures = unit_measures(poverty.lazy(), _area_attributes(settings, year).lazy(), _places(on).lazy())
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
    exit_candidates = _conform(pl.concat(exits, how="diagonal_relaxed"), EXIT_CANDIDATES) \
        if exits else _empty(EXIT_CANDIDATES)
    exit_criteria = _conform(pl.concat(criteria, how="diagonal_relaxed"), EXIT_CRITERIA) \
        if criteria else _empty(EXIT_CRITERIA)
    entry_candidates = _conform(pl.concat(entries, how="diagonal_relaxed"), ENTRY_CANDIDATES) \
        if entries else _empty(ENTRY_CANDIDATES)

    # targets: national and province rates of every year up to this one
    years = [y for y in _years_available(building_dir, published, POVERTY_MART) if y <= year] or [year]
    all_poverty = _mart_frame(building_dir, published, POVERTY_MART, years)
    if all_poverty is not None:
        # Earlier years on the pre-reform list are restated on this year's units: most codes survived the
        # reform but name merged provinces, which must not be compared with their namesakes.
        from pipeline.build import rows_on_this_list
        from schemas.geography import geography_version, hierarchy_at
        from transforms.rollup import units_from_hierarchy

        all_poverty = rows_on_this_list(all_poverty, units_from_hierarchy(hierarchy_at(on)), geography_version(on),
                                        keys=("year", "ethnic_group", "area"))
    rates = (all_poverty.filter(pl.col("level").is_in(["national", "province"])) if all_poverty is not None
             else poverty.clear())
    progress = target_progress(load_targets(), year, poverty=rates.lazy(), removals=_removals(settings, on).lazy(),
                               baseline_members=_baseline_members(settings).lazy(),
                               exit_candidates=exit_candidates.lazy()).collect()
    return ExitFrames(exit_candidates, exit_criteria, entry_candidates, _conform(progress, TARGET_PROGRESS))


def _empty(layout: Mart) -> pl.DataFrame:
    return pl.DataFrame(schema=layout.polars_schema())


def _removals(settings, on: date) -> pl.DataFrame:
    """One row per name of every removal decision in effect by `on` (matched or not)."""
    lists = StatusLists(settings.database_url)
    rows = [{"status_kind": load.status_kind, "decision": load.decision, "province_code": entry.province_code,
             "unit_code": entry.unit_code}
            for load in lists.loads() if load.action == REMOVE and load.effective_from <= on
            for entry in lists.entries(load.load_id)]
    return pl.DataFrame(rows, schema={"status_kind": pl.String, "decision": pl.String, "province_code": pl.String,
                                      "unit_code": pl.String})


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
                     progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write `exit_candidates`, `exit_criteria`, `entry_candidates` and `target_progress` for `year` into the
    mart version being built (after its poverty marts): hive `year=YYYY/part-0.parquet`, keys inside the files,
    rows sorted by each mart's key, fixed writer settings. Returns {mart: rows written}."""
    from store.publish import current_path

    building_dir = Path(building_dir)
    published = current_path(settings)
    frames = exit_frames(settings, year, building_dir=building_dir, published=published)
    written = {}
    for name, frame in (("exit_candidates", frames.exit_candidates), ("exit_criteria", frames.exit_criteria),
                        ("entry_candidates", frames.entry_candidates), ("target_progress", frames.target_progress)):
        _write(frame, building_dir, name, year)
        written[name] = frame.height
        if progress is not None:
            progress(f"{name} year={year}: {frame.height} rows")
    return written


# ---------------------------------------------------------------------------------------------
# One unit, explained


def unit_level_of(unit_code: str) -> str:
    return {2: "province", 3: "district", 5: "commune"}.get(len(unit_code), "unknown")


def explain_unit(settings, unit_code: str, year: int, village: str | None = None) -> dict:
    """A unit's statuses on 31 December of `year` and, for each list of its level, the criterion-by-criterion
    evaluation: from the published exit marts when the unit is there, else evaluated now on the published
    poverty marts and the area attributes (marked so)."""
    from schemas.geography import review_date
    from store.publish import current_path

    on = review_date(year)
    level = "village" if village else unit_level_of(unit_code)
    village_key = village or NO_VILLAGE
    lists = StatusLists(settings.database_url)
    history = [c for c in lists.changes(unit_code=unit_code) if c.village == village_key]
    members = {m.status_kind: m for m in lists.members_on(on) if m.unit_code == unit_code
               and m.village == village_key}
    published = current_path(settings)
    rules = load_rules()
    result: dict[str, Any] = {"unit_code": unit_code, "village": village, "year": year, "level": level,
                              "review_date": on.isoformat(), "published_version": published.name if published else None,
                              "history": [c.__dict__ for c in history], "statuses": []}
    exits = _mart_frame(None, published, "exit_candidates", [year])
    criteria = _mart_frame(None, published, "exit_criteria", [year])
    entries = _mart_frame(None, published, "entry_candidates", [year])
    on_the_fly: pl.DataFrame | None = None
    for kind in LIST_KINDS:
        rule = rules[kind]
        if LIST_LEVEL[kind] != level:
            continue
        status: dict[str, Any] = {"status_kind": kind, "title_vi": rule.title_vi, "title_en": rule.title_en,
                                  "on_list": kind in members, "provisional": rule.provisional,
                                  "provisional_note_vi": rule.provisional_note_vi,
                                  "provisional_note_en": rule.provisional_note_en,
                                  "member_since": members[kind].since.isoformat() if kind in members else None,
                                  "member_by": members[kind].decision if kind in members else None,
                                  "list_partial": members[kind].partial if kind in members else None}

        def rows_of(frame: pl.DataFrame | None, kind: str = kind) -> pl.DataFrame | None:
            if frame is None:
                return None
            selected = frame.filter(pl.col("status_kind") == kind, pl.col("unit_code") == unit_code,
                                    pl.col("village").fill_null(NO_VILLAGE) == village_key)
            return selected if selected.height else None

        verdict_rows = rows_of(exits) if kind in members else rows_of(entries)
        criterion_rows = rows_of(criteria)
        if verdict_rows is not None and criterion_rows is not None:
            verdict = verdict_rows.row(0, named=True)
            status.update(source="published", verdict=verdict["verdict"],
                          depends_on_unconfirmed=verdict["depends_on_unconfirmed"],
                          classified_as=verdict.get("classified_as"),
                          criteria=criterion_rows.to_dicts())
        else:
            if on_the_fly is None:
                on_the_fly = _evaluate_now(settings, published, year, on)
            evaluated = on_the_fly_for(on_the_fly, kind, rules, unit_code, village_key)
            status.update(source="evaluated_now", **evaluated)
        result["statuses"].append(status)
    return result


def _evaluate_now(settings, published: Path | None, year: int, on: date) -> pl.DataFrame:
    poverty = _mart_frame(None, published, POVERTY_MART, [year])
    if poverty is None:
        poverty = pl.DataFrame(schema={"year": pl.Int64, "level": pl.String, "unit_code": pl.String,
                                       "ethnic_group": pl.String, "area": pl.String, "households_total": pl.Int64,
                                       "households_poor": pl.Int64, "households_near_poor": pl.Int64})
    poverty = _with_sources(poverty, _mart_frame(None, published, COVERAGE_MART, [year]))
    return unit_measures(poverty.lazy(), _area_attributes(settings, year).lazy(), _places(on).lazy()).collect()


def on_the_fly_for(measures: pl.DataFrame, kind: str, rules: dict[str, StatusRule], unit_code: str,
                   village: str) -> dict:
    """Evaluate one rule for one unit from its measures row (no row: every criterion insufficient_data)."""
    unit_rows = measures.filter(pl.col("unit_code") == unit_code, pl.col("village") == village)
    if unit_rows.is_empty():
        rule = rules[kind]
        return {"verdict": None, "rule_outcome": "insufficient_data", "depends_on_unconfirmed": None,
                "criteria": [{"criterion_id": c.id, "label_vi": c.label_vi, "label_en": c.label_en,
                              "comparison": c.comparison, "threshold": c.threshold, "unit": c.unit,
                              "value": None, "outcome": "insufficient_data", "citation": c.citation.text(),
                              "confirmed": c.confirmed, "detail": "no figures for this unit in the review year"}
                             for c in rule.criteria if not c.applies_when]}
    rows = evaluate_unit(unit_rows.lazy(), kind, rules).sort("criterion_order").collect()
    return {"verdict": None, "rule_outcome": rows["rule_outcome"][0],
            "depends_on_unconfirmed": rows["depends_on_unconfirmed"][0], "criteria": rows.to_dicts()}


def report_text(report: LoadReport) -> str:
    """A load report for people, in Vietnamese and English."""
    out = io.StringIO()
    verb = "gỡ khỏi danh sách / removes" if report.action == REMOVE else "đưa vào danh sách / adds"
    out.write(f"{report.decision} ({report.status_kind}) {verb}, hiệu lực từ / effective {report.effective}: "
              f"{report.names_matched}/{report.names_listed} tên khớp mã / names matched\n")
    if report.partial:
        out.write(f"  DANH SÁCH CHƯA ĐẦY ĐỦ / PARTIAL LIST: {report.completeness or ''}\n")
    for problem in report.problems:
        out.write(f"  - {problem['message_vi']}\n    {problem['message_en']}\n")
    if report.stored:
        out.write("  đã có sẵn, không thay đổi / already loaded, unchanged\n" if report.already_present
                  else "  đã lưu / stored\n")
    else:
        out.write("  KHÔNG lưu: sửa các tên trên (hoặc dùng --allow-unmatched) / NOT stored: fix the names above "
                  "(or use --allow-unmatched)\n")
    return out.getvalue()
