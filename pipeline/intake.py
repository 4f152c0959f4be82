"""Receiving one submission: check what was asked, keep the bytes, register them, and answer.

    submit(settings, path or bytes, level=, unit_code=, year=, ...)      → verdict
        asked-for checks (UsageError) → the unit-year's lock → size check → land the bytes (write-once, by
        content hash) → register (same bytes = same submission) → pipeline.ingest.ingest_submission

Decisions a submitter or an operator will ask about:
- A file larger than `settings.max_upload_bytes` is refused before it is landed or registered: a prefix of it
  would not be the submitted file (a different hash), and keeping gigabytes nobody can use is not "keeping
  data". The verdict says so, in both languages; nothing is written anywhere. A file for a locked (approved)
  unit-year is refused the same way.
- The same bytes are one submission: sent again, they get the first verdict; sent again with another
  declaration of completeness, they are refused (a corrected file is a new submission).
"""

from __future__ import annotations

import os
from pathlib import Path

from documents import findings_report
from pipeline import approval, declaration
from pipeline.ingest import default_standard, ingest_submission, stored_verdict
from pipeline.parse import parse_file
from pipeline.submission_options import read_request, write_request
from schemas.contracts import KINDS, LEVELS
from schemas.vocabulary import FINAL_STATUSES
from store.registry import Registry
from store.settings import Settings
from store.zones import land
from transforms.normalize import infer_kind


class UsageError(ValueError):
    """A submission asked for something that cannot be (unknown level, kind, standard): exit code 2."""


def too_large_verdict(*, byte_size: int, limit: int, level: str, unit_code: str, year: int, kind: str | None,
                      standard: str | None, original_name: str | None) -> dict:
    """The verdict of a file refused for its size: not landed, not registered (see the module notes)."""
    severity, vi, en = findings_report.MESSAGES["file.too_large"]
    finding = {"severity": severity, "rule": "file.too_large", "file": original_name, "sheet": None, "row": None,
               "cell": None, "column": None, "value": str(byte_size),
               "message_vi": findings_report.render(vi, size=byte_size, limit=limit),
               "message_en": findings_report.render(en, size=byte_size, limit=limit), "count": 1}
    return _refused_verdict(finding, level=level, unit_code=unit_code, year=year, kind=kind, standard=standard,
                            original_name=original_name)


def _refused_verdict(finding: dict, *, level: str, unit_code: str, year: int, kind: str | None,
                     standard: str | None, original_name: str | None) -> dict:
    """The verdict of a file refused before it is landed or registered (too large, its unit-year locked)."""
    return {"submission_id": None, "status": "rejected", "supersedes": None, "duplicate": False, "level": level,
            "unit_code": unit_code, "year": year, "kind": kind, "standard": standard, "content_hash": None,
            "findings": [{**finding, "file": finding.get("file") or original_name}], "findings_total": 1,
            "report_json": None, "report_html": None}


def _same_declaration(settings: Settings, record, options: dict) -> None:
    """The same bytes are one submission: sent again declaring the list complete where it was first sent as
    reviewed-only (or the reverse), they are refused rather than answered with the first verdict."""
    first = declaration.of_options(read_request(settings, record.submission_id), record.kind)
    again = declaration.of_options(options, record.kind)
    if first is not None and first != again:
        said = {True: ("mọi hộ dân cư", "every resident household"),
                False: ("chỉ các hộ được rà soát", "the reviewed households only")}
        raise UsageError(
            f"tệp này đã được nộp ({record.submission_id}) với khai báo danh sách gồm {said[first][0]}; cùng một "
            f"tệp không thể khai báo khác / these bytes were already submitted ({record.submission_id}) as "
            f"listing {said[first][1]}; the same file cannot be declared otherwise: send a corrected file "
            f"(e.g. with the title-block cell filled in)")


def submit(settings: Settings, source: bytes | str | os.PathLike, *, level: str, unit_code: str, year: int,
           kind: str | None = None, standard: str | None = None, submitter: str | None = None,
           original_name: str | None = None, sheet: str | None = None, registry: Registry | None = None,
           runner=None, validate: bool = True, lists_every_household: bool = False) -> dict:
    """Keep, register and validate one file; returns the verdict (see the brief's Findings section).

    `lists_every_household`: the submitter declares that a household list holds every resident household
    of the commune, not only the households reviewed (pipeline/declaration.py; the title block may say so).
    The same bytes sent again with another declaration are refused (UsageError): they are one submission.

    `validate=False` stops after registering (status `received`): the orchestrated path, where a worker
    validates it later with `ingest_submission` or `pipeline.drain.drain_pending`.

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
    registry = registry or Registry(settings.database_url)
    locked = approval.lock_refusal(registry, level, unit_code, year)
    if locked is not None:
        # Refused before it is landed or registered, as a file too large is: nothing of it may count.
        return _refused_verdict(locked, level=level, unit_code=unit_code, year=year, kind=kind, standard=standard,
                                original_name=original_name)
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
    options[declaration.COMPLETE_LIST_FIELD] = declaration.resolve(
        kind, lists_every_household, data, file_name=original_name or "", sheet=sheet)
    record, created = registry.record_received(
        content_hash=landed.content_hash, byte_size=landed.byte_size, original_name=original_name, level=level,
        unit_code=unit_code, year=year, kind=kind, standard=standard, submitter=submitter)
    if not created:
        _same_declaration(settings, record, options)
    if not created and record.status in FINAL_STATUSES:
        return stored_verdict(settings, record, duplicate=True)
    write_request(settings, record.submission_id, options)
    # Bytes sent before that never got a verdict (their worker died) are not "nothing changed": they are
    # validated now, or by the worker that holds them.
    if not validate:
        return stored_verdict(settings, record, duplicate=False)
    return ingest_submission(record.submission_id, settings, registry=registry, runner=runner)
