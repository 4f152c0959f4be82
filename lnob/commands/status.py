"""`lnob status`: the verdict of a submission, later (accepted, rejected, superseded, pending)."""

from __future__ import annotations

import argparse
import sys

from schemas.vocabulary import ACCEPTED, SUPERSEDED

DESCRIPTION = """\
Show what became of a submission: its status (received, validating, accepted, rejected,
superseded), what it supersedes or was superseded by, and its findings in Vietnamese and
English, read from its report. With --json, the same verdict object `lnob submit --json` prints.

Exit code: 0 accepted (or superseded after being accepted), 1 rejected or not yet checked,
2 unknown submission id.
"""

EPILOG = """\
examples:
  lnob status S3f9a0c1d2e4b5a67
  lnob status S3f9a0c1d2e4b5a67 --json
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("status", help="show a submission's verdict and history",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission_id", metavar="ID", help="the submission id (S + 16 hex digits)")
    parser.add_argument("--json", action="store_true", help="print the verdict as one JSON object")


def run(args) -> int:
    from lnob.commands.submit import print_verdict
    from pipeline.ingest import stored_verdict
    from store.registry import Registry
    from store.settings import load_settings

    settings = load_settings()
    registry = Registry(settings.database_url)
    record = registry.get(args.submission_id)
    if record is None:
        print(f"lnob status: không có bản nộp / no submission {args.submission_id!r}", file=sys.stderr)
        return 2
    verdict = stored_verdict(settings, record, duplicate=False)
    if args.json:
        verdict["history"] = [{"status": change.status, "at": change.at.isoformat(), "detail": change.detail}
                              for change in registry.history(record.submission_id)]
    print_verdict(verdict, as_json=args.json)
    if not args.json:
        for change in registry.history(record.submission_id):
            print(f"  {change.at:%Y-%m-%d %H:%M:%S} UTC  {change.status}  {change.detail or ''}")
    return 0 if record.status in (ACCEPTED, SUPERSEDED) else 1
