"""`lnob marts`: where the current marts are (and which versions exist); a local copy of them."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Print the folder of the current mart version, ready for a BI tool or DuckDB. Each mart is a folder
of one Parquet file per review year (`<folder>/<mart>/<year>.parquet`, the year also a column inside):
  SELECT * FROM read_parquet('<folder>/poverty_by_area/*.parquet')
pandas.read_parquet('<folder>/poverty_by_area') and pyarrow.dataset.dataset(...) read a mart folder as is.
With --list, print every published version, oldest first, marking the current one.

With LNOB_HOME on object storage (s3://…) it prints the version's address in the store, which Polars and
PyArrow read directly (README, "Reading the marts from object storage"); --download DIR copies the
version to a folder for tools that cannot reach the store (DuckDB here, a BI tool), checked against the
manifest's checksums (sao chép phiên bản về thư mục cục bộ).
"""

EPILOG = """\
examples:
  lnob marts
  lnob marts --list
  lnob marts --download ./marts-copy          # the current version; --version V for another
  duckdb -c "SELECT level, sum(households_poor) FROM read_parquet('$(lnob marts)/poverty_by_area/*.parquet')
             WHERE ethnic_group='ALL' AND area='all' GROUP BY ALL"
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("marts", help="print the current marts folder or list versions",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="list published versions")
    parser.add_argument("--download", metavar="DIR", default=None,
                        help="copy a published version (default: the current one) into DIR and print DIR")
    parser.add_argument("--version", default=None, help="with --download: the version to copy")


def _download(settings, version: str, target) -> None:
    import shutil
    from pathlib import Path

    from store import publish as publishing

    target = Path(target).absolute()
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} is not empty (thư mục không trống)")
    if settings.remote:
        publishing.local_copy(settings, version, target)
    else:
        shutil.copytree(settings.marts / version, target, dirs_exist_ok=True)


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
    if args.download:
        version = args.version or current
        if version is None or version not in publishing.list_versions(settings):
            print(f"lnob marts: chưa có phiên bản {version or ''} / no published version {version or 'yet'} "
                  "(lnob marts --list)", file=sys.stderr)
            return 1
        try:
            _download(settings, version, args.download)
        except FileExistsError as error:
            print(f"lnob marts: {error}", file=sys.stderr)
            return 1
        print(args.download)
        return 0
    if current is None:
        print("no marts published yet (run `lnob build`)", file=sys.stderr)
        return 1
    print(f"{settings.store_url}/marts/{current}" if settings.remote else publishing.current_path(settings))
    return 0
