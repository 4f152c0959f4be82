"""The build: real registry, real staging files, the real administrative lists and standards, published
through store/publish.py and read back the way BI tools read it (DuckDB, pyarrow datasets, SQL)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline.build import build_marts
from pipeline.staging import STAGING_EXTRA
from schemas.contracts import AREA_SUMMARY, HOUSEHOLD, INDICATOR_IDS
from schemas.geography import hierarchy_at, review_date
from schemas.marts import MARTS, all_marts
from store import publish as publishing
from store.mart_files import read_mart
from store.registry import Registry
from store.settings import load_settings
from store.zones import staging_path

PROJECT = Path(__file__).resolve().parents[2]
RURAL_LINE = 1_500_000            # nd07_2021, the standard of 2024 and 2025


# --- fixtures: submissions written the way ingest writes them ------------------------------------------

def accept(registry: Registry, settings, *, level: str, unit: str, year: int, kind: str, rows: list[dict]) -> str:
    """Records, stages and accepts one submission; returns its id."""
    contract = HOUSEHOLD if kind == "household" else AREA_SUMMARY
    draft = pl.DataFrame(rows, schema={**dict(contract.polars_schema()), **STAGING_EXTRA}, orient="row")
    buffer = io.BytesIO()
    draft.write_parquet(buffer)
    content_hash = hashlib.sha256(buffer.getvalue()).hexdigest()
    record, _ = registry.record_received(content_hash=content_hash, byte_size=len(buffer.getvalue()),
                                         original_name=f"{unit}.csv", level=level, unit_code=unit, year=year,
                                         kind=kind, standard="nd07_2021", submitter="test")
    staged = draft.with_columns(submission_id=pl.lit(record.submission_id))
    path = staging_path(settings, kind, year, record.submission_id)
    staged.write_parquet(path)
    registry.mark_accepted(record.submission_id, staging_path=path, report_path=None, findings_count=0,
                           warnings_count=0)
    return record.submission_id


def household(commune: str, household_id: str, *, income: float, deprivations: int, year: int, unit: str,
              level: str = "commune", ethnicity: str = "01") -> dict:
    return {"household_id": household_id, "commune_code": commune, "village": None, "area": "rural",
            "head_ethnicity_code": ethnicity, "household_size": 4, "income_per_capita_month": float(income),
            **{ind: i < deprivations for i, ind in enumerate(INDICATOR_IDS)}, "reported_classification": None,
            "policy_social_protection": None, "policy_merit": None, "submission_id": None, "year": year,
            "submitting_level": level, "submitting_unit": unit, "standard": "nd07_2021",
            # These lists hold every household of their commune: they are declared complete.
            "lists_every_household": True}


def summary(unit_code: str, *, total: int, poor: int, near_poor: int, year: int, level: str, unit: str) -> dict:
    row = {column: None for column in AREA_SUMMARY.names}
    row.update({"unit_code": unit_code, "ethnic_group": "ALL", "area": "all", "households_total": total,
                "households_poor": poor, "households_near_poor": near_poor, "submission_id": None, "year": year,
                "submitting_level": level, "submitting_unit": unit, "standard": "nd07_2021"})
    return row


def province_figures(index: int) -> tuple[int, int, int]:
    return 1000 + index, 10 + index % 7, 5 + index % 3


def smallest_district_2024() -> tuple[str, str, list[str]]:
    lowest = hierarchy_at(review_date(2024)).filter(pl.col("commune_code").is_not_null())
    sizes = lowest.group_by("district_code", "province_code").agg(pl.col("commune_code").sort()).sort(
        pl.col("commune_code").list.len(), "district_code")
    district, province, communes = sizes.row(0)
    return district, province, communes


def accept_the_review(root: Path) -> dict:
    """LNOB_HOME at `root` with 2024 (three tiers) and 2025 (two tiers) submissions accepted.

    2024: every province sends a summary with its own totals; the smallest district's communes send
    household lists (commune i: i+1 households, the first poor, the second near-poor), and that district
    sends a summary claiming one poor household more than its communes listed (a planted discrepancy).
    2025: every province sends its own totals (figures shifted by one poor household each)."""
    settings = load_settings(root)
    registry = Registry(f"sqlite:///{root / 'registry.db'}")
    district, province, communes = smallest_district_2024()
    for i, commune in enumerate(communes):
        rows = [household(commune, f"{commune}-{n}", income=RURAL_LINE if n < 2 else 5_000_000,
                          deprivations=3 if n == 0 else 0, year=2024, unit=commune) for n in range(i + 2)]
        accept(registry, settings, level="commune", unit=commune, year=2024, kind="household", rows=rows)
    listed_poor = len(communes)
    accept(registry, settings, level="district", unit=district, year=2024, kind="area_summary", rows=[
        summary(district, total=sum(i + 2 for i in range(len(communes))), poor=listed_poor + 1,
                near_poor=len(communes), year=2024, level="district", unit=district)])
    for year in (2024, 2025):
        provinces = sorted(hierarchy_at(review_date(year))["province_code"].unique())
        for index, code in enumerate(provinces):
            total, poor, near_poor = province_figures(index)
            poor += year - 2024
            accept(registry, settings, level="province", unit=code, year=year, kind="area_summary",
                   rows=[summary(code, total=total, poor=poor, near_poor=near_poor, year=year, level="province",
                                 unit=code)])
    return {"district": district, "province": province, "communes": communes}


def _use_home(root: Path, facts: dict, monkeypatch) -> dict:
    monkeypatch.setenv("LNOB_HOME", str(root))
    monkeypatch.delenv("LNOB_DATABASE_URL", raising=False)
    settings = load_settings()
    return {**facts, "settings": settings, "registry": Registry(settings.database_url)}


def _copy_home(source: Path, target: Path) -> Path:
    """A home's registry, marts and reports copied (symlinks kept); staging is read where the registry says,
    in the module's home, which no test changes."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("staging"))
    return target


@pytest.fixture(scope="module")
def accepted(tmp_path_factory) -> tuple[Path, dict]:
    """The review's submissions accepted once for the module (nothing built)."""
    root = tmp_path_factory.mktemp("accepted") / "home"
    return root, accept_the_review(root)


@pytest.fixture(scope="module")
def built(accepted, tmp_path_factory):
    """The accepted review built once for the module: for tests that only read the published version."""
    source, facts = accepted
    root = _copy_home(source, tmp_path_factory.mktemp("built") / "home")
    with pytest.MonkeyPatch.context() as monkeypatch:
        home = _use_home(root, facts, monkeypatch)
        home["result"] = build_marts(home["settings"])
        yield home


@pytest.fixture
def home(accepted, tmp_path, monkeypatch):
    """A home of its own with the review accepted and nothing built: for tests that build and publish."""
    source, facts = accepted
    return _use_home(_copy_home(source, tmp_path / "home"), facts, monkeypatch)


@pytest.fixture
def built_copy(built, tmp_path, monkeypatch):
    """A home of its own with the module's build published (version, checksums and registry as built)."""
    home = _use_home(_copy_home(built["settings"].home, tmp_path / "home"), built, monkeypatch)
    version = publishing.current_version(home["settings"])
    home["result"] = type(built["result"])(version=version, path=publishing.current_path(home["settings"]),
                                           manifest=built["result"].manifest,
                                           built_years=built["result"].built_years)
    return home


def parquet_checksums(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.parquet"))}


# --- tests ---------------------------------------------------------------------------------------------

def test_build_publishes_every_mart_for_every_year_with_a_manifest(built):
    result = built["result"]
    assert publishing.current_version(built["settings"]) == result.version
    manifest = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["years"]) == ["2024", "2025"]
    assert set(manifest["marts"]) == set(all_marts())
    for name, entry in manifest["marts"].items():
        assert [c["name"] for c in entry["schema"]] == all_marts()[name].names
        assert [f["path"] for f in entry["files"]] == [f"{name}/2024.parquet", f"{name}/2025.parquet"]
        for file in entry["files"]:
            assert hashlib.sha256((result.path / file["path"]).read_bytes()).hexdigest() == file["sha256"]
        assert entry["row_count"] == read_mart(result.path, name).height
    accepted = {s.submission_id for s in built["registry"].current_accepted()}
    assert set(manifest["submission_ids"]) == accepted
    assert manifest["code_version"]["lnob"]
    # Counts are Int64 and the year is inside every file, which is named by it (no `year=` folders).
    poverty = pl.read_parquet(result.path / "poverty_by_area" / "2024.parquet")
    assert poverty.schema["households_poor"] == pl.Int64 and poverty["year"].unique().to_list() == [2024]
    assert not [p for p in result.path.rglob("*") if "=" in p.name]
    publishes = built["registry"].publishes()
    assert [(p.version, p.action) for p in publishes] == [(result.version, "publish")]


def test_every_reader_opens_every_mart_folder_and_they_agree(built):
    """pandas, PyArrow (file and dataset), DuckDB and Polars read each mart folder as it is, with no option."""
    duckdb = pytest.importorskip("duckdb")
    pd = pytest.importorskip("pandas")
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    root = built["result"].path
    connection = duckdb.connect()
    for name, mart in all_marts().items():
        folder = root / name
        count = next((c.name for c in mart.columns if c.name in ("households_total", "households_poor",
                                                                  "numerator")), None)
        expected = read_mart(root, name)
        frames = {
            "pandas": pl.from_pandas(pd.read_parquet(folder)),
            "pyarrow": pl.from_arrow(pq.read_table(folder)),
            "dataset": pl.from_arrow(ds.dataset(folder, format="parquet").to_table()),
            "polars": pl.read_parquet(folder / "*.parquet"),
        }
        seen = {reader: (frame.height, frame["year"].cast(pl.Int64).sum(),
                         frame[count].sum() if count is not None else None) for reader, frame in frames.items()}
        total = f"coalesce(sum({count}), 0)" if count is not None else "NULL"
        seen["duckdb"] = connection.execute(
            f"SELECT count(*), coalesce(sum(year), 0), {total} FROM read_parquet('{folder}/*.parquet')").fetchone()
        truth = (expected.height, expected["year"].sum(), expected[count].sum() if count is not None else None)
        assert {reader: tuple(found) for reader, found in seen.items()} == dict.fromkeys(seen, truth), name
    assert read_mart(root, "poverty_by_area")["households_total"].sum() > 0


def test_bi_readers_see_levels_that_add_up(built):
    duckdb = pytest.importorskip("duckdb")
    import pyarrow.dataset as ds

    result = built["result"]
    pattern = str(result.path / "poverty_by_area" / "*.parquet")
    connection = duckdb.connect()
    base = f"FROM read_parquet('{pattern}') WHERE ethnic_group = 'ALL' AND area = 'all'"
    for year in (2024, 2025):
        provinces_by_region = dict(connection.execute(
            f"SELECT region_key, sum(households_total) {base} AND year = {year} AND level = 'province' "
            "GROUP BY region_key").fetchall())
        regions = dict(connection.execute(
            f"SELECT unit_code, households_total {base} AND year = {year} AND level = 'region'").fetchall())
        assert provinces_by_region == regions and len(regions) == 6
        national = connection.execute(
            f"SELECT households_total {base} AND year = {year} AND level = 'national'").fetchone()[0]
        expected = sum(province_figures(i)[0] for i in range(len(hierarchy_at(review_date(year))
                                                                 ["province_code"].unique())))
        assert national == sum(regions.values()) == expected
    # The detailed district is the sum of its communes' household lists (2 + 3 + … households).
    district_total, district_source = connection.execute(
        f"SELECT households_total, source_level {base} AND year = 2024 AND level = 'district' "
        f"AND unit_code = '{built['district']}'").fetchone()
    communes = built["communes"]
    assert district_total == sum(i + 2 for i in range(len(communes)))
    assert district_source == "commune"
    # District level only before the 2025 reform.
    levels = dict(connection.execute(f"SELECT year, list(DISTINCT level ORDER BY level) {base} GROUP BY year")
                  .fetchall())
    assert levels == {2024: ["commune", "district", "national", "province", "region"],
                      2025: ["commune", "national", "province", "region"]}

    # The year is Int64 inside the files, and nowhere else: a dataset needs no partitioning told.
    dataset = ds.dataset(result.path / "poverty_by_area", format="parquet")
    table = pl.from_arrow(dataset.to_table(filter=(ds.field("level") == "province") & (ds.field("area") == "all")))
    assert table.schema["year"] == pl.Int64
    by_year = table.group_by("year").agg(pl.col("households_total").sum()).sort("year")
    regions_total = pl.from_arrow(dataset.to_table(filter=(ds.field("level") == "national")
                                                   & (ds.field("area") == "all"))).sort("year")
    assert by_year["households_total"].to_list() == regions_total["households_total"].to_list()
    # Change in points against the same unit a year before: every province added one poor household.
    national_2025 = connection.execute(
        f"SELECT poor_rate, poor_rate_change_pp {base} AND year = 2025 AND level = 'national'").fetchone()
    national_2024 = connection.execute(
        f"SELECT poor_rate {base} AND year = 2024 AND level = 'national'").fetchone()
    assert national_2025[1] == pytest.approx(national_2025[0] - national_2024[0])
    # New province 44 is old 44 (Quảng Bình) and old 45 (Quảng Trị) merged: it is compared with their sum,
    # never with the old province that had its code.
    old_parts = connection.execute(
        f"SELECT sum(households_poor), sum(households_total) {base} AND year = 2024 AND level = 'province' "
        f"AND unit_code IN ('44', '45')").fetchone()
    merged_2025 = connection.execute(
        f"SELECT poor_rate, poor_rate_change_pp {base} AND year = 2025 AND level = 'province' "
        f"AND unit_code = '44'").fetchone()
    assert merged_2025[1] == pytest.approx(merged_2025[0] - 100.0 * old_parts[0] / old_parts[1])


def test_the_planted_discrepancy_and_the_gap_fill_reach_the_marts(built):
    result = built["result"]
    reconciliation = read_mart(result.path, "reconciliation")
    assert reconciliation.select("year", "level", "unit_code", "measure", "summary_value", "detail_value").rows() == [
        (2024, "district", built["district"], "households_poor", len(built["communes"]) + 1, len(built["communes"]))]
    poverty = read_mart(result.path, "poverty_by_area").filter(pl.col("area") == "all")
    province = poverty.filter((pl.col("year") == 2024) & (pl.col("unit_code") == built["province"])).row(0, named=True)
    assert province["source_level"] == "province"       # its communes are incomplete: its own summary fills it
    coverage = read_mart(result.path, "submission_coverage").filter(pl.col("year") == 2024)
    submitted = coverage.filter(pl.col("submitted"))
    assert submitted.height == 63 + 1 + len(built["communes"])
    assert coverage.filter(pl.col("level") == "commune").height == 10_051


def test_a_rebuild_from_the_same_submissions_is_byte_identical(built_copy):
    first = built_copy["result"]
    second = build_marts(built_copy["settings"])
    assert first.version != second.version
    assert parquet_checksums(first.path) == parquet_checksums(second.path)
    assert len(parquet_checksums(first.path)) == len(all_marts()) * 2


def test_building_one_year_carries_the_other_years_unchanged(built_copy):
    everything = built_copy["result"]
    only_2025 = build_marts(built_copy["settings"], year=2025)
    assert only_2025.built_years == [2025] and only_2025.carried_years == [2024]
    before, after = parquet_checksums(everything.path), parquet_checksums(only_2025.path)
    assert before == after
    assert only_2025.manifest["years"]["2024"]["carried_from"] == everything.version
    assert only_2025.manifest["years"]["2024"]["submissions"] == everything.manifest["years"]["2024"]["submissions"]
    files = only_2025.manifest["marts"]["poverty_by_area"]["files"]
    assert [f["path"] for f in files] == ["poverty_by_area/2024.parquet", "poverty_by_area/2025.parquet"]


KILLER = """
import os, signal, sys
from pipeline.build import build_marts
from store.settings import load_settings

def progress(line):
    print(line, flush=True)
    if line.startswith("poverty_by_ethnicity"):      # some marts written, others not yet
        os.kill(os.getpid(), signal.SIGKILL)

build_marts(load_settings(), progress=progress)
"""


def test_a_build_killed_midway_leaves_the_previous_version_current(built_copy):
    settings = built_copy["settings"]
    published = built_copy["result"]
    before = parquet_checksums(published.path)
    process = subprocess.run([sys.executable, "-c", KILLER], check=False, cwd=PROJECT, env={**os.environ},
                             capture_output=True, text=True, timeout=300)
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert "poverty_by_ethnicity" in process.stdout
    leftovers = [p for p in settings.marts.iterdir() if p.name.startswith(".building-") and p.is_dir()]
    assert len(leftovers) == 1 and any(leftovers[0].rglob("*.parquet"))
    assert publishing.current_version(settings) == published.version
    assert parquet_checksums(publishing.current_path(settings)) == before
    # The next build cleans the abandoned folder up and publishes normally.
    after = build_marts(settings)
    assert publishing.current_version(settings) == after.version
    assert not any(p.name.startswith(".building-") and p.is_dir() for p in settings.marts.iterdir())


def _duplicate_a_key(frames: dict) -> dict:
    coverage = frames["submission_coverage"]
    return {**frames, "submission_coverage": pl.concat([coverage, coverage.head(1)]).sort(
        list(MARTS["submission_coverage"].sort_key), maintain_order=True)}


def _null_a_key(frames: dict) -> dict:
    poverty = frames["poverty_by_area"]
    return {**frames, "poverty_by_area": poverty.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col("area")).alias("area"))}


def _an_undeclared_value(frames: dict) -> dict:
    poverty = frames["poverty_by_ethnicity"]
    return {**frames, "poverty_by_ethnicity": poverty.with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("suburban")).otherwise(pl.col("area")).alias("area"))}


def _a_short_code(frames: dict) -> dict:
    poverty = frames["poverty_by_area"]
    commune = pl.col("level") == "commune"
    first_commune = commune & (commune.cum_sum() == 1)
    return {**frames, "poverty_by_area": poverty.with_columns(
        pl.when(first_commune).then(pl.col("unit_code").str.slice(1)).otherwise(pl.col("unit_code"))
        .alias("unit_code"))}


@pytest.mark.parametrize(("break_it", "expected"), [
    (_duplicate_a_key, "mart submission_coverage, column year, level, unit_code: the grain key is not unique"),
    (_null_a_key, "mart poverty_by_area, column area: null in a column declared not nullable"),
    (_an_undeclared_value, "mart poverty_by_ethnicity, column area: value not among the allowed ones (e.g. 'suburban')"),
    (_a_short_code, "mart poverty_by_area, column unit_code: code not of its level's official width (e.g. ('commune',"),
])
def test_a_build_that_breaks_a_mart_layout_is_refused_and_the_current_version_stays(built_copy, monkeypatch,
                                                                                   break_it, expected):
    from pipeline import build
    from pipeline.mart_contract import BuildError

    settings = built_copy["settings"]
    earlier = built_copy["result"].version
    honest = build.build_year
    monkeypatch.setattr(build, "build_year", lambda *args, **kwargs: break_it(honest(*args, **kwargs)))
    with pytest.raises(BuildError) as refused:
        build_marts(settings)
    assert expected in str(refused.value)
    assert publishing.current_version(settings) == earlier
    assert publishing.list_versions(settings) == [earlier]
    assert not [p for p in settings.marts.iterdir() if p.name.startswith(".building-")]
    # the lock was released: the next honest build publishes
    monkeypatch.setattr(build, "build_year", honest)
    after = build_marts(settings)
    assert publishing.current_version(settings) == after.version != earlier


def test_commands_show_the_current_marts_and_roll_back(home, capsys):
    from lnob.cli import main

    assert main(["build", "--quiet"]) == 0
    first_version = capsys.readouterr().out.strip()
    assert publishing.current_version(home["settings"]) == first_version
    assert main(["build", "--year", "2024"]) == 0
    assert "current version:" in capsys.readouterr().out
    second = build_marts(home["settings"], year=2025)
    assert main(["marts"]) == 0
    assert capsys.readouterr().out.strip() == str(second.path)
    assert main(["marts", "--list"]) == 0
    listing = capsys.readouterr().out
    assert f"{second.version}  (current)" in listing and first_version in listing
    assert len(listing.splitlines()) == 3
    assert main(["publish", "--rollback"]) == 0
    assert publishing.current_version(home["settings"]) != second.version
    assert main(["publish", "--rollback", first_version]) == 0
    assert publishing.current_version(home["settings"]) == first_version
    assert [p.action for p in home["registry"].publishes()] == ["publish"] * 3 + ["rollback"] * 2
    assert main(["publish", "--rollback", second.version]) == 0
    assert publishing.current_version(home["settings"]) == second.version
    assert main(["publish", "--rollback", "19990101T000000Z-000000"]) == 1


def test_export_loads_every_mart_into_postgresql(built):
    from tests.conftest import POSTGRES_CONNINFO, POSTGRES_URL, _postgres_unreachable

    problem = _postgres_unreachable()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    import secrets

    import psycopg

    from lnob.cli import main

    schema = f"lnob_marts_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_CONNINFO, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        assert main(["export", "--database-url", POSTGRES_URL, "--schema", schema]) == 0
        current = publishing.current_path(built["settings"])
        with psycopg.connect(POSTGRES_CONNINFO) as connection:
            for name in MARTS:
                count = connection.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0]
                assert count == read_mart(current, name).height, name
            national = connection.execute(
                f"SELECT households_total FROM \"{schema}\".poverty_by_area WHERE year = 2025 "
                "AND level = 'national' AND area = 'all'").fetchone()[0]
        assert national == sum(province_figures(i)[0] for i in range(34))
    finally:
        with psycopg.connect(POSTGRES_CONNINFO, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_build_year_on_hand_built_inputs_gives_deprivations_and_disagreements(tmp_path):
    """build_year takes plain lists and frames: two communes' lists, written here, on a small hierarchy."""
    from pipeline.build import ChunkedRows, SubmissionInput, build_year
    from store.mart_files import write_partition
    from tests.transforms.conftest import STANDARDS, hierarchy_post_reform, households_frame
    from tests.transforms.conftest import household as listed_household

    rows_10001 = [listed_household("10001", "a", income=1_500_000, deprivations=4, reported="near_poor",
                                   year=2025),
                  listed_household("10001", "b", income=1_500_000, deprivations=1, reported="near_poor", year=2025)]
    rows_10002 = [listed_household("10002", "c", area="urban", income=2_000_000, deprivations=3, year=2025)]
    submissions = []
    for commune, rows in (("10001", rows_10001), ("10002", rows_10002)):
        path = tmp_path / f"H{commune}.parquet"
        households_frame(rows).write_parquet(path)
        submissions.append(SubmissionInput(f"H{commune}", "commune", commune, 2025, "household", path, "std_bound"))
    frames = build_year(2025, submissions, hierarchy=hierarchy_post_reform(), geography_version="test",
                        standards=STANDARDS)
    deprivation = frames["deprivation_by_area"]
    assert isinstance(deprivation, ChunkedRows)
    whole = deprivation.collect()
    province = whole.filter((pl.col("level") == "province") & (pl.col("unit_code") == "01")
                            & (pl.col("ethnic_group") == "ALL") & (pl.col("area") == "all"))
    # a (poor, d01–d04), b (near-poor, d01), c (poor, d01–d03): d01 3 households, d04 only a.
    by_indicator = {r["indicator"]: r for r in province.iter_rows(named=True)}
    assert [by_indicator["d01"][k] for k in ("households_deprived", "households_poor_deprived",
                                              "households_near_poor_deprived")] == [3, 2, 1]
    assert by_indicator["d04"]["households_poor_deprived"] == 1
    assert by_indicator["d05"]["households_deprived"] == 0
    assert by_indicator["d01"]["deprived_share_of_poor"] == 100.0
    # Province 02 sent nothing: no deprivation rows for it, while poverty_by_area lists it as unknown.
    assert whole.filter(pl.col("unit_code") == "02").height == 0
    assert frames["poverty_by_area"].filter(pl.col("unit_code") == "02")["households_total"].null_count() == 3
    # Rows come out in the mart's order however they are chunked; writing the same rows twice gives the
    # same bytes.
    assert whole.equals(whole.sort(list(MARTS["deprivation_by_area"].sort_key)))
    small_chunks = ChunkedRows(deprivation.mart, deprivation.source, deprivation.make_rows, chunk_rows=5)
    assert small_chunks.collect().equals(whole)
    disagreements = frames["classification_disagreements"]
    assert disagreements.select("unit_code", "household_id", "reported_classification", "classification",
                                "disagreements_in_commune", "households_compared_in_commune").rows() == [
        ("10001", "a", "near_poor", "poor", 1, 2)]
    coverage = frames["submission_coverage"].filter(pl.col("unit_code") == "10001").row(0, named=True)
    assert (coverage["households_listed"], coverage["classification_disagreements"]) == (2, 1)
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    write_partition(deprivation, one)
    write_partition(ChunkedRows(deprivation.mart, deprivation.source, deprivation.make_rows), two)
    assert one.read_bytes() == two.read_bytes()
    assert pl.read_parquet(one).equals(whole)


def test_a_local_standard_adds_its_rows_beside_the_national_figures_and_changes_none(home, built, tmp_path,
                                                                                     monkeypatch):
    district, province, communes = home["district"], home["province"], home["communes"]
    folder = tmp_path / "local"
    folder.mkdir()
    line = {"status": "CONFIRMED", "confirmed": True}
    (folder / "test_local.json").write_text(json.dumps({
        "id": "test_local", "title": "test", "province_code": province, "based_on": "nd07_2021",
        "legal_citation": {"document": "test", **line}, "applies_from_year": 2024, "applies_to_year": 2024,
        # the lists' non-poor households earn 5,000,000: a line above that makes every listed household poor
        # or near-poor under the local standard
        "income_line": {"rural": {"value": 5_000_000, **line}, "urban": {"value": 5_000_000, **line}}}),
        encoding="utf-8")
    monkeypatch.setenv("LNOB_LOCAL_STANDARDS_DIR", str(folder))
    from schemas import standards
    standards._local_documents.cache_clear()
    try:
        result = build_marts(home["settings"])
    finally:
        standards._local_documents.cache_clear()
    local = read_mart(result.path, "poverty_local_standard")
    listed = sum(i + 2 for i in range(len(communes)))
    district_row = local.filter(pl.col("level") == "district", pl.col("unit_code") == district,
                                pl.col("ethnic_group") == "ALL", pl.col("area") == "all").row(0, named=True)
    assert district_row["households_poor_or_near_poor"] == listed
    assert district_row["standard_scope"] == "local" and district_row["year"] == 2024
    assert district_row["poor_rate_national_standard"] is not None
    assert set(local["level"]) <= {"commune", "district", "province"}
    assert (local["province_code"] == province).all()
    # the national marts are exactly those of the build without the local standard
    for name in ("poverty_by_ethnicity", "poverty_by_area"):
        assert read_mart(result.path, name).equals(read_mart(built["result"].path, name))
