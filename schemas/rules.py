"""Exit and entry rules of the status lists, and the national targets, read from their data files.

The legal criteria live in `schemas/status_rules/<status_kind>.json` (one file per status kind, each criterion
with its threshold, comparison, inputs, citation and confirmed flag) and the programme targets in
`schemas/targets.json`. This module only reads and checks them: a new decision is a new or edited file, never
new code. `LNOB_RULES_DIR` points lnob at another folder of rule files (an operator's replacement for the
provisional poor-district rule, say) without touching the installed ones.

The words of the rules (list kinds, comparisons, outcomes, verdicts) are in schemas/vocabulary.py; the layouts
of the marts built from them (`exit_candidates`, `exit_criteria`, `entry_candidates`, `target_progress`) are
with every other mart layout in schemas/marts.py.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from schemas.vocabulary import COMPARISONS

RULES_DIR = Path(__file__).with_name("status_rules")
TARGETS_FILE = Path(__file__).with_name("targets.json")


@dataclass(frozen=True)
class Measure:
    """A quantity the evaluator computes for a unit, from the poverty marts or from area_attributes."""

    name: str
    label_vi: str
    label_en: str
    unit: str | None
    kind: str      # "rate" (100 × numerator / denominator of counts), "count", "percent", "number", "flag"


MEASURES: dict[str, Measure] = {m.name: m for m in (
    Measure("poor_near_poor_rate", "Tỷ lệ hộ nghèo, hộ cận nghèo", "Poor and near-poor household rate", "%", "rate"),
    Measure("poor_rate", "Tỷ lệ hộ nghèo", "Poor household rate", "%", "rate"),
    Measure("em_household_share", "Tỷ lệ hộ dân tộc thiểu số", "Ethnic-minority share of households", "%", "rate"),
    Measure("em_poor_households", "Số hộ nghèo dân tộc thiểu số", "Ethnic-minority poor households", "households",
            "count"),
    Measure("em_share_of_poor", "Tỷ lệ hộ DTTS trong số hộ nghèo", "Ethnic-minority share of poor households", "%",
            "rate"),
    Measure("lacking_infrastructure_items", "Số hạng mục cơ sở hạ tầng còn thiếu",
            "Infrastructure items lacking", "items", "count"),
    Measure("households_without_grid_electricity_pct", "Tỷ lệ hộ chưa sử dụng điện lưới quốc gia",
            "Households not using national-grid electricity", "%", "percent"),
    Measure("is_coastal_or_island", "Xã ven biển, hải đảo", "Coastal or island commune", None, "flag"),
    Measure("saline_intrusion_months", "Số tháng xâm nhập mặn liên tục", "Consecutive months of saline intrusion",
            "months", "number"),
    Measure("new_rural_recognised", "Đạt chuẩn nông thôn mới", "Recognised as new-rural", None, "flag"),
    Measure("em_people_15_60_illiterate_pct", "Tỷ lệ người DTTS 15–60 tuổi không biết chữ phổ thông",
            "Ethnic-minority people aged 15–60 unable to read or write the common language", "%", "percent"),
    Measure("workers_untrained_pct", "Tỷ lệ lao động chưa qua đào tạo từ 3 tháng",
            "Workers without training of 3 months or more", "%", "percent"),
    Measure("road_to_centre_km", "Chiều dài đường đến trung tâm xã", "Road to the commune centre", "km", "number"),
    Measure("road_to_centre_unsurfaced_pct", "Tỷ lệ đường chưa nhựa hóa, bê tông hóa", "Road not surfaced", "%",
            "percent"),
    Measure("no_road_or_hard_to_travel", "Chưa có đường hoặc đường rất khó đi", "No road or very hard to travel",
            None, "flag"),
    Measure("is_mountainous_highland_or_border", "Miền núi, vùng cao, biên giới", "Mountainous, highland or border",
            None, "flag"),
    Measure("income_per_capita_year", "Thu nhập bình quân đầu người/năm", "Income per person per year", "VND",
            "number"),
)}


class RuleFileError(ValueError):
    """A rule or target file that cannot be used as written; the message names the file and the entry."""


@dataclass(frozen=True)
class Citation:
    decision: str
    article: str | None
    clause: str | None
    point: str | None
    note: str | None = None

    def text(self) -> str:
        parts = [self.decision]
        if self.article:
            parts.append(f"Art. {self.article}")
        if self.clause:
            parts.append(f"cl. {self.clause}")
        if self.point:
            parts.append(f"pt. {self.point}")
        return ", ".join(parts)

    def text_vi(self) -> str:
        parts = [f"Quyết định {self.decision}"]
        if self.article:
            parts.append(f"Điều {self.article}")
        if self.clause:
            parts.append(f"khoản {self.clause}")
        if self.point:
            parts.append(f"điểm {self.point}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Variant:
    """A threshold that replaces the criterion's own where a condition on the unit holds (the Mekong Delta)."""

    when: dict[str, str]
    threshold: float | bool
    label_vi: str | None
    label_en: str | None


@dataclass(frozen=True)
class Criterion:
    id: str
    label_vi: str
    label_en: str
    measure: str | None
    comparison: str | None
    threshold: float | bool | None
    unit: str | None
    inputs: tuple[str, ...]
    citation: Citation
    confirmed: bool
    role: str = "rule"                         # "rule" (part of entry_rule) or "indicator" (reported only)
    variants: tuple[Variant, ...] = ()
    applies_when: dict[str, str] | None = None
    confirmed_inputs: tuple[str, ...] = ()
    provisional: bool = False
    source_status: str = ""


@dataclass(frozen=True)
class StatusRule:
    status_kind: str
    title_vi: str
    title_en: str
    level: str
    applies_from_year: int
    applies_to_year: int
    legal_basis: dict[str, Any]
    criteria: tuple[Criterion, ...]
    entry_rule: Any
    provisional: bool
    is_list: bool
    path: Path
    notes: tuple[str, ...] = ()
    provisional_note_vi: str | None = None
    provisional_note_en: str | None = None
    # Whether the rule that turns criteria into a verdict is the law's own. When it is not (the poor-district
    # scoring of Decision 36/2021 Art. 3 was never found), units get the criteria's values and the verdict
    # `no_confirmed_rule`, never exit_candidate or entry_candidate. Defaults to "not provisional".
    rule_confirmed: bool = True

    def criterion(self, criterion_id: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(f"{self.path.name}: no criterion {criterion_id!r}")

    def referenced_rules(self) -> set[str]:
        return set(_rule_references(self.entry_rule))


def rules_dir() -> Path:
    configured = os.environ.get("LNOB_RULES_DIR")
    return Path(configured) if configured else RULES_DIR


def _rule_references(node: Any) -> list[str]:
    if isinstance(node, str):
        return []
    if isinstance(node, dict):
        if "rule" in node:
            return [node["rule"]]
        found: list[str] = []
        for key in ("all", "any"):
            for child in node.get(key, ()):
                found += _rule_references(child)
        if "not" in node:
            found += _rule_references(node["not"])
        return found
    return []


def _criterion_ids(node: Any, path: Path) -> list[str]:
    """Every criterion id the logic tree names; raises on a node lnob cannot evaluate."""
    if isinstance(node, str):
        return [node]
    if not isinstance(node, dict) or len(node) != 1:
        raise RuleFileError(f"{path.name}: entry_rule node {node!r} must be a criterion id or one of "
                            "{'all': [...]}, {'any': [...]}, {'not': node}, {'rule': kind}, {'score': {...}}")
    (key, value), = node.items()
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise RuleFileError(f"{path.name}: '{key}' needs a non-empty list")
        return [cid for child in value for cid in _criterion_ids(child, path)]
    if key == "not":
        return _criterion_ids(value, path)
    if key == "rule":
        return []
    if key == "score":
        if not isinstance(value, dict) or "cutoff" not in value or not value.get("items"):
            raise RuleFileError(f"{path.name}: 'score' needs 'cutoff' and 'items' [{{criterion, points}}]")
        if value.get("comparison", ">=") not in COMPARISONS:
            raise RuleFileError(f"{path.name}: score comparison {value.get('comparison')!r} is not one of "
                                f"{', '.join(COMPARISONS)}")
        return [item["criterion"] for item in value["items"]]
    raise RuleFileError(f"{path.name}: unknown entry_rule node {key!r}")


def _criterion_from(raw: dict[str, Any], path: Path) -> Criterion:
    where = f"{path.name}: criterion {raw.get('id')!r}"
    for key in ("id", "label_vi", "label_en", "citation", "confirmed"):
        if key not in raw:
            raise RuleFileError(f"{where} lacks {key!r}")
    role = raw.get("role", "rule")
    measure = raw.get("measure")
    if measure is not None and measure not in MEASURES:
        raise RuleFileError(f"{where}: unknown measure {measure!r}; lnob computes {', '.join(MEASURES)}")
    comparison = raw.get("comparison")
    if role == "rule":
        if comparison not in COMPARISONS:
            raise RuleFileError(f"{where}: comparison {comparison!r} is not one of {', '.join(COMPARISONS)}")
        if raw.get("threshold") is None:
            raise RuleFileError(f"{where}: a rule criterion needs a threshold")
        if measure is None:
            raise RuleFileError(f"{where}: a rule criterion needs a measure")
    cit = raw["citation"]
    if not cit.get("decision"):
        raise RuleFileError(f"{where}: citation needs a decision")
    return Criterion(
        id=raw["id"], label_vi=raw["label_vi"], label_en=raw["label_en"], measure=measure, comparison=comparison,
        threshold=raw.get("threshold"), unit=raw.get("unit"), inputs=tuple(raw.get("inputs", ())),
        citation=Citation(cit["decision"], _text(cit.get("article")), _text(cit.get("clause")),
                          _text(cit.get("point")), cit.get("note")),
        confirmed=bool(raw["confirmed"]), role=role,
        variants=tuple(Variant(v["when"], v["threshold"], v.get("label_vi"), v.get("label_en"))
                       for v in raw.get("variants", ())),
        applies_when=raw.get("applies_when"), confirmed_inputs=tuple(raw.get("confirmed_inputs", ())),
        provisional=bool(raw.get("provisional", False)), source_status=raw.get("source_status", ""),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_rule(document: dict[str, Any], path: Path) -> StatusRule:
    """Check one rule document and turn it into a StatusRule (errors name the file and the entry)."""
    for key in ("status_kind", "title_vi", "title_en", "level", "criteria", "entry_rule", "legal_basis"):
        if key not in document:
            raise RuleFileError(f"{path.name} lacks {key!r}")
    criteria = tuple(_criterion_from(raw, path) for raw in document["criteria"])
    ids = [c.id for c in criteria]
    duplicated = {cid for cid in ids if ids.count(cid) > 1}
    if duplicated:
        raise RuleFileError(f"{path.name}: criterion ids used twice: {', '.join(sorted(duplicated))}")
    unknown = set(_criterion_ids(document["entry_rule"], path)) - set(ids)
    if unknown:
        raise RuleFileError(f"{path.name}: entry_rule names unknown criteria {', '.join(sorted(unknown))}")
    indicators_in_rule = {c.id for c in criteria if c.role != "rule"} & set(_criterion_ids(document["entry_rule"],
                                                                                          path))
    if indicators_in_rule:
        raise RuleFileError(f"{path.name}: indicators cannot decide the verdict: {', '.join(sorted(indicators_in_rule))}")
    return StatusRule(
        status_kind=document["status_kind"], title_vi=document["title_vi"], title_en=document["title_en"],
        level=document["level"], applies_from_year=int(document.get("applies_from_year", 0)),
        applies_to_year=int(document.get("applies_to_year", 9999)), legal_basis=document["legal_basis"],
        criteria=criteria, entry_rule=document["entry_rule"], provisional=bool(document.get("provisional", False)),
        is_list=document.get("list_kind", True) is not False, path=path, notes=tuple(document.get("notes", ())),
        provisional_note_vi=document.get("provisional_note_vi"),
        provisional_note_en=document.get("provisional_note_en"),
        rule_confirmed=bool(document.get("rule_confirmed", not document.get("provisional", False))),
    )


@cache
def _load_rule_file(path: Path, mtime_ns: int) -> StatusRule:
    with path.open(encoding="utf-8") as handle:
        try:
            document = json.load(handle)
        except json.JSONDecodeError as exc:
            raise RuleFileError(f"{path}: not valid JSON ({exc})") from None
    rule = parse_rule(document, path)
    if rule.status_kind != path.stem:
        raise RuleFileError(f"{path.name}: status_kind {rule.status_kind!r} differs from the file name")
    return rule


def load_rule(status_kind: str, directory: Path | None = None) -> StatusRule:
    """The rule of one status kind (`schemas/status_rules/<kind>.json`, or the LNOB_RULES_DIR copy)."""
    path = (directory or rules_dir()) / f"{status_kind}.json"
    if not path.exists():
        raise RuleFileError(f"no rule file for {status_kind!r} at {path}")
    return _load_rule_file(path, path.stat().st_mtime_ns)


def load_rules(directory: Path | None = None) -> dict[str, StatusRule]:
    """Every rule file of the folder, by status kind; references between rules must resolve."""
    folder = directory or rules_dir()
    rules = {path.stem: load_rule(path.stem, folder) for path in sorted(folder.glob("*.json"))}
    for rule in rules.values():
        missing = rule.referenced_rules() - set(rules)
        if missing:
            raise RuleFileError(f"{rule.path.name}: refers to rules with no file: {', '.join(sorted(missing))}")
    return rules


def criteria_frame(rule: StatusRule) -> pl.DataFrame:
    """One row per criterion of a rule: what the data dictionary and `lnob explain` print."""
    rows = [{
        "status_kind": rule.status_kind, "criterion_id": c.id, "role": c.role, "label_vi": c.label_vi,
        "label_en": c.label_en, "measure": c.measure, "comparison": c.comparison,
        "threshold": None if c.threshold is None else str(c.threshold), "unit": c.unit,
        "citation": c.citation.text(), "confirmed": c.confirmed,
    } for c in rule.criteria]
    return pl.DataFrame(rows, schema={"status_kind": pl.String, "criterion_id": pl.String, "role": pl.String,
                                      "label_vi": pl.String, "label_en": pl.String, "measure": pl.String,
                                      "comparison": pl.String, "threshold": pl.String, "unit": pl.String,
                                      "citation": pl.String, "confirmed": pl.Boolean})


# ---------------------------------------------------------------------------------------------
# Targets


@dataclass(frozen=True)
class Target:
    id: str
    label_vi: str
    label_en: str
    kind: str                       # one of TARGET_KINDS
    goal: dict[str, Any] | None     # None: an indicator, reported and never judged
    levels: tuple[str, ...]
    source: dict[str, Any]
    confirmed: bool
    details: dict[str, Any]


@dataclass(frozen=True)
class Targets:
    programme: dict[str, Any]
    baseline_year: int
    period_from: int
    period_to: int
    targets: tuple[Target, ...]
    published_baseline: dict[str, Any] | None = None   # the ministry's start-of-period figure, for reference

    def target(self, target_id: str) -> Target:
        for target in self.targets:
            if target.id == target_id:
                return target
        raise KeyError(target_id)


TARGET_KINDS: tuple[str, ...] = ("rate_change", "list_rate_change", "count_change", "exit_share")


def load_targets(path: Path | None = None) -> Targets:
    """The programme targets of `schemas/targets.json`."""
    path = path or TARGETS_FILE
    with path.open(encoding="utf-8") as handle:
        document = json.load(handle)
    targets = []
    for raw in document["targets"]:
        for key in ("id", "label_vi", "label_en", "kind", "goal", "source", "confirmed"):
            if key not in raw:
                raise RuleFileError(f"{path.name}: target {raw.get('id')!r} lacks {key!r}")
        if raw["kind"] not in TARGET_KINDS:
            raise RuleFileError(f"{path.name}: target {raw['id']!r} has unknown kind {raw['kind']!r}")
        # "goal": null marks an indicator reported beside the targets, never judged
        if raw["goal"] is not None and raw["goal"].get("comparison") not in COMPARISONS:
            raise RuleFileError(f"{path.name}: target {raw['id']!r} goal comparison must be one of "
                                f"{', '.join(COMPARISONS)}")
        details = {k: v for k, v in raw.items()
                   if k not in ("id", "label_vi", "label_en", "kind", "goal", "levels", "source", "confirmed")}
        targets.append(Target(raw["id"], raw["label_vi"], raw["label_en"], raw["kind"], raw["goal"],
                              tuple(raw.get("levels", ("national",))), raw["source"], bool(raw["confirmed"]),
                              details))
    period = document["period"]
    return Targets(document["programme"], int(document["baseline_year"]), int(period["from"]), int(period["to"]),
                   tuple(targets), document.get("published_baseline"))
