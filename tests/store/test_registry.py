"""The registry's rules, checked on SQLite and on PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from store.registry import (
    ACCEPTED,
    RECEIVED,
    REJECTED,
    SUPERSEDED,
    VALIDATING,
    Outcome,
    Registry,
    submission_id_for,
)


@pytest.fixture
def registry(database_url):
    return Registry(database_url)


def receive(registry, content: bytes, *, level="commune", unit_code="01001", year=2025, kind="household"):
    return registry.record_received(
        content_hash=hashlib.sha256(content).hexdigest(),
        byte_size=len(content),
        original_name=f"ra_soat_{unit_code}_{year}.xlsx",
        level=level,
        unit_code=unit_code,
        year=year,
        kind=kind,
        standard="nd07_2021",
        submitter=f"thongke.{unit_code}@example.vn",
    )


def accept(registry, submission_id):
    return registry.mark_accepted(
        submission_id,
        staging_path=f"staging/household/year=2025/{submission_id}.parquet",
        report_path=f"reports/{submission_id}.json",
        findings_count=0,
        warnings_count=1,
    )


# -- identity -----------------------------------------------------------------------------------


def test_submission_id_is_deterministic_and_depends_on_every_part():
    parts = ("ab" * 32, "commune", "01001", 2025, "household")
    first = submission_id_for(*parts)
    assert first == submission_id_for(*parts)
    assert first.startswith("S") and len(first) == 17 and int(first[1:], 16) >= 0
    variants = [
        ("cd" * 32, "commune", "01001", 2025, "household"),
        ("ab" * 32, "district", "01001", 2025, "household"),
        ("ab" * 32, "commune", "01002", 2025, "household"),
        ("ab" * 32, "commune", "01001", 2024, "household"),
        ("ab" * 32, "commune", "01001", 2025, "area_summary"),
    ]
    assert len({submission_id_for(*variant) for variant in variants} | {first}) == len(variants) + 1


def test_a_received_submission_is_pending_with_its_first_history_row(registry):
    record, is_new = receive(registry, b"version one")
    assert is_new
    assert record.status == RECEIVED
    assert record.submission_id == submission_id_for(
        record.content_hash, "commune", "01001", 2025, "household"
    )
    assert registry.get(record.submission_id) == record
    assert [change.status for change in registry.history(record.submission_id)] == [RECEIVED]
    assert [pending.submission_id for pending in registry.pending()] == [record.submission_id]


def test_the_same_bytes_for_the_same_unit_and_period_are_one_submission(registry):
    first, first_is_new = receive(registry, b"same bytes")
    again, again_is_new = receive(registry, b"same bytes")
    assert first_is_new and not again_is_new
    assert again == first
    assert len(registry.list_submissions()) == 1


def test_the_same_bytes_for_another_unit_period_or_kind_are_other_submissions(registry):
    ids = {
        receive(registry, b"same bytes")[0].submission_id,
        receive(registry, b"same bytes", unit_code="01002")[0].submission_id,
        receive(registry, b"same bytes", year=2024)[0].submission_id,
        receive(registry, b"same bytes", kind="area_summary")[0].submission_id,
    }
    assert len(ids) == 4
    assert len(registry.list_submissions()) == 4


def test_recording_recovers_when_another_writer_inserted_the_same_bytes_first(database_url):
    class LookupMissesOnce(Registry):
        """The other process inserts between our look-up and our insert."""

        missed = False

        def get(self, submission_id):
            if not self.missed:
                self.missed = True
                return None
            return super().get(submission_id)

    first, _ = receive(Registry(database_url), b"raced bytes")
    racer = LookupMissesOnce(database_url)
    record, is_new = receive(racer, b"raced bytes")
    assert racer.missed
    assert not is_new
    assert record == first


def test_concurrent_recording_of_the_same_bytes_creates_one_submission(registry):
    start = threading.Barrier(6)
    results = []

    def record_it():
        start.wait()
        results.append(receive(registry, b"the same file sent six times at once"))

    threads = [threading.Thread(target=record_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({record.submission_id for record, _ in results}) == 1
    assert sum(is_new for _, is_new in results) == 1
    assert len(registry.list_submissions()) == 1


def test_timestamps_are_timezone_aware_utc(registry):
    before = datetime.now(UTC)
    record, _ = receive(registry, b"timed")
    after = datetime.now(UTC)
    assert record.received_at.tzinfo is not None and record.received_at.utcoffset() == timedelta(0)
    stored = registry.get(record.submission_id)
    assert before - timedelta(seconds=1) <= stored.received_at <= after + timedelta(seconds=1)
    assert all(change.at.utcoffset() == timedelta(0) for change in registry.history(record.submission_id))


# -- acceptance, supersession, rejection ------------------------------------------------------------


def test_accepted_versions_supersede_each_other_in_a_linked_chain(registry):
    v1, _ = receive(registry, b"version one")
    v2, _ = receive(registry, b"version two")
    v3, _ = receive(registry, b"version three")

    assert accept(registry, v1.submission_id) is None
    assert accept(registry, v2.submission_id) == v1.submission_id
    assert accept(registry, v3.submission_id) == v2.submission_id

    first, second, third = (registry.get(v.submission_id) for v in (v1, v2, v3))
    assert (first.status, first.supersedes, first.superseded_by) == (SUPERSEDED, None, v2.submission_id)
    assert (second.status, second.supersedes, second.superseded_by) == (
        SUPERSEDED,
        v1.submission_id,
        v3.submission_id,
    )
    assert (third.status, third.supersedes, third.superseded_by) == (ACCEPTED, v2.submission_id, None)
    assert third.staging_path.endswith(f"{v3.submission_id}.parquet")
    assert (third.findings_count, third.warnings_count) == (0, 1)
    assert [record.submission_id for record in registry.current_accepted()] == [v3.submission_id]


def test_history_lists_every_status_in_the_order_it_happened(registry):
    v1, _ = receive(registry, b"version one")
    registry.claim_pending(1, "worker-a")
    accept(registry, v1.submission_id)
    v2, _ = receive(registry, b"version two")
    accept(registry, v2.submission_id)

    history = registry.history(v1.submission_id)
    assert [change.status for change in history] == [RECEIVED, VALIDATING, ACCEPTED, SUPERSEDED]
    assert [change.at for change in history] == sorted(change.at for change in history)
    assert v2.submission_id in history[-1].detail


def test_a_rejected_submission_never_replaces_the_accepted_one(registry):
    good, _ = receive(registry, b"good file")
    accept(registry, good.submission_id)
    bad, _ = receive(registry, b"bad file")
    registry.mark_rejected(bad.submission_id, report_path="reports/bad.json", findings_count=7)

    assert registry.get(bad.submission_id).status == REJECTED
    assert registry.get(bad.submission_id).findings_count == 7
    still_good = registry.get(good.submission_id)
    assert (still_good.status, still_good.superseded_by) == (ACCEPTED, None)
    assert [record.submission_id for record in registry.current_accepted()] == [good.submission_id]
    with pytest.raises(ValueError, match="rejected"):
        accept(registry, bad.submission_id)
    with pytest.raises(ValueError, match="accepted"):
        registry.mark_rejected(good.submission_id, report_path=None, findings_count=1)


def test_accepting_again_changes_nothing(registry):
    v1, _ = receive(registry, b"version one")
    v2, _ = receive(registry, b"version two")
    accept(registry, v1.submission_id)
    assert accept(registry, v2.submission_id) == v1.submission_id
    history_before = registry.history(v2.submission_id)
    assert accept(registry, v2.submission_id) == v1.submission_id
    assert registry.history(v2.submission_id) == history_before
    assert [record.submission_id for record in registry.current_accepted()] == [v2.submission_id]


def test_an_older_version_accepted_late_does_not_replace_a_newer_current_one(registry):
    older, _ = receive(registry, b"sent first")
    newer, _ = receive(registry, b"sent second")
    accept(registry, newer.submission_id)
    assert accept(registry, older.submission_id) is None

    assert [record.submission_id for record in registry.current_accepted()] == [newer.submission_id]
    late = registry.get(older.submission_id)
    assert (late.status, late.superseded_by) == (SUPERSEDED, newer.submission_id)
    assert [change.status for change in registry.history(older.submission_id)] == [
        RECEIVED,
        ACCEPTED,
        SUPERSEDED,
    ]


def test_concurrent_acceptances_for_one_unit_leave_exactly_one_current(registry):
    versions = [receive(registry, f"version {number}".encode())[0] for number in range(6)]
    start = threading.Barrier(len(versions))

    def accept_it(submission_id):
        start.wait()
        return accept(registry, submission_id)

    with ThreadPoolExecutor(max_workers=len(versions)) as pool:
        # result() raises here any error a worker met.
        superseded = [
            future.result() for future in [pool.submit(accept_it, v.submission_id) for v in versions]
        ]
    assert sum(superseded_id is None for superseded_id in superseded) >= 1
    current = registry.current_accepted()
    assert len(current) == 1
    # Arrival order decides: the last received version is the current one.
    assert current[0].submission_id == versions[-1].submission_id
    for record in registry.list_submissions(status=SUPERSEDED):
        assert registry.get(record.superseded_by) is not None


def _accepted(submission_id):
    return Outcome(submission_id, accepted=True, staging_path=f"staging/{submission_id}.parquet",
                   report_path=f"reports/{submission_id}.json", findings_count=0, warnings_count=2)


def _rejected(submission_id):
    return Outcome(submission_id, accepted=False, report_path=f"reports/{submission_id}.json", findings_count=3)


def _states(registry, records):
    """What the registry says of each record, with ids replaced by positions (to compare two runs)."""
    position = {record.submission_id: index for index, record in enumerate(records)}

    def detail(text):
        return re.sub(r"S[0-9a-f]{16}", lambda found: f"#{position.get(found.group(0))}", text or "")

    states = []
    for record in records:
        now = registry.get(record.submission_id)
        states.append((now.status, position.get(now.supersedes), position.get(now.superseded_by),
                       now.staging_path is not None, now.findings_count, now.warnings_count,
                       [(change.status, detail(change.detail)) for change in registry.history(record.submission_id)
                        if change.status != RECEIVED]))
    return states


def test_outcomes_recorded_in_one_transaction_end_as_recorded_one_by_one(registry):
    """A batch's outcomes in one call: the same states, supersession and history as one call per file,
    including two versions of one commune in the same batch (the later received supersedes)."""
    def versions(unit_code):
        return [receive(registry, f"{unit_code} version {n}".encode(), unit_code=unit_code)[0] for n in range(5)]

    together, one_by_one = versions("01001"), versions("01002")
    other_unit = receive(registry, b"another commune", unit_code="01003")[0]
    for records in (together, one_by_one):
        accept(registry, records[0].submission_id)             # already current before the batch
    plan = [(1, True), (2, False), (3, True), (4, True)]

    results = registry.record_outcomes(
        [(_accepted if ok else _rejected)(together[i].submission_id) for i, ok in plan]
        + [_accepted(other_unit.submission_id)])
    for i, ok in plan:
        if ok:
            accept(registry, one_by_one[i].submission_id)
        else:
            registry.mark_rejected(one_by_one[i].submission_id, report_path="r.json", findings_count=3)

    # (status just after its own step, what it superseded): version 1 was current until version 3 came.
    assert results == [(ACCEPTED, together[0].submission_id), (REJECTED, None),
                       (ACCEPTED, together[1].submission_id), (ACCEPTED, together[3].submission_id),
                       (ACCEPTED, None)]
    by_batch, by_file = _states(registry, together), _states(registry, one_by_one)
    assert [state[:3] for state in by_batch] == [state[:3] for state in by_file]
    assert [state[6] for state in by_batch] == [state[6] for state in by_file]
    assert {r.submission_id for r in registry.current_accepted()} == {
        together[4].submission_id, one_by_one[4].submission_id, other_unit.submission_id}


def test_outcomes_given_out_of_arrival_order_still_leave_the_latest_current(registry):
    older, _ = receive(registry, b"sent first")
    newer, _ = receive(registry, b"sent second")
    results = registry.record_outcomes([_accepted(newer.submission_id), _accepted(older.submission_id)])
    assert results == [(ACCEPTED, None), (SUPERSEDED, None)]
    assert registry.get(older.submission_id).superseded_by == newer.submission_id
    assert [record.submission_id for record in registry.current_accepted()] == [newer.submission_id]


def test_a_batch_with_an_outcome_that_cannot_be_records_nothing(registry):
    fine, _ = receive(registry, b"fine file")
    bad, _ = receive(registry, b"bad file", unit_code="01002")
    registry.mark_rejected(bad.submission_id, report_path=None, findings_count=1)
    with pytest.raises(ValueError, match="rejected"):
        registry.record_outcomes([_accepted(fine.submission_id), _accepted(bad.submission_id)])
    assert registry.get(fine.submission_id).status == RECEIVED
    assert [change.status for change in registry.history(fine.submission_id)] == [RECEIVED]
    with pytest.raises(KeyError):
        registry.record_outcomes([_accepted(fine.submission_id), _accepted("S" + "0" * 16)])
    assert registry.record_outcomes([]) == []


def test_concurrent_batches_over_the_same_units_leave_one_current_each(registry):
    units = ["01001", "01002", "01003"]
    versions = {unit: [receive(registry, f"{unit} v{n}".encode(), unit_code=unit)[0] for n in range(4)]
                for unit in units}
    batches = [[_accepted(versions[unit][n].submission_id) for unit in (units if n % 2 else units[::-1])]
               for n in range(4)]
    start = threading.Barrier(len(batches))

    def record(batch):
        start.wait()
        return registry.record_outcomes(batch)

    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        [future.result() for future in [pool.submit(record, batch) for batch in batches]]
    current = {record.unit_code: record.submission_id for record in registry.current_accepted()}
    assert current == {unit: versions[unit][-1].submission_id for unit in units}


def test_current_accepted_filters_by_year_and_kind(registry):
    wanted = []
    for year, kind, unit_code in [
        (2024, "household", "01001"),
        (2025, "household", "01001"),
        (2025, "household", "01002"),
        (2025, "area_summary", "01001"),
    ]:
        record, _ = receive(
            registry, f"{year}{kind}{unit_code}".encode(), year=year, kind=kind, unit_code=unit_code
        )
        accept(registry, record.submission_id)
        wanted.append(record)
    rejected, _ = receive(registry, b"rejected", year=2025, unit_code="01003")
    registry.mark_rejected(rejected.submission_id, report_path=None, findings_count=1)

    def ids(records):
        return {record.submission_id for record in records}

    assert ids(registry.current_accepted()) == ids(wanted)
    assert ids(registry.current_accepted(year=2025)) == ids(wanted[1:])
    assert ids(registry.current_accepted(kind="household")) == ids(wanted[:3])
    assert ids(registry.current_accepted(year=2025, kind="household")) == ids(wanted[1:3])
    assert registry.current_accepted(year=2026) == []


def test_list_submissions_filters_by_unit_period_kind_and_status(registry):
    commune, _ = receive(registry, b"a", level="commune", unit_code="01001")
    district, _ = receive(registry, b"b", level="district", unit_code="001")
    other_year, _ = receive(registry, b"c", level="commune", unit_code="01001", year=2024)
    accept(registry, district.submission_id)

    def ids(**filters):
        return [record.submission_id for record in registry.list_submissions(**filters)]

    assert ids() == [commune.submission_id, district.submission_id, other_year.submission_id]
    assert ids(level="district") == [district.submission_id]
    assert ids(unit_code="01001") == [commune.submission_id, other_year.submission_id]
    assert ids(unit_code="01001", year=2025) == [commune.submission_id]
    assert ids(status=ACCEPTED) == [district.submission_id]
    assert ids(kind="area_attributes") == []


# -- work queue ---------------------------------------------------------------------------------------


def test_pending_lists_received_submissions_oldest_first(registry):
    records = [
        receive(registry, f"file {number}".encode(), unit_code=f"0100{number}")[0] for number in range(4)
    ]
    accept(registry, records[1].submission_id)
    assert [r.submission_id for r in registry.pending()] == [records[0].submission_id] + [
        r.submission_id for r in records[2:]
    ]
    assert [r.submission_id for r in registry.pending(limit=2)] == [
        records[0].submission_id,
        records[2].submission_id,
    ]


def test_claims_take_the_oldest_and_never_the_same_submission_twice(registry):
    records = [
        receive(registry, f"file {number}".encode(), unit_code=f"0100{number}")[0] for number in range(5)
    ]
    first = registry.claim_pending(2, "worker-a")
    second = registry.claim_pending(2, "worker-b")
    third = registry.claim_pending(2, "worker-c")
    assert [r.submission_id for r in first] == [r.submission_id for r in records[:2]]
    assert [r.submission_id for r in second] == [r.submission_id for r in records[2:4]]
    assert [r.submission_id for r in third] == [records[4].submission_id]
    assert registry.claim_pending(2, "worker-d") == []
    assert all(r.status == VALIDATING for r in first + second + third)
    assert registry.pending() == []
    assert registry.history(records[0].submission_id)[-1].detail == "claimed by worker-a"


def test_concurrent_claims_share_out_every_submission_exactly_once(registry):
    records = [
        receive(registry, f"file {number}".encode(), unit_code=f"{number:05d}")[0] for number in range(24)
    ]
    start = threading.Barrier(4)
    claimed: dict[str, list[str]] = {}

    def work(worker):
        start.wait()
        mine = claimed.setdefault(worker, [])
        while batch := registry.claim_pending(3, worker):
            mine.extend(record.submission_id for record in batch)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every_claim = [submission_id for ids in claimed.values() for submission_id in ids]
    assert sorted(every_claim) == sorted(record.submission_id for record in records)
    assert len(every_claim) == len(set(every_claim))


CLAIMING_PROCESS = """
import json, sys
from store.registry import Registry
registry = Registry(sys.argv[1])
claimed = []
while batch := registry.claim_pending(2, sys.argv[2]):
    claimed.extend(record.submission_id for record in batch)
print(json.dumps(claimed))
"""


def test_claims_from_separate_processes_never_overlap(registry, database_url):
    records = [
        receive(registry, f"file {number}".encode(), unit_code=f"{number:05d}")[0] for number in range(30)
    ]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMING_PROCESS, database_url, f"process-{n}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    every_claim = []
    for worker in workers:
        output, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        every_claim.extend(json.loads(output))
    assert sorted(every_claim) == sorted(record.submission_id for record in records)
    assert len(every_claim) == len(set(every_claim))


def test_stale_claims_go_back_to_received(registry):
    stale, _ = receive(registry, b"claimed by a worker that died")
    registry.claim_pending(1, "worker-gone")
    assert registry.release_stale(timedelta(hours=1)) == []
    assert registry.release_stale(timedelta(0)) == [stale.submission_id]
    assert registry.get(stale.submission_id).status == RECEIVED
    assert [r.submission_id for r in registry.claim_pending(1, "worker-new")] == [stale.submission_id]
    assert [c.status for c in registry.history(stale.submission_id)] == [
        RECEIVED,
        VALIDATING,
        RECEIVED,
        VALIDATING,
    ]


# -- publishes ----------------------------------------------------------------------------------------


def test_publishes_are_recorded_in_order_with_their_submissions(registry):
    registry.record_publish(
        "20261127T010000Z-000001",
        manifest_path="marts/a/manifest.json",
        action="publish",
        submission_ids=["S1", "S2"],
    )
    registry.record_publish(
        "20261127T020000Z-000002", manifest_path=None, action="publish", submission_ids=[]
    )
    registry.record_publish(
        "20261127T010000Z-000001", manifest_path=None, action="rollback", submission_ids=["S1"]
    )
    history = registry.publishes()
    assert [(p.version, p.action) for p in history] == [
        ("20261127T010000Z-000001", "publish"),
        ("20261127T020000Z-000002", "publish"),
        ("20261127T010000Z-000001", "rollback"),
    ]
    assert history[0].submission_ids == ["S1", "S2"]
    assert history[0].manifest_path == "marts/a/manifest.json"
    assert history[0].at.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="publish action"):
        registry.record_publish("v", manifest_path=None, action="delete", submission_ids=[])


# -- tokens and audit ---------------------------------------------------------------------------------


def test_tokens_are_issued_found_listed_and_revoked(registry):
    expires = datetime.now(UTC) + timedelta(days=30)
    commune_token = registry.issue_token("commune", "01001", "hash-commune", expires, "Xã Phúc Xá")
    province_token = registry.issue_token("province", "01", "hash-province", None, None)

    found = registry.find_token("hash-commune")
    assert (found.token_id, found.level, found.unit_code, found.note) == (
        commune_token,
        "commune",
        "01001",
        "Xã Phúc Xá",
    )
    assert found.expires_at == expires
    assert found.is_active()
    assert not found.is_active(expires + timedelta(seconds=1))
    assert registry.find_token("no-such-hash") is None
    assert [token.token_id for token in registry.list_tokens()] == [commune_token, province_token]

    assert registry.revoke_token(commune_token)
    assert not registry.revoke_token(commune_token)
    assert not registry.revoke_token(999_999)
    revoked = registry.find_token("hash-commune")
    assert revoked.revoked_at is not None and not revoked.is_active()
    assert registry.find_token("hash-province").is_active()


def test_a_token_hash_is_issued_once(registry):
    registry.issue_token("commune", "01001", "same-hash", None, None)
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        registry.issue_token("commune", "01002", "same-hash", None, None)


def test_audit_entries_keep_every_field_in_order(registry):
    token_id = registry.issue_token("commune", "01001", "hash", None, None)
    registry.audit(
        token_id=token_id, unit_code="01001", action="submit", target="S0123456789abcdef", result="accepted"
    )
    registry.audit(action="submit", result="denied", detail="unknown token")
    entries = registry.audit_entries()
    assert [(e.token_id, e.unit_code, e.action, e.target, e.result, e.detail) for e in entries] == [
        (token_id, "01001", "submit", "S0123456789abcdef", "accepted", None),
        (None, None, "submit", None, "denied", "unknown token"),
    ]
    assert entries[0].at <= entries[1].at and entries[0].at.utcoffset() == timedelta(0)


# -- engines --------------------------------------------------------------------------------------------


def test_a_second_registry_on_the_same_database_sees_the_same_data(database_url):
    record, _ = receive(Registry(database_url), b"shared")
    assert Registry(database_url).get(record.submission_id) == record


def test_the_sqlite_file_and_its_folder_are_created_and_use_wal(tmp_path):
    from sqlalchemy import text

    from store.registry import dispose_engine

    url = f"sqlite:///{tmp_path / 'nested' / 'folder' / 'registry.db'}"
    registry = Registry(url)
    try:
        assert (tmp_path / "nested" / "folder" / "registry.db").exists()
        with registry.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    finally:
        dispose_engine(url)


def test_recording_refuses_an_unknown_level_kind_or_hash(registry):
    with pytest.raises(ValueError, match="level"):
        receive(registry, b"x", level="hamlet")
    with pytest.raises(ValueError, match="kind"):
        receive(registry, b"x", kind="budget")
    with pytest.raises(ValueError, match="sha256"):
        registry.record_received(
            content_hash="not-a-hash",
            byte_size=1,
            original_name=None,
            level="commune",
            unit_code="01001",
            year=2025,
            kind="household",
            standard=None,
            submitter=None,
        )
    assert registry.list_submissions() == []
