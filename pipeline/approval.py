"""Approval by level and the lock on approved figures (chốt số liệu).

    approve(registry, level, unit, year, by=, actor=)        the approving level signs off; locks the unit-year
    return_for_correction(..., reason=)                      … or sends it back, with a reason the submitter sees
    reopen(..., reason=)                                     the approving level or one above unlocks it, on the
                                                             record; every approval above it is reopened too
    lock_refusal(registry, level, unit, year)                the finding that refuses a submission of a locked
                                                             unit-year (None when it is not locked)

Decisions written down here because an approver or an operator will ask:
- Who approves whom is data (schemas/approval_chains.json, by review date): before the 2025 reform the district
  approves its communes, the province its districts, the central team (the operator) the provinces; after it
  the province approves its communes (UNCONFIRMED: the procedure without districts was not found).
- A unit-year can be approved when none of its own submissions still waits for a verdict and every unit it
  approves is approved (so an approval covers everything beneath it). A unit with no submission of its own
  can be approved: its figures are then official as "not reported".
- The operator may approve, return or reopen at any level; a unit's token only what its level approves
  (approve, return) or anything beneath it (reopen).
- Reopening a unit reopens every approved unit above it: a province's locked figures cannot stand on a
  commune whose figures may change. Each needs approval again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from schemas.approval import chain_for_year
from schemas.vocabulary import APPROVED, OPERATOR
from store.registry import ApprovalConflict, ApprovalRecord, Registry

_WIDTH = {"commune": 5, "district": 3, "province": 2}
_VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class NotAllowed(PermissionError):
    """The actor may not take this action on this unit (bilingual message)."""


class UnknownUnit(LookupError):
    """No such unit at that level in the administrative list of the review year."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a unit (its level and code, from its token) or the central team (level "operator")."""

    level: str
    unit_code: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        who = OPERATOR if self.level == OPERATOR else f"{self.level} {self.unit_code}"
        return f"{self.name} ({who})" if self.name else who


OPERATOR_ACTOR = Actor(OPERATOR)


@functools.cache
def _parents(year: int) -> dict[tuple[str, str], dict[str, str]]:
    """(level, unit) → {level above: its code} for every unit of the year's administrative list."""
    from schemas.geography import hierarchy_at, review_date

    parents: dict[tuple[str, str], dict[str, str]] = {}
    for commune, district, province in hierarchy_at(review_date(year)).select(
            "commune_code", "district_code", "province_code").iter_rows():
        if commune is not None:
            parents[("commune", commune)] = {k: v for k, v in (("district", district), ("province", province)) if v}
        if district is not None:
            parents[("district", district)] = {"province": province}
        parents[("province", province)] = {}
    return parents


def _check_unit(level: str, unit_code: str, year: int) -> None:
    if (level, unit_code) not in _parents(int(year)):
        raise UnknownUnit(f"không có {level} {unit_code} trong danh mục hành chính năm {year} / no {level} "
                          f"{unit_code} in the administrative list of {year}")


def approver_of(level: str, unit_code: str, year: int) -> tuple[str, str | None]:
    """(level, unit) that approves this unit-year: its ancestor at the chain's approving level, or
    ("operator", None)."""
    _check_unit(level, unit_code, year)
    approver = chain_for_year(int(year)).approver_of.get(level)
    if approver is None:
        raise UnknownUnit(f"the approval chain of {year} has no step for {level}")
    if approver == OPERATOR:
        return OPERATOR, None
    return approver, _parents(int(year))[(level, unit_code)][approver]


def units_above(level: str, unit_code: str, year: int) -> list[tuple[str, str]]:
    """The approving units above this one, nearest first (never the operator)."""
    above = []
    current = (level, unit_code)
    while True:
        approver = approver_of(*current, year)
        if approver[0] == OPERATOR:
            return above
        above.append(approver)
        current = approver


def beneath(level: str, unit_code: str, year: int) -> list[tuple[str, str]]:
    """The units this unit approves (its children in the approval chain)."""
    approved_level = chain_for_year(int(year)).approves(level)
    if approved_level is None:
        return []
    return sorted((lv, code) for (lv, code), parents in _parents(int(year)).items()
                  if lv == approved_level and parents.get(level) == unit_code)


def _may(actor: Actor, action: str, level: str, unit_code: str, year: int) -> bool:
    if actor.level == OPERATOR:
        return True
    if action == "reopen":
        return (actor.level, actor.unit_code) in units_above(level, unit_code, year)
    return approver_of(level, unit_code, year) == (actor.level, actor.unit_code)


def _require(actor: Actor, action: str, level: str, unit_code: str, year: int) -> None:
    _check_unit(level, unit_code, year)
    if not _may(actor, action, level, unit_code, year):
        approver = approver_of(level, unit_code, year)
        who = "the central team" if approver[0] == OPERATOR else f"{approver[0]} {approver[1]}"
        raise NotAllowed(
            f"{actor.label} không có quyền {_ACTION_VI[action]} {level} {unit_code} năm {year} (cấp phê duyệt: "
            f"{who}) / {actor.label} may not {action} {level} {unit_code} {year} (its approver: {who}"
            f"{', or a level above it' if action == 'reopen' else ''})")


_ACTION_VI = {"approve": "phê duyệt", "return": "trả lại", "reopen": "mở lại"}


def approve(registry: Registry, level: str, unit_code: str, year: int, *, actor: Actor) -> ApprovalRecord:
    """Approve and lock one unit-year. ApprovalConflict (bilingual) while a submission of it waits for a
    verdict or a unit it approves is not approved; NotAllowed when the actor is not its approver."""
    _require(actor, "approve", level, unit_code, year)
    try:
        return registry.approve(level, unit_code, year, by=actor.label, beneath=beneath(level, unit_code, year))
    except ApprovalConflict as conflict:
        parts_vi, parts_en = [], []
        if conflict.pending:
            parts_vi.append(f"{len(conflict.pending)} bản nộp đang chờ kiểm tra ({', '.join(conflict.pending[:5])})")
            parts_en.append(f"{len(conflict.pending)} submissions still wait for a verdict "
                            f"({', '.join(conflict.pending[:5])})")
        if conflict.unapproved:
            listed = ", ".join(f"{lv} {code}" for lv, code in conflict.unapproved[:10])
            more = f" … (+{len(conflict.unapproved) - 10})" if len(conflict.unapproved) > 10 else ""
            parts_vi.append(f"{len(conflict.unapproved)} đơn vị cấp dưới chưa được phê duyệt: {listed}{more}")
            parts_en.append(f"{len(conflict.unapproved)} units beneath are not approved: {listed}{more}")
        raise ApprovalConflict(
            f"chưa thể phê duyệt {level} {unit_code} năm {year}: {'; '.join(parts_vi)} / {level} {unit_code} "
            f"{year} cannot be approved yet: {'; '.join(parts_en)}",
            pending=conflict.pending, unapproved=conflict.unapproved) from None


def return_for_correction(registry: Registry, level: str, unit_code: str, year: int, *, actor: Actor,
                          reason: str) -> ApprovalRecord:
    """Send one unit-year back to its submitter with a reason (shown by `lnob approvals` and the front
    door). An approved unit-year must be reopened first."""
    _require(actor, "return", level, unit_code, year)
    try:
        return registry.return_for_correction(level, unit_code, year, by=actor.label, reason=reason)
    except ApprovalConflict:
        raise ApprovalConflict(
            f"{level} {unit_code} năm {year} đã được phê duyệt: hãy mở lại trước khi trả lại / {level} {unit_code} "
            f"{year} is approved: reopen it before returning it") from None


def reopen(registry: Registry, level: str, unit_code: str, year: int, *, actor: Actor, reason: str,
           token_id: int | None = None) -> list[ApprovalRecord]:
    """Unlock one approved unit-year and every approved unit above it (audited); returns those reopened."""
    _require(actor, "reopen", level, unit_code, year)
    try:
        return registry.reopen(level, unit_code, year, by=actor.label, reason=reason,
                               above=units_above(level, unit_code, year), token_id=token_id)
    except ApprovalConflict:
        raise ApprovalConflict(
            f"{level} {unit_code} năm {year} chưa được phê duyệt: không có gì để mở lại / {level} {unit_code} "
            f"{year} is not approved: there is no lock to reopen") from None


def _who_can_reopen(level: str, unit_code: str, year: int) -> tuple[str, str]:
    above = units_above(level, unit_code, year)
    names = [f"{lv} {code}" for lv, code in above]
    vi = ", ".join([*names, "nhóm dữ liệu trung ương"])
    en = ", ".join([*names, "the central data team"])
    return vi, en


def lock_refusal(registry: Registry, level: str, unit_code: str, year: int) -> dict | None:
    """The finding that refuses a new submission of a locked (approved) unit-year, naming who locked it,
    when, and who can reopen it; None when the unit-year is not locked."""
    lock = registry.approval(level, unit_code, year)
    if lock is None or lock.state != APPROVED:
        return None
    when = lock.at.astimezone(_VIETNAM).strftime("%Y-%m-%d %H:%M")
    try:
        reopen_vi, reopen_en = _who_can_reopen(level, unit_code, year)
    except UnknownUnit:
        reopen_vi, reopen_en = "nhóm dữ liệu trung ương", "the central data team"
    return {
        "severity": "error", "rule": "approval.locked", "file": None, "sheet": None, "row": None, "cell": None,
        "column": None, "value": f"{level} {unit_code} {year}", "count": 1,
        "message_vi": f"Số liệu năm {year} của {level} {unit_code} đã được chốt: {lock.by} phê duyệt lúc {when} "
                      f"(giờ Việt Nam). Không nhận bản nộp mới cho đơn vị này; muốn sửa, hãy đề nghị một trong "
                      f"các cấp sau mở lại: {reopen_vi}.",
        "message_en": f"The {year} figures of {level} {unit_code} are locked: approved by {lock.by} at {when} "
                      f"(Vietnam time). No new submission is taken for this unit; to change them, ask one of "
                      f"these to reopen the lock: {reopen_en}.",
    }


def locked_units(registry: Registry, year: int) -> dict[tuple[str, str], ApprovalRecord]:
    """(level, unit) → approval, for every approved (locked) unit of a year."""
    return {(a.level, a.unit_code): a for a in registry.approvals(int(year), state=APPROVED)}


def level_of_code(code: str) -> str | None:
    """The level a unit code in a summary row names, by its width."""
    for level, width in _WIDTH.items():
        if len(code) == width:
            return level
    return None


def status_rows(registry: Registry, year: int, *, province: str | None = None) -> list[dict]:
    """One row per unit of the year's approval chain (optionally of one province): its approver, its
    approval state, who and when, and the reason of a return or reopening."""
    states = {(a.level, a.unit_code): a for a in registry.approvals(int(year))}
    chain = chain_for_year(int(year))
    rows = []
    for (level, unit_code), parents in sorted(_parents(int(year)).items(),
                                              key=lambda item: (-_WIDTH[item[0][0]], item[0][1])):
        if level not in chain.approver_of:
            continue
        own_province = unit_code if level == "province" else parents.get("province")
        if province is not None and own_province != province:
            continue
        state = states.get((level, unit_code))
        approver = approver_of(level, unit_code, year)
        rows.append({"level": level, "unit_code": unit_code, "province_code": own_province,
                     "approver": OPERATOR if approver[0] == OPERATOR else f"{approver[0]} {approver[1]}",
                     "state": state.state if state else None, "by": state.by if state else None,
                     "at": state.at if state else None, "reason": state.reason if state else None,
                     "chain_confirmed": chain.confirmed})
    return rows
