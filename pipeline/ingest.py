"""The ingest step: keep a submitted file, register it, read it, validate it, stage it, report on it.

    submit(settings, path or bytes, level=, unit_code=, year=, ...)      → verdict
        size check → land the bytes (write-once, by content hash) → register (same bytes = same
        submission) → ingest_submission
    ingest_submission(submission_id, settings)                          → verdict
        validates one registered submission (the seam the Prefect flow calls)
    drain_pending(settings, batch_size)                                  → [verdict, ...]
        validates every pending submission in ONE process, in batches; the column rules of a batch
        run as one Great Expectations validation per kind, findings mapped back to each file
    validate_claimed(records, settings)                                  → [verdict, ...]
        one such batch, for records a worker already claimed (flows/ingest.py)

Decisions written down here because a submitter or an operator will ask:
- A file larger than `settings.max_upload_bytes` is refused before it is landed or registered: a
  prefix of it would not be the submitted file (a different hash), and keeping gigabytes nobody can
  use is not "keeping data". The verdict says so, in both languages; nothing is written anywhere.
- Order of writes for an accepted file: staging Parquet (temporary name, then rename), reports, then
  the registry in one transaction. A crash before the registry update leaves the submission
  `received`/`validating` with its bytes in landing; running it again rewrites the same files.
- Options that are not registry columns (the XLSX sheet, whether the kind was inferred) are kept
  beside the reports as `reports/<id>.request.json`, so a later worker reads the file the same way.
- A bug in lnob while validating never rejects a file (a rejected file cannot be accepted later with
  the same bytes): the submission stays pending and the verdict says the check did not finish.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from pipeline import reports
from pipeline.parse import ParsedTable, parse_file
from schemas.contracts import CONTRACTS, KINDS, LEVELS, contract_for
from store.registry import Registry
from store.settings import Settings
from store.zones import land, landing_path, report_paths, staging_path, temporary_beside
from transforms.normalize import (
    ISSUE_SUFFIX,
    ROW,
    HeaderMatch,
    contract_frame,
    header_key,
    infer_kind,
    match_headers,
    normalize,
    value_issues,
)
from transforms.reference_checks import Geography, reference_issues, restore_lost_zeros

LISTED_PER_RULE = 20
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FINAL_STATUSES = ("accepted", "rejected", "superseded")
STAGING_EXTRA = {"submission_id": pl.String, "year": pl.Int64, "submitting_level": pl.String,
                 "submitting_unit": pl.String, "standard": pl.String}


class UsageError(ValueError):
    """A submission asked for something that cannot be (unknown level, kind, standard): exit code 2."""


# --- reference data, once per process -----------------------------------------------------------------

_GEOGRAPHY: dict[int, Geography] = {}


def geography_for(year: int) -> Geography:
    from schemas.geography import REFORM_DATE, review_date, units_at

    if year not in _GEOGRAPHY:
        on = review_date(year)
        _GEOGRAPHY[year] = Geography(provinces=units_at("province", on), districts=units_at("district", on),
                                     communes=units_at("commune", on), reform_applies=on >= REFORM_DATE)
    return _GEOGRAPHY[year]


def _geography_version(year: int) -> str:
    from schemas.geography import geography_version, review_date

    return geography_version(review_date(year))


_ETHNIC: dict[str, object] = {}


def _ethnic_reference() -> tuple[list[str], dict[str, str]]:
    """(the 2008 codes, folded name or alias → code)."""
    if not _ETHNIC:
        from schemas.ethnicity import ethnic_groups

        groups = ethnic_groups()
        names: dict[str, str] = {}
        for row in groups.iter_rows(named=True):
            for spelling in [row["name"], *row["aliases"]]:
                names.setdefault(header_key(spelling), row["code"])
        _ETHNIC["codes"] = groups.get_column("code").to_list()
        _ETHNIC["names"] = names
    return _ETHNIC["codes"], _ETHNIC["names"]  # type: ignore[return-value]


def default_standard(year: int) -> str | None:
    from schemas.standards import standard_for_year

    try:
        return standard_for_year(year)
    except ValueError:
        # The end-2021 baseline review was measured on the 2022–2025 standard (domain.md decision 1).
        return "nd07_2021" if year == 2021 else None


def _pad_widths(kind: str, level: str, year: int) -> dict[str, int]:
    """Width to restore a unit code to when the contract allows several: the units a level reports."""
    if kind == "household":
        return {}
    reform = geography_for(year).reform_applies
    width = 3 if level == "province" and not reform else 5
    return {"unit_code": width}


def _now_year() -> int:
    return datetime.now(TIMEZONE).year


# --- one submission's work --------------------------------------------------------------------------

BATCH_KEY = "__submission__"   # which submission a row of a batch frame came from


@dataclass
class _Work:
    record: object                      # store.registry.SubmissionRecord
    options: dict
    findings: list[dict] = field(default_factory=list)
    parsed: ParsedTable | None = None
    match: HeaderMatch | None = None
    raw: pl.DataFrame | None = None      # the file's rows as text under contract names, before typing
    machine: frozenset[str] = frozenset()
    normalized: pl.DataFrame | None = None
    absent: set[str] = field(default_factory=set)
    failed: str | None = None           # an internal error: the check did not finish

    @property
    def file_name(self) -> str:
        return self.record.original_name or self.record.content_hash[:12]

    def header_of(self, name: str | None) -> str | None:
        if name is None or self.match is None:
            return name
        position = self.match.position_of(name)
        return self.match.headers.get(position, name) if position is not None else name

    def cell_of(self, name: str | None, row: int | None) -> str | None:
        if name is None or self.match is None or self.parsed is None:
            return None
        position = self.match.position_of(name)
        return self.parsed.cell(position, row) if position is not None else None

    def add(self, rule: str, *, severity: str | None = None, row: int | None = None, cell: str | None = None,
            column: str | None = None, value: str | None = None, count: int = 1, message_vi: str | None = None,
            message_en: str | None = None, **params) -> None:
        """Add a finding; `column` is as written in the file."""
        record = self.record
        context = {"column": column, "value": value, "row": row, "cell": cell, "count": count,
                   "kind": record.kind, "level": record.level, "unit_code": record.unit_code, "year": record.year,
                   "geography": _safe_geography_version(record.year), **params}
        default_severity, template_vi, template_en = reports.MESSAGES.get(rule, ("error", "{detail}", "{detail}"))
        self.findings.append({
            "severity": severity or default_severity, "rule": rule, "file": self.file_name,
            "sheet": self.parsed.sheet if self.parsed else None, "row": row, "cell": cell, "column": column,
            "value": value, "message_vi": reports.render(message_vi or template_vi, **context),
            "message_en": reports.render(message_en or template_en, **context), "count": count,
        })

    def add_parse_issue(self, found: dict) -> None:
        self.add(found["rule"], severity=found["severity"], row=found["row"], cell=found["cell"],
                 column=found["column"], value=found["value"], count=found["count"], **found["params"])


def _safe_geography_version(year: int) -> str:
    try:
        return _geography_version(year)
    except Exception:  # noqa: BLE001 — an implausible year still gets its message
        return ""


def _read_request(settings: Settings, submission_id: str) -> dict:
    path = settings.reports / f"{submission_id}.request.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_request(settings: Settings, submission_id: str, options: dict) -> None:
    settings.reports.mkdir(parents=True, exist_ok=True)
    path = settings.reports / f"{submission_id}.request.json"
    if not path.exists():
        reports._write_atomically(path, json.dumps(options, ensure_ascii=False, indent=2) + "\n")


def _read(work: _Work, data: bytes) -> None:
    """Read the file and match its headers: `work.raw` holds its rows as text under contract names."""
    record = work.record
    work.parsed = parsed = parse_file(data, file_name=record.original_name or "", sheet=work.options.get("sheet"),
                                      kind=record.kind)
    for found in parsed.issues:
        work.add_parse_issue(found)
    if work.options.get("kind_unknown"):
        work.add("file.kind_unknown")
    if parsed.frame is None or any(f["severity"] == "error" for f in work.findings):
        return
    contract = contract_for(record.kind)
    work.match = match = match_headers(parsed.headers, contract)
    header_cells = {p: parsed.cell(p, parsed.header_row) for p in range(len(parsed.headers))}
    for name, positions in match.duplicates.items():
        cells = ", ".join(header_cells[p] or f"#{p + 1}" for p in positions)
        work.add("file.duplicate_column", row=parsed.header_row, cell=header_cells[positions[1]],
                 column=match.headers[positions[1]], cells=cells)
    for position in match.unknown:
        work.add("file.unknown_column", row=parsed.header_row, cell=header_cells[position],
                 column=match.headers[position])
    for name in match.missing_required:
        column = contract.column(name)
        work.add("file.missing_column", row=parsed.header_row, column=column.label_vi, name=name,
                 label_vi=column.label_vi, label_en=column.label_en)
    work.absent = set(match.missing_required) | set(match.missing_optional)
    work.raw = parsed.frame.select([pl.col(ROW).cast(pl.Int64),
                                    *[pl.col(f"c{p}").cast(pl.String).alias(n) for p, n in match.columns.items()]])
    work.machine = frozenset(n for p, n in match.columns.items() if p in parsed.machine_numeric)


def _type_together(group: list[_Work]) -> None:
    """Type the rows of several files of one kind (and the same reading options) as one frame, find the
    problems of their values, and hand each file its own rows and findings back.

    One Polars query per group instead of one per file: typing costs a query plan of a few hundred
    expressions, which dominates when a batch holds hundreds of small files."""
    first = group[0].record
    contract = contract_for(first.kind)
    _codes, names = _ethnic_reference()
    raw = pl.concat([w.raw.with_columns(pl.lit(w.record.submission_id, dtype=pl.String).alias(BATCH_KEY))
                     for w in group], how="diagonal")
    typed = normalize(raw.lazy(), contract, machine_numeric=group[0].machine,
                      pad_widths=_pad_widths(first.kind, first.level, first.year), ethnic_names=names,
                      keep=(BATCH_KEY,)).collect()
    rows_of = typed.partition_by(BATCH_KEY, as_dict=True, include_key=False)
    for work in group:
        record = work.record
        work.normalized = rows_of.get((record.submission_id,), typed.clear().drop(BATCH_KEY)).sort(ROW)
        if record.kind != "household":
            work.normalized = restore_lost_zeros(
                work.normalized.lazy(), column="unit_code", geography=geography_for(record.year),
                level=record.level, unit_code=record.unit_code).collect().sort(ROW)
    checked = pl.concat([w.normalized.with_columns(pl.lit(w.record.submission_id, dtype=pl.String)
                                                   .alias(BATCH_KEY)) for w in group])
    issues = value_issues(checked.lazy(), contract, keep=(BATCH_KEY,)).collect()
    issues_of = issues.partition_by(BATCH_KEY, as_dict=True, include_key=False)
    for work in group:
        _add_row_issues(work, issues_of.get((work.record.submission_id,), issues.clear().drop(BATCH_KEY)))


def _type_values(works: list[_Work]) -> None:
    """Type every read file, grouped by what typing depends on (kind, level and year, machine-written
    numbers); a group that fails is retried file by file, so one file's trouble stays its own."""
    groups: dict[tuple, list[_Work]] = {}
    for work in works:
        if work.raw is not None and not work.failed:
            record = work.record
            groups.setdefault((record.kind, record.level, record.year, work.machine), []).append(work)
    for group in groups.values():
        try:
            _type_together(group)
        except Exception:  # noqa: BLE001 — find which file it was
            for work in group:
                try:
                    _type_together([work])
                except Exception as exc:  # noqa: BLE001 — a bug here keeps the file pending
                    work.failed = f"{type(exc).__name__}: {exc}"


def _add_row_issues(work: _Work, issues: pl.DataFrame) -> None:
    """Row problems (value or reference), at most LISTED_PER_RULE per rule and column, with the total."""
    if issues.height == 0:
        return
    totals = issues.group_by("rule", "column").len()
    totals = {(r, c): n for r, c, n in totals.iter_rows()}
    listed = issues.group_by("rule", "column", maintain_order=True).head(LISTED_PER_RULE)
    for row in listed.iter_rows(named=True):
        column = work.header_of(row["column"])
        work.add(row["rule"], severity=row["severity"], row=row[ROW], cell=work.cell_of(row["column"], row[ROW]),
                 column=column, value=row["value"], count=totals[(row["rule"], row["column"])])


def _validate_columns(works: list[_Work], runner) -> None:
    """GX suites: one validation per kind over every prepared file of the batch."""
    by_kind: dict[str, list[_Work]] = {}
    for work in works:
        if work.normalized is not None and not work.failed:
            by_kind.setdefault(work.record.kind, []).append(work)
    for kind, group in by_kind.items():
        contract = CONTRACTS[kind]
        frame = pl.concat([
            contract_frame(w.normalized.lazy(), contract).collect()
            .with_columns(pl.lit(w.record.submission_id).alias(BATCH_KEY))
            for w in group
        ])
        try:
            results = runner.validate(kind, frame, absent_columns={w.record.submission_id: w.absent for w in group},
                                      listed_per_rule=LISTED_PER_RULE)
        except Exception as exc:  # noqa: BLE001 — GX failing is lnob's problem, not the submitter's
            for work in group:
                work.failed = f"{type(exc).__name__}: {exc}"
            continue
        by_id = {w.record.submission_id: w for w in group}
        for result in results:
            work = by_id[result.submission]
            rows, count = result.rows, result.count
            if result.expectation == "expect_column_values_to_not_be_null":
                # A value that could not be read is null after typing: it is already reported as such.
                unreadable = work.normalized.filter(
                    pl.col(result.column + ISSUE_SUFFIX).is_not_null()
                    & pl.col(result.column + ISSUE_SUFFIX).is_in(["value.not_a_number", "value.not_a_whole_number",
                                                                   "value.ambiguous_number", "value.not_yes_no"]))
                skip = set(unreadable.get_column(ROW).to_list())
                rows = [(r, v) for r, v in rows if r not in skip]
                count -= len(skip)
                if count <= 0:
                    continue
            column = work.header_of(result.column)
            for row, value in rows or [(None, None)]:
                work.add(result.rule, severity=result.severity, row=row, cell=work.cell_of(result.column, row),
                         column=column, value=value, count=count, message_vi=result.message_vi,
                         message_en=result.message_en)


def _check_reference(work: _Work) -> None:
    record = work.record
    codes, _names = _ethnic_reference()
    frame = work.normalized.lazy() if work.normalized is not None else pl.LazyFrame(
        schema={ROW: pl.Int64, **dict(contract_for(record.kind).polars_schema())})
    issues = reference_issues(frame, kind=record.kind, level=record.level, unit_code=record.unit_code,
                              year=record.year, current_year=_now_year(), geography=geography_for(record.year),
                              ethnic_codes=codes)
    whole = issues.filter(pl.col(ROW).is_null())
    for row in whole.iter_rows(named=True):
        work.add(row["rule"], severity=row["severity"], value=row["value"])
    _add_row_issues(work, issues.filter(pl.col(ROW).is_not_null()))


def _staging_frame(work: _Work) -> pl.DataFrame:
    record = work.record
    contract = contract_for(record.kind)
    return (
        contract_frame(work.normalized.lazy(), contract)
        .sort(ROW)
        .drop(ROW)
        .with_columns(
            pl.lit(record.submission_id, dtype=pl.String).alias("submission_id"),
            pl.lit(record.year, dtype=pl.Int64).alias("year"),
            pl.lit(record.level, dtype=pl.String).alias("submitting_level"),
            pl.lit(record.unit_code, dtype=pl.String).alias("submitting_unit"),
            pl.lit(record.standard, dtype=pl.String).alias("standard"),
        )
        .collect(engine="in-memory")
        .cast({**dict(contract.polars_schema()), **STAGING_EXTRA})
    )


def _write_parquet_atomically(frame: pl.DataFrame, path: Path) -> None:
    temporary = temporary_beside(path)
    frame.write_parquet(temporary, compression="zstd", statistics=True)
    with open(temporary, "rb") as stream:
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def _verdict(record, *, status: str, findings: list[dict], supersedes: str | None, duplicate: bool,
             report_json: Path | None, report_html: Path | None) -> dict:
    return {
        "submission_id": record.submission_id, "status": status, "supersedes": supersedes, "duplicate": duplicate,
        "level": record.level, "unit_code": record.unit_code, "year": record.year, "kind": record.kind,
        "standard": record.standard, "content_hash": record.content_hash, "findings": findings,
        "findings_total": sum(s["count"] for s in reports.summarise(findings)),
        "report_json": str(report_json) if report_json else None,
        "report_html": str(report_html) if report_html else None,
    }


def _finish(work: _Work, settings: Settings, registry: Registry) -> dict:
    """Decide, write staging and reports, then record the outcome in one registry transaction."""
    record = work.record
    json_path, html_path = report_paths(settings, record.submission_id)
    if work.failed:
        work.add("ingest.internal_error", detail=work.failed[:300])
        findings = reports.sort_findings(work.findings)
        return _verdict(record, status=registry.get(record.submission_id).status, findings=findings,
                        supersedes=None, duplicate=False, report_json=None, report_html=None)
    findings = reports.sort_findings(work.findings)
    errors, warnings = reports.group_counts(findings)
    accepted = errors == 0 and work.normalized is not None
    staged: Path | None = None
    if accepted:
        staged = staging_path(settings, record.kind, record.year, record.submission_id)
        _write_parquet_atomically(_staging_frame(work), staged)
    report = _report_document(work, findings, status="accepted" if accepted else "rejected", supersedes=None,
                              staged=staged)
    reports.write_json_report(json_path, report)
    reports.write_html_report(html_path, report)
    supersedes = None
    if accepted:
        supersedes = registry.mark_accepted(record.submission_id, staging_path=staged, report_path=json_path,
                                            findings_count=errors, warnings_count=warnings)
        status = registry.get(record.submission_id).status
        if supersedes or status != "accepted":
            report.update(status=status, supersedes=supersedes)
            reports.write_json_report(json_path, report)
            reports.write_html_report(html_path, report)
    else:
        registry.mark_rejected(record.submission_id, report_path=json_path, findings_count=errors)
        status = "rejected"
    return _verdict(record, status=status, findings=findings, supersedes=supersedes, duplicate=False,
                    report_json=json_path, report_html=html_path)


def _report_document(work: _Work, findings: list[dict], *, status: str, supersedes: str | None,
                     staged: Path | None) -> dict:
    record = work.record
    parsed = work.parsed
    errors, warnings = reports.group_counts(findings)
    return {
        "submission_id": record.submission_id, "status": status, "supersedes": supersedes,
        "duplicate": False, "level": record.level, "unit_code": record.unit_code, "year": record.year,
        "kind": record.kind, "standard": record.standard, "content_hash": record.content_hash,
        "byte_size": record.byte_size, "original_name": record.original_name, "submitter": record.submitter,
        "received_at": record.received_at.isoformat() if record.received_at else None,
        "geography_version": _safe_geography_version(record.year),
        "file": {"format": parsed.format if parsed else None, "sheet": parsed.sheet if parsed else None,
                 "header_row": parsed.header_row if parsed else None,
                 "rows": parsed.frame.height if parsed and parsed.frame is not None else 0,
                 "columns": ({h: work.match.columns.get(p) for p, h in work.match.headers.items()}
                             if work.match else {})},
        "staging_path": str(staged) if staged else None,
        "errors_total": errors, "warnings_total": warnings,
        "summary": reports.summarise(findings),
        "findings": findings, "findings_total": sum(s["count"] for s in reports.summarise(findings)),
    }


def stored_verdict(settings: Settings, record, *, duplicate: bool) -> dict:
    """The verdict of a submission already decided, from its report (for `lnob status` and resubmits)."""
    json_path, html_path = report_paths(settings, record.submission_id)
    findings: list[dict] = []
    if json_path.exists():
        findings = json.loads(json_path.read_text(encoding="utf-8")).get("findings", [])
    verdict = _verdict(record, status=record.status, findings=findings, supersedes=record.supersedes,
                       duplicate=duplicate, report_json=json_path if json_path.exists() else None,
                       report_html=html_path if html_path.exists() else None)
    verdict["superseded_by"] = record.superseded_by
    return verdict


# --- public steps -----------------------------------------------------------------------------------

def _run(records: list, settings: Settings, registry: Registry, runner) -> list[dict]:
    works: list[_Work] = []
    for record in records:
        work = _Work(record=record, options=_read_request(settings, record.submission_id))
        try:
            data = landing_path(settings, record.content_hash).read_bytes()
            _read(work, data)
        except Exception as exc:  # noqa: BLE001 — a bug here keeps the file pending
            work.failed = f"{type(exc).__name__}: {exc}"
        works.append(work)
    _type_values(works)
    if runner is None and any(w.normalized is not None for w in works):
        from expectations.runner import get_runner

        runner = get_runner()
    _validate_columns(works, runner)
    verdicts = []
    for work in works:
        try:
            if not work.failed:
                _check_reference(work)
        except Exception as exc:  # noqa: BLE001 — an lnob bug keeps the file pending
            work.failed = f"{type(exc).__name__}: {exc}"
        verdicts.append(_finish(work, settings, registry))
    return verdicts


def ingest_submission(submission_id: str, settings: Settings, *, registry: Registry | None = None,
                      runner=None) -> dict:
    """Validate one registered submission and record the outcome; a decided one returns its verdict."""
    registry = registry or Registry(settings.database_url)
    record = registry.get(submission_id)
    if record is None:
        raise KeyError(f"no submission {submission_id!r} in the registry")
    if record.status in FINAL_STATUSES:
        return stored_verdict(settings, record, duplicate=False)
    return _run([record], settings, registry, runner)[0]


def validate_claimed(records: list, settings: Settings, *, registry: Registry | None = None,
                     runner=None) -> list[dict]:
    """Validate submissions already claimed from the registry (`Registry.claim_pending`) as one batch:
    one Great Expectations validation per kind, findings mapped back to each file."""
    registry = registry or Registry(settings.database_url)
    return _run(list(records), settings, registry, runner)


def drain_pending(settings: Settings, batch_size: int = 50, *, registry: Registry | None = None,
                  runner=None) -> list[dict]:
    """Validate every pending submission, `batch_size` at a time, in this one process."""
    registry = registry or Registry(settings.database_url)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    verdicts: list[dict] = []
    while True:
        batch = registry.claim_pending(batch_size, worker)
        if not batch:
            return verdicts
        verdicts += validate_claimed(batch, settings, registry=registry, runner=runner)


def too_large_verdict(*, byte_size: int, limit: int, level: str, unit_code: str, year: int, kind: str | None,
                      standard: str | None, original_name: str | None) -> dict:
    """The verdict of a file refused for its size: not landed, not registered (see the module notes)."""
    severity, vi, en = reports.MESSAGES["file.too_large"]
    finding = {"severity": severity, "rule": "file.too_large", "file": original_name, "sheet": None, "row": None,
               "cell": None, "column": None, "value": str(byte_size),
               "message_vi": reports.render(vi, size=byte_size, limit=limit),
               "message_en": reports.render(en, size=byte_size, limit=limit), "count": 1}
    return {"submission_id": None, "status": "rejected", "supersedes": None, "duplicate": False, "level": level,
            "unit_code": unit_code, "year": year, "kind": kind, "standard": standard, "content_hash": None,
            "findings": [finding], "findings_total": 1, "report_json": None, "report_html": None}


def submit(settings: Settings, source: bytes | str | os.PathLike, *, level: str, unit_code: str, year: int,
           kind: str | None = None, standard: str | None = None, submitter: str | None = None,
           original_name: str | None = None, sheet: str | None = None, registry: Registry | None = None,
           runner=None, validate: bool = True) -> dict:
    """Keep, register and validate one file; returns the verdict (see the brief's Findings section).

    `validate=False` stops after registering (status `received`): the orchestrated path, where a worker
    validates it later with `ingest_submission` or `drain_pending`.

    Raises UsageError for arguments that cannot be right whatever the file holds (unknown level, kind or
    standard, a malformed unit code); everything wrong with the file itself is a finding.
    """
    if level not in LEVELS:
        raise UsageError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if kind is not None and kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    expected_width = {"commune": 5, "district": 3, "province": 2}[level]
    if not (unit_code.isdigit() and len(unit_code) == expected_width):
        raise UsageError(f"a {level} code has {expected_width} digits (e.g. {'0' * (expected_width - 1)}1), "
                         f"not {unit_code!r}")
    if standard is not None:
        from schemas.standards import available_standards

        if standard not in available_standards():
            raise UsageError(f"unknown standard {standard!r}; known: {', '.join(available_standards())}")
    if original_name is None and not isinstance(source, bytes | bytearray):
        original_name = Path(source).name
    byte_size = len(source) if isinstance(source, bytes | bytearray) else Path(source).stat().st_size
    standard = standard or default_standard(year)
    if byte_size > settings.max_upload_bytes:
        return too_large_verdict(byte_size=byte_size, limit=settings.max_upload_bytes, level=level,
                                 unit_code=unit_code, year=year, kind=kind, standard=standard,
                                 original_name=original_name)
    data = bytes(source) if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    landed = land(settings, data)
    options: dict = {"sheet": sheet, "kind_given": kind is not None}
    if kind is None:
        headers = parse_file(data, file_name=original_name or "", sheet=sheet).headers
        kind = infer_kind(headers)
        if kind is None:
            kind = "household" if level == "commune" else "area_summary"
            options["kind_unknown"] = True
    registry = registry or Registry(settings.database_url)
    record, created = registry.record_received(
        content_hash=landed.content_hash, byte_size=landed.byte_size, original_name=original_name, level=level,
        unit_code=unit_code, year=year, kind=kind, standard=standard, submitter=submitter)
    if not created and record.status in FINAL_STATUSES:
        return stored_verdict(settings, record, duplicate=True)
    _write_request(settings, record.submission_id, options)
    if not validate:
        return stored_verdict(settings, record, duplicate=not created)
    verdict = ingest_submission(record.submission_id, settings, registry=registry, runner=runner)
    verdict["duplicate"] = not created
    return verdict
