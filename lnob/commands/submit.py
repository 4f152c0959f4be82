"""`lnob submit`: keep a file, register it, validate it, and say at once whether it was accepted."""

from __future__ import annotations

import argparse
import json
import os
import sys

# The shared words are standard-library only, so `--help` can offer them without loading anything heavy.
from schemas.vocabulary import ACCEPTED, STATUS_WORDS, SUBMISSION_KINDS, SUBMISSION_LEVELS

DESCRIPTION = """\
Submit one file of the annual poverty review (rà soát hộ nghèo, hộ cận nghèo) for a commune,
district or province and one review year. lnob keeps the file's bytes unchanged in the landing
zone (named by their SHA-256; never overwritten, never deleted, rejected files too), records the
submission, validates it, and answers: accepted, or exactly what to fix (file, sheet, row/cell,
column, value, rule), in Vietnamese and English. Reports are written under LNOB_HOME/reports/.

Files: CSV (UTF-8, UTF-8 with BOM, or Excel's "Unicode text" UTF-16; separated by , ; or tab),
XLSX (first sheet, or --sheet; title rows above the header are skipped), JSON records, Parquet.
Headers may be the template's English names or its Vietnamese labels, with or without accents.

The same bytes submitted again for the same unit, year and kind are the same submission: lnob
says so and changes nothing. A newly accepted file for the same level, unit, year and kind
becomes current and supersedes the earlier one (which stays in the registry and in landing).
A rejected file never replaces an accepted one.

With PREFECT_API_URL set, lnob submit only keeps and records the file, emits the event
lnob.submission.received and defers its validation to the warm `lnob worker` processes, which
decide it about a second later (follow it with `lnob status ID`); should no worker take it, the
ingest-submission deployment does. Without it, validation runs here, in this process.

Exit code: 0 accepted (or, with a Prefect server, received and announced), 1 rejected, 2 usage error.

Many files at once: PATH may be a folder laid out as `lnob generate` writes it
(<year>/<level>/<unit>.<ext>; the kinds from its manifest.json, or told from the columns), or a
manifest CSV with the columns path, level, unit, year, kind (relative paths from the CSV's folder).
Every file is kept and recorded, then all are validated in batches in warm, isolated worker processes,
with a progress line. Run again after an interruption, it finishes the job without doubles. Exit code
0 when every file is accepted, 1 when any is not (listed with its report), 2 when the list is unusable.
"""

EPILOG = """\
examples:
  lnob submit ./xa-00688-2024.xlsx --level commune --unit 00688 --year 2024
  lnob submit ./xa-00688-2024.csv --level commune --unit 00688 --year 2024 --complete
  lnob submit ./huyen-024.csv --level district --unit 024 --year 2024 --kind area_summary --json
  lnob submit ./bao-cao.xlsx --sheet "Biểu 01" --level province --unit 02 --year 2024 --submitter "Sở NN&MT"
  lnob submit ./review-2024/                 # a folder: 2024/commune/00688.csv, 2024/district/024.csv, …
  lnob submit ./danh-sach-nop.csv            # a manifest: path,level,unit,year,kind
"""



def register(subparsers) -> None:
    parser = subparsers.add_parser("submit", help="submit a file and validate it",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", metavar="PATH",
                        help="the file to submit, or a folder or manifest CSV of many (see below)")
    # Required for one file; a folder or manifest says them for each of its files.
    parser.add_argument("--level", choices=SUBMISSION_LEVELS, help="the submitting level")
    parser.add_argument("--unit", metavar="CODE",
                        help="the submitting unit's code (commune 5 digits, district 3, province 2)")
    parser.add_argument("--year", type=int, metavar="YYYY", help="the review year")
    parser.add_argument("--kind", choices=SUBMISSION_KINDS, default=None,
                        help="what the file holds (default: told from its columns)")
    parser.add_argument("--standard", default=None, metavar="ID",
                        help="poverty standard applied, e.g. nd07_2021 (default: the review year's)")
    parser.add_argument("--submitter", default=None, metavar="NAME", help="who submits (kept in the registry)")
    parser.add_argument("--complete", action="store_true",
                        help="the household list holds every resident household of the commune, not only the "
                             "households reviewed (danh sách gồm mọi hộ dân cư); without it the commune's "
                             "resident total must come from its area_summary")
    parser.add_argument("--sheet", default=None, metavar="NAME", help="XLSX sheet to read (default: the first)")
    parser.add_argument("--json", action="store_true", help="print the verdict as one JSON object")


def print_verdict(verdict: dict, *, as_json: bool, limit: int = 40) -> None:
    """The verdict for people (Vietnamese, then English) or as one JSON object."""
    if as_json:
        print(json.dumps(verdict, ensure_ascii=False, default=str))
        return
    status = verdict.get("status")
    vi, en = STATUS_WORDS.get(status, (status, status))
    print(f"{verdict.get('submission_id') or '-'}: {vi} / {en}")
    if verdict.get("duplicate"):
        print("  Tệp này đã được nộp trước đó; không có gì thay đổi. / These bytes were already submitted; "
              "nothing changed.")
    if verdict.get("supersedes"):
        print(f"  Thay thế bản / supersedes {verdict['supersedes']}")
    if verdict.get("superseded_by"):
        print(f"  Đã được thay bằng / superseded by {verdict['superseded_by']}")
    print(f"  {verdict.get('level')} {verdict.get('unit_code')} · {verdict.get('year')} · {verdict.get('kind')}"
          f" · {verdict.get('standard')}")
    if verdict.get("lists_every_household") is not None:
        print("  Danh sách gồm mọi hộ dân cư / lists every resident household" if verdict["lists_every_household"]
              else "  Danh sách các hộ được rà soát; tổng số hộ dân cư lấy từ biểu tổng hợp / reviewed households "
                   "only; the resident total comes from the summary")
    findings = verdict.get("findings") or []
    groups: dict[tuple, list[dict]] = {}
    for finding in findings:   # one block per rule and column; the places listed together
        groups.setdefault((finding["severity"], finding["rule"], finding.get("column")), []).append(finding)
    for shown, ((severity, rule, column), group) in enumerate(groups.items()):
        if shown == limit:
            print(f"  … còn {len(groups) - limit} quy tắc nữa / {len(groups) - limit} more rules: see the report")
            break
        first = group[0]
        places = ", ".join(f.get("cell") or (f"dòng/row {f['row']}" if f.get("row") else "") for f in group)
        where = " ".join(p for p in (first.get("file") or "", f"[{first['sheet']}]" if first.get("sheet") else "",
                                     places) if p)
        label = "LỖI/ERROR" if severity == "error" else "CẢNH BÁO/WARNING"
        print(f"  {label} {rule} {('“' + column + '” ') if column else ''}— {where} (×{first.get('count', 1)})")
        print(f"    vi: {first['message_vi']}")
        print(f"    en: {first['message_en']}")
    if verdict.get("report_html"):
        print(f"  Báo cáo / report: {verdict['report_html']}")


def run(args) -> int:
    from pathlib import Path

    from pipeline.intake import UsageError, submit
    from store.settings import load_settings

    path = Path(args.path)
    from lnob.commands.submit_folder import is_manifest, run_many

    if path.is_dir() or is_manifest(path):
        return run_many(args, path)
    missing = [f"--{name}" for name in ("level", "unit", "year") if getattr(args, name) is None]
    if missing:
        print(f"lnob submit: một tệp cần / one file needs {', '.join(missing)}", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"lnob submit: không có tệp / no such file: {path}", file=sys.stderr)
        return 2
    orchestrated = bool(os.environ.get("PREFECT_API_URL"))
    try:
        verdict = submit(load_settings(), path, level=args.level, unit_code=args.unit, year=args.year,
                         kind=args.kind, standard=args.standard, submitter=args.submitter, sheet=args.sheet,
                         validate=not orchestrated, lists_every_household=args.complete)
    except UsageError as error:
        print(f"lnob submit: {error}", file=sys.stderr)
        return 2
    if orchestrated and verdict["status"] == "received":
        from flows.validation_task import hand_over

        # Handed over again on a resubmission of bytes still pending: the registry's claim makes a second
        # validation run harmless.
        verdict.update(hand_over(verdict))
        print_verdict(verdict, as_json=args.json)
        return 0
    print_verdict(verdict, as_json=args.json)
    return 0 if verdict["status"] == ACCEPTED else 1
