"""Claims are leases: they run out, their holders renew them, dead holders' claims end, attempts are
counted; registries from before leases are upgraded in place. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text

from store.registry import RECEIVED, VALIDATING, Registry, dispose_engine, engine_for


@pytest.fixture
def registry(database_url):
    return Registry(database_url)


def receive(registry, content: bytes, unit_code: str = "01001"):
    record, _ = registry.record_received(
        content_hash=hashlib.sha256(content).hexdigest(), byte_size=len(content), original_name="f.csv",
        level="commune", unit_code=unit_code, year=2025, kind="household", standard="nd07_2021", submitter=None)
    return record


def test_a_claim_whose_lease_ran_out_is_claimed_again_and_counted(registry):
    record = receive(registry, b"a file whose worker was killed")
    [first] = registry.claim_pending(5, "host:1", lease=timedelta(0))
    assert first.attempts == 1 and first.claimed_by == "host:1" and first.lease_until is not None
    [second] = registry.claim_pending(5, "host:2")
    assert second.submission_id == record.submission_id
    assert second.attempts == 2 and second.claimed_by == "host:2"
    assert registry.claim_pending(5, "host:3") == []
    history = registry.history(record.submission_id)
    assert [c.status for c in history] == [RECEIVED, VALIDATING, VALIDATING]
    assert "attempt 2" in history[-1].detail


def test_a_live_lease_is_not_taken_and_renewing_keeps_it(registry):
    record = receive(registry, b"a file being validated")
    [claimed] = registry.claim_pending(5, "host:1", lease=timedelta(minutes=5))
    assert registry.claim(record.submission_id, "host:2") is None
    assert registry.renew_leases("host:2", [record.submission_id]) == 0   # not its claim
    assert registry.renew_leases("host:1", [record.submission_id], lease=timedelta(hours=1)) == 1
    assert registry.get(record.submission_id).lease_until > claimed.lease_until


def test_one_submission_is_claimed_by_id_when_it_waits(registry):
    record = receive(registry, b"a resent file")
    claimed = registry.claim(record.submission_id, "host:9")
    assert claimed is not None and claimed.status == VALIDATING and claimed.attempts == 1
    assert registry.claim(record.submission_id, "host:10") is None


def test_claims_of_dead_processes_of_this_host_end_at_once(registry):
    dead = receive(registry, b"claimed by a process that died", "01001")
    alive = receive(registry, b"claimed by a process that lives", "01002")
    elsewhere = receive(registry, b"claimed on another host", "01003")
    registry.claim(dead.submission_id, "here:111")
    registry.claim(alive.submission_id, "here:222")
    registry.claim(elsewhere.submission_id, "there:111")
    assert registry.end_dead_claims("here", lambda pid: pid == 222) == [dead.submission_id]
    assert [r.submission_id for r in registry.claim_pending(5, "here:333")] == [dead.submission_id]


def test_giving_back_does_not_count_the_attempt(registry):
    record = receive(registry, b"lnob failed on this one")
    registry.claim(record.submission_id, "host:1")
    assert registry.give_back("host:1", [record.submission_id], retry_after=timedelta(0)) == 1
    again = registry.claim(record.submission_id, "host:2")
    assert again is not None and again.attempts == 1


def test_a_decided_submission_keeps_no_lease(registry):
    record = receive(registry, b"rejected at once")
    registry.claim(record.submission_id, "host:1")
    registry.mark_rejected(record.submission_id, report_path=None, findings_count=1)
    decided = registry.get(record.submission_id)
    assert decided.lease_until is None and decided.claimed_by is None
    assert registry.claim(record.submission_id, "host:2") is None


def test_a_registry_from_before_leases_is_upgraded_in_place(database_url):
    old = receive(Registry(database_url), b"received by an older lnob")
    engine = engine_for(database_url)
    with engine.begin() as connection:
        for column in ("lease_until", "attempts"):
            connection.execute(text(f"ALTER TABLE submissions DROP COLUMN {column}"))
    dispose_engine(database_url)   # as a new process would start

    registry = Registry(database_url)
    upgraded = registry.get(old.submission_id)
    assert upgraded.status == RECEIVED and upgraded.attempts == 0 and upgraded.lease_until is None
    [claimed] = registry.claim_pending(5, "host:1")
    assert claimed.attempts == 1 and claimed.lease_until is not None
