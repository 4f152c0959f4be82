"""The suites and their runner: rule ids and messages are in every expectation; findings come back per
submission with file rows, bounded, and quickly even when most rows are bad."""

from __future__ import annotations

import time

import polars as pl
import pytest
from fixtures_ingest import gx_runner

from expectations.runner import load_suite_document, rule_ids
from schemas.contracts import CONTRACTS, HOUSEHOLD

__all__ = ["gx_runner"]


@pytest.mark.parametrize("kind", sorted(CONTRACTS))
def test_every_expectation_carries_a_rule_a_severity_and_both_messages(kind):
    document = load_suite_document(kind)
    assert document["name"] == f"{kind}_v1"
    for expectation in document["expectations"]:
        meta = expectation["meta"]
        assert meta["rule"].startswith(f"{kind}.")
        assert meta["severity"] in ("error", "warning")
        assert meta["message_vi"] and meta["message_en"] and meta["message_vi"] != meta["message_en"]
        columns = [expectation["kwargs"].get(k) for k in ("column", "column_A", "column_B")]
        derived = document["meta"].get("derived_columns", {})
        for column in [c for c in columns if c] + expectation["kwargs"].get("column_list", []):
            assert column in CONTRACTS[kind].names or column in derived


def test_every_required_column_has_a_not_null_rule():
    required = {e["kwargs"]["column"] for e in load_suite_document("household")["expectations"]
                if e["type"] == "expect_column_values_to_not_be_null"}
    assert required == {c.name for c in HOUSEHOLD.columns if c.required and not c.nullable}
    assert "household.size_range" in rule_ids("household")


def households(count: int, submission: str, *, size: int = 3) -> pl.DataFrame:
    return pl.DataFrame({c.name: pl.Series([None] * count, dtype=c.dtype) for c in HOUSEHOLD.columns}).with_columns(
        pl.int_range(2, count + 2, dtype=pl.Int64).alias("__row__"), pl.lit(submission).alias("__submission__"),
        household_id=pl.format("HH{}", pl.int_range(0, count)), commune_code=pl.lit("00688"),
        area=pl.lit("rural"), head_ethnicity_code=pl.lit("01"), household_size=pl.lit(size, dtype=pl.Int64),
        income_per_capita_month=pl.lit(1.0e6), **{f"d{i:02d}": pl.lit(False) for i in range(1, 13)})


def test_findings_map_back_to_each_submission_of_a_batch(gx_runner):
    clean = households(5, "A")
    sized = households(5, "B").with_columns(
        household_size=pl.when(pl.col("__row__") == 4).then(0).otherwise(pl.col("household_size")))
    findings = gx_runner.validate("household", pl.concat([clean, sized]))
    assert [(f.submission, f.rule, f.column, f.rows, f.count) for f in findings] == [
        ("B", "household.size_range", "household_size", [(4, "0")], 1)]      # same ids in A and B: no duplicates


def test_a_file_with_100000_bad_rows_is_reported_quickly_and_bounded(gx_runner):
    bad = households(100_000, "A", size=0)
    started = time.perf_counter()
    findings = gx_runner.validate("household", bad, listed_per_rule=20)
    elapsed = time.perf_counter() - started
    [finding] = findings
    assert finding.count == 100_000 and len(finding.rows) == 20
    assert finding.rows[0] == (2, "0")
    assert elapsed < 15, f"100,000 bad rows took {elapsed:.1f} s"


def test_rules_on_columns_a_file_did_not_have_are_skipped(gx_runner):
    frame = households(3, "A").with_columns(household_size=pl.lit(None, dtype=pl.Int64))
    assert [f.rule for f in gx_runner.validate("household", frame)] == ["household.value_required"]
    assert gx_runner.validate("household", frame, absent_columns={"A": {"household_size"}}) == []
