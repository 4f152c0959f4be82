"""Warm validation workers under a real Prefect server: two `lnob worker` processes share a burst of
commune files, one is killed (SIGKILL) midway, and every submission still ends with exactly one verdict —
the survivor takes what arrives next, the `ingest-submission` deployment's proactive trigger validates
what the dead one held.

Starts `prefect server start` on a free loopback port (flows.local_stack, with the ingest deployment and
its process worker), the two workers, and a sender (bench.arrivals) that submits as `lnob submit` does.
Everything started is stopped by process group at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flows.local_stack import local_prefect, stop_process_group, wait_for

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FILES = 16
KILL_AFTER = 6
WORKER_READY_SECONDS = 120
# The safety net fires 30 s after an unanswered submission, then a flow run starts (worker poll, process).
ALL_FINAL_SECONDS = 150
FINAL = {"accepted", "rejected"}


def _start_worker(env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "lnob", "worker", "--processes", "1"], env=env, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def test_two_workers_one_killed_every_submission_one_verdict(tmp_path):
    from store.registry import Registry
    from store.settings import load_settings
    from synthetic.review import write_synthetic_review

    generated = write_synthetic_review(tmp_path / "data", 2024, districts=["001"], seed=7, scale=0.1,
                                       levels=("commune",))
    communes = [f for f in generated.files if f.level == "commune" and f.format == "csv"][:FILES]
    assert len(communes) >= KILL_AFTER + 4, "too few generated commune files for the test"
    files = tmp_path / "files.json"
    files.write_text(json.dumps([{"path": str(tmp_path / "data" / f.path), "unit_code": f.unit, "year": 2024}
                                 for f in communes]))
    home = tmp_path / "lnob-home"
    workers: list[subprocess.Popen] = []
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    with local_prefect(tmp_path / "prefect", deployments=["ingest-submission"],
                       env={"LNOB_HOME": str(home)}) as stack:
        try:
            def all_logs() -> str:
                return stack.logs() + "".join(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}\n"
                                              for log in logs if log.exists())

            workers = [_start_worker(stack.env, log) for log in logs]
            wait_for("both lnob workers to subscribe",
                     lambda: all("Subscribing to runs" in log.read_text(errors="replace") for log in logs),
                     WORKER_READY_SECONDS, all_logs)

            sent = tmp_path / "sent.jsonl"
            done = subprocess.run(
                [sys.executable, "-m", "bench.arrivals", str(files), str(sent), "--per-second", "4",
                 "--kill-pid", str(workers[0].pid), "--kill-after", str(KILL_AFTER)],
                env=stack.env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
            assert done.returncode == 0, done.stdout + done.stderr
            ids = [json.loads(line)["submission_id"] for line in sent.read_text().splitlines()]
            assert len(ids) == len(set(ids)) == len(communes)
            assert workers[0].wait(timeout=10) == -9

            registry = Registry(load_settings(home).database_url)

            def every_one_final() -> bool:
                return all(registry.get(i).status in FINAL for i in ids)

            wait_for("every submission's verdict", every_one_final, ALL_FINAL_SECONDS, all_logs, interval=1)
            assert workers[1].poll() is None, "the surviving worker stopped:\n" + all_logs()
        finally:
            for worker in workers:
                stop_process_group(worker, grace_seconds=10)

    histories = {i: registry.history(i) for i in ids}
    for submission_id, history in histories.items():
        finals = [change.status for change in history if change.status in FINAL]
        assert len(finals) == 1, (submission_id, history)
    # The files are well formed: a verdict other than accepted would be a lost or broken validation.
    assert {registry.get(i).status for i in ids} == {"accepted"}, {i: registry.get(i).status for i in ids}
    survivor = f":{workers[1].pid}:"
    claimed_by_survivor = {i for i, history in histories.items()
                           if any(survivor in (change.detail or "") for change in history)}
    assert claimed_by_survivor & set(ids[KILL_AFTER:]), "the surviving worker validated none of the later files"
