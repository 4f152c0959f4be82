"""`lnob reopen`: unlock an approved unit-year, on the record, with every approval above it."""

from __future__ import annotations

import argparse

from lnob.commands.approve import act, add_unit_arguments

DESCRIPTION = """\
Reopen one approved (locked) unit-year so that it can take submissions again. Every approved
unit above it (its district, its province) is reopened too, and each needs approval again. The
reason is kept in the approval history and the audit log.
"""

EPILOG = """\
examples:
  lnob reopen 20194 --year 2024 --reason "Hộ khiếu nại / a household's appeal" --by "Nguyễn Văn A"
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("reopen", help="reopen an approved unit-year (audited)",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_unit_arguments(parser)
    parser.add_argument("--reason", required=True, help="why the locked figures must change")


def run(args) -> int:
    return act(args, "reopen")
