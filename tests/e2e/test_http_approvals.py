"""The front door's approval endpoints: a district token approves and returns its own communes, other units'
tokens get 403, the operator may act anywhere, a reopening goes on the record."""

from __future__ import annotations

from fastapi.testclient import TestClient

from lnob.http import auth
from lnob.http.app import create_app
from store.registry import Registry
from tests.fixtures_ingest import make_settings

YEAR = 2024


def test_tokens_approve_only_what_their_level_approves(tmp_path):
    settings = make_settings(tmp_path / "home")
    registry = Registry(settings.database_url)
    _id, district = auth.issue_token(registry, "district", "490")
    _id, other_district = auth.issue_token(registry, "district", "491")
    _id, other_province = auth.issue_token(registry, "province", "02")
    _id, operator = auth.issue_token(registry, "operator", None)
    client = TestClient(create_app(settings, warm=False))     # no lifespan: no validation workers needed

    def post(action: str, token: str, **body):
        return client.post(f"/api/approvals/{action}", json={"year": YEAR, **body},
                           headers={"Authorization": f"Bearer {token}"})

    assert post("approve", other_district, unit="20194").status_code == 403
    assert post("reopen", other_province, unit="20194", reason="x").status_code == 403
    returned = post("return", district, unit="20195", reason="thiếu hộ / households missing")
    assert returned.status_code == 200 and returned.json()[0]["state"] == "returned"
    approved = post("approve", district, unit="20194")
    assert approved.status_code == 200 and approved.json()[0]["state"] == "approved"
    conflict = post("approve", operator, unit="490")
    assert conflict.status_code == 409 and "20195" in conflict.json()["message_en"]
    assert post("reopen", other_district, unit="20194", reason="x").status_code == 403
    reopened = post("reopen", operator, unit="20194", reason="an appeal")
    assert reopened.status_code == 200 and reopened.json()[0]["state"] == "reopened"
    assert [e.result for e in registry.audit_entries() if e.action.startswith("approval.")].count("refused_403") == 3
