"""`lnob marts`: where the current marts are (and which versions exist)."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Print the folder of the current mart version, ready for a BI tool or DuckDB. Each mart is a folder
of one Parquet file per review year (`<folder>/<mart>/<year>.parquet`, the year also a column inside):
  SELECT * FROM read_parquet('<folder>/poverty_by_area/*.parquet')
pandas.read_parquet('<folder>/poverty_by_area') and pyarrow.dataset.dataset(...) read a mart folder as is.
With --list, print every published version, oldest first, marking the current one.
"""

EPILOG = """\
examples:
  lnob marts
  lnob marts --list
  duckdb -c "SELECT level, sum(households_poor) FROM read_parquet('$(lnob marts)/poverty_by_area/*.parquet')
             WHERE ethnic_group='ALL' AND area='all' GROUP BY ALL"
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("marts", help="print the current marts folder or list versions",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="list published versions")


def run(args) -> int:
    from store import publish as publishing
    from store.settings import load_settings

    settings = load_settings()
    current = publishing.current_version(settings)
    if args.list:
        versions = publishing.list_versions(settings)
        if not versions:
            print("no published versions yet (run `lnob build`)", file=sys.stderr)
            return 1
        for version in versions:
            print(f"{version}{'  (current)' if version == current else ''}")
        return 0
    path = publishing.current_path(settings)
    if path is None:
        print("no marts published yet (run `lnob build`)", file=sys.stderr)
        return 1
    print(path)
    return 0
