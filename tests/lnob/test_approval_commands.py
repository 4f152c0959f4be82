"""`lnob approve`, `lnob return`, `lnob reopen` and `lnob approvals` on a temporary LNOB_HOME (Đà Nẵng, 48, review
year 2024, before the 2025 reform: the district approves its communes, the province its districts)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from lnob.cli import main
from schemas.geography import hierarchy_at, review_date

YEAR = 2024
PROVINCE = "48"
DISTRICT = "490"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LNOB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LNOB_DATABASE_URL", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return tmp_path / "home"


def _communes() -> list[str]:
    lowest = hierarchy_at(review_date(YEAR)).filter(pl.col("district_code") == DISTRICT)
    return sorted(c for c in lowest.get_column("commune_code").to_list() if c is not None)


def _approvals(capsys) -> dict[str, dict]:
    assert main(["approvals", "--year", str(YEAR), "--province", PROVINCE, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {row["unit_code"]: row for row in rows}


def test_a_district_is_refused_while_a_commune_beneath_it_is_unapproved(home, capsys):
    first, *_others = _communes()
    assert main(["approve", first, "--year", str(YEAR), "--by", "Nguyễn Văn A"]) == 0
    assert f"commune {first} {YEAR}: approved by Nguyễn Văn A" in capsys.readouterr().out

    code = main(["approve", DISTRICT, "--year", str(YEAR)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"chưa thể phê duyệt district {DISTRICT} năm {YEAR}" in err         # Vietnamese
    assert f"district {DISTRICT} {YEAR} cannot be approved yet" in err          # English
    assert "units beneath are not approved" in err and f"commune {first}" not in err.split("not approved:")[1]
    assert _approvals(capsys)[DISTRICT]["state"] is None


def test_a_return_carries_its_reason_and_the_status_table_shows_it(home, capsys):
    _first, second, *_ = _communes()
    reason = "Thiếu hộ ở thôn 2 / households of village 2 missing"
    assert main(["return", second, "--year", str(YEAR), "--reason", reason, "--by", "Phòng LĐTBXH"]) == 0
    assert f"commune {second} {YEAR}: returned by Phòng LĐTBXH" in capsys.readouterr().out
    row = _approvals(capsys)[second]
    assert (row["state"], row["reason"], row["approver"]) == ("returned", reason, f"district {DISTRICT}")

    assert main(["approvals", "--year", str(YEAR), "--province", PROVINCE]) == 0
    table = capsys.readouterr().out.splitlines()
    [line] = [line for line in table if f" {second} " in line]
    assert "BỊ TRẢ LẠI ĐỂ SỬA / returned for correction" in line and reason in line
    assert any("CHƯA PHÊ DUYỆT / not approved yet" in line for line in table)
    # Every commune, district and the province of 48 is listed, and nothing of another province.
    units = {line.split()[1] for line in table if line.split()[0] in ("commune", "district", "province")}
    assert {DISTRICT, PROVINCE, *_communes()} <= units
    assert all(row["province_code"] == PROVINCE for row in _approvals(capsys).values())


def test_a_reopen_unlocks_the_commune_and_the_approvals_above_it(home, capsys):
    communes = _communes()
    for commune in communes:
        assert main(["approve", commune, "--year", str(YEAR)]) == 0
    assert main(["approve", DISTRICT, "--year", str(YEAR)]) == 0
    capsys.readouterr()

    reason = "Hộ khiếu nại / a household's appeal"
    assert main(["reopen", communes[0], "--year", str(YEAR), "--reason", reason]) == 0
    out = capsys.readouterr().out
    assert f"commune {communes[0]} {YEAR}: reopened" in out and f"district {DISTRICT} {YEAR}: reopened" in out
    rows = _approvals(capsys)
    assert (rows[communes[0]]["state"], rows[DISTRICT]["state"]) == ("reopened", "reopened")
    assert rows[communes[0]]["reason"] == reason and rows[communes[1]]["state"] == "approved"

    # Nothing is locked any more: reopening again is refused, in both languages.
    assert main(["reopen", communes[0], "--year", str(YEAR), "--reason", "again"]) == 1
    err = capsys.readouterr().err
    assert "chưa được phê duyệt: không có gì để mở lại" in err and "there is no lock to reopen" in err


def test_a_unit_not_in_the_year_list_is_named_in_both_languages(home, capsys):
    assert main(["approve", "99999", "--year", str(YEAR)]) == 1
    err = capsys.readouterr().err
    assert "không có commune 99999 trong danh mục hành chính năm 2024" in err
    assert "no commune 99999 in the administrative list of 2024" in err
