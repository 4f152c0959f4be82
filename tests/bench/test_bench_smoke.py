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


def test_the_prefect_path_is_split_from_the_runs_own_timestamps():
    """The Prefect share is what the run's timestamps leave outside lnob's tasks, never a constant."""
    from datetime import datetime, timedelta

    from bench.prefect_path import _run_breakdown

    since = datetime(2026, 11, 27, 1, 0, 0)
    run = {"created": since + timedelta(seconds=1.5), "start": since + timedelta(seconds=9.0),
           "end": since + timedelta(seconds=15.0), "state": "COMPLETED",
           "tasks": [(since + timedelta(seconds=9.2), since + timedelta(seconds=13.2)),
                     (since + timedelta(seconds=13.5), since + timedelta(seconds=14.5))]}
    split = _run_breakdown(run, since)
    assert split["to_run_created_s"] == 1.5
    assert split["run_created_to_running_s"] == 7.5
    assert abs(split["running_to_task_s"] - 0.2) < 1e-9
    assert split["tasks"] == 2 and abs(split["task_s"] - 5.0) < 1e-9
    assert abs(split["between_tasks_s"] - 0.3) < 1e-9
    assert abs(split["after_tasks_s"] - 0.5) < 1e-9


def test_the_report_shows_the_prefect_table_when_it_was_measured(tiny_run):
    from bench import report

    _, results, _ = tiny_run
    run = json.loads((results / "latest.json").read_text(encoding="utf-8"))["run"]
    step = {"gx_setup_s": 0.05, "gx_validate_s": 0.1, "gx_s": 0.15, "prefect_s": 0.0, "lnob_s": 0.3,
            "total_s": 0.45}
    prefect_part = {"to_run_created_s": 1.2, "run_created_to_running_s": 7.0, "running_to_task_s": 0.1,
                    "tasks": 2, "task_s": 3.0, "between_tasks_s": 0.01, "after_tasks_s": 0.02, "state": "COMPLETED"}
    run["ingest"] = {
        "one_file": {**step, "households": 3000, "status": "accepted"},
        "one_file_warm": {"median_s": 0.2, "runs": 3, "statuses": ["accepted"]},
        "batch": {**step, "files": 10, "households": 30000, "register_s": 0.4, "files_per_s": 22.2},
        "cli_one_file": {"wall_s": 5.0}, "import_s": {"great_expectations": 3.0, "prefect": 1.0,
                                                       "pipeline.ingest": 0.5, "lnob.cli": 0.1},
        "prefect": {"setup_s": 15.0, "worker_query_seconds": 10.0,
                    "one_file": {**prefect_part, "wall_s": 12.0, "submit_command_s": 2.0, "households": 3000},
                    "batch": {**prefect_part, "wall_s": 20.0, "files": 10, "files_per_s": 0.5, "batch_size": 200}},
    }
    latest = report.summarise(run)
    assert latest["prefect_one_file_s"] == 12.0 and latest["prefect_batch_files_per_s"] == 0.5
    table = report.markdown(latest)
    assert "**Ingest through Prefect**" in table
    # one file: 12 s wall − 2 s command − 3 s in tasks = 7 s in Prefect
    assert "| 12.00 s | 3.00 s (2 task runs) | 7.00 s |" in table


def test_the_table_is_copied_between_the_markers_of_each_readme(tiny_run, tmp_path):
    from bench import report

    _, results, _ = tiny_run
    latest = report.summarise(json.loads((results / "latest.json").read_text(encoding="utf-8"))["run"])
    readmes = []
    for name in ("bench.md", "project.md"):
        path = tmp_path / name
        path.write_text(f"# {name}\n\n{report.README_START}\nold table\n{report.README_END}\n\nafter\n",
                        encoding="utf-8")
        readmes.append(path)
    written = report.write(latest, tmp_path / "results", readme=readmes)
    assert set(readmes) <= set(written)
    for path in readmes:
        text = path.read_text(encoding="utf-8")
        assert "old table" not in text and "| lnob `build_year`" in text and text.endswith("after\n")
