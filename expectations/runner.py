"""Run the Great Expectations suites in this folder and return lnob's structured findings.

One runner per process: Great Expectations takes seconds to import, so it is imported here, lazily,
and the ephemeral context with its suites is built once (`get_runner()`), then validates many frames.

How a frame is validated (GX Core 1.x has no Polars support, so frames are handed over with
`to_pandas()`):
1. one pass over the whole frame with `BOOLEAN_ONLY`: the cheapest, says which expectations fail (a
   clean file stops here);
2. only for the failing expectations, per submission, a `SUMMARY` run of that one expectation counts
   the rows breaking it, then the rows are located: GX is asked for the first rows (bounded by
   `partial_unexpected_count`) on the first 2,000 rows, then 20,000, then all, stopping as soon as enough
   rows are listed. Asking for row indexes over many failing rows at once is what makes GX slow
   (a 200,000-row file with 100,000 bad rows took ~24 s in one COMPLETE pass against well under 1 s here).

Several submissions can be validated as one frame (column `__submission__`, any value that tells them
apart: ingest gives each file's position in its batch): the counts and rows are then worked out per
submission. Compound-uniqueness rules get `__submission__` appended, so that two files of
the same commune validated together are not each other's duplicates.

Severity is lnob's: each expectation's `meta.severity` ("error" rejects, "warning" does not) decides; GX's
own `success` is not used for that.
"""

from __future__ import annotations

import copy
import json
import math
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from schemas.vocabulary import SUBMISSION_KINDS

SUITES_DIR = Path(__file__).resolve().parent
ROW = "__row__"
SUBMISSION = "__submission__"
LOCATE_STEPS: tuple[int | None, ...] = (2_000, 20_000, None)
DEFAULT_LISTED_PER_RULE = 20


def suite_path(kind: str) -> Path:
    return SUITES_DIR / f"{kind}.json"


def load_suite_document(kind: str) -> dict:
    """The stored suite of a contract, as JSON (GX's own layout, lnob's rule ids in each `meta`)."""
    return json.loads(suite_path(kind).read_text(encoding="utf-8"))


def rule_ids(kind: str) -> list[str]:
    """Every rule id a contract's suite can raise, in suite order, without duplicates."""
    seen: list[str] = []
    for expectation in load_suite_document(kind)["expectations"]:
        if expectation["meta"]["rule"] not in seen:
            seen.append(expectation["meta"]["rule"])
    return seen


@dataclass(frozen=True)
class RuleFinding:
    """Rows of one submission that break one expectation: what ingest turns into located findings."""

    submission: object           # the submission's `__submission__` value
    rule: str
    severity: str
    column: str                  # contract column reported (the file's header is ingest's business)
    rows: list[tuple[int, str | None]]   # (file row, value as text), at most the listed bound
    count: int                   # every row of the submission breaking it
    message_vi: str
    message_en: str
    expectation: str


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "item"):  # numpy scalars
        return _text(value.item())
    return str(value)


def _columns_of(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    return [kwargs[k] for k in ("column_A", "column_B") if k in kwargs]


def _cannot_fail(document_expectation: dict, empty: set[str]) -> bool:
    """A value rule on a column with no value at all passes whatever it says (empty = not reported)."""
    if document_expectation["type"] in ("expect_column_values_to_not_be_null", "expect_compound_columns_to_be_unique"):
        return False
    return any(column in empty for column in _columns_of(document_expectation["kwargs"]))


def _add_derived(frame: pl.DataFrame, derived: dict) -> pl.DataFrame:
    """Columns a rule compares that no file carries (poor + near-poor; a village key where empty = '')."""
    expressions = []
    for name, spec in derived.items():
        if "sum" in spec:
            # Null when any part is null: an unknown count makes the sum unknown, and the rule is skipped.
            expressions.append(pl.sum_horizontal([pl.col(c) for c in spec["sum"]], ignore_nulls=False).alias(name))
        elif "fill_null" in spec:
            expressions.append(pl.col(spec["fill_null"]).fill_null(spec["value"]).alias(name))
    return frame.with_columns(expressions) if expressions else frame


class SuiteRunner:
    """An ephemeral GX context holding every contract's suite; validates frames, returns findings."""

    def __init__(self, kinds: Iterable[str] = SUBMISSION_KINDS) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GX fingerprints every pandas batch under 1 GB by hashing all of it (a batch marker lnob never
        # reads): 3 s of a 500-file batch, more than the validation itself. Hashing stays off.
        pandas_execution_engine.HASH_THRESHOLD = 0

        self._gx = gx
        self._lock = threading.Lock()
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.batch_definition = (
            self.context.data_sources.add_pandas(name="submissions")
            .add_dataframe_asset(name="submission_rows")
            .add_batch_definition_whole_dataframe("whole_frame")
        )
        self.documents: dict[str, dict] = {}
        self.suites = {}
        self._subsets: dict[tuple, object] = {}
        for kind in kinds:
            document = load_suite_document(kind)
            for index, expectation in enumerate(document["expectations"]):
                expectation["meta"]["lnob_index"] = index   # results come back in no fixed order
                kwargs = expectation["kwargs"]
                if "column_list" in kwargs and SUBMISSION not in kwargs["column_list"]:
                    kwargs["column_list"] = [*kwargs["column_list"], SUBMISSION]
            self.documents[kind] = document
            self.suites[kind] = self.context.suites.add(gx.ExpectationSuite(**document))

    # -- public ------------------------------------------------------------------------------------

    def validate(
        self,
        kind: str,
        frame: pl.DataFrame,
        *,
        absent_columns: dict[str, set[str]] | None = None,
        listed_per_rule: int = DEFAULT_LISTED_PER_RULE,
    ) -> list[RuleFinding]:
        """Validate a contract-typed frame (plus `__row__`, optionally `__submission__`).

        `absent_columns`: per submission, contract columns its file did not have (already reported as
        missing columns, so their rules are skipped rather than repeated on every row).
        """
        if SUBMISSION not in frame.columns:
            frame = frame.with_columns(pl.lit("").alias(SUBMISSION))
        document = self.documents[kind]
        frame = _add_derived(frame, document["meta"].get("derived_columns", {}))
        # Only the columns some expectation reads go to pandas (to_pandas copies every column handed over).
        read = self._read_columns(kind)
        frame = frame.select([name for name in frame.columns if name in read])
        submissions = frame.get_column(SUBMISSION).unique(maintain_order=True).to_list()
        empty = {name for name in frame.columns if frame.get_column(name).null_count() == frame.height}
        expectations = self.suites[kind].expectations
        stored = self.documents[kind]["expectations"]
        applicable = [e for e in expectations if not _cannot_fail(stored[int(e.meta["lnob_index"])], empty)]
        findings: list[RuleFinding] = []
        if not applicable or frame.height == 0:
            return findings
        with self._lock:
            # Only the rules that can fail on this frame: GX spends ~30 ms per expectation whatever the
            # data, and a district's summary often leaves the 24 indicator columns empty.
            key = (kind, tuple(e.meta["lnob_index"] for e in applicable))
            suite = self._subsets.get(key)
            if suite is None:  # copying expectations is slow in GX; files of one kind share few subsets
                suite = self._gx.ExpectationSuite(name=f"{kind}_applicable",
                                                  expectations=[copy.copy(e) for e in applicable])
                self._subsets[key] = suite
            summary = self._batch(frame).validate(suite, result_format={"result_format": "BOOLEAN_ONLY"})
            for result in summary.results:
                if result.success:
                    continue
                config = result.expectation_config
                expectation = next(e for e in expectations if e.meta["lnob_index"] == config.meta["lnob_index"])
                findings += self._locate(kind, expectation, config, result, frame, submissions,
                                         absent_columns or {}, listed_per_rule)
        return findings

    # -- internals ---------------------------------------------------------------------------------

    def _read_columns(self, kind: str) -> set[str]:
        """Every column an expectation of the suite reads, with the row number and the submission."""
        read = {ROW, SUBMISSION}
        for expectation in self.documents[kind]["expectations"]:
            read.update(_columns_of(expectation["kwargs"]))
        return read

    def _locate(self, kind, expectation, config, summary_result, frame, submissions, absent, listed):
        meta = dict(config.meta or {})
        kwargs = dict(config.kwargs)
        columns = [c for c in _columns_of(kwargs) if c != SUBMISSION]
        derived = self.documents[kind]["meta"].get("derived_columns", {})
        reported = meta.get("reported_column") or (kwargs["column_B"] if "column_B" in kwargs else columns[0])
        value_columns = [c for c in columns if c in derived and "sum" in derived[c]] or \
            ([columns[-1]] if "column_B" in kwargs else ([reported] if "column_list" in kwargs and
                                                         meta.get("reported_column") else columns))
        out: list[RuleFinding] = []
        failed_to_run = bool(summary_result.exception_info and summary_result.exception_info.get(
            "raised_exception"))
        for submission in submissions:
            needed = set(columns) | {c2 for c in columns if c in derived for c2 in
                                     derived[c].get("sum", [derived[c].get("fill_null")])}
            if needed & absent.get(submission, set()):
                continue
            part = frame if len(submissions) == 1 else frame.filter(pl.col(SUBMISSION) == submission)
            if failed_to_run:
                out.append(RuleFinding(submission, "validation.rule_failed_to_run", "error", reported, [],
                                       part.height, "Không kiểm tra được quy tắc này; hãy báo cho nhóm dữ liệu.",
                                       "This rule could not be checked; tell the data team.", config.type))
                continue
            count = self._count(expectation, part)
            if count == 0:
                continue
            rows = self._rows(expectation, part, value_columns, count, listed)
            out.append(RuleFinding(
                submission=submission, rule=meta["rule"], severity=meta.get("severity", "error"),
                column=reported, rows=rows, count=count, message_vi=meta.get("message_vi", ""),
                message_en=meta.get("message_en", ""), expectation=config.type))
        return out

    def _batch(self, frame: pl.DataFrame):
        return self.batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})

    def _count(self, expectation, part: pl.DataFrame) -> int:
        result = self._batch(part).validate(
            expectation, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0})
        return int(result.result.get("unexpected_count") or 0)

    def _rows(self, expectation, part: pl.DataFrame, value_columns: list[str], count: int,
              listed: int) -> list[tuple[int, str | None]]:
        rows: list[tuple[int, str | None]] = []
        for step in LOCATE_STEPS:
            chunk = part if step is None or step >= part.height else part.head(step)
            result = self._batch(chunk).validate(expectation, result_format={
                "result_format": "SUMMARY", "unexpected_index_column_names": [ROW],
                "partial_unexpected_count": listed, "return_unexpected_index_query": False})
            indexed = result.result.get("partial_unexpected_index_list") or []
            rows = []
            for entry in indexed[:listed]:
                values = [_text(entry.get(c)) for c in value_columns]
                value = " / ".join(v for v in values if v) or None
                rows.append((int(entry[ROW]), value))
            if len(rows) >= min(listed, count) or chunk is part:
                break
        return sorted(rows)


_RUNNER: SuiteRunner | None = None
_RUNNER_LOCK = threading.Lock()


def get_runner() -> SuiteRunner:
    """The process's runner (built on first use: importing GX and loading the suites)."""
    global _RUNNER
    with _RUNNER_LOCK:
        if _RUNNER is None:
            _RUNNER = SuiteRunner()
        return _RUNNER
