"""The benchmark's harness at a tiny scale: it generates both staging layouts, runs every contender in its own
process, compares lnob's counts with the DuckDB peer's, and writes the results files. No timing is asserted:
the machine decides those."""

from __future__ import annotations

import json

import polars as pl
import pytest

from bench.__main__ import main
from bench.compare import compare_counts
from bench.peers import MEASURES

HEADLINE_KEYS = ("scale", "households", "lnob_s", "duckdb_s", "floor_s", "pandas_s_extrapolated",
                 "lnob_peak_rss_mib", "duckdb_peak_rss_mib", "ratio_duckdb", "ratio_floor", "results_equal",
                 "ingest_one_file_s", "batch_files_per_s")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One province (Bắc Kạn, 06) at 2 % of its households, both layouts, one run per contender."""
    root = tmp_path_factory.mktemp("bench")
    results, data = root / "results", root / "data"
    exit_code = main(["--scale", "0.02", "--provinces", "06", "--repeats", "1", "--skip-ingest", "--no-readme",
                      "--results-dir", str(results), "--data-dir", str(data)])
    return exit_code, results, data


def test_run_writes_json_with_the_headline_keys_and_a_markdown_table(tiny_run):
    exit_code, results, _ = tiny_run
    assert exit_code == 0
    latest = json.loads((results / "latest.json").read_text(encoding="utf-8"))
    assert set(HEADLINE_KEYS) <= set(latest)
    assert latest["scale"] == 0.02
    assert latest["households"] > 0
    table = (results / "latest.md").read_text(encoding="utf-8")
    assert "| lnob `build_year`" in table and "DuckDB SQL" in table and "pandas" in table


def test_lnob_and_duckdb_counts_are_compared_and_equal_in_both_layouts(tiny_run):
    _, results, _ = tiny_run
    latest = json.loads((results / "latest.json").read_text(encoding="utf-8"))
    assert latest["results_equal"] is True
    for layout in ("commune", "province"):
        comparison = latest["run"]["layouts"][layout]["comparison"]
        assert comparison["equal"] and comparison["different_rows"] == 0
        assert comparison["measures_compared"] == len(MEASURES)
        assert {row["level"] for row in comparison["by_level"]} == {"commune", "district", "province", "region",
                                                                    "national"}
        assert comparison["rows_lnob"] == comparison["rows_peer"] > 0


def test_both_layouts_hold_the_same_households(tiny_run):
    _, results, _ = tiny_run
    layouts = json.loads((results / "latest.json").read_text(encoding="utf-8"))["run"]["layouts"]
    assert layouts["commune"]["households"] == layouts["province"]["households"]
    assert layouts["commune"]["files"] > layouts["province"]["files"] == 1


def test_every_contender_reports_times_and_its_own_peak_memory(tiny_run):
    _, results, _ = tiny_run
    contenders = json.loads((results / "latest.json").read_text(encoding="utf-8"))["run"]["layouts"]["commune"][
        "contenders"]
    for name in ("lnob", "duckdb", "floor", "pandas"):
        assert len(contenders[name]["times_s"]) == 1
        assert contenders[name]["peak_rss_mib"] >= contenders[name]["rss_after_imports_mib"] > 0


def test_a_changed_count_is_reported_as_a_difference(tmp_path):
    """The comparison can fail: one poor count off by one in the peer's rows makes the results unequal."""
    lnob_rows = pl.DataFrame({"level": ["commune", "national"], "unit_code": ["00001", "VN"],
                              "ethnic_group": ["ALL", "ALL"], "area": ["all", "all"],
                              **{m: [3, None] for m in MEASURES}})
    peer_rows = lnob_rows.with_columns(pl.when(pl.col("level") == "commune").then(pl.col("households_poor") + 1)
                                       .otherwise(pl.col("households_poor")).alias("households_poor"))
    lnob_rows.write_parquet(tmp_path / "lnob.parquet")
    peer_rows.write_parquet(tmp_path / "peer.parquet")
    assert compare_counts(tmp_path / "lnob.parquet", tmp_path / "lnob.parquet")["equal"]
    different = compare_counts(tmp_path / "lnob.parquet", tmp_path / "peer.parquet")
    assert not different["equal"] and different["different_rows"] == 1
    assert different["examples"][0]["unit_code"] == "00001"
    missing = compare_counts(tmp_path / "lnob.parquet", tmp_path / "lnob.parquet")
    assert missing["rows_only_in_peer"] == 0
    peer_rows.head(1).write_parquet(tmp_path / "short.parquet")
    assert compare_counts(tmp_path / "lnob.parquet", tmp_path / "short.parquet")["rows_only_in_lnob"] == 1
