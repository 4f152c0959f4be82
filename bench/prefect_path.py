"""Ingest as production runs it: a real Prefect server on loopback, lnob's `ingest-submission` deployment
from prefect.yaml and one process worker; the same commune files as the in-process measurement.

    python -m bench.prefect_path spec.json out.json      (bench/__main__.py runs it as a child process)

Two measurements, each broken down from the flow run's own timestamps (Prefect's API):
- one file: `lnob submit` (keeps, records, emits `lnob.submission.received`) → the automation creates a
  run → the worker picks it up and starts a process → the validation task decides. Split into the submit
  command, event → run created, run created → running (worker poll and process start), running → the task
  starts (flow process imports and setup), the task itself (Great Expectations import and validation plus
  lnob's code, split as the in-process figures show), and the run's end.
- a batch: files registered without validating (as `lnob submit` records them), then one run of the
  deployment drains them in batches of `batch_size` (one task each); files/s counts from the run request to
  the last verdict.
The server, deployment and worker are flows.local_stack's, stopped at the end also when a measurement fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from flows.local_stack import REPO, local_prefect, wait_for

DEPLOYMENT = "ingest-submission/ingest-submission"
DECISION_TIMEOUT_S = 900
FINAL = ("accepted", "rejected", "superseded")


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def _flow_runs(env: dict) -> list[dict]:
    """Every run of the ingest deployment with its task runs, oldest first (read through Prefect's client)."""
    os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterId,
    )

    runs = []
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs(deployment_filter=DeploymentFilter(
                name=DeploymentFilterName(any_=["ingest-submission"]))):
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            runs.append({"created": run.created, "start": run.start_time, "end": run.end_time,
                         "state": run.state_type.value if run.state_type else None,
                         "tasks": sorted(((t.start_time, t.end_time) for t in tasks if t.start_time),
                                         key=lambda pair: pair[0])})
    return sorted(runs, key=lambda r: r["created"])


def _run_breakdown(run: dict, since: datetime) -> dict:
    tasks = run["tasks"]
    task_s = sum(_seconds(end, start) or 0.0 for start, end in tasks)
    first_task = tasks[0][0] if tasks else None
    last_task_end = tasks[-1][1] if tasks else None
    return {
        "to_run_created_s": _seconds(run["created"], since),
        "run_created_to_running_s": _seconds(run["start"], run["created"]),
        "running_to_task_s": _seconds(first_task, run["start"]),
        "tasks": len(tasks),
        "task_s": task_s,
        "between_tasks_s": (_seconds(last_task_end, first_task) or 0.0) - task_s if tasks else 0.0,
        "after_tasks_s": _seconds(run["end"], last_task_end),
        "state": run["state"],
    }


def measure(spec: dict) -> dict:
    from pipeline.intake import submit
    from store.registry import Registry
    from store.settings import load_settings

    root = Path(tempfile.mkdtemp(prefix="lnob-bench-prefect-"))
    home = root / "lnob-home"
    settings = load_settings(home)
    registry = Registry(settings.database_url)
    files = spec["files"]
    try:
        begun = time.perf_counter()
        with local_prefect(root, deployments=["ingest-submission"], env={"LNOB_HOME": str(home)}) as stack:
            setup_s = time.perf_counter() - begun
            env = stack.env

            # One file, as a submitter sends it.
            single = files[0]
            lnob = Path(sys.executable).parent / "lnob"
            submitted_at = datetime.now().astimezone()
            begun = time.perf_counter()
            done = subprocess.run([str(lnob), "submit", single["path"], "--level", "commune", "--unit",
                                   single["unit_code"], "--year", str(spec["year"]), "--json"], env=env, cwd=REPO,
                                  capture_output=True, text=True, timeout=300, check=False)
            command_s = time.perf_counter() - begun
            if done.returncode != 0:
                raise RuntimeError(f"lnob submit failed: {done.stdout[-1000:]}{done.stderr[-1000:]}")
            submission_id = json.loads(done.stdout)["submission_id"]

            def decided_one():
                record = registry.get(submission_id)
                return record.status if record and record.status in FINAL else None

            status = wait_for("the triggered run's verdict", decided_one, DECISION_TIMEOUT_S, stack.logs)
            one_wall_s = time.perf_counter() - begun
            wait_for("the triggered run to finish", lambda: all(r["end"] for r in _flow_runs(env)), 120, stack.logs)
            one_run = _flow_runs(env)[-1]
            one = {"wall_s": one_wall_s, "status": status, "households": single["rows"],
                   "submit_command_s": command_s, **_run_breakdown(one_run, submitted_at),
                   "submitted_at": submitted_at.isoformat()}

            # A batch, registered first (no events), then one run drains it.
            batch = files[1:1 + spec["batch_files"]]
            begun = time.perf_counter()
            ids = [submit(settings, f["path"], level="commune", unit_code=f["unit_code"], year=spec["year"],
                          registry=registry, validate=False)["submission_id"] for f in batch]
            register_s = time.perf_counter() - begun
            runs_before = len(_flow_runs(env))
            requested_at = datetime.now().astimezone()
            begun = time.perf_counter()
            stack.prefect("deployment", "run", DEPLOYMENT, "--param", f"batch_size={spec['batch_size']}")
            wanted = set(ids)

            def all_decided() -> bool:
                decided = {r.submission_id for r in registry.list_submissions(year=spec["year"])
                           if r.status in FINAL}
                return wanted <= decided

            wait_for("the batch's verdicts", all_decided, DECISION_TIMEOUT_S, stack.logs, interval=0.5)
            batch_wall_s = time.perf_counter() - begun
            wait_for("the batch run to finish", lambda: all(r["end"] for r in _flow_runs(env)), 120, stack.logs)
            batch_run = _flow_runs(env)[runs_before:][-1]
        statuses: dict[str, int] = {}
        for submission in ids:
            state = registry.get(submission).status
            statuses[state] = statuses.get(state, 0) + 1
        batched = {"files": len(batch), "households": sum(f["rows"] for f in batch), "wall_s": batch_wall_s,
                   "files_per_s": len(batch) / batch_wall_s, "register_s": register_s,
                   "batch_size": spec["batch_size"], "statuses": statuses,
                   **_run_breakdown(batch_run, requested_at)}
        return {"setup_s": setup_s, "worker_query_seconds": _worker_query_seconds(), "one_file": one,
                "batch": batched}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _worker_query_seconds() -> float | None:
    try:
        from prefect.settings import PREFECT_WORKER_QUERY_SECONDS

        return float(PREFECT_WORKER_QUERY_SECONDS.value())
    except Exception:  # noqa: BLE001 - only a label for the report
        return None


def main(argv: list[str]) -> int:
    spec_path, out_path = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    result = measure(spec)
    Path(out_path).write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
