"""`lnob template`: write the Excel submission template of one unit and year, from the contract."""

from __future__ import annotations

import argparse
import sys

from schemas.vocabulary import SUBMISSION_KINDS, SUBMISSION_LEVELS

DESCRIPTION = """\
Write an Excel workbook (.xlsx) to fill in and send back with `lnob submit`. It is generated from
the submission contract, so its columns are exactly the ones lnob reads:
  - sheet "Dữ liệu": a title block naming the unit and the review year, the header row in
    Vietnamese (hover a header cell for the English name, field name and rule), drop-down lists for
    area, ethnic group, classification and yes/no columns, and code cells kept as text;
  - sheet "Hướng dẫn": instructions in Vietnamese with English beside, and every column explained;
  - sheet "Danh mục": the values of the drop-down lists, with their meaning.
A district or province summary (area_summary, area_attributes) comes with one row per unit it
reports on, with its code and name, as the administrative list stood on 31 December of the year:
a district's communes; a province's districts before 2025-07-01, its communes after.

Kinds: household (a commune's household list), area_summary (counts by unit, ethnic group, area),
area_attributes (facts the exit criteria need: coastal location, infrastructure, roads …).
"""

EPILOG = """\
examples:
  lnob template --level commune --kind household --unit 00688 --year 2024 -o 00688-2024.xlsx
  lnob template --level district --kind area_summary --unit 026 --year 2024 -o 026-2024.xlsx
  lnob template --level province --kind area_attributes --unit 04 --year 2025 -o 04-2025-attributes.xlsx
then fill it in and send it:
  lnob submit 026-2024.xlsx --level district --unit 026 --year 2024 --kind area_summary
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("template", help="write an Excel submission template for a unit and year",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--level", required=True, choices=SUBMISSION_LEVELS,
                        help="the submitting level")
    parser.add_argument("--kind", required=True, choices=SUBMISSION_KINDS,
                        help="what the file holds")
    parser.add_argument("--unit", required=True, metavar="CODE",
                        help="the submitting unit's code (commune 5, district 3, province 2 digits)")
    parser.add_argument("--year", required=True, type=int, metavar="YYYY", help="review year")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.xlsx", help="where to write the workbook")


def run(args) -> int:
    from documents.excel_templates import write_template

    if not args.output.lower().endswith(".xlsx"):
        print(f"lnob template: {args.output}: the file name must end in .xlsx / tên tệp phải có đuôi .xlsx",
              file=sys.stderr)
        return 2
    try:
        path = write_template(args.output, level=args.level, kind=args.kind, unit_code=args.unit,
                              year=args.year)
    except (ValueError, KeyError) as error:
        print(f"lnob template: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0
