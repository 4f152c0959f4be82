"""`lnob release [VERSION] [--min-households K]`: a copy of the marts for publication, with disclosure control."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Write the public release of a mart version (default: the current one) beside the marts, in
LNOB_HOME/releases/<version>/, and print its folder. The release holds poverty_by_ethnicity and
poverty_by_area with statistical disclosure control: every count and rate of a row with fewer than
K households (default 3) is withheld (primary), and enough other rows are withheld (secondary) that no
withheld count can be worked out exactly from the totals published beside it (ALL = the sum of the
ethnic groups, all = rural + urban, a unit = the sum of its children). Each withheld row says why in
`suppression` and `suppression_reason`; the method and K are in the release's manifest.json and in
docs/disclosure-control.md. The internal marts are never altered; marts listing single households
are never released. A release is written once: the same version and K again prints the same folder.

Bản công bố: ẩn mọi số và tỷ lệ của dòng có ít hơn K hộ, và ẩn thêm các dòng cần thiết để không
suy ra được số đã ẩn từ các tổng đã công bố. Dữ liệu nội bộ không bị thay đổi.
"""

EPILOG = """\
examples:
  lnob release                                   # the current marts, k = 3
  lnob release 20261127T114501Z-0a1b2c --min-households 5
  duckdb -c "SELECT unit_code, ethnic_group, households_poor, suppression
             FROM read_parquet('$(lnob release)/poverty_by_ethnicity/*.parquet') WHERE level='commune'"
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("release", help="write a public copy of the marts with disclosure control",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("version", nargs="?", default=None,
                        help="the mart version to release (default: the current one; see `lnob marts --list`)")
    parser.add_argument("--min-households", type=int, default=3, metavar="K",
                        help="rows with fewer households than this are withheld (default 3)")


def run(args) -> int:
    if args.min_households < 1:
        print("lnob release: --min-households must be at least 1", file=sys.stderr)
        return 2
    from pipeline.release import ReleaseError, release
    from store.settings import load_settings

    try:
        folder = release(load_settings(), args.version, min_households=args.min_households)
    except ReleaseError as error:
        print(f"lnob release: {error}", file=sys.stderr)
        return 1
    print(folder)
    return 0
