"""lnob under a real Prefect server: a submission triggers its ingest run; the nightly deployment publishes.

Starts `prefect server start` on a free loopback port (analytics off, its own PREFECT_HOME), creates the
process work pool, deploys everything in prefect.yaml, starts a worker, and then drives the `lnob` command
as an operator would. Everything it starts is stopped by process group at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.local_stack import local_prefect, wait_for

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SERVER_STARTUP_SECONDS = 150
VERDICT_SECONDS = 240
BUILD_SECONDS = 300


def _wait_for(what: str, check, seconds: float, logs) -> object:
    try:
        return wait_for(what, check, seconds, logs, interval=1)
    except TimeoutError as timed_out:
        pytest.fail(str(timed_out))


@pytest.fixture(scope="module")
def prefect_stack(tmp_path_factory):
    """A Prefect server, lnob's deployments and one process worker, all on loopback (flows.local_stack)."""
    root = tmp_path_factory.mktemp("prefect-e2e")
    with local_prefect(root, env={"LNOB_HOME": str(root / "lnob-home")},
                       startup_seconds=SERVER_STARTUP_SECONDS) as stack:
        yield {"env": stack.env, "root": root, "logs": stack.logs, "stack": stack}


def _lnob(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lnob", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=180, check=False)


def test_submission_triggers_ingest_and_nightly_build_publishes(prefect_stack, tmp_path):
    from store.publish import current_version
    from store.registry import Registry
    from store.settings import load_settings
    from synthetic.review import write_synthetic_review

    env = prefect_stack["env"]
    generated = write_synthetic_review(tmp_path / "data", 2024, districts=["001"], seed=11, scale=0.05)
    commune_file = next(f for f in generated.files if f.level == "commune" and f.format == "csv")

    submitted_at = time.monotonic()
    done = _lnob(env, "submit", str(tmp_path / "data" / commune_file.path), "--level", "commune",
                 "--unit", commune_file.unit,
                 "--year", "2024", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    verdict = json.loads(done.stdout)
    # With a server configured the command only keeps the bytes, records and emits; the deployment validates.
    assert verdict["status"] == "received", verdict

    settings = load_settings(env["LNOB_HOME"])
    registry = Registry(settings.database_url)

    def decided():
        record = registry.get(verdict["submission_id"])
        return record if record and record.status in {"accepted", "rejected"} else None

    record = _wait_for("the triggered ingest run to decide the submission", decided, VERDICT_SECONDS,
                       prefect_stack["logs"])
    seconds_to_verdict = time.monotonic() - submitted_at
    assert record.status == "accepted", registry.history(record.submission_id)
    print(f"submit → verdict through Prefect: {seconds_to_verdict:.1f} s")

    prefect_stack["stack"].prefect("deployment", "run", "nightly-build/nightly-build")
    version = _wait_for("the nightly deployment to publish a mart version", lambda: current_version(settings),
                        BUILD_SECONDS, prefect_stack["logs"])
    manifest = json.loads((settings.marts / version / "manifest.json").read_text())
    used = json.dumps(manifest)
    assert record.submission_id in used, "the published version does not list the accepted submission"
    assert any(p.version == version for p in registry.publishes())


DEPLOYMENT_PROBE = """
import json, sys
from prefect.client.orchestration import get_client

with get_client(sync_client=True) as client:
    found = {}
    for name in sys.argv[1:]:
        deployment = client.read_deployment_by_name(name)
        found[name] = {
            "limit": deployment.global_concurrency_limit.limit if deployment.global_concurrency_limit else None,
            "collision": str(deployment.concurrency_options.collision_strategy.value)
            if deployment.concurrency_options else None,
            "schedules": [{"cron": getattr(s.schedule, "cron", None), "timezone": getattr(s.schedule, "timezone", None)}
                          for s in deployment.schedules],
        }
    found["automations"] = [
        {"name": a.name, "expect": sorted(a.trigger.expect), "match": json.loads(a.trigger.match.model_dump_json())}
        for a in client.read_automations()]
print(json.dumps(found))
"""


def test_deployments_match_the_design(prefect_stack):
    """Builds never overlap, a burst of submissions never piles up runs, the night is Vietnam's night, and the
    ingest trigger fires only on lnob submission events."""
    # Read through the client: `prefect deployment inspect --output json` fails on deployments with triggers.
    done = subprocess.run([sys.executable, "-c", DEPLOYMENT_PROBE, "nightly-build/nightly-build",
                           "ingest-submission/ingest-submission"], env=prefect_stack["env"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)

    nightly = found["nightly-build/nightly-build"]
    assert {"cron": "30 1 * * *", "timezone": "Asia/Ho_Chi_Minh"} in nightly["schedules"]
    assert (nightly["limit"], nightly["collision"]) == (1, "ENQUEUE")

    ingest = found["ingest-submission/ingest-submission"]
    assert (ingest["limit"], ingest["collision"]) == (1, "CANCEL_NEW")

    trigger = next(a for a in found["automations"] if "ingest-on-submission-received" in a["name"])
    # The safety net of the warm workers: it fires when a submission got no verdict event in time.
    assert trigger["expect"] == ["lnob.submission.accepted", "lnob.submission.rejected"]
    assert trigger["match"] == {"prefect.resource.id": "lnob.submission.*"}
