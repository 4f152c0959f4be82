"""`lnob build`: roll the current accepted submissions up into a new mart version and publish it."""

from __future__ import annotations

import argparse
import os
import sys

DESCRIPTION = """\
Build the marts (poverty_by_area, poverty_by_ethnicity, deprivation_by_area, reconciliation,
submission_coverage, classification_disagreements) from the current accepted submissions,
write them as a new version under LNOB_HOME/marts/<version>/ with a manifest.json, and make
that version current in one atomic step. A build that fails or is stopped never becomes
current: the previous version stays live.

Without --year, every year that has accepted submissions is rebuilt. With --year, only that
year is rebuilt and the other years' files are carried into the new version unchanged.
Rebuilding from the same accepted submissions writes byte-identical Parquet.
"""

EPILOG = """\
examples:
  lnob build                         # every year with accepted submissions
  lnob build --year 2024             # rebuild 2024, keep the other years as they are
  lnob build --absolute-tolerance 5 --relative-tolerance 0.01
  lnob build --official              # approved (locked) data only; manifest "official": true
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("build", help="build the marts and publish a new version",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--year", type=int, default=None, help="rebuild only this review year")
    parser.add_argument("--absolute-tolerance", type=int, default=None, metavar="HOUSEHOLDS",
                        help="reconciliation: report differences larger than this many households "
                             "(default from schemas/marts.py)")
    parser.add_argument("--relative-tolerance", type=float, default=None, metavar="SHARE",
                        help="reconciliation: … and larger than this share of the detailed value, e.g. 0.01")
    parser.add_argument("--official", action="store_true",
                        help="use approved (locked) data only; every unit not approved counts as not reported")
    parser.add_argument("--quiet", action="store_true", help="print only the published version")


def run(args) -> int:
    from pipeline.build import BuildError, Tolerance, build_marts
    from store.settings import load_settings

    defaults = Tolerance()
    tolerance = Tolerance(
        absolute=defaults.absolute if args.absolute_tolerance is None else args.absolute_tolerance,
        relative=defaults.relative if args.relative_tolerance is None else args.relative_tolerance)
    progress = None if args.quiet else (lambda line: print(line, flush=True))
    try:
        result = build_marts(load_settings(), year=args.year, tolerance=tolerance, progress=progress,
                             official=args.official)
    except BuildError as error:
        print(f"lnob build: {error}", file=sys.stderr)
        return 1
    if os.environ.get("PREFECT_API_URL"):
        _announce(result)
    if args.quiet:
        print(result.version)
    else:
        for name, entry in result.manifest["marts"].items():
            print(f"  {name}: {entry['row_count']} rows")
        print(f"current version: {result.version} ({result.path})")
    return 0


def _announce(result) -> None:
    """Tell the Prefect server (when one is configured) that a version went live: lnob.marts.published."""
    try:
        from flows.events import MARTS_PUBLISHED, emit_and_wait, marts_resource

        emit_and_wait(MARTS_PUBLISHED, marts_resource(result.version),
                      {"version": result.version, "path": str(result.path), "years": result.built_years})
    except Exception as error:  # noqa: BLE001 - the marts are published; a lost event must not undo that
        print(f"lnob build: published, but the {result.version} event was not sent: {error}", file=sys.stderr)
