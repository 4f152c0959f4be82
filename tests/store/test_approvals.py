"""Approvals in the registry, on SQLite and PostgreSQL: one current state per unit-year with its history, the
conditions checked when approving, the lock that holds a late verdict, and reopening on the record."""

from __future__ import annotations

import hashlib

import pytest

from store.registry import ApprovalConflict, Registry


def _received(registry: Registry, unit: str, content: str, *, level: str = "commune", year: int = 2024):
    record, _ = registry.record_received(
        content_hash=hashlib.sha256(content.encode()).hexdigest(), byte_size=10, original_name=f"{content}.csv",
        level=level, unit_code=unit, year=year, kind="household", standard="nd07_2021", submitter="test")
    return record


def _accept(registry: Registry, record) -> str:
    registry.mark_accepted(record.submission_id, staging_path=None, report_path=None, findings_count=0,
                           warnings_count=0)
    return registry.get(record.submission_id).status


def test_approving_needs_final_submissions_and_approved_units_beneath(database_url):
    registry = Registry(database_url)
    waiting = _received(registry, "00688", "a")
    with pytest.raises(ApprovalConflict) as conflict:
        registry.approve("commune", "00688", 2024, by="district 024")
    assert conflict.value.pending == [waiting.submission_id]
    assert _accept(registry, waiting) == "accepted"
    approved = registry.approve("commune", "00688", 2024, by="district 024")
    assert (approved.state, approved.by) == ("approved", "district 024")

    with pytest.raises(ApprovalConflict) as conflict:
        registry.approve("district", "024", 2024, by="province 02",
                         beneath=[("commune", "00688"), ("commune", "00691")])
    assert conflict.value.unapproved == [("commune", "00691")]
    registry.approve("commune", "00691", 2024, by="district 024")
    registry.approve("district", "024", 2024, by="province 02", beneath=[("commune", "00688"), ("commune", "00691")])
    assert [a.unit_code for a in registry.approvals(2024, state="approved")] == ["00688", "00691", "024"]
    assert registry.approvals(2023) == []


def test_a_verdict_after_the_lock_is_held_and_checked_again_when_reopened(database_url):
    registry = Registry(database_url)
    assert _accept(registry, _received(registry, "00688", "first")) == "accepted"
    registry.approve("commune", "00688", 2024, by="district 024")
    registry.approve("district", "024", 2024, by="province 02", beneath=[("commune", "00688")])
    # Registered in the moment between the front door's lock check and the lock: it passes, it is not current.
    late = _received(registry, "00688", "late")
    assert _accept(registry, late) == "held"
    assert [r.original_name for r in registry.current_accepted(year=2024)] == ["first.csv"]

    with pytest.raises(ApprovalConflict):
        registry.return_for_correction("commune", "00688", 2024, by="district 024", reason="fix it")
    reopened = registry.reopen("commune", "00688", 2024, by="province 02", reason="an appeal",
                               above=[("district", "024"), ("province", "02")])
    assert [(r.level, r.unit_code, r.state) for r in reopened] == [("commune", "00688", "reopened"),
                                                                   ("district", "024", "reopened")]
    assert registry.get(late.submission_id).status == "received"
    assert [h.state for h in registry.approval_history("commune", "00688", 2024)] == ["approved", "reopened"]
    [entry] = [e for e in registry.audit_entries() if e.action == "approval.reopen"]
    assert entry.target == "commune 00688 2024" and "an appeal" in entry.detail
    with pytest.raises(ApprovalConflict):
        registry.reopen("commune", "00688", 2024, by="province 02", reason="again")


def test_a_return_keeps_its_reason(database_url):
    registry = Registry(database_url)
    returned = registry.return_for_correction("commune", "00691", 2024, by="district 024", reason=" thiếu hộ ")
    assert (returned.state, returned.reason) == ("returned", "thiếu hộ")
    assert registry.approval("commune", "00691", 2024).reason == "thiếu hộ"
    with pytest.raises(ValueError):
        registry.return_for_correction("commune", "00691", 2024, by="district 024", reason="  ")
