"""Several machines and no shared disk, simulated on loopback: the zones on a real S3 server (SeaweedFS), the
registry on PostgreSQL, a Prefect server. Two `lnob worker` processes run with working folders of their own;
the HTTP front door, a third, receives the submissions and hands them over; the workers validate them
(the deferred tasks' parameters kept in the same store); the nightly deployment, run by the Prefect process
worker in a fourth working folder, publishes a version; a fifth process, sharing nothing but the store,
reads it with Polars. Everything started is stopped by process id or group at the end."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import polars as pl
import pytest

from flows.local_stack import free_loopback_port, local_prefect, stop_process_group, wait_for

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
YEAR = 2024
DISTRICT, PROVINCE = "024", "02"
COMMUNES = 6
HOUSEHOLDS = 5
READY_SECONDS = 120
ALL_FINAL_SECONDS = 150
PUBLISH_SECONDS = 300
FINAL = {"accepted", "rejected"}

READER = """
import json, sys
import polars as pl
from store import publish
from store.objects import polars_storage_options
from store.settings import load_settings

settings = load_settings()
version = publish.current_version(settings)
url = f"{settings.store_url}/marts/{version}/poverty_by_area/*.parquet"
rows = (pl.scan_parquet(url, storage_options=polars_storage_options())
        .filter((pl.col("level") == "commune") & (pl.col("ethnic_group") == "ALL") & (pl.col("area") == "all"))
        .select("unit_code", "households_total").collect())
print(json.dumps({"version": version, "totals": dict(rows.iter_rows())}))
"""


def _communes() -> list[str]:
    from schemas.geography import hierarchy_at, review_date

    units = hierarchy_at(review_date(YEAR)).filter(
        (pl.col("district_code") == DISTRICT) & pl.col("commune_code").is_not_null())
    return sorted(set(units["commune_code"].to_list()))[:COMMUNES]


def _csv(commune: str, folder: Path) -> bytes:
    from fixtures_ingest import frame_of, household_rows, write_csv

    path = folder / f"{commune}.csv"
    write_csv(path, frame_of(household_rows(HOUSEHOLDS, commune=commune)))
    return path.read_bytes()


def _lnob(env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "lnob", *args], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_two_workers_without_a_shared_disk_and_a_reader_of_the_store(tmp_path, s3_server, postgres_url,
                                                                    monkeypatch):
    from store import publish
    from store.registry import Registry
    from store.settings import Settings
    from store.zones import store_zone

    for name, value in s3_server["env"].items():    # this process looks into the store too
        monkeypatch.setenv(name, value)
    communes = _communes()
    assert len(communes) == COMMUNES
    store_url = f"s3://{s3_server['bucket']}/{secrets.token_hex(6)}"
    machine = {name: tmp_path / name for name in ("worker-1", "worker-2", "front-door", "scheduler", "reader")}
    shared = {"LNOB_HOME": store_url, "LNOB_DATABASE_URL": postgres_url, **s3_server["env"],
              "PREFECT_TASKS_SCHEDULING_DEFAULT_STORAGE_BLOCK": "remote-file-system/lnob-tasks",
              "LNOB_WORK_DIR": str(machine["scheduler"])}
    settings = Settings(home=tmp_path / "test-process", database_url=postgres_url, max_upload_bytes=0,
                        store_url=store_url)
    registry = Registry(postgres_url)
    started: list[subprocess.Popen] = []
    logs = {name: tmp_path / f"{name}.log" for name in ("worker-1", "worker-2", "front-door")}
    with local_prefect(tmp_path / "prefect", deployments=["ingest-submission", "nightly-build"],
                       env=shared) as stack:
        def all_logs() -> str:
            return stack.logs() + "".join(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}\n"
                                          for log in logs.values() if log.exists())

        def on(name: str) -> dict:
            return {**stack.env, "LNOB_WORK_DIR": str(machine[name])}

        try:
            # The deferred tasks' parameters go to the same store, through the same client (s3fs).
            done = subprocess.run(
                [sys.executable, "-c", ("from prefect.filesystems import RemoteFileSystem; RemoteFileSystem("
                 f"basepath='{store_url}/prefect-tasks').save('lnob-tasks', overwrite=True)")],
                env=stack.env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
            assert done.returncode == 0, done.stdout + done.stderr
            for name in ("worker-1", "worker-2"):
                with open(logs[name], "wb") as out:
                    started.append(subprocess.Popen(
                        [sys.executable, "-m", "lnob", "worker", "--processes", "1"], env=on(name), cwd=REPO,
                        stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
            tokens = {c: json.loads(_lnob(on("front-door"), "tokens", "issue", "--level", "commune", "--unit", c,
                                          "--json").stdout)["token"] for c in communes}
            port = free_loopback_port()
            with open(logs["front-door"], "wb") as out:
                started.append(subprocess.Popen(
                    [sys.executable, "-m", "lnob", "serve", "--host", "127.0.0.1", "--port", str(port),
                     "--log-level", "warning"], env=on("front-door"), cwd=REPO, stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True))

            def door_up() -> bool:
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
                except httpx.TransportError:
                    return False

            wait_for("the front door", door_up, READY_SECONDS, all_logs)
            wait_for("both lnob workers to subscribe",
                     lambda: all("Subscribing to runs" in logs[n].read_text(errors="replace")
                                 for n in ("worker-1", "worker-2")), READY_SECONDS, all_logs)

            ids = []
            for commune in communes:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/api/submissions", headers={"Authorization": f"Bearer {tokens[commune]}"},
                    files={"file": (f"{commune}.csv", _csv(commune, tmp_path), "text/csv")},
                    # Declared complete: the declaration reaches the validating machine through the store,
                    # and only then is households_total known in the marts.
                    data={"level": "commune", "unit": commune, "year": str(YEAR), "kind": "household",
                          "complete": "true"}, timeout=120)
                assert response.status_code == 202, response.text
                ids.append(response.json()["submission_id"])

            wait_for("every submission's verdict", lambda: all(registry.get(i).status in FINAL for i in ids),
                     ALL_FINAL_SECONDS, all_logs, interval=1)
            assert {registry.get(i).status for i in ids} == {"accepted"}, all_logs()
            worker_pids = {f":{process.pid}:" for process in started[:2]}
            for submission_id in ids:
                claims = [c.detail or "" for c in registry.history(submission_id)]
                assert any(pid in detail for detail in claims for pid in worker_pids), (submission_id, claims)
            # Nothing was validated on the front door's machine; the parameters went through the store.
            assert not (machine["front-door"] / "staging").exists()
            assert list(store_zone(settings).list("prefect-tasks/"))
            assert all(store_zone(settings).exists(f"reports/{i}.request.json") for i in ids)

            stack.prefect("deployment", "run", "nightly-build/nightly-build")
            version = wait_for("the nightly deployment to publish", lambda: publish.current_version(settings),
                               PUBLISH_SECONDS, all_logs, interval=2)
        finally:
            for process in started:
                stop_process_group(process, grace_seconds=10)

    read = subprocess.run([sys.executable, "-c", READER], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**stack.env, "LNOB_WORK_DIR": str(machine["reader"])}, check=False)
    assert read.returncode == 0, read.stdout + read.stderr
    seen = json.loads(read.stdout)
    assert seen["version"] == version
    assert {c: seen["totals"].get(c) for c in communes} == {c: HOUSEHOLDS for c in communes}
    assert not machine["reader"].exists(), "the reader needed no working folder: it read the store directly"
