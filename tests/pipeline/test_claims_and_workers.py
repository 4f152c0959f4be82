"""No submission stays without a verdict after the process validating it died: killed drains, files that kill
their reader, files that killed it too often. Process-killing files only ever run in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from fixtures_ingest import COMMUNE, YEAR, frame_of, gx_runner, household_rows, make_settings, only, write_csv

from pipeline.ingest import drain_pending_in_process
from pipeline.intake import submit
from schemas.vocabulary import FINAL_STATUSES
from store.registry import MAX_ATTEMPTS, Registry

__all__ = ["gx_runner"]

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)


def register(settings, tmp_path, count: int, *, marker_at: int | None = None) -> list[str]:
    """`count` valid commune files registered, not validated (the one at `marker_at` holds the abort marker)."""
    ids = []
    for number in range(count):
        rows = household_rows(4 + number)
        if number == marker_at:
            rows[0]["village"] = "ABORT-ME"
        path = write_csv(tmp_path / f"commune-{number}.csv", frame_of(rows))     # versions of one commune's file
        verdict = submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, validate=False)
        ids.append(verdict["submission_id"])
    return ids


DRAIN = """
import json, sys
from pathlib import Path
from fixtures_ingest import make_settings
from pipeline.drain import drain_pending
from pipeline.ingest import drain_pending_in_process
settings = make_settings(Path(sys.argv[1]))
drain = drain_pending_in_process if sys.argv[3] == "in-process" else drain_pending
verdicts = drain(settings, batch_size=int(sys.argv[2]))
print(json.dumps([[v["submission_id"], v["status"], [f["rule"] for f in v["findings"]]] for v in verdicts]))
"""


def test_a_drain_killed_mid_batch_and_run_again_leaves_no_submission_without_a_verdict(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    ids = register(settings, tmp_path, 6)
    registry = Registry(settings.database_url)
    drain = subprocess.Popen([sys.executable, "-c", DRAIN, str(settings.home), "6", "in-process"], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": f"{ROOT}:{TESTS}"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not registry.list_submissions(status="validating") and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(drain.pid, signal.SIGKILL)
    drain.wait()
    claimed = registry.list_submissions(status="validating")
    assert claimed, "the drain was killed before it claimed anything"

    verdicts = drain_pending_in_process(settings, batch_size=4, runner=gx_runner)
    assert {v["submission_id"] for v in verdicts} >= {r.submission_id for r in claimed}
    records = [registry.get(i) for i in ids]
    assert all(r.status in FINAL_STATUSES for r in records), [r.status for r in records]
    assert [r.status for r in records] == ["superseded"] * 5 + ["accepted"]
    assert all(registry.get(r.submission_id).attempts == 2 for r in claimed)


def test_a_file_whose_checks_died_too_often_is_rejected_as_unreadable(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    [stuck] = register(settings, tmp_path, 1)
    registry = Registry(settings.database_url)
    for attempt in range(MAX_ATTEMPTS):
        [claimed] = registry.claim_pending(1, f"elsewhere:{attempt}", lease=timedelta(0))
        assert claimed.attempts == attempt + 1
    [verdict] = drain_pending_in_process(settings, batch_size=4, runner=gx_runner)
    assert (verdict["submission_id"], verdict["status"]) == (stuck, "rejected")
    [finding] = only(verdict["findings"], "file.cannot_be_read")
    assert str(MAX_ATTEMPTS) in finding["message_en"] and str(MAX_ATTEMPTS) in finding["message_vi"]
    assert registry.get(stuck).status == "rejected"
    assert (settings.reports / f"{stuck}.json").is_file()


def test_a_resend_of_bytes_whose_worker_died_is_validated_not_called_unchanged(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    path = write_csv(tmp_path / "commune.csv", frame_of(household_rows(5)))
    first = submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, validate=False)
    registry = Registry(settings.database_url)
    registry.claim_pending(1, "a-worker-that-died:1", lease=timedelta(0))
    again = submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, runner=gx_runner)
    assert again["submission_id"] == first["submission_id"]
    assert again["status"] == "accepted" and not again["duplicate"]


def test_a_file_that_aborts_its_reader_is_rejected_and_its_batch_carries_on(tmp_path):
    settings = make_settings(tmp_path / "home")
    ids = register(settings, tmp_path, 3, marker_at=1)
    drain = subprocess.run([sys.executable, "-c", DRAIN, str(settings.home), "3", "isolated"], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": f"{ROOT}:{TESTS}", "LNOB_TEST_ABORT_MARKER": "ABORT-ME"},
                           capture_output=True, text=True, timeout=540, check=False)
    assert drain.returncode == 0, drain.stderr[-3000:]
    verdicts = {sid: (status, rules) for sid, status, rules in json.loads(drain.stdout)}
    assert verdicts[ids[1]] == ("rejected", ["file.cannot_be_read"])
    assert verdicts[ids[0]][0] == verdicts[ids[2]][0] == "accepted"
    registry = Registry(settings.database_url)
    assert [registry.get(i).status for i in ids] == ["superseded", "rejected", "accepted"]


def test_a_worker_past_its_memory_limit_is_killed_and_the_file_rejected_with_the_limit(tmp_path):
    settings = make_settings(tmp_path / "home")
    [only_file] = register(settings, tmp_path, 1)
    # Any warm worker holds more than 64 MiB: the watchdog's kill is seen without allocating anything.
    drain = subprocess.run([sys.executable, "-c", DRAIN, str(settings.home), "1", "isolated"], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": f"{ROOT}:{TESTS}", "LNOB_VALIDATION_MEMORY_MIB": "64"},
                           capture_output=True, text=True, timeout=540, check=False)
    assert drain.returncode == 0, drain.stderr[-3000:]
    [(sid, status, rules)] = json.loads(drain.stdout)
    assert (sid, status, rules) == (only_file, "rejected", ["file.too_large_to_read"])
    report = json.loads((settings.reports / f"{only_file}.json").read_text(encoding="utf-8"))
    assert "64 MiB" in report["findings"][0]["message_en"] and "64 MiB" in report["findings"][0]["message_vi"]
