"""The ingest step: read a registered submission, validate it, stage it, report on it.

    (receiving a file — checks, landing, registering — is pipeline/intake.py's `submit`)
    ingest_submission(submission_id, settings)                          → verdict
        validates one registered submission (the seam the Prefect flow calls)
    drain_pending_in_process(settings, batch_size)                       → [verdict, ...]
        validates every pending submission in THIS process, in batches (tests, benchmarks; files from
        outside: pipeline/drain.py, each batch in an isolated worker); the column rules of a batch
        run as one Great Expectations validation per kind, findings mapped back to each file
    validate_claimed(records, settings)                                  → [verdict, ...]
        one such batch, for records a worker already claimed (flows/ingest.py)

Decisions written down here because a submitter or an operator will ask:
- Order of writes for an accepted file: staging Parquet (temporary name, then rename), reports, then
  the registry in one transaction. A crash before the registry update leaves the submission
  `received`/`validating` with its bytes in landing; running it again rewrites the same files.
  A batch keeps that order for every file: all its files are written under temporary names (the staging
  Parquet of a file with no error yet already while Great Expectations runs), made durable together,
  renamed in batch order, then the outcomes of the whole batch are recorded in ONE registry transaction.
  The registry sees them one after the other, so two versions of one unit in a batch end as they would
  have one by one: the later received is current.
  (The batch's writing and recording live in pipeline/batch_write.py.)
- Options that are not registry columns (the XLSX sheet, whether the kind was inferred) are kept
  beside the reports as `reports/<id>.request.json` (pipeline/submission_options.py), so a later worker
  reads the file the same way.
- A bug in lnob while validating never rejects a file (a rejected file cannot be accepted later with
  the same bytes): the submission stays pending and the verdict says the check did not finish.
"""

from __future__ import annotations

import contextlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from pipeline import approval, batch_write, claims, personal_data
from pipeline.batch import BATCH_KEY, SUBMITTING_UNIT, Work, has_error, stack
from pipeline.parse import parse_file
from pipeline.submission_options import read_request
from schemas.contracts import CONTRACTS, contract_for
from schemas.vocabulary import FINAL_STATUSES
from store.registry import DEFAULT_LEASE, MAX_ATTEMPTS, Registry
from store.settings import Settings
from store.zones import read_landed, report_paths
from transforms.normalize import (
    ISSUE_SUFFIX,
    ROW,
    contract_frame,
    header_key,
    match_headers,
    normalize_distinct,
    value_issues,
)
from transforms.reference_checks import ISSUE_SCHEMA as REFERENCE_ISSUE_SCHEMA
from transforms.reference_checks import (
    Geography,
    abolished,
    restore_lost_zeros,
    row_issues,
    submission_issues,
)

LISTED_PER_RULE = 20
READ_THREADS = 4
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


# --- reference data, once per process -----------------------------------------------------------------

_GEOGRAPHY: dict[int, Geography] = {}


def geography_for(year: int) -> Geography:
    from schemas.geography import REFORM_DATE, review_date, units_at

    if year not in _GEOGRAPHY:
        on = review_date(year)
        _GEOGRAPHY[year] = Geography(provinces=units_at("province", on), districts=units_at("district", on),
                                     communes=units_at("commune", on), reform_applies=on >= REFORM_DATE)
    return _GEOGRAPHY[year]


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
        # The end-2021 baseline review was measured on the 2022–2025 standard
        # (docs/legal-basis.md#how-lnob-treats-legal-rules).
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

def _read(work: Work, data: bytes) -> None:
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
    personal_data.report_unknown_columns(work, header_cells)
    for name in match.missing_required:
        column = contract.column(name)
        work.add("file.missing_column", row=parsed.header_row, column=column.label_vi, name=name,
                 label_vi=column.label_vi, label_en=column.label_en)
    work.absent = set(match.missing_required) | set(match.missing_optional)
    frame = parsed.frame        # `__row__` (Int64) and the file's columns as text (ParsedTable)
    work.raw = pl.DataFrame([frame.get_column(ROW), *[frame.get_column(f"c{p}").alias(n)
                                                      for p, n in match.columns.items()]])
    work.machine = frozenset(n for p, n in match.columns.items() if p in parsed.machine_numeric)


def _type_together(group: list[Work]) -> None:
    """Type the rows of several files of one kind (and the same reading options) as one frame, find the
    problems of their values, and hand each file its own rows and findings back.

    One typing per group instead of one per file, and each rule run once per distinct text of a column
    (`normalize_distinct`): a batch of commune files holds millions of cells but few spellings."""
    first = group[0].record
    contract = contract_for(first.kind)
    _codes, names = _ethnic_reference()
    typed = normalize_distinct(pl.concat([w.raw for w in group], how="diagonal"), contract,
                               machine_numeric=group[0].machine, ethnic_names=names,
                               pad_widths=_pad_widths(first.kind, first.level, first.year),
                               conventions=dict(_conventions(group[0])))
    normalized: list[pl.DataFrame] = []
    offset = 0
    for work in group:
        record = work.record
        rows = typed.slice(offset, work.raw.height)
        offset += work.raw.height
        if record.kind != "household":
            rows = restore_lost_zeros(
                rows.lazy(), column="unit_code", geography=geography_for(record.year),
                level=record.level, unit_code=record.unit_code).collect()
        normalized.append(rows if rows.get_column(ROW).is_sorted() else rows.sort(ROW))
    stacked = pl.concat(normalized)
    issues_of: dict = {}
    if any(stacked.get_column(c.name + ISSUE_SUFFIX).null_count() < stacked.height for c in contract.columns):
        issues = value_issues(stack(normalized).lazy(), contract, keep=(BATCH_KEY,)).collect()
        issues_of = issues.partition_by(BATCH_KEY, as_dict=True, include_key=False)
    for position, (work, rows) in enumerate(zip(group, normalized, strict=True)):
        work.normalized = rows
        if (position,) in issues_of:
            _add_row_issues(work, issues_of[(position,)])


def _conventions(work: Work) -> tuple[tuple[str, str], ...]:
    """The file's number convention of each contract column that has one (decided by the parser)."""
    decided = work.parsed.number_conventions
    return tuple(sorted((name, decided[p]) for p, name in work.match.columns.items() if p in decided))


def _type_values(works: list[Work]) -> None:
    """Type every read file, grouped by what typing depends on (kind, level and year, machine-written
    numbers); a group that fails is retried file by file, so one file's trouble stays its own."""
    groups: dict[tuple, list[Work]] = {}
    for work in works:
        if work.raw is not None and not work.failed:
            record = work.record
            groups.setdefault((record.kind, record.level, record.year, work.machine, _conventions(work)),
                              []).append(work)
    for group in groups.values():
        try:
            _type_together(group)
        except Exception:  # noqa: BLE001 — find which file it was
            for work in group:
                try:
                    _type_together([work])
                except Exception as exc:  # noqa: BLE001 — a bug here keeps the file pending
                    work.failed = f"{type(exc).__name__}: {exc}"


def _add_row_issues(work: Work, issues: pl.DataFrame) -> None:
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


def _validate_columns(works: list[Work], runner) -> None:
    """GX suites: one validation per kind over every prepared file of the batch."""
    by_kind: dict[str, list[Work]] = {}
    for work in works:
        if work.normalized is not None and not work.failed:
            by_kind.setdefault(work.record.kind, []).append(work)
    for kind, group in by_kind.items():
        contract = CONTRACTS[kind]
        stacked = stack([w.normalized for w in group])
        frame = contract_frame(stacked.lazy(), contract, keep=(BATCH_KEY,)).collect()
        try:
            results = runner.validate(kind, frame, absent_columns={p: w.absent for p, w in enumerate(group)},
                                      listed_per_rule=LISTED_PER_RULE)
        except Exception as exc:  # noqa: BLE001 — GX failing is lnob's problem, not the submitter's
            for work in group:
                work.failed = f"{type(exc).__name__}: {exc}"
            continue
        for result in results:
            work = group[result.submission]
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


def _find_references(works: list[Work]) -> tuple[list[tuple], dict[int, str]]:
    """Reference problems of the files given, the rows of the files of one kind, level and year in one
    query; a group that fails is retried file by file, so one file's trouble stays its own. Returns
    ([(file, its own problems, its rows' problems)], {id(file): the error when its check failed}); nothing
    is added to the files here (`_add_references` does, in batch order)."""
    groups: dict[tuple, list[Work]] = {}
    for work in works:
        record = work.record
        groups.setdefault((record.kind, record.level, record.year), []).append(work)
    found: list[tuple] = []
    failed: dict[int, str] = {}
    for group in groups.values():
        try:
            found += _reference_issues_together(group)
        except Exception:  # noqa: BLE001 — find which file it was
            for work in group:
                try:
                    found += _reference_issues_together([work])
                except Exception as exc:  # noqa: BLE001 — an lnob bug keeps the file pending
                    failed[id(work)] = f"{type(exc).__name__}: {exc}"
    return found, failed


def _add_references(works: list[Work], found: list[tuple], failed: dict[int, str]) -> None:
    """The reference problems of `_find_references`, for the files that have not failed meanwhile."""
    for work in works:
        if not work.failed and id(work) in failed:
            work.failed = failed[id(work)]
    for work, whole, rows in found:
        if work.failed:
            continue
        for row in whole.iter_rows(named=True):
            work.add(row["rule"], severity=row["severity"], value=row["value"])
        if rows is not None:
            _add_row_issues(work, rows)


def _add_lock_findings(works: list[Work], registry: Registry) -> None:
    """A summary's or attributes file's rows about another unit whose figures are locked (approved) are
    refused, each located: a higher unit's file must not change figures a lower unit's approver locked.
    Rows about the submitting unit itself are not flagged here: its own lock holds the whole file
    (the registry records it `held`)."""
    candidates = [w for w in works if not w.failed and w.normalized is not None and w.record.kind != "household"
                  and "unit_code" in w.normalized.columns]
    locks_of_year: dict[int, dict] = {}
    for work in candidates:
        record = work.record
        if record.year not in locks_of_year:
            locks_of_year[record.year] = approval.locked_units(registry, record.year)
        locks = locks_of_year[record.year]
        if not locks:
            continue
        rows = work.normalized.select(ROW, "unit_code").drop_nulls("unit_code")
        hits = [(row, code, locks[(level, code)]) for row, code in rows.iter_rows()
                if (level := approval.level_of_code(code)) is not None and (level, code) in locks
                and (level, code) != (record.level, record.unit_code)]
        for row, code, lock in hits[:LISTED_PER_RULE]:
            level = approval.level_of_code(code)
            when = lock.at.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
            work.add("approval.locked_row", severity="error", row=row, cell=work.cell_of("unit_code", row),
                     column=work.header_of("unit_code"), value=code, count=len(hits),
                     message_vi=f"Dòng này là số liệu của {level} {code}, đã được chốt ({lock.by} phê duyệt lúc "
                                f"{when}, giờ Việt Nam): bỏ dòng này, hoặc đề nghị cấp phê duyệt mở lại.",
                     message_en=f"This row is about {level} {code}, whose figures are locked (approved by {lock.by} "
                                f"at {when}, Vietnam time): drop the row, or ask its approver to reopen it.")


def _reference_issues_together(group: list[Work]) -> list[tuple[Work, pl.DataFrame, pl.DataFrame | None]]:
    """(file, problems of the submission itself, problems of its rows) for files of one kind, level and
    year: what `reference_issues` says of each, with the rows of every file checked in one query."""
    first = group[0].record
    codes, _names = _ethnic_reference()
    geography = geography_for(first.year)
    wholes = [submission_issues(level=first.level, unit_code=w.record.unit_code, year=first.year,
                                current_year=_now_year(), geography=geography) for w in group]
    checked = [w for w, whole in zip(group, wholes, strict=True) if not abolished(whole)]
    rows_of: dict = {None: pl.DataFrame(schema=REFERENCE_ISSUE_SCHEMA)}
    checked = [w for w in checked if w.normalized is not None]     # a file not read has no rows to check
    if checked:
        frame = stack([w.normalized for w in checked],
                       **{SUBMITTING_UNIT: ([w.record.unit_code for w in checked], pl.String)})
        issues = row_issues(frame.lazy(), kind=first.kind, level=first.level,
                            unit_code=pl.col(SUBMITTING_UNIT), geography=geography, ethnic_codes=codes,
                            keep=(BATCH_KEY,)).collect()
        rows_of = {(checked[position].record.submission_id,): rows for (position,), rows
                   in issues.partition_by(BATCH_KEY, as_dict=True, include_key=False).items()}
        rows_of[None] = issues.clear().drop(BATCH_KEY)
    return [(w, whole, None if abolished(whole) else rows_of.get((w.record.submission_id,), rows_of[None]))
            for w, whole in zip(group, wholes, strict=True)]



def stored_verdict(settings: Settings, record, *, duplicate: bool) -> dict:
    """The verdict of a submission already decided, from its report (for `lnob status` and resubmits)."""
    json_path, html_path = report_paths(settings, record.submission_id)
    findings: list[dict] = []
    if json_path.exists():
        findings = json.loads(json_path.read_text(encoding="utf-8")).get("findings", [])
    verdict = batch_write.verdict(record, status=record.status, findings=findings, supersedes=record.supersedes,
                       duplicate=duplicate, report_json=json_path if json_path.exists() else None,
                       report_html=html_path if html_path.exists() else None,
                       options=read_request(settings, record.submission_id))
    verdict["superseded_by"] = record.superseded_by
    return verdict


# --- public steps -----------------------------------------------------------------------------------

def _read_landed(work: Work, settings: Settings) -> Work:
    try:
        _read(work, read_landed(settings, work.record.content_hash))
        personal_data.pseudonymise(work, settings)
    except Exception as exc:  # noqa: BLE001 — a bug here keeps the file pending
        work.failed = f"{type(exc).__name__}: {exc}"
    return work


def _load_references(years: set[int]) -> set[int]:
    """Build the reference lists of these years now, in this thread, if not yet; returns the years whose
    lists (and the ethnic groups) are ready. The others are checked after GX, where a list that cannot be
    built fails the checks that need it, as it always did."""
    try:
        _ethnic_reference()
    except Exception:  # noqa: BLE001 — see above
        return set()
    ready = set()
    for year in sorted(years):
        with contextlib.suppress(Exception):
            geography_for(year)
            ready.add(year)
    return ready


def _give_up(work: Work) -> None:
    """A file claimed more than MAX_ATTEMPTS times without a verdict: each check of it ended with its
    process (killed, or out of memory); it is not read again, and gets a final verdict saying so."""
    attempts = work.record.attempts - 1
    work.add("file.cannot_be_read", severity="error", value=str(attempts),
             message_vi=f"Không đọc được tệp: {attempts} lần kiểm tra tệp này đều bị dừng giữa chừng (tiến trình "
                        "kiểm tra bị dừng hoặc hết bộ nhớ). Hãy mở tệp, lưu lại ở dạng XLSX hoặc CSV rồi nộp lại.",
             message_en=f"The file cannot be read: {attempts} checks of it were each stopped part-way (the "
                        "validating process was stopped or ran out of memory). Open it, save it again as XLSX "
                        "or CSV and submit it again.")


def _give_back_failed(works: list[Work], registry: Registry) -> None:
    """Files whose check did not finish for a reason of lnob's own stay waiting, retried after a lease,
    without counting the attempt against the file."""
    by_worker: dict[str, list[str]] = {}
    for work in works:
        if work.failed and work.record.claimed_by:
            by_worker.setdefault(work.record.claimed_by, []).append(work.record.submission_id)
    for worker, ids in by_worker.items():
        registry.give_back(worker, ids, retry_after=DEFAULT_LEASE)


def _run(records: list, settings: Settings, registry: Registry, runner) -> list[dict]:
    works = [Work(record=record, options=read_request(settings, record.submission_id))
             for record in records]
    for work in works:
        if work.record.attempts > MAX_ATTEMPTS:
            _give_up(work)
    to_read = [w for w in works if not w.findings]
    # Files are read side by side: the readers (Polars, calamine) work outside Python's lock, and a
    # batch's files share nothing until they are typed together.
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        list(pool.map(_read_landed, to_read, [settings] * len(to_read)))
    _type_values(works)
    if runner is None and any(w.normalized is not None for w in works):
        from expectations.runner import get_runner

        runner = get_runner()
    # While Great Expectations validates (in Python, on one core), the reference checks run and the staging
    # files of the files with no error so far are written under temporary names, beside it: Polars and
    # the Parquet writer work outside Python's lock. Findings are still added in the same order.
    # Nothing beside it may call Python from inside Polars (map_batches): GX's to_pandas keeps Python's
    # lock while it waits for Polars' threads, so the reference lists (built with such calls) are loaded
    # here first.
    to_check = [w for w in works if not w.failed]
    may_pass = [w for w in to_check if w.normalized is not None and not has_error(w)]
    loaded = _load_references({w.record.year for w in to_check})
    with ThreadPoolExecutor(max_workers=2) as pool:
        references = pool.submit(_find_references, [w for w in to_check if w.record.year in loaded])
        early = pool.submit(batch_write.write_staging_early, may_pass, settings)
        try:
            _validate_columns(works, runner)
        except BaseException:
            batch_write.remove(list(early.result().values()))
            raise
        found, failed = references.result()
        prepared = early.result()
    found_after, failed_after = _find_references([w for w in to_check if w.record.year not in loaded])
    _add_references(works, found + found_after, failed | failed_after)
    _add_lock_findings(works, registry)
    verdicts = batch_write.finish_all(works, settings, registry, prepared)
    _give_back_failed(works, registry)
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
    claims.end_orphaned_claims(registry)
    pause = 0.02
    while (claimed := registry.claim(submission_id, claims.worker_name())) is None:
        # Another live worker holds it (the same file sent twice at once): its verdict is this one's too.
        # Should that worker die, its claim ends and is taken here.
        record = registry.get(submission_id)
        if record.status in FINAL_STATUSES:
            return stored_verdict(settings, record, duplicate=False)
        time.sleep(pause)
        pause = min(pause * 2, 1.0)
        claims.end_orphaned_claims(registry)
    return validate_claimed([claimed], settings, registry=registry, runner=runner)[0]


def validate_claimed(records: list, settings: Settings, *, registry: Registry | None = None,
                     runner=None) -> list[dict]:
    """Validate submissions already claimed from the registry (`Registry.claim_pending`) as one batch:
    one Great Expectations validation per kind, findings mapped back to each file."""
    registry = registry or Registry(settings.database_url)
    records = list(records)
    held: dict[str, list[str]] = {}
    for record in records:
        held.setdefault(record.claimed_by or "", []).append(record.submission_id)
    with contextlib.ExitStack() as stack_of_leases:
        for worker, ids in held.items():
            if worker:
                stack_of_leases.enter_context(claims.holding(registry, worker, ids))
        try:
            return _run(records, settings, registry, runner)
        except BaseException as exc:
            # Those not recorded before the error wait again, at once, for whoever retries.
            for worker, ids in held.items():
                if worker:
                    registry.release_claims(worker, ids, f"check stopped: {type(exc).__name__}: {exc}"[:300])
            raise


def drain_pending_in_process(settings: Settings, batch_size: int = 50, *, registry: Registry | None = None,
                             runner=None) -> list[dict]:
    """Validate every pending submission (and every abandoned claim), `batch_size` at a time, in THIS
    process, with no isolation: for tests and benchmarks. Files from outside go through
    pipeline.drain.drain_pending, which validates each batch in a worker process."""
    registry = registry or Registry(settings.database_url)
    worker = claims.worker_name()
    claims.end_orphaned_claims(registry)
    verdicts: list[dict] = []
    while True:
        batch = registry.claim_pending(batch_size, worker)
        if not batch:
            return verdicts
        verdicts += validate_claimed(batch, settings, registry=registry, runner=runner)
