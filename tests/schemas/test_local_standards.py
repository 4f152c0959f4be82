"""Local standards: a province's higher lines, read beside the national standard they raise, never below it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas import standards


def _line(value: int) -> dict:
    return {"value": value, "status": "CONFIRMED", "confirmed": True}


def write_local(folder: Path, standard_id: str = "p79_2022", rural: int = 2_500_000, urban: int = 3_000_000,
                **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    document = {"id": standard_id, "title": "Chuẩn nghèo địa phương (thử)", "province_code": "79",
                "legal_citation": {"document": "test", "status": "CONFIRMED", "confirmed": True},
                "based_on": "nd07_2021", "applies_from_year": 2022, "applies_to_year": 2025,
                "income_line": {"rural": _line(rural), "urban": _line(urban)}, **extra}
    path = folder / f"{standard_id}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def local_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LNOB_LOCAL_STANDARDS_DIR", str(tmp_path / "local"))
    standards._local_documents.cache_clear()
    yield tmp_path / "local"
    standards._local_documents.cache_clear()


def test_no_local_standard_ships_with_lnob(monkeypatch):
    monkeypatch.delenv("LNOB_LOCAL_STANDARDS_DIR", raising=False)
    standards._local_documents.cache_clear()
    assert standards.local_standards_for(2024) == []


def test_a_local_standard_keeps_the_national_indicators_and_rule_and_raises_the_lines(local_dir):
    write_local(local_dir)
    [local] = standards.local_standards_for(2024)
    national = standards.load_standard("nd07_2021")
    assert local["local"] is True and local["province_code"] == "79"
    assert local["income_line"]["rural"]["value"] == 2_500_000
    assert local["indicators"] == national["indicators"] and local["rule"] == national["rule"]
    assert standards.local_standards_for(2026) == []      # outside its years


def test_a_local_line_below_the_national_one_is_refused(local_dir):
    write_local(local_dir, rural=1_400_000)
    with pytest.raises(standards.LocalStandardError, match="below"):
        standards.local_standards_for(2024)


def test_a_local_file_cannot_take_a_national_standards_id(local_dir):
    write_local(local_dir, standard_id="nd07_2021")
    with pytest.raises(standards.LocalStandardError, match="already used"):
        standards.local_standards_for(2024)
