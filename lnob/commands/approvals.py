"""`lnob approvals`: who approved what, per unit of a review year."""

from __future__ import annotations

import argparse
import json

DESCRIPTION = """\
List the units of a review year along the approval chain (optionally one province's): who approves
each, its state (approved = locked, returned, reopened, or none yet), who acted and when, and the
reason of a return or a reopening. The chain after the 2025 reform is UNCONFIRMED and marked so.
"""

EPILOG = """\
examples:
  lnob approvals --year 2024 --province 48
  lnob approvals --year 2024 --json
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("approvals", help="list approval states of a review year",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--year", type=int, required=True, help="the review year")
    parser.add_argument("--province", default=None, help="only this province's units (2 digits)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args) -> int:
    from pipeline.approval import status_rows
    from schemas.vocabulary import APPROVAL_WORDS
    from store.registry import Registry
    from store.settings import load_settings

    rows = status_rows(Registry(load_settings().database_url), args.year, province=args.province)
    if args.json:
        for row in rows:
            print(json.dumps({**row, "at": row["at"].isoformat() if row["at"] else None}, ensure_ascii=False))
        return 0
    if rows and not rows[0]["chain_confirmed"]:
        print("chuỗi phê duyệt CHƯA ĐƯỢC XÁC NHẬN / the approval chain of this year is UNCONFIRMED")
    for row in rows:
        vi, en = APPROVAL_WORDS.get(row["state"], ("CHƯA PHÊ DUYỆT", "not approved yet"))
        when = f" {row['by']} {row['at']:%Y-%m-%d %H:%M} UTC" if row["at"] else ""
        reason = f" — {row['reason']}" if row["reason"] else ""
        print(f"{row['level']:<9} {row['unit_code']:<6} ← {row['approver']:<13} {vi} / {en}{when}{reason}")
    return 0
