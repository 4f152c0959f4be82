# ruff: noqa: N999 — the command is the verb the review uses (trả lại / return); only importlib loads it
"""`lnob return`: send one unit-year back to its submitter with a reason, instead of approving it."""

from __future__ import annotations

import argparse

from lnob.commands.approve import act, add_unit_arguments

DESCRIPTION = """\
Return one unit-year to its submitter for correction, with a reason the submitter sees
(`lnob approvals`, the front door). An approved unit-year must be reopened first.
"""

EPILOG = """\
examples:
  lnob return 20195 --year 2024 --reason "Thiếu hộ ở thôn 2 / households of village 2 missing"
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("return", help="return a unit-year for correction, with a reason",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_unit_arguments(parser)
    parser.add_argument("--reason", required=True, help="what the submitter must correct")


def run(args) -> int:
    return act(args, "return")
