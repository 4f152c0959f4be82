"""Loading decisions' lists by name, and writing the exit marts into a version being built."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipeline.exit_marts import build_exit_marts
from pipeline.explain import explain_unit
from pipeline.status_lists import ListFileError, load_shipped_lists, load_status_list, memberships_frame
from store.mart_files import partition_path
from store.settings import Settings

# Real communes of the 2025-01-04 list (Thạnh Phú district, Bến Tre; Mekong Delta)
MY_HUNG, AN_THANH, BINH_THANH = "29197", "29200", "29212"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url, max_upload_bytes=1 << 20)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def coastal_base_list(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "annex_ii.csv", "Tỉnh,Huyện,Xã\n"
                     "Bến Tre,Huyện Thạnh Phú,Xã Mỹ Hưng\n"
                     "tỉnh bến tre,Thạnh Phú,An Thạnh\n"
                     "Ben Tre,Thanh Phu,Binh Thanh\n")


def test_a_list_is_matched_by_name_and_a_later_decision_removes_its_members(settings, tmp_path):
    report = load_status_list(settings, coastal_base_list(tmp_path), kind="ed_commune_coastal",
                              decision="353/QĐ-TTg", effective=date(2022, 3, 15))
    assert report.ok and report.stored and report.names_matched == 3
    removal = write_csv(tmp_path / "exits.csv", "decision,decision_date,commune,district,province\n"
                        "576/QĐ-TTg,2024-06-28,Mỹ Hưng,Thạnh Phú,Bến Tre\n"
                        "999/QĐ-TTg,2024-07-01,An Thạnh,Thạnh Phú,Bến Tre\n")
    report = load_status_list(settings, removal, kind="ed_commune_coastal", decision="576/QD-TTg",
                              effective=date(2024, 6, 28), removes=True)
    assert report.names_listed == 1    # only the rows of the decision asked for
    before = memberships_frame(settings, date(2024, 6, 27))["unit_code"].to_list()
    after = memberships_frame(settings, date(2024, 6, 28))["unit_code"].to_list()
    assert before == [MY_HUNG, AN_THANH, BINH_THANH] or sorted(before) == sorted([MY_HUNG, AN_THANH, BINH_THANH])
    assert sorted(after) == sorted([AN_THANH, BINH_THANH])


def test_unknown_and_ambiguous_names_are_reported_and_nothing_is_stored(settings, tmp_path):
    # Bến Tre has two communes named An Thạnh (in Mỏ Cày Nam and Thạnh Phú): without its district, ambiguous
    path = write_csv(tmp_path / "bad.csv", "province,district,commune\n"
                     "Bến Tre,Thạnh Phú,Mỹ Hưng\n"
                     "Bến Tre,Thạnh Phú,Xã Không Có Thật\n"
                     "Bến Tre,,An Thạnh\n")
    report = load_status_list(settings, path, kind="ed_commune_coastal", decision="X/QĐ-TTg",
                              effective=date(2022, 3, 15))
    assert not report.stored
    assert [(p["row"], p["status"]) for p in report.problems] == [(3, "unknown"), (4, "ambiguous")]
    assert "bad.csv, row 3" in report.problems[0]["message_en"]
    assert "bad.csv, dòng 3" in report.problems[0]["message_vi"]
    assert report.problems[1]["candidates"] == "28951 Xã An Thạnh; 29200 Xã An Thạnh"
    assert memberships_frame(settings, date(2023, 1, 1)).is_empty()
    kept = load_status_list(settings, path, kind="ed_commune_coastal", decision="X/QĐ-TTg",
                            effective=date(2022, 3, 15), allow_unmatched=True)
    assert kept.stored and memberships_frame(settings, date(2023, 1, 1))["unit_code"].to_list() == [MY_HUNG]


def test_a_file_without_the_columns_of_its_kind_is_refused_in_both_languages(settings, tmp_path):
    path = write_csv(tmp_path / "no_commune.csv", "province,district\nBến Tre,Thạnh Phú\n")
    with pytest.raises(ListFileError, match="thiếu cột commune.*lacks the column"):
        load_status_list(settings, path, kind="ed_commune_coastal", decision="X", effective=date(2022, 1, 1))


def test_the_shipped_lists_load_and_say_they_are_partial(settings):
    reports = load_shipped_lists(settings)
    poor = reports[0]
    assert (poor.status_kind, poor.names_matched, poor.partial) == ("poor_district", 38, True)
    assert [p["commune"] for r in reports for p in r.problems] == ["Điền Hương"]
    assert all(r.stored for r in reports)
    again = load_shipped_lists(settings)
    assert all(r.already_present for r in again)
    members = memberships_frame(settings, date(2024, 12, 31), "poor_district")
    assert members.height == 38 and members["partial"].all()


def write_partition(building_dir: Path, mart: str, year: int, frame: pl.DataFrame) -> None:
    path = partition_path(building_dir, mart, year)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)


def poverty_rows(year: int, unit: str, level: str, total: int, poor: int, near_poor: int, em_total: int,
                 em_poor: int) -> list[dict]:
    from schemas.geography import geography_version, review_date

    base = {"year": year, "level": level, "unit_code": unit, "area": "all", "source_level": level,
            "parent_code": None, "province_code": "83", "geography_version": geography_version(review_date(year))}
    return [{**base, "ethnic_group": "ALL", "households_total": total, "households_poor": poor,
             "households_near_poor": near_poor},
            {**base, "ethnic_group": "EM", "households_total": em_total, "households_poor": em_poor,
             "households_near_poor": 0}]


def accept_attributes(settings: Settings, rows: list[dict], year: int) -> str:
    from schemas.contracts import AREA_ATTRIBUTES
    from store.registry import Registry

    registry = Registry(settings.database_url)
    content_hash = hashlib.sha256(repr(rows).encode()).hexdigest()
    record, _ = registry.record_received(content_hash=content_hash, byte_size=1, original_name="attrs.csv",
                                         level="district", unit_code="837", year=year, kind="area_attributes",
                                         standard="nd07_2021", submitter="test")
    frame = pl.DataFrame([{c: row.get(c) for c in AREA_ATTRIBUTES.names} for row in rows],
                         schema=AREA_ATTRIBUTES.polars_schema()).with_columns(
        pl.lit(record.submission_id).alias("submission_id"), pl.lit(year, dtype=pl.Int64).alias("year"),
        pl.lit("district").alias("submitting_level"), pl.lit("837").alias("submitting_unit"),
        pl.lit("nd07_2021").alias("standard"))
    path = settings.home / "staging" / "area_attributes" / f"year={year}" / f"{record.submission_id}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    registry.mark_accepted(record.submission_id, staging_path=path, report_path=None, findings_count=0,
                           warnings_count=0)
    return record.submission_id


def test_build_writes_the_exit_marts_into_the_version_being_built(settings, tmp_path):
    load_status_list(settings, coastal_base_list(tmp_path), kind="ed_commune_coastal", decision="353/QĐ-TTg",
                     effective=date(2022, 3, 15))
    building = tmp_path / "building"
    rows = (poverty_rows(2024, MY_HUNG, "commune", 1000, 100, 50, 0, 0)       # 15 %: still meets
            + poverty_rows(2024, AN_THANH, "commune", 1000, 100, 49, 0, 0)    # 14.9 %: exit candidate
            + poverty_rows(2024, "29999", "commune", 1000, 300, 0, 0, 0)      # not listed, meets: entry
            + poverty_rows(2024, "VN", "national", 100_000, 5000, 2000, 10_000, 2000)
            + poverty_rows(2021, "VN", "national", 100_000, 8000, 3000, 10_000, 3500))
    for year in (2021, 2024):
        write_partition(building, "poverty_by_ethnicity", year,
                        pl.DataFrame([r for r in rows if r["year"] == year]))
    write_partition(building, "submission_coverage", 2024, pl.DataFrame(
        {"year": [2024, 2024], "level": ["commune", "commune"], "unit_code": [MY_HUNG, AN_THANH],
         "submission_ids": ["Saaaaaaaaaaaaaaaa", "Sbbbbbbbbbbbbbbbb"]}))
    coastal = {"is_coastal_or_island": True, "new_rural_recognised": False, "saline_intrusion_months": 0,
               **{f"lacks_infra_{i}": i in ("a", "b", "c") for i in ("a", "b", "c", "d", "dd", "e", "g", "h", "i")}}
    attributes_id = accept_attributes(settings, [{"unit_code": code, **coastal}
                                                 for code in (MY_HUNG, AN_THANH, "29999")], 2024)

    written = build_exit_marts(settings, building, 2024)
    assert set(written) == {"exit_candidates", "exit_criteria", "entry_candidates", "target_progress"}
    exits = pl.read_parquet(partition_path(building, "exit_candidates", 2024))
    assert written["exit_candidates"]["rows"] == exits.height
    verdicts = dict(exits.filter(pl.col("status_kind") == "ed_commune_coastal")
                    .select("unit_code", "verdict").iter_rows())
    assert verdicts == {MY_HUNG: "remains", AN_THANH: "exit_candidate", BINH_THANH: "insufficient_data"}
    entries = pl.read_parquet(partition_path(building, "entry_candidates", 2024))
    assert entries.filter(pl.col("status_kind") == "ed_commune_coastal")["unit_code"].to_list() == ["29999"]
    criteria = pl.read_parquet(partition_path(building, "exit_criteria", 2024))
    rate = criteria.filter(pl.col("unit_code") == AN_THANH, pl.col("criterion_id") == "poor_near_poor_rate_15")
    assert rate["source_submissions"].item() == "Sbbbbbbbbbbbbbbbb"
    assert rate["value"].item() == pytest.approx(14.9)
    location = criteria.filter(pl.col("unit_code") == AN_THANH, pl.col("criterion_id") == "coastal_location")
    assert location["source_submissions"].item() == attributes_id
    progress = pl.read_parquet(partition_path(building, "target_progress", 2024))
    national = progress.filter(pl.col("target_id") == "multidimensional_poverty_rate", pl.col("unit_code") == "VN")
    # measured on the poor-household rate (8 % in 2021, 5 % in 2024), as the programme reports it
    assert national["change_per_year"].item() == pytest.approx((8.0 - 5.0) / 3)
    assert national["status"].item() == "on_track"

    # a rerun writes the same bytes
    first = {p: p.read_bytes() for p in building.glob("*/2024.parquet")}
    build_exit_marts(settings, building, 2024)
    assert first == {p: p.read_bytes() for p in building.glob("*/2024.parquet")}


def test_explain_evaluates_a_unit_that_is_on_no_list_from_the_published_marts(settings, tmp_path):
    load_status_list(settings, coastal_base_list(tmp_path), kind="ed_commune_coastal", decision="353/QĐ-TTg",
                     effective=date(2022, 3, 15))
    explained = explain_unit(settings, AN_THANH, 2024)
    coastal = next(s for s in explained["statuses"] if s["status_kind"] == "ed_commune_coastal")
    assert coastal["on_list"] and coastal["member_by"] == "353/QĐ-TTg"
    assert coastal["source"] == "evaluated_now"      # nothing published yet
    assert {c["outcome"] for c in coastal["criteria"]} == {"insufficient_data"}
    assert [h["decision"] for h in explained["history"]] == ["353/QĐ-TTg"]


def test_the_lists_command_loads_the_shipped_lists_and_shows_them(settings, monkeypatch, capsys):
    from lnob.cli import main

    monkeypatch.setenv("LNOB_HOME", str(settings.home))
    monkeypatch.setenv("LNOB_DATABASE_URL", settings.database_url)
    assert main(["lists", "load", "--shipped"]) == 0
    assert "Điền Hương" in capsys.readouterr().out
    assert main(["lists", "show", "--kind", "poor_district", "--on", "2024-12-31"]) == 0
    shown = capsys.readouterr().out
    assert "poor_district: 38" in shown and "PARTIAL" in shown
    assert main(["explain", "031", "--year", "2024"]) == 0
    explained = capsys.readouterr().out
    assert "353/QĐ-TTg" in explained and "NO CONFIRMED RULE" in explained
    assert "no confirmed legal rule" in explained and "exit candidate" not in explained


def test_a_village_list_keeps_the_village_name_under_its_matched_commune(settings, tmp_path):
    path = write_csv(tmp_path / "villages.csv", "Tỉnh,Huyện,Xã,Thôn\n"
                     "Bến Tre,Thạnh Phú,Mỹ Hưng,Ấp Thạnh Hưng\n"
                     "Bến Tre,Thạnh Phú,An Thạnh, Ấp 3 \n")
    report = load_status_list(settings, path, kind="ed_village", decision="612/QĐ-UBDT",
                              effective=date(2021, 9, 16))
    assert report.stored
    members = memberships_frame(settings, date(2024, 12, 31), "ed_village")
    assert sorted(members.select("unit_code", "village").iter_rows()) == [(MY_HUNG, "Ấp Thạnh Hưng"),
                                                                          (AN_THANH, "Ấp 3")]
