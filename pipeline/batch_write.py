"""Write a checked batch durably: staging Parquet, reports, then the registry, in that order.

Every file of the batch is written under a temporary name first (the staging Parquet of a file with no
error yet already while Great Expectations runs: `write_staging_early`), all are made durable together,
renamed in batch order, then the outcomes of the whole batch are recorded in ONE registry transaction
(`finish_all`). pipeline/ingest.py says why, for submitters and operators.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from documents import findings_report
from pipeline import declaration
from pipeline.batch import Work, safe_geography_version, stack
from pipeline.staging import STAGING_EXTRA
from schemas.contracts import contract_for
from store.registry import Outcome, Registry
from store.settings import Settings
from store.zones import fsync_all, report_paths, share, staged_name, staging_path, temporary_beside
from transforms.normalize import ROW, contract_frame

WRITE_THREADS = 4
EARLY_WRITE_THREADS = 2          # beside GX, which keeps a core busy


def staging_frames(works: list[Work]) -> list[pl.DataFrame]:
    """The staging rows of accepted files, in order: the typed contract columns in row order, then the
    submission's own columns. Built for all files of a kind at once, then cut back into files."""
    frames: dict[int, pl.DataFrame] = {}
    by_kind: dict[str, list[int]] = {}
    for index, work in enumerate(works):
        by_kind.setdefault(work.record.kind, []).append(index)
    for kind, indexes in by_kind.items():
        contract = contract_for(kind)
        records = [works[i].record for i in indexes]
        stacked = stack(
            [works[i].normalized for i in indexes],
            submission_id=([r.submission_id for r in records], pl.String),
            year=([r.year for r in records], pl.Int64),
            submitting_level=([r.level for r in records], pl.String),
            submitting_unit=([r.unit_code for r in records], pl.String),
            standard=([r.standard for r in records], pl.String),
            lists_every_household=([declaration.of_options(works[i].options, kind) for i in indexes], pl.Boolean),
        )
        stacked = (contract_frame(stacked.lazy(), contract, keep=tuple(STAGING_EXTRA)).drop(ROW)
                   .collect().cast({**dict(contract.polars_schema()), **STAGING_EXTRA}))
        offset = 0
        for index in indexes:
            height = works[index].normalized.height
            frames[index] = stacked.slice(offset, height)
            offset += height
    return [frames[index] for index in range(len(works))]


def verdict(record, *, status: str, findings: list[dict], supersedes: str | None, duplicate: bool,
             report_json: Path | None, report_html: Path | None, options: dict | None = None) -> dict:
    return {
        "lists_every_household": declaration.of_options(options or {}, record.kind),
        "submission_id": record.submission_id, "status": status, "supersedes": supersedes, "duplicate": duplicate,
        "level": record.level, "unit_code": record.unit_code, "year": record.year, "kind": record.kind,
        "standard": record.standard, "content_hash": record.content_hash, "findings": findings,
        "findings_total": sum(s["count"] for s in findings_report.summarise(findings)),
        "report_json": str(report_json) if report_json else None,
        "report_html": str(report_html) if report_html else None,
    }


@dataclass
class Decision:
    """A validated file's outcome, on its way to staging, reports and the registry."""

    work: Work
    findings: list[dict]
    errors: int
    warnings: int
    json_path: Path
    html_path: Path
    staged: Path | None = None          # set when accepted
    report: dict = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.errors == 0 and self.work.normalized is not None

    def outcome(self) -> Outcome:
        return Outcome(self.work.record.submission_id, accepted=self.accepted, staging_path=self.staged,
                       report_path=self.json_path, findings_count=self.errors, warnings_count=self.warnings)


def finish_all(works: list[Work], settings: Settings, registry: Registry,
                prepared: dict[int, Path] | None = None) -> list[dict]:
    """Decide every file of the batch, write staging and reports, then record the outcomes in one registry
    transaction (see the module notes for the order of writes).

    Every file is written under a temporary name first, all are made durable together (`fsync_all`), then
    renamed file by file in batch order. If writing fails at one file, the files before it are recorded
    in the registry and the error is raised: as when each file was finished on its own. `prepared`:
    staging files already written under temporary names ({id(file): temporary}, `write_staging_early`);
    those of files not accepted are removed."""
    prepared = dict(prepared or {})
    decisions: list[Decision] = []
    for work in works:
        if not work.failed:
            findings = findings_report.sort_findings(work.findings)
            errors, warnings = findings_report.group_counts(findings)
            json_path, html_path = report_paths(settings, work.record.submission_id)
            decisions.append(Decision(work, findings, errors, warnings, json_path, html_path))
    accepted = [d for d in decisions if d.accepted]
    for decision in accepted:
        record = decision.work.record
        decision.staged = staging_path(settings, record.kind, record.year, record.submission_id)

    ready = {id(d): prepared.pop(id(d.work)) for d in accepted if id(d.work) in prepared}
    remove(list(prepared.values()))     # files that turned out rejected (or failed)
    written: list[tuple[Decision, list[tuple[Path, Path]]]] = []   # (file, [(temporary, final path)])
    failure: Exception | None = None
    try:
        to_write = [d for d in accepted if id(d) not in ready]
        frames = staging_frames([d.work for d in to_write])
        staging = {id(decision): frame for decision, frame in zip(to_write, frames, strict=True)}
        # Side by side: the Parquet writer works outside Python's lock.
        with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
            pending = [pool.submit(write_temporaries, d, staging.get(id(d)), ready.get(id(d)))
                       for d in decisions]
        for decision, done in zip(decisions, pending, strict=True):
            if failure is None and done.exception() is None:
                written.append((decision, done.result()))
            elif done.exception() is None:
                remove([temporary for temporary, _path in done.result()])
            else:
                failure = failure or done.exception()
    except Exception as exc:  # noqa: BLE001 — the files before this one are still finished, then it is raised
        failure = exc
        handed = {temporary for _decision, pairs in written for temporary, _path in pairs}
        remove([temporary for temporary in ready.values() if temporary not in handed])
    fsync_all([temporary for _decision, pairs in written for temporary, _path in pairs])
    finished: list[Decision] = []
    for position, (decision, pairs) in enumerate(written):
        try:
            for temporary, path in pairs:
                os.replace(temporary, path)
        except Exception as exc:  # noqa: BLE001 — as above
            failure = failure or exc
            remove([temporary for _decision, rest in written[position:] for temporary, _path in rest])
            break
        finished.append(decision)
    # The renames too: the registry must never name a file a crash could still take back.
    fsync_all({path.parent for _decision, pairs in written[:len(finished)] for _temporary, path in pairs})
    if settings.store_url:      # object storage: the files go to the store before the registry names them
        share(settings, [path for _decision, pairs in written[:len(finished)] for _temporary, path in pairs])
        for decision in finished:
            decision.staged = staged_name(settings, decision.staged) if decision.staged else None

    for decision, (status, supersedes) in zip(finished, record_outcomes(finished, registry), strict=True):
        decision.report.update(status=status, supersedes=supersedes)
        if decision.accepted and (supersedes or status != "accepted"):
            findings_report.write_json_report(decision.json_path, decision.report)
            findings_report.write_html_report(decision.html_path, decision.report)
            share(settings, [decision.json_path, decision.html_path])
    if failure is not None:
        raise failure

    verdicts = {}
    for decision in decisions:
        verdicts[id(decision.work)] = verdict(
            decision.work.record, status=decision.report["status"], findings=decision.findings,
            supersedes=decision.report["supersedes"], duplicate=False, report_json=decision.json_path,
            report_html=decision.html_path, options=decision.work.options)
    for work in works:
        if work.failed:
            # The exception's text is for the operator's log; the submitter gets the reference to quote.
            logging.getLogger(__name__).error("submission %s could not be checked: %s",
                                              work.record.submission_id, work.failed)
            work.add("ingest.internal_error", reference=work.record.submission_id)
            verdicts[id(work)] = verdict(work.record, status=registry.get(work.record.submission_id).status,
                                          findings=findings_report.sort_findings(work.findings), supersedes=None,
                                          duplicate=False, report_json=None, report_html=None,
                                          options=work.options)
    return [verdicts[id(work)] for work in works]


def write_temporaries(decision: Decision, staging: pl.DataFrame | None,
                       staged_already: Path | None = None) -> list[tuple[Path, Path]]:
    """A decided file's staging Parquet (when accepted; `staged_already` when written before) and reports,
    each under a temporary name beside where it goes: [(temporary, final path)]. Nothing is left behind
    when writing fails."""
    temporaries: list[tuple[Path, Path]] = []
    try:
        if decision.accepted and staged_already is not None:
            temporaries.append((staged_already, decision.staged))
        elif decision.accepted:
            temporaries.append((temporary_beside(decision.staged), decision.staged))
            write_staging(staging, temporaries[-1][0])
        decision.report = report_document(decision.work, decision.findings,
                                           status="accepted" if decision.accepted else "rejected",
                                           supersedes=None, staged=decision.staged)
        for path, text in ((decision.json_path, findings_report.json_text(decision.report)),
                           (decision.html_path, findings_report.render_html(decision.report))):
            temporaries.append((temporary_beside(path), path))
            temporaries[-1][0].write_text(text, encoding="utf-8")
    except BaseException:
        remove([temporary for temporary, _path in temporaries])
        raise
    return temporaries


def write_staging(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path, compression="zstd", statistics=True)


def write_staging_early(works: list[Work], settings: Settings) -> dict[int, Path]:
    """The staging Parquet of files that may still be accepted, each under a temporary name beside its
    staging path, while they are being validated: {id(file): temporary}. A file whose writing fails is
    left out (it is written again when finished, where a failure counts)."""
    try:
        frames = staging_frames(works)
    except Exception:  # noqa: BLE001 — written when finished instead, where an error counts
        return {}

    def write(work: Work, frame: pl.DataFrame) -> Path | None:
        record = work.record
        temporary = temporary_beside(staging_path(settings, record.kind, record.year, record.submission_id))
        try:
            write_staging(frame, temporary)
        except Exception:  # noqa: BLE001 — as above
            temporary.unlink(missing_ok=True)
            return None
        return temporary

    with ThreadPoolExecutor(max_workers=EARLY_WRITE_THREADS) as pool:
        written = list(pool.map(write, works, frames))
    return {id(work): temporary for work, temporary in zip(works, written, strict=True)
            if temporary is not None}


def record_outcomes(decisions: list[Decision], registry: Registry) -> list[tuple[str, str | None]]:
    """(status, superseded id) of each file once recorded: all in one transaction; when one of them cannot
    be recorded (another worker decided it meanwhile), one by one, which records those before it and
    raises there, as when each file was finished on its own."""
    try:
        return registry.record_outcomes([decision.outcome() for decision in decisions])
    except (KeyError, ValueError):
        results = []
        for decision in decisions:
            outcome = decision.outcome()
            if outcome.accepted:
                supersedes = registry.mark_accepted(outcome.submission_id, staging_path=outcome.staging_path,
                                                    report_path=outcome.report_path,
                                                    findings_count=outcome.findings_count,
                                                    warnings_count=outcome.warnings_count)
                results.append((registry.get(outcome.submission_id).status, supersedes))
            else:
                registry.mark_rejected(outcome.submission_id, report_path=outcome.report_path,
                                       findings_count=outcome.findings_count)
                results.append(("rejected", None))
        return results


def remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def report_document(work: Work, findings: list[dict], *, status: str, supersedes: str | None,
                     staged: Path | None) -> dict:
    record = work.record
    parsed = work.parsed
    errors, warnings = findings_report.group_counts(findings)
    return {
        "submission_id": record.submission_id, "status": status, "supersedes": supersedes,
        "duplicate": False, "level": record.level, "unit_code": record.unit_code, "year": record.year,
        "kind": record.kind, "standard": record.standard, "content_hash": record.content_hash,
        "lists_every_household": declaration.of_options(work.options, record.kind),
        "byte_size": record.byte_size, "original_name": record.original_name, "submitter": record.submitter,
        "received_at": record.received_at.isoformat() if record.received_at else None,
        "geography_version": safe_geography_version(record.year),
        "file": {"format": parsed.format if parsed else None, "sheet": parsed.sheet if parsed else None,
                 "header_row": parsed.header_row if parsed else None,
                 "rows": parsed.frame.height if parsed and parsed.frame is not None else 0,
                 "columns": ({h: work.match.columns.get(p) for p, h in work.match.headers.items()}
                             if work.match else {})},
        "staging_path": str(staged) if staged else None,
        "errors_total": errors, "warnings_total": warnings,
        "summary": findings_report.summarise(findings),
        "findings": findings, "findings_total": sum(s["count"] for s in findings_report.summarise(findings)),
    }
