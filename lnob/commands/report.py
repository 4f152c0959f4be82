"""`lnob report`: the national report as one self-contained HTML file, from the current marts."""

from __future__ import annotations

import argparse
import sys
import time

DESCRIPTION = """\
Write the national poverty-review report from the current published marts: one HTML file that
opens anywhere with no network (charts are inline SVG, no scripts or web fonts), Vietnamese first
with English beside:
  - national and regional poor and near-poor rates over the years;
  - ethnic-minority against Kinh households;
  - the provinces ranked by poor and near-poor rate;
  - the deprivation profile on the 12 indicators;
  - exit candidates with their reasons, and progress against the national targets;
  - data coverage (who submitted) and reconciliation warnings.
Every chart's numbers are also in a table, and each figure names its source mart and version.
A mart not yet published leaves its section saying so.
"""

EPILOG = """\
examples:
  lnob report -o report.html                 # the latest year in the marts
  lnob report --year 2024 -o report-2024.html
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("report", help="write the national HTML report from the current marts",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--year", type=int, default=None, metavar="YYYY",
                        help="the report's year (default: the latest year in the marts)")
    parser.add_argument("-o", "--output", default="report.html", metavar="FILE.html",
                        help="where to write the report (default report.html)")


def run(args) -> int:
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"lnob report [{time.monotonic() - started:5.1f}s] {message}", file=sys.stderr, flush=True)

    from documents.national_report import write_report
    from store.settings import load_settings

    try:
        path = write_report(load_settings(), args.output, year=args.year, progress=progress)
    except ValueError as error:
        print(f"lnob report: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0
