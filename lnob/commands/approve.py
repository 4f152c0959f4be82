"""`lnob approve`: the central team (the operator) approves and locks one unit-year; also the shared code of
`lnob return`, `lnob reopen` and `lnob approvals` (pipeline/approval.py says who approves whom)."""

from __future__ import annotations

import argparse
import os
import sys

LEVELS = ("commune", "district", "province")

DESCRIPTION = """\
Approve one unit-year's figures as the central data team (chốt số liệu): the unit's own submissions
must all have a verdict and every unit it approves must be approved (schemas/approval_chains.json:
before 2025 the district approves its communes, the province its districts, the central team the
provinces; after the 2025 reform the province approves its communes — UNCONFIRMED). An approved
unit-year refuses new submissions until it is reopened (`lnob reopen`).
"""

EPILOG = """\
examples:
  lnob approve 20194 --year 2024 --level commune --by "Nguyễn Văn A"
  lnob approve 48 --year 2024 --by "Vụ Bảo trợ xã hội"
"""


def add_unit_arguments(parser) -> None:
    parser.add_argument("unit", metavar="UNIT", help="the unit code (commune 5, district 3, province 2 digits)")
    parser.add_argument("--year", type=int, required=True, help="the review year")
    parser.add_argument("--level", choices=LEVELS, default=None,
                        help="the unit's level (default: from the code's width)")
    parser.add_argument("--by", default=None, help="who acts, for the record (a name)")


def register(subparsers) -> None:
    parser = subparsers.add_parser("approve", help="approve and lock one unit-year's figures",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_unit_arguments(parser)


def level_of(args) -> str:
    if args.level:
        return args.level
    return {5: "commune", 3: "district", 2: "province"}.get(len(args.unit), "commune")


def announce(records) -> None:
    """lnob.approval.* for each changed unit-year, when a Prefect server is configured."""
    if not os.environ.get("PREFECT_API_URL"):
        return
    try:
        from flows.events import approval_event, emit_and_wait

        for record in records:
            emit_and_wait(*approval_event(record))
    except Exception as error:  # noqa: BLE001 - the approval is recorded; a lost event must not undo it
        print(f"lnob: recorded, but the approval event was not sent: {error}", file=sys.stderr)


def act(args, action: str) -> int:
    from pipeline import approval
    from store.registry import Registry
    from store.settings import load_settings

    registry = Registry(load_settings().database_url)
    actor = approval.Actor("operator", None, args.by)
    level = level_of(args)
    try:
        if action == "approve":
            records = [approval.approve(registry, level, args.unit, args.year, actor=actor)]
        elif action == "return":
            records = [approval.return_for_correction(registry, level, args.unit, args.year, actor=actor,
                                                      reason=args.reason)]
        else:
            records = approval.reopen(registry, level, args.unit, args.year, actor=actor, reason=args.reason)
    except (approval.ApprovalConflict, approval.UnknownUnit, ValueError) as error:
        print(f"lnob {action}: {error}", file=sys.stderr)
        return 1
    announce(records)
    for record in records:
        print(f"{record.level} {record.unit_code} {record.year}: {record.state} by {record.by} "
              f"at {record.at:%Y-%m-%d %H:%M} UTC" + (f" — {record.reason}" if record.reason else ""))
    return 0


def run(args) -> int:
    return act(args, "approve")
