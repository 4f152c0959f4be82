"""Personal data stops at landing: a household list that carries names, national ID numbers, dates of birth
and phone numbers is accepted, and none of those values appears in anything lnob wrote outside landing/
(staging, reports, marts, the registry), nor in any finding."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from fixtures_ingest import COMMUNE, YEAR, frame_of, gx_runner, household_rows, make_settings, only, write_csv

from pipeline.build import build_marts
from pipeline.intake import submit
from store.zones import read_landed

__all__ = ["gx_runner"]

NAMES = ["Nguyễn Văn Ánh", "Trần Thị Bích", "Lò Văn Páo", "Giàng Thị Mai", "Hoàng Văn Khánh", "Vàng A Sùng"]
NATIONAL_IDS = [f"0021{index:08d}" for index in (40117, 52290, 61034, 70412, 81236, 93321)]
PHONES = [f"09{index:08d}" for index in (12345678, 23456781, 34567812, 45678123, 56781234, 67812345)]
BIRTHS = ["12/03/1970", "01/11/1982", "23/07/1965", "30/04/1990", "15/09/1958", "02/02/1977"]
# Two heads written with their CCCD as the household ID: contract column, replaced by a keyed hash.
ID_AS_HOUSEHOLD = ["002198765432", "002112233445"]


def personal_file(folder: Path) -> Path:
    rows = household_rows(6)
    for index, row in enumerate(rows[:2]):
        row["household_id"] = ID_AS_HOUSEHOLD[index]
    frame = frame_of(rows).with_columns(
        pl.Series("Họ và tên chủ hộ", NAMES), pl.Series("Số CCCD", NATIONAL_IDS), pl.Series("Ngày sinh", BIRTHS),
        pl.Series("Liên hệ", PHONES))     # a header that says nothing: recognised by its values' shape
    return write_csv(folder / "00688_ho.csv", frame)


def secrets_in(data: bytes) -> list[str]:
    return [value for value in (*NAMES, *NATIONAL_IDS, *PHONES, *BIRTHS, *ID_AS_HOUSEHOLD)
            if value.encode() in data]


def test_a_list_with_personal_data_is_accepted_and_none_of_it_leaves_landing(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    path = personal_file(tmp_path)
    assert len(secrets_in(path.read_bytes())) == 26, "the file must hold every value the test looks for"
    verdict = submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, kind="household",
                     runner=gx_runner)
    assert verdict["status"] == "accepted", verdict["findings"]
    build_marts(settings, YEAR)

    flagged = {f["column"] for f in only(verdict["findings"], "file.personal_data_column")}
    assert flagged == {"Họ và tên chủ hộ", "Số CCCD", "Ngày sinh", "Liên hệ"}
    assert only(verdict["findings"], "file.unknown_column") == []
    [pseudonymised] = only(verdict["findings"], "value.national_id_pseudonymised")
    assert pseudonymised["count"] == 2 and pseudonymised["severity"] == "warning"
    assert "lnob" in pseudonymised["message_vi"] and "keyed hash" in pseudonymised["message_en"]
    assert secrets_in(repr(verdict).encode()) == []

    written = [p for p in settings.home.rglob("*") if p.is_file() and settings.landing not in p.parents]
    assert any(p.suffix == ".parquet" and "staging" in p.parts for p in written)
    assert any(p.name == "registry.db" for p in written)
    assert any("marts" in p.parts for p in written)
    leaking = {str(p.relative_to(settings.home)): secrets_in(p.read_bytes()) for p in written}
    assert {name: found for name, found in leaking.items() if found} == {}

    staged = pl.read_parquet(next(p for p in written if p.suffix == ".parquet" and "staging" in p.parts))
    replaced = staged.filter(pl.col("household_id").str.starts_with("h:")).get_column("household_id")
    assert replaced.len() == 2 and replaced.n_unique() == 2
    assert len(secrets_in(read_landed(settings, verdict["content_hash"]))) == 26, "landing keeps the evidence"


def test_the_same_national_id_gets_the_same_replacement_in_every_submission(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    first = personal_file(tmp_path)
    second = tmp_path / "again.csv"
    second.write_bytes(first.read_bytes() + b"\n")      # other bytes, same rows: a new submission
    for path in (first, second):
        submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, kind="household", runner=gx_runner)
    staged = [pl.read_parquet(p) for p in sorted(settings.staging.rglob("*.parquet"))]
    assert len(staged) == 2
    assert staged[0].get_column("household_id").to_list() == staged[1].get_column("household_id").to_list()


def test_a_finding_never_echoes_an_id_or_phone_number(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    rows = household_rows(4)
    rows[1]["household_size"] = "0912345678"          # a phone number typed into a contract column
    path = write_csv(tmp_path / "typo.csv", frame_of(rows))
    verdict = submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, kind="household",
                     runner=gx_runner)
    about_size = [f for f in verdict["findings"] if f["row"] == 3]
    assert about_size, verdict["findings"]
    assert "0912345678" not in repr(verdict)
    report = Path(verdict["report_json"]).read_bytes() + Path(verdict["report_html"]).read_bytes()
    assert b"0912345678" not in report
