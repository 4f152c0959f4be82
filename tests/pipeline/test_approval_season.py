"""One province through a review season on the pre-2025 geography (Đà Nẵng, 48, review year 2024): communes
submit, the district returns one commune with a reason and approves its communes after the fix, the province
approves its districts, the central team approves the province, a late resubmission is refused, the province
reopens one commune, and the marts say which figures are official. Other units' tokens cannot approve or
reopen."""

from __future__ import annotations

import json

import polars as pl
import pytest

from pipeline import approval
from pipeline.approval import Actor, ApprovalConflict, NotAllowed
from pipeline.build import build_marts
from pipeline.intake import submit
from schemas.geography import hierarchy_at, review_date
from store.mart_files import read_mart
from store.registry import Registry
from tests.fixtures_ingest import frame_of, gx_runner, household_rows, make_settings, write_csv

__all__ = ["gx_runner"]

YEAR = 2024
PROVINCE = "48"
DISTRICT = "490"


def _units():
    lowest = hierarchy_at(review_date(YEAR)).filter(pl.col("province_code") == PROVINCE)
    districts = sorted(set(lowest.get_column("district_code").to_list()))
    communes = {d: sorted(c for c in lowest.filter(pl.col("district_code") == d).get_column("commune_code")
                          .to_list() if c is not None) for d in districts}
    return districts, communes


def _send(settings, tmp_path, commune: str, runner, *, households: int = 6, name: str = "list") -> dict:
    path = write_csv(tmp_path / f"{commune}-{name}.csv", frame_of(household_rows(households, commune=commune)))
    return submit(settings, path, level="commune", unit_code=commune, year=YEAR, kind="household",
                  runner=runner, lists_every_household=True)


def _row(settings, level: str, unit: str) -> dict:
    from store import publish as publishing

    poverty = read_mart(publishing.current_path(settings), "poverty_by_area", YEAR)
    rows = poverty.filter((pl.col("level") == level) & (pl.col("unit_code") == unit) & (pl.col("area") == "all"))
    assert rows.height == 1, (level, unit, rows)
    return rows.row(0, named=True)


def _coverage(settings) -> dict:
    from store import publish as publishing

    rows = read_mart(publishing.current_path(settings), "approval_coverage", YEAR).filter(
        pl.col("province_code") == PROVINCE)
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_a_province_walks_through_the_season(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    registry = Registry(settings.database_url)
    districts, communes = _units()
    first, second = communes[DISTRICT][:2]
    district_actor = Actor("district", DISTRICT, "Phòng LĐTBXH")
    province_actor = Actor("province", PROVINCE, "Sở LĐTBXH")

    # Communes submit.
    assert _send(settings, tmp_path, first, gx_runner)["status"] == "accepted"
    assert _send(settings, tmp_path, second, gx_runner, households=4)["status"] == "accepted"

    # The district returns the second commune with a reason the submitter sees, and cannot approve itself.
    returned = approval.return_for_correction(registry, "commune", second, YEAR, actor=district_actor,
                                              reason="Thiếu hộ ở thôn 2 / households of village 2 missing")
    assert returned.state == "returned" and "village 2" in returned.reason
    assert [r["reason"] for r in approval.status_rows(registry, YEAR, province=PROVINCE)
            if r["unit_code"] == second] == [returned.reason]
    with pytest.raises(NotAllowed):
        approval.approve(registry, "district", DISTRICT, YEAR, actor=district_actor)

    # The province cannot approve the district before its communes are approved.
    with pytest.raises(ApprovalConflict) as conflict:
        approval.approve(registry, "district", DISTRICT, YEAR, actor=province_actor)
    assert ("commune", first) in conflict.value.unapproved and "cannot be approved yet" in str(conflict.value)

    # The commune fixes its list; the district approves every one of its communes.
    fixed = _send(settings, tmp_path, second, gx_runner, households=7, name="fixed")
    assert fixed["status"] == "accepted" and fixed["supersedes"]
    for commune in communes[DISTRICT]:
        assert approval.approve(registry, "commune", commune, YEAR, actor=district_actor).state == "approved"

    # Another district's token approves nothing of this district; another province's reopens nothing here.
    with pytest.raises(NotAllowed):
        approval.approve(registry, "commune", communes[districts[1]][0], YEAR, actor=district_actor)
    with pytest.raises(NotAllowed):
        approval.reopen(registry, "commune", first, YEAR, actor=Actor("province", "02"), reason="x")
    with pytest.raises(NotAllowed):
        approval.reopen(registry, "commune", first, YEAR, actor=Actor("district", districts[1]), reason="x")

    # Every other district approves its communes, then the province its districts, then the central team.
    for district in districts:
        if district != DISTRICT:
            for commune in communes[district]:
                approval.approve(registry, "commune", commune, YEAR, actor=Actor("district", district))
        approval.approve(registry, "district", district, YEAR, actor=province_actor)
    with pytest.raises(NotAllowed):
        approval.approve(registry, "province", PROVINCE, YEAR, actor=province_actor)
    approval.approve(registry, "province", PROVINCE, YEAR, actor=approval.OPERATOR_ACTOR)

    # A late resubmission is refused, naming who locked the figures and who can reopen them; nothing is kept.
    before = len(registry.list_submissions(unit_code=first))
    late = _send(settings, tmp_path, first, gx_runner, households=9, name="late")
    assert late["status"] == "rejected" and late["submission_id"] is None
    [finding] = late["findings"]
    assert finding["rule"] == "approval.locked"
    assert "Phòng LĐTBXH" in finding["message_en"] and f"district {DISTRICT}" in finding["message_en"]
    assert f"province {PROVINCE}" in finding["message_en"] and "chốt" in finding["message_vi"]
    assert len(registry.list_submissions(unit_code=first)) == before

    build_marts(settings, year=YEAR)
    for level, unit in (("commune", first), ("commune", second), ("district", DISTRICT), ("province", PROVINCE)):
        assert _row(settings, level, unit)["figures_status"] == "official", (level, unit)
    assert _row(settings, "district", DISTRICT)["child_units_approved"] == len(communes[DISTRICT])
    assert _row(settings, "province", PROVINCE)["child_units_approved"] == len(districts)
    assert _row(settings, "national", "VN")["figures_status"] == "preliminary"    # other provinces are not
    coverage = _coverage(settings)
    every_commune = sum(len(c) for c in communes.values())
    assert (coverage["communes_expected"], coverage["communes_submitted"], coverage["communes_accepted"],
            coverage["communes_approved"], coverage["communes_returned"],
            coverage["communes_awaiting_approval"]) == (every_commune, 2, 2, every_commune, 0, 0)
    assert (coverage["districts_expected"], coverage["districts_approved"]) == (len(districts), len(districts))
    assert coverage["province_approval_state"] == "approved" and coverage["deadline_confirmed"] is True
    # Approved today, long after 20 December of the review year.
    assert str(coverage["approval_deadline"]) == f"{YEAR}-12-20" and coverage["approval_timing"] == "late"

    # The province reopens one commune: the district and the province above it are reopened too, on the record.
    reopened = approval.reopen(registry, "commune", first, YEAR, actor=province_actor,
                               reason="Hộ khiếu nại / a household's appeal")
    assert [(r.level, r.unit_code) for r in reopened] == [("commune", first), ("district", DISTRICT),
                                                          ("province", PROVINCE)]
    assert all(r.state == "reopened" for r in reopened)
    [audit] = [e for e in registry.audit_entries() if e.action == "approval.reopen"]
    assert json.loads(audit.detail)["by"] == province_actor.label
    assert _send(settings, tmp_path, first, gx_runner, households=9, name="after-reopen")["status"] == "accepted"

    build_marts(settings, year=YEAR)
    for level, unit in (("commune", first), ("district", DISTRICT), ("province", PROVINCE)):
        assert _row(settings, level, unit)["figures_status"] == "preliminary", (level, unit)
    assert _row(settings, "commune", second)["figures_status"] == "official"
    assert _row(settings, "district", DISTRICT)["child_units_approved"] == len(communes[DISTRICT]) - 1
    assert _row(settings, "commune", first)["households_total"] == 9
    coverage = _coverage(settings)
    assert (coverage["communes_approved"], coverage["communes_awaiting_approval"]) == (every_commune - 1, 1)
    assert coverage["districts_approved"] == len(districts) - 1
    assert coverage["province_approval_state"] == "reopened" and coverage["approval_timing"] == "not_yet"

    # An official build uses approved data only: the reopened commune counts as not reported.
    result = build_marts(settings, year=YEAR, official=True)
    assert result.manifest["official"] is True
    assert _row(settings, "commune", first)["households_total"] is None
    assert _row(settings, "commune", second)["households_total"] == 7
