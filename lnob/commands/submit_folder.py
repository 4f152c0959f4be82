"""`lnob submit FOLDER` and `lnob submit MANIFEST.csv`: many files at once, through the batch path.

Every file is kept and recorded first (the same bytes are one submission, so a second run registers
nothing new), then everything waiting for a verdict is validated in batches in warm, isolated worker
processes (pipeline.drain.drain_pending), with a progress line. A run killed midway and started again
finishes the job: its files are already registered, and the claims its dead process held are taken up.

A folder is laid out as `lnob generate` writes it: `<year>/<level>/<unit>.<ext>`; the kind of each file
comes from `manifest.json` beside them when there is one, otherwise from the file's columns. A manifest CSV
has the columns path, level, unit, year and kind (kind may be empty); a relative path is read from the CSV's
folder.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from schemas.vocabulary import (
    ACCEPTED,
    REJECTED,
    STATUS_WORDS,
    SUBMISSION_KINDS,
    SUBMISSION_LEVELS,
    SUPERSEDED,
)

MANIFEST_COLUMNS = ("path", "level", "unit", "year", "kind")
GENERATED_MANIFEST = "manifest.json"
BATCH_SIZE = 50
# Without a terminal, a progress line at most this often (a log is not a screen).
PLAIN_EVERY_SECONDS = 5.0


class ListError(ValueError):
    """A folder or manifest that cannot be submitted as given (exit code 2); the text is bilingual."""


@dataclass
class Entry:
    path: Path
    level: str
    unit: str
    year: int
    kind: str | None
    submission_id: str | None = None
    status: str | None = None
    problem: str | None = None     # why it was not registered (usage error), both languages


def is_manifest(path: Path) -> bool:
    """A CSV whose header names at least path, level, unit and year."""
    if not (path.is_file() and path.suffix.lower() == ".csv"):
        return False
    with open(path, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    return set(MANIFEST_COLUMNS[:4]) <= {name.strip().lower() for name in header}


def _check(entry: Entry, where: str) -> Entry:
    if entry.level not in SUBMISSION_LEVELS:
        raise ListError(f"{where}: cấp không hợp lệ / unknown level {entry.level!r} "
                        f"({', '.join(SUBMISSION_LEVELS)})")
    if entry.kind is not None and entry.kind not in SUBMISSION_KINDS:
        raise ListError(f"{where}: loại không hợp lệ / unknown kind {entry.kind!r} ({', '.join(SUBMISSION_KINDS)})")
    return entry


def entries_of_folder(folder: Path) -> list[Entry]:
    """The files of a folder laid out `<year>/<level>/<unit>.<ext>`, in that order."""
    kinds: dict[str, str] = {}
    generated = folder / GENERATED_MANIFEST
    if generated.is_file():
        for item in json.loads(generated.read_text(encoding="utf-8")).get("files", []):
            kinds[str(item.get("path"))] = item.get("kind")
    entries = []
    for path in sorted(folder.glob("*/*/*")):
        year, level = path.parent.parent.name, path.parent.name
        if not (path.is_file() and year.isdigit() and len(year) == 4 and level in SUBMISSION_LEVELS):
            continue
        relative = path.relative_to(folder).as_posix()
        entries.append(_check(Entry(path=path, level=level, unit=path.stem, year=int(year),
                                    kind=kinds.get(relative)), relative))
    if not entries:
        raise ListError(f"{folder}: không có tệp nào dạng <năm>/<cấp>/<mã>.<đuôi> / no files laid out as "
                        "<year>/<level>/<unit>.<ext>")
    return entries


def entries_of_manifest(manifest: Path) -> list[Entry]:
    """The rows of a manifest CSV (path, level, unit, year, kind), relative paths from its folder."""
    entries = []
    with open(manifest, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for line, row in enumerate(reader, start=2):
            row = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items()}
            where = f"{manifest.name}:{line}"
            if not row.get("path"):
                raise ListError(f"{where}: thiếu đường dẫn / no path")
            year = row.get("year", "")
            if not (year.isdigit() and len(year) == 4):
                raise ListError(f"{where}: năm không hợp lệ / not a year: {year!r}")
            path = Path(row["path"])
            entries.append(_check(Entry(path=path if path.is_absolute() else manifest.parent / path,
                                        level=row.get("level", ""), unit=row.get("unit", ""), year=int(year),
                                        kind=row.get("kind") or None), where))
    if not entries:
        raise ListError(f"{manifest}: bảng kê không có dòng nào / the manifest lists no files")
    missing = [str(e.path) for e in entries if not e.path.is_file()]
    if missing:
        raise ListError(f"không có tệp / no such file: {', '.join(missing[:5])}"
                        + (f" (+{len(missing) - 5})" if len(missing) > 5 else ""))
    return entries


class Progress:
    """One line: registered / validated / accepted / rejected, rate and time left. Rewritten in place on
    a terminal; printed as plain lines, now and then, otherwise."""

    def __init__(self, total: int, stream=None) -> None:
        self.total = total
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.registered = self.validated = self.accepted = self.rejected = 0
        self.started = time.monotonic()
        self.validating_since: float | None = None
        self.last_plain = 0.0

    def line(self) -> str:
        text = (f"đã nhận / registered {self.registered}/{self.total} · đã kiểm tra / validated "
                f"{self.validated}/{self.total} · chấp nhận / accepted {self.accepted} · "
                f"từ chối / rejected {self.rejected}")
        if self.validating_since is not None and self.validated:
            seconds = time.monotonic() - self.validating_since
            rate = self.validated / seconds if seconds > 0 else 0.0
            left = (self.total - self.validated) / rate if rate > 0 else 0.0
            text += f" · {rate:.1f} tệp/giây / files/s · còn / ETA {left:.0f} s"
        return text

    def show(self, *, final: bool = False) -> None:
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line() + ("\n" if final else ""))
            self.stream.flush()
        elif final or now - self.last_plain >= PLAIN_EVERY_SECONDS:
            self.last_plain = now
            print(self.line(), file=self.stream, flush=True)


def submit_all(entries: list[Entry], *, settings, submitter: str | None, sheet: str | None,
               complete: bool, progress: Progress, batch_size: int = BATCH_SIZE) -> list[Entry]:
    """Register every entry, then validate everything waiting; each entry ends with its registry status."""
    from pipeline.drain import drain_pending
    from pipeline.intake import UsageError, submit
    from store.registry import Registry

    registry = Registry(settings.database_url)
    for entry in entries:
        try:
            verdict = submit(settings, entry.path, level=entry.level, unit_code=entry.unit, year=entry.year,
                             kind=entry.kind, submitter=submitter, sheet=sheet, registry=registry,
                             validate=False, lists_every_household=complete)
        except UsageError as error:
            entry.problem = str(error)
        else:
            entry.submission_id, entry.status = verdict["submission_id"], verdict["status"]
        progress.registered += 1
        _count_final(progress, entry)
        progress.show()
    progress.validating_since = time.monotonic()
    mine = {e.submission_id: e for e in entries if e.submission_id and e.status not in (ACCEPTED, REJECTED)}

    def heard(verdicts: list[dict]) -> None:
        for verdict in verdicts:
            entry = mine.get(verdict.get("submission_id"))
            if entry is not None and entry.status != verdict.get("status"):
                entry.status = verdict.get("status")
                _count_final(progress, entry)
        progress.show()

    drain_pending(settings, batch_size, registry=registry, on_batch=heard)
    for entry in entries:   # the registry has the last word (superseded, or decided by another process)
        if entry.submission_id:
            record = registry.get(entry.submission_id)
            entry.status = record.status if record is not None else entry.status
    progress.validated = sum(1 for e in entries if e.status in (ACCEPTED, REJECTED, SUPERSEDED))
    progress.accepted = sum(1 for e in entries if e.status in (ACCEPTED, SUPERSEDED))
    progress.rejected = sum(1 for e in entries if e.status == REJECTED or e.problem)
    progress.show(final=True)
    return entries


def _count_final(progress: Progress, entry: Entry) -> None:
    if entry.problem:
        progress.validated += 1
        progress.rejected += 1
    elif entry.status in (ACCEPTED, SUPERSEDED):
        progress.validated += 1
        progress.accepted += 1
    elif entry.status == REJECTED:
        progress.validated += 1
        progress.rejected += 1


def print_summary(entries: list[Entry], settings, *, as_json: bool) -> None:
    """Counts by status, every file that was not accepted with its report, and where the reports are."""
    from store.zones import report_paths

    if as_json:
        print(json.dumps({"files": [{"path": str(e.path), "level": e.level, "unit": e.unit, "year": e.year,
                                     "kind": e.kind, "submission_id": e.submission_id, "status": e.status,
                                     "problem": e.problem} for e in entries]}, ensure_ascii=False))
        return
    counts: dict[str, int] = {}
    for entry in entries:
        status = "usage_error" if entry.problem else (entry.status or "-")
        counts[status] = counts.get(status, 0) + 1
    print(f"{'trạng thái / status':<40} {'tệp / files':>11}")
    for status, count in sorted(counts.items()):
        vi, en = STATUS_WORDS.get(status, ("lỗi khai báo", "usage error") if status == "usage_error"
                                  else (status, status))
        print(f"{vi + ' / ' + en:<40} {count:>11}")
    print(f"{'tổng / total':<40} {len(entries):>11}")
    not_accepted = [e for e in entries if e.problem or e.status not in (ACCEPTED, SUPERSEDED)]
    for entry in not_accepted:
        where = entry.problem or str(report_paths(settings, entry.submission_id)[1])
        print(f"  {entry.status or 'usage_error'}: {entry.path} ({entry.level} {entry.unit} {entry.year}) — {where}")
    print(f"Báo cáo / reports: {settings.home / 'reports'}")


def run_many(args, path: Path) -> int:
    """The folder or manifest form of `lnob submit`: exit 0 when every file is accepted, 1 when any is
    not, 2 when the folder or manifest cannot be used."""
    from store.settings import load_settings

    try:
        entries = entries_of_folder(path) if path.is_dir() else entries_of_manifest(path)
    except (ListError, OSError, csv.Error, ValueError) as error:
        print(f"lnob submit: {error}", file=sys.stderr)
        return 2
    settings = load_settings()
    progress = Progress(len(entries), stream=sys.stderr if args.json else sys.stdout)
    submit_all(entries, settings=settings, submitter=args.submitter, sheet=args.sheet, complete=args.complete,
               progress=progress)
    print_summary(entries, settings, as_json=args.json)
    return 0 if all(e.status in (ACCEPTED, SUPERSEDED) and not e.problem for e in entries) else 1
