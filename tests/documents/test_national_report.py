"""The national report is one self-contained HTML file built from the current published marts: its tables
hold exactly the marts' numbers, every chart sits beside the table of its numbers and names its mart and
version, nothing is loaded from the network, and a missing mart is said, not fatal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from schemas.contracts import INDICATOR_IDS
from schemas.marts import EXIT_MARTS, MARTS
from store.mart_files import partition_path, write_partition
from store.publish import publish, start_version
from store.settings import load_settings

CHROMIUM = "/usr/bin/chromium"

# -- small marts in the published layout ---------------------------------------------------------------

PROVINCES = {"02": ("northern_midlands_mountains", 0), "04": ("northern_midlands_mountains", 1),
             "01": ("red_river_delta", 2)}
YEARS = (2022, 2023, 2024)


def _counts(seed: int, year: int) -> dict:
    total = 10_000 + 1_000 * seed
    poor = 1_500 - 300 * seed - 100 * (year - 2022)
    near_poor = 800 - 100 * seed - 50 * (year - 2022)
    return {"households_total": total, "households_poor": poor, "households_near_poor": near_poor}


def _with_rates(frame: pl.DataFrame) -> pl.DataFrame:
    total = pl.col("households_total")
    return frame.with_columns(
        households_poor_or_near_poor=pl.col("households_poor") + pl.col("households_near_poor"),
        poor_rate=pl.col("households_poor") / total * 100,
        near_poor_rate=pl.col("households_near_poor") / total * 100,
        poor_or_near_poor_rate=(pl.col("households_poor") + pl.col("households_near_poor")) / total * 100,
    )


def _in_layout(mart_name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Every column of the mart layout, in order and typed; the ones a test does not set are null."""
    layout = MARTS.get(mart_name) or EXIT_MARTS[mart_name]
    typed = frame.select([
        (pl.col(c.name) if c.name in frame.columns else pl.lit(None)).cast(c.dtype).alias(c.name)
        for c in layout.columns
    ])
    return typed.sort(list(getattr(layout, "sort_key", ("year",))))


def _poverty_rows() -> list[dict]:
    rows = []
    for year in YEARS:
        for code, (region, seed) in PROVINCES.items():
            for group, share in (("ALL", 1.0), ("EM", 0.6), ("01", 0.4)):
                counts = {k: round(v * share) for k, v in _counts(seed, year).items()}
                rows.append({"year": year, "level": "province", "unit_code": code, "ethnic_group": group,
                             "area": "all", "region_key": region, "province_code": code, **counts})
    frame = pl.DataFrame(rows)
    counts = ["households_total", "households_poor", "households_near_poor"]
    regions = (frame.group_by("year", "region_key", "ethnic_group", "area").agg(pl.col(counts).sum())
               .with_columns(level=pl.lit("region"), unit_code=pl.col("region_key")))
    national = (frame.group_by("year", "ethnic_group", "area").agg(pl.col(counts).sum())
                .with_columns(level=pl.lit("national"), unit_code=pl.lit("VN")))
    # Province 01 is approved with everything beneath it: its figures alone are official.
    return (pl.concat([frame, regions, national], how="diagonal_relaxed")
            .with_columns(figures_status=pl.when((pl.col("level") == "province") & (pl.col("unit_code") == "01"))
                          .then(pl.lit("official")).otherwise(pl.lit("preliminary")))
            .to_dicts())


def _deprivation(poverty: pl.DataFrame) -> pl.DataFrame:
    national = poverty.filter((pl.col("level") == "national") & (pl.col("ethnic_group") == "ALL"))
    rows = []
    for row in national.iter_rows(named=True):
        for number, indicator in enumerate(INDICATOR_IDS, start=1):
            rows.append({**{k: row[k] for k in ("year", "level", "unit_code", "ethnic_group", "area",
                                                 "households_total", "households_poor", "households_near_poor")},
                         "indicator": indicator,
                         "households_deprived": 100 * number,
                         "households_poor_deprived": 40 * number,
                         "households_near_poor_deprived": 20 * number})
    frame = pl.DataFrame(rows)
    return frame.with_columns(
        deprived_share_of_all=pl.col("households_deprived") / pl.col("households_total") * 100,
        deprived_share_of_poor=pl.col("households_poor_deprived") / pl.col("households_poor") * 100,
        deprived_share_of_near_poor=pl.col("households_near_poor_deprived") / pl.col("households_near_poor") * 100,
    )


def _coverage() -> pl.DataFrame:
    rows = []
    for code in PROVINCES:
        rows.append({"year": 2024, "level": "province", "unit_code": code, "province_code": code,
                     "submitted": code != "01", "findings_count": 0, "warnings_count": 1})
        for index in range(4):
            rows.append({"year": 2024, "level": "commune", "unit_code": f"{code}{index:03d}", "province_code": code,
                         "submitted": index < 3, "on_time_official": index < 2, "findings_count": 0,
                         "warnings_count": 0})
    return pl.DataFrame(rows)


def _approval_coverage() -> pl.DataFrame:
    rows = []
    for index, code in enumerate(PROVINCES):
        approved = code == "01"
        rows.append({"year": 2024, "province_code": code, "communes_expected": 4, "communes_accepted": 3,
                     "communes_approved": 4 if approved else index % 3, "communes_returned": 0 if approved else 1,
                     "communes_awaiting_approval": 0 if approved else 2 - index % 3, "districts_expected": 0,
                     "province_approval_state": "approved" if approved else None,
                     "province_approval_at": datetime(2024, 12, 19, 3, tzinfo=UTC) if approved else None,
                     "approval_timing": "on_time" if approved else "not_yet", "deadline_confirmed": True})
    return pl.DataFrame(rows)


def _reconciliation() -> pl.DataFrame:
    return pl.DataFrame([{
        "year": 2024, "level": "province", "unit_code": "02", "ethnic_group": "ALL", "area": "all",
        "measure": "households_poor", "summary_value": 1510, "detail_value": 1500, "difference": 10,
        "relative_difference": 10 / 1500 * 100, "summary_submission_id": "S0123456789abcdef",
        "summary_level": "province", "summary_unit_code": "02",
    }])


def _exit_candidates() -> pl.DataFrame:
    base = {"year": 2024, "status_kind": "ed_commune_coastal", "level": "commune", "village": "",
            "province_code": "02", "list_decisions": "353/QĐ-TTg", "depends_on_unconfirmed": False}
    return pl.DataFrame([
        {**base, "unit_code": "00700", "unit_name": "Xã Một", "verdict": "exit_candidate",
         "criteria_not_met": "poor_near_poor_rate_15"},
        {**base, "unit_code": "00701", "unit_name": "Xã Hai", "verdict": "remains"},
        {**base, "unit_code": "00702", "unit_name": "Xã Ba", "verdict": "insufficient_data",
         "criteria_insufficient": "lacks_infrastructure_3"},
    ])


def _exit_criteria() -> pl.DataFrame:
    return pl.DataFrame([{
        "year": 2024, "status_kind": "ed_commune_coastal", "level": "commune", "unit_code": "00700", "village": "",
        "on_list": True, "criterion_id": "poor_near_poor_rate_15", "role": "rule",
        "label_vi": "Tỷ lệ hộ nghèo, hộ cận nghèo từ 15% trở lên", "label_en": "Poor and near-poor rate ≥ 15 %",
        "value": 11.5, "value_text": "11.5", "comparison": ">=", "threshold": 15.0, "unit": "%",
        "outcome": "not_met"}])


def _target_progress() -> pl.DataFrame:
    return pl.DataFrame([
        {"year": 2024, "target_id": "mdp_rate_decline", "level": "national", "unit_code": "VN",
         "basis": "review_figures", "label_vi": "Tỷ lệ nghèo đa chiều giảm 1–1,5%/năm",
         "label_en": "Multidimensional poverty rate falls 1–1.5 pp a year", "baseline_year": 2022,
         "baseline_value": 17.27, "value": 14.55, "change_per_year": 1.36, "goal": 1.0, "goal_comparison": ">=",
         "goal_text": "1–1.5 pp/year", "status": "on_track", "on_track": True, "confirmed": False},
        {"year": 2024, "target_id": "mdp_rate_decline", "level": "province", "unit_code": "02",
         "basis": "review_figures", "label_vi": "x", "label_en": "x", "status": "off_track"},
    ])


UNKNOWN = ("households_total", "households_poor", "households_near_poor", "households_poor_or_near_poor",
           "poor_rate", "near_poor_rate", "poor_or_near_poor_rate")


def publish_marts(settings, *, skip: tuple[str, ...] = (), reported_provinces: tuple[str, ...] | None = None) -> str:
    """Write the small marts as the build does (mart/YYYY.parquet, the year inside) and publish.

    With `reported_provinces`, every other province has not reported: its counts, and so the regions' and
    the nation's, are unknown (null), as the build leaves them."""
    poverty = _with_rates(pl.DataFrame(_poverty_rows()))
    if reported_provinces is not None:
        known = (pl.col("level") == "province") & pl.col("unit_code").is_in(list(reported_provinces))
        poverty = poverty.with_columns([pl.when(known).then(pl.col(c)).otherwise(None).alias(c) for c in UNKNOWN])
    frames = {
        "poverty_by_area": poverty.filter(pl.col("ethnic_group") == "ALL"),
        "poverty_by_ethnicity": poverty,
        "deprivation_by_area": _deprivation(poverty),
        "submission_coverage": _coverage(),
        "reconciliation": _reconciliation(),
        "exit_candidates": _exit_candidates(),
        "exit_criteria": _exit_criteria(),
        "target_progress": _target_progress(),
        "approval_coverage": _approval_coverage(),
    }
    version, building = start_version(settings)
    for name, frame in frames.items():
        if name in skip:
            continue
        table = _in_layout(name, frame)
        for (year,), part in table.partition_by("year", as_dict=True).items():
            write_partition(part, partition_path(building, name, year))
    (building / "manifest.json").write_text(json.dumps({"version": version}), encoding="utf-8")
    publish(settings, version, building)
    return version


# -- reading the report as a document ------------------------------------------------------------------

class ReportDocument(HTMLParser):
    """Tables (id → rows of {data-column: data-value}), figures, sections and every external reference."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.table_attrs: dict[str, dict[str, str]] = {}
        self.figures: list[dict[str, str]] = []
        self.figure_svgs: dict[str, int] = {}
        self.sections: list[str] = []
        self.missing: list[str] = []
        self.external: list[str] = []
        self.scripts = 0
        self._table: str | None = None
        self._row: dict[str, str] | None = None
        self._figure: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        for key in ("src", "href"):
            value = attributes.get(key, "")
            if value and not value.startswith("#"):
                self.external.append(value)
        if tag == "script":
            self.scripts += 1
        if tag == "link":
            self.external.append(attributes.get("href", "link"))
        if tag == "section":
            self.sections.append(attributes.get("id", ""))
        if tag == "p" and "data-missing-mart" in attributes:
            self.missing.append(attributes["data-missing-mart"])
        if tag == "figure":
            self._figure = attributes.get("id")
            self.figures.append(attributes)
            self.figure_svgs[self._figure] = 0
        if tag == "svg" and self._figure:
            self.figure_svgs[self._figure] += 1
        if tag == "table":
            self._table = attributes["id"]
            self.tables[self._table] = []
            self.table_attrs[self._table] = attributes
        if tag == "tr" and self._table:
            self._row = {}
        if tag == "td" and self._row is not None and "data-column" in attributes:
            self._row[attributes["data-column"]] = attributes["data-value"]

    def handle_endtag(self, tag):
        if tag == "tr" and self._table and self._row:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None
        if tag == "figure":
            self._figure = None


@pytest.fixture
def settings(tmp_path):
    return load_settings(tmp_path / "home")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("published") / "home")
    return settings, publish_marts(settings)


@pytest.fixture(scope="module")
def built(published, tmp_path_factory):
    """One report built from the small marts, read by every test that only looks at it."""
    from documents.national_report import write_report

    settings, version = published
    out = write_report(settings, tmp_path_factory.mktemp("report") / "report.html")
    return version, out, ReportDocument(out.read_text(encoding="utf-8"))


def _expected(mart: pl.DataFrame, **keys) -> pl.DataFrame:
    return mart.filter(pl.all_horizontal([pl.col(k) == v for k, v in keys.items()]))


def test_rates_table_holds_the_marts_national_and_regional_rows_for_every_year(built, published):
    settings, _version = published
    version, _out, document = built
    rows = document.tables["table-rates"]
    mart = pl.read_parquet(settings.marts / "current" / "poverty_by_area" / "**" / "*.parquet")
    expected = mart.filter(pl.col("level").is_in(["national", "region"]))
    assert len(rows) == expected.height
    for row in rows:
        match = _expected(expected, year=int(row["year"]), level=row["level"], unit_code=row["unit_code"])
        assert match.height == 1
        assert int(row["households_poor"]) == match["households_poor"][0]
        assert float(row["poor_rate"]) == pytest.approx(match["poor_rate"][0], rel=1e-12)
        assert float(row["near_poor_rate"]) == pytest.approx(match["near_poor_rate"][0], rel=1e-12)
    assert document.table_attrs["table-rates"]["data-version"] == version


def test_minority_and_kinh_are_set_side_by_side_every_year(built):
    _version, _out, document = built
    rows = document.tables["table-minority-kinh"]
    assert {(int(r["year"]), r["ethnic_group"]) for r in rows} >= {(y, g) for y in YEARS for g in ("EM", "01")}


def test_provinces_are_ranked_by_poor_and_near_poor_rate_highest_first(built):
    _version, _out, document = built
    rows = document.tables["table-provinces"]
    assert sorted(r["unit_code"] for r in rows) == sorted(PROVINCES)
    rates = [float(r["poor_or_near_poor_rate"]) for r in rows]
    assert rates == sorted(rates, reverse=True)
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))


def test_deprivation_profile_lists_the_twelve_indicators(built):
    _version, _out, document = built
    rows = document.tables["table-deprivation"]
    assert [r["indicator"] for r in rows] == list(INDICATOR_IDS)
    assert all(r["deprived_share_of_poor"] for r in rows)


def test_coverage_counts_units_expected_and_submitted_per_province(built):
    _version, _out, document = built
    rows = {r["province_code"]: r for r in document.tables["table-coverage"]}
    coverage = _coverage()
    for code in PROVINCES:
        communes = coverage.filter((pl.col("province_code") == code) & (pl.col("level") == "commune"))
        assert int(rows[code]["communes_expected"]) == communes.height
        assert int(rows[code]["communes_submitted"]) == communes["submitted"].sum()
    reconciliation = document.tables["table-reconciliation"]
    assert [(r["unit_code"], r["measure"], r["difference"]) for r in reconciliation] == [
        ("02", "households_poor", "10")]


def test_the_tables_say_which_figures_are_official_in_both_languages(built):
    _version, out, document = built
    provinces = {r["unit_code"]: r["figures_status"] for r in document.tables["table-provinces"]}
    assert provinces == {code: "official" if code == "01" else "preliminary" for code in PROVINCES}
    assert {r["figures_status"] for r in document.tables["table-rates"]} == {"preliminary"}
    text = out.read_text(encoding="utf-8")
    assert "chính thức / official" in text and "sơ bộ / preliminary" in text


def test_approval_coverage_per_province_against_the_official_deadline(built):
    _version, out, document = built
    rows = {r["province_code"]: r for r in document.tables["table-approval"]}
    mart = _approval_coverage()
    assert set(rows) == set(PROVINCES)
    for expected in mart.iter_rows(named=True):
        row = rows[expected["province_code"]]
        for column in ("communes_expected", "communes_approved", "communes_returned", "communes_awaiting_approval"):
            assert int(row[column]) == expected[column], (expected["province_code"], column)
        assert row["approval_timing"] == expected["approval_timing"]
    assert rows["01"]["province_approval_state"] == "approved" and rows["02"]["province_approval_state"] == ""
    text = out.read_text(encoding="utf-8")
    assert 'data-provinces-approved="1"' in text and "1/3 tỉnh đã được phê duyệt" in text
    assert "trước 20/12" in text and "before 20 December (Decision 24/2021 Art. 7)" in text
    assert "đúng hạn / on time" in text and "chưa phê duyệt / not yet" in text


def test_exit_candidates_are_listed_with_the_criteria_they_no_longer_meet(built):
    _version, _out, document = built
    rows = {r["unit_code"]: r for r in document.tables["table-exit-candidates"]}
    assert set(rows) == {"00700", "00702"}, "a unit that remains on the list is not a candidate"
    assert "11.5" in rows["00700"]["reasons"] and "15" in rows["00700"]["reasons"]
    assert rows["00702"]["verdict"] == "insufficient_data"
    summary = document.tables["table-exit-summary"]
    assert [(r["status_kind"], r["exit_candidate"], r["remains"], r["insufficient_data"]) for r in summary] == [
        ("ed_commune_coastal", "1", "1", "1")]


def test_target_progress_shows_the_national_targets_of_the_year(built):
    _version, _out, document = built
    rows = document.tables["table-target-progress"]
    assert [(r["target_id"], r["status"], r["value"]) for r in rows] == [("mdp_rate_decline", "on_track", "14.55")]


def test_without_national_figures_the_known_provinces_are_shown_and_the_gap_is_said(settings, tmp_path):
    from documents.national_report import write_report

    publish_marts(settings, reported_provinces=("02",))
    document = ReportDocument(write_report(settings, tmp_path / "r.html").read_text(encoding="utf-8"))
    rates = document.tables["table-rates"]
    assert {(r["level"], r["unit_code"]) for r in rates} == {("province", "02")}
    assert all(r["poor_rate"] for r in rates), "only known figures are shown, never a partial national sum"
    assert [r["unit_code"] for r in document.tables["table-provinces"]] == ["02"]
    assert document.tables["table-minority-kinh"] and {r["unit_code"] for r in document.tables["table-minority-kinh"]
                                                       } == {"02"}


def test_every_chart_is_inline_svg_beside_its_table_and_names_its_mart_and_version(built):
    version, _out, document = built
    assert len(document.figures) >= 5
    for figure in document.figures:
        assert document.figure_svgs[figure["id"]] == 1, f"{figure['id']} has no inline SVG"
        assert figure["data-mart"] in MARTS or figure["data-mart"] in EXIT_MARTS
        assert figure["data-version"] == version
        assert figure["data-table"] in document.tables, f"{figure['id']}: its numbers are in no table"


def test_the_report_loads_nothing_from_the_network(built):
    _version, _out, document = built
    assert document.scripts == 0
    assert document.external == []


def test_missing_marts_are_said_not_fatal(settings, tmp_path):
    from documents.national_report import write_report

    publish_marts(settings, skip=("deprivation_by_area", "reconciliation", "exit_candidates", "target_progress"))
    document = ReportDocument(write_report(settings, tmp_path / "r.html").read_text(encoding="utf-8"))
    assert {"deprivation_by_area", "reconciliation", "exit_candidates", "target_progress"} <= set(document.missing)
    assert "table-rates" in document.tables
    assert "table-deprivation" not in document.tables


def test_with_nothing_published_the_report_still_says_so(settings, tmp_path):
    from documents.national_report import write_report

    document = ReportDocument(write_report(settings, tmp_path / "r.html").read_text(encoding="utf-8"))
    assert "poverty_by_area" in document.missing
    assert document.tables.get("table-rates") is None


def test_report_year_picks_the_ranking_year(settings, tmp_path):
    from documents.national_report import write_report

    publish_marts(settings)
    document = ReportDocument(write_report(settings, tmp_path / "r.html", year=2022).read_text(encoding="utf-8"))
    assert {int(r["year"]) for r in document.tables["table-rates"]} == {2022}


def test_the_same_marts_give_the_same_report(published, built, tmp_path):
    from documents.national_report import write_report

    settings, _version = published
    _v, first, _document = built
    again = write_report(settings, tmp_path / "again.html")
    assert again.read_bytes() == first.read_bytes()


def test_a_year_the_marts_do_not_hold_is_refused(settings, tmp_path):
    from documents.national_report import write_report

    publish_marts(settings)
    with pytest.raises(ValueError, match="2030"):
        write_report(settings, tmp_path / "r.html", year=2030)
    assert not (tmp_path / "r.html").exists()


def test_lnob_report_command_writes_the_file_and_prints_progress(settings, tmp_path):
    publish_marts(settings)
    out = tmp_path / "cli" / "report.html"
    result = subprocess.run([sys.executable, "-m", "lnob", "report", "-o", str(out)], check=False, capture_output=True, text=True,
                            env={**os.environ, "LNOB_HOME": str(settings.home)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.is_file()
    assert str(out) in result.stdout
    assert "reading" in result.stderr


@pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                    reason="Chromium is not installed (apt-get install chromium); rendering not checked")
def test_report_renders_in_headless_chromium_without_console_errors(built, tmp_path):
    _version, out, _document = built
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", out.as_uri()],
        check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    rendered = ReportDocument(result.stdout)
    assert rendered.figures and all(rendered.figure_svgs[f["id"]] == 1 for f in rendered.figures)


def test_report_builds_from_marts_built_by_the_pipeline(tmp_path):
    """The real path: synthetic review files for one district, submitted, built, published, reported."""
    from documents.national_report import write_report
    from pipeline.build import build_marts
    from pipeline.intake import submit
    from schemas.geography import review_date, units_at
    from synthetic.review import write_synthetic_review

    settings = load_settings(tmp_path / "home")
    district = units_at("district", review_date(2024)).filter(pl.col("province_code") == "02")["unit_code"].sort()[0]
    generated = write_synthetic_review(tmp_path / "data", 2024, districts=[district], scale=0.01)
    for file in generated.files:
        verdict = submit(settings, tmp_path / "data" / file.path, level=file.level, unit_code=file.unit, year=2024,
                         kind=file.kind)
        assert verdict["status"] == "accepted", verdict["findings"]
    version = build_marts(settings).version

    document = ReportDocument(write_report(settings, tmp_path / "report.html").read_text(encoding="utf-8"))
    assert {t["data-version"] for t in document.table_attrs.values() if t["data-mart"] != "manifest.json"} == {version}
    rates = document.tables["table-rates"]
    assert rates and all(r["poor_rate"] for r in rates)
    assert all(r["rank"] for r in document.tables.get("table-provinces", []))
    assert len(document.tables["table-deprivation"]) % len(INDICATOR_IDS) == 0
    coverage = {r["province_code"]: r for r in document.tables["table-coverage"]}
    assert int(coverage["02"]["communes_submitted"]) == sum(1 for f in generated.files if f.level == "commune")


def test_rates_over_the_2025_reform_say_that_codes_and_regions_changed_territory():
    from documents.national_report import _reform_note

    rows = pl.DataFrame({"year": [2024, 2025], "geography_version": ["GSO-2025-01-04", "QD19-2025"]})
    assert 'data-note="reform"' in _reform_note(rows) and "restated" in _reform_note(rows)
    assert _reform_note(rows.head(1)) == ""
