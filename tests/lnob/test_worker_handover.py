"""With PREFECT_API_URL set, `lnob submit` and the HTTP front door record a file and hand it to the warm
workers (flows.validation_task.hand_over) instead of validating it; `lnob worker` needs a server."""

from __future__ import annotations

import argparse
import dataclasses
import json

import pytest

CSV = b"household_id,household_size\nH1,3\n"


@pytest.fixture
def handed(monkeypatch):
    """hand_over replaced by a recorder: no Prefect server here."""
    from flows import validation_task

    calls: list[dict] = []

    def record(verdict: dict) -> dict:
        calls.append(verdict)
        return {"event_id": "e-1", "task_run_id": "t-1"}

    monkeypatch.setattr(validation_task, "hand_over", record)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    return calls


def test_the_front_door_records_and_hands_over_with_a_prefect_server(tmp_path, handed):
    from fastapi.testclient import TestClient

    from lnob.http import app as app_module
    from lnob.http.auth import issue_token
    from store.registry import Registry
    from store.settings import load_settings

    settings = dataclasses.replace(load_settings(tmp_path / "home"), shared_files=True)
    registry = Registry(settings.database_url)
    token = issue_token(registry, "commune", "00688")[1]
    with TestClient(app_module.create_app(settings, warm=False)) as client:
        assert client.app.state.door.batcher is None, "no validation processes when workers validate"
        response = client.post("/api/submissions", headers={"Authorization": f"Bearer {token}"},
                               files={"file": ("h.csv", CSV, "text/csv")},
                               data={"level": "commune", "unit": "00688", "year": "2024", "kind": "household"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "received" and body["task_run_id"] == "t-1"
    assert [call["submission_id"] for call in handed] == [body["submission_id"]]
    assert registry.get(body["submission_id"]).status == "received"


def test_lnob_submit_hands_over_with_a_prefect_server(tmp_path, handed, monkeypatch, capsys):
    from lnob.commands import submit

    monkeypatch.setenv("LNOB_HOME", str(tmp_path / "home"))
    path = tmp_path / "00688.csv"
    path.write_bytes(CSV)
    args = argparse.Namespace(path=str(path), level="commune", unit="00688", year=2024, kind="household",
                              standard=None, submitter=None, sheet=None, complete=False, json=True)
    assert submit.run(args) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["status"] == "received" and verdict["task_run_id"] == "t-1"
    assert [call["submission_id"] for call in handed] == [verdict["submission_id"]]


def test_lnob_worker_needs_a_prefect_server(monkeypatch, capsys):
    from lnob.cli import main

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(["worker"]) == 2
    assert "PREFECT_API_URL" in capsys.readouterr().err
