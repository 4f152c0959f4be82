"""One unit explained, for `lnob explain`: its statuses on 31 December of a year and, for each list of its
level, the criterion-by-criterion evaluation (from the published exit marts, else evaluated now)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.exit_marts import (
    COVERAGE_MART,
    POVERTY_MART,
    area_attributes,
    mart_frame,
    places,
    poverty_or_empty,
    with_sources,
)
from pipeline.status_lists import LIST_LEVEL
from schemas.geography import review_date
from schemas.rules import StatusRule, load_rules
from schemas.vocabulary import LIST_KINDS, NO_CONFIRMED_RULE
from store.publish import current_path
from store.status_lists import StatusLists
from transforms.exit_criteria import NO_VILLAGE, evaluate_unit, unit_measures


def unit_level_of(unit_code: str) -> str:
    return {2: "province", 3: "district", 5: "commune"}.get(len(unit_code), "unknown")


def explain_unit(settings, unit_code: str, year: int, village: str | None = None) -> dict:
    """A unit's statuses on 31 December of `year` and, for each list of its level, the criterion-by-criterion
    evaluation: from the published exit marts when the unit is there, else evaluated now on the published
    poverty marts and the area attributes (marked so)."""
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
    exits = mart_frame(None, published, "exit_candidates", [year])
    criteria = mart_frame(None, published, "exit_criteria", [year])
    entries = mart_frame(None, published, "entry_candidates", [year])
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
    poverty = poverty_or_empty(mart_frame(None, published, POVERTY_MART, [year]))
    poverty = with_sources(poverty, mart_frame(None, published, COVERAGE_MART, [year]))
    return unit_measures(poverty.lazy(), area_attributes(settings, year).lazy(), places(on).lazy()).collect()


def on_the_fly_for(measures: pl.DataFrame, kind: str, rules: dict[str, StatusRule], unit_code: str,
                   village: str) -> dict:
    """Evaluate one rule for one unit from its measures row (no row: every criterion insufficient_data).
    Under a rule that is not the law's own, the criteria are shown and the verdict is no_confirmed_rule."""
    rule = rules[kind]
    verdict = None if rule.rule_confirmed else NO_CONFIRMED_RULE
    unit_rows = measures.filter(pl.col("unit_code") == unit_code, pl.col("village") == village)
    if unit_rows.is_empty():
        return {"verdict": verdict, "rule_outcome": "insufficient_data", "depends_on_unconfirmed": None,
                "criteria": [{"criterion_id": c.id, "label_vi": c.label_vi, "label_en": c.label_en,
                              "comparison": c.comparison, "threshold": c.threshold, "unit": c.unit,
                              "value": None, "outcome": "insufficient_data", "citation": c.citation.text(),
                              "confirmed": c.confirmed, "detail": "no figures for this unit in the review year"}
                             for c in rule.criteria if not c.applies_when]}
    rows = evaluate_unit(unit_rows.lazy(), kind, rules).sort("criterion_order").collect()
    return {"verdict": verdict, "rule_outcome": rows["rule_outcome"][0],
            "depends_on_unconfirmed": rows["depends_on_unconfirmed"][0], "criteria": rows.to_dicts()}

