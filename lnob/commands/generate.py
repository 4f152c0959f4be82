"""`lnob generate`: write synthetic review files (households and summaries) for real unit codes."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Write synthetic poverty-review data for real administrative units: one household list per
commune (CSV, optionally XLSX laid out like a report form), one area summary per district
(years before 2025 only) and per province, consistent with the households, and a
manifest.json listing every file. Households are invented but plausible: ethnic mix by
province, income lower in rural and minority households, deprivations rising as income falls,
a few households exactly at the income line, and a small share of deliberately wrong
commune classifications. Each region's poor and poor + near-poor rates are calibrated to the
ministry's published results for the year (2022–2024 as published; other years follow the
national trend: see synthetic/calibration.py), whatever the scale and whichever provinces are
chosen. The same seed and options always give the same files.

Layout: DIR/<year>/commune/<code>.csv, DIR/<year>/district/<code>.csv,
        DIR/<year>/province/<code>.csv, DIR/manifest.json

With --staging, writes household Parquet straight into the staging layout instead
(DIR/household/year=<year>/<id>.parquet, one file per province) for benchmarks.
"""

EPILOG = """\
examples:
  lnob generate --provinces 02,34 --year 2024 --scale 0.05 -o ./demo-data
  lnob generate --districts 026 --xlsx -o ./demo-data          # one district, XLSX beside each CSV
  lnob generate --provinces 04 --year 2025 --header vi -o ./demo-data
  lnob generate --all --scale 0.01 -o ./demo-data              # the whole country, 1 % of households
  lnob generate --all --staging -o ./bench-staging             # ~27 million households as Parquet
"""


def _code_list(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


def register(subparsers) -> None:
    parser = subparsers.add_parser("generate", help="write synthetic review files for chosen provinces",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provinces", type=_code_list, metavar="CODES",
                        help="comma-separated province codes, e.g. 02,04")
    parser.add_argument("--districts", type=_code_list, metavar="CODES",
                        help="comma-separated district codes (years before 2025), e.g. 026,027; "
                             "no province file is written for a province generated in part")
    parser.add_argument("--all", action="store_true", help="every province of the country")
    parser.add_argument("--year", type=int, default=2024, help="review year (default 2024; 2025+ has no districts)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the realistic number of households (default 1.0 ≈ 27 million nationally)")
    parser.add_argument("--households-per-commune", type=float, default=None, metavar="N",
                        help="average households per commune across the country at scale 1 (default: "
                             "about 27 million households in all); places keep their relative sizes")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--xlsx", nargs="?", const="all", default=None, metavar="CODES",
                        help="also write XLSX household lists: for every commune, or only the listed codes")
    parser.add_argument("--header", choices=("en", "vi"), default="en",
                        help="column headers: contract names (en, default) or Vietnamese labels (vi)")
    parser.add_argument("--disagreement-rate", type=float, default=None, metavar="SHARE",
                        help="share of households whose reported classification is deliberately wrong "
                             "(default 0.002)")
    parser.add_argument("--no-reported", action="store_true",
                        help="leave the reported_classification column empty")
    parser.add_argument("--staging", action="store_true",
                        help="write staging-layout Parquet (one file per province) instead of submission files")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")


def run(args: argparse.Namespace) -> int:
    from synthetic import review as synthetic

    if args.all == bool(args.provinces or args.districts):
        print("lnob generate: choose --provinces and/or --districts, or --all (not both)", file=sys.stderr)
        return 2
    provinces = None if args.all else args.provinces
    try:
        if args.staging:
            if args.districts:
                raise ValueError("--staging writes whole provinces: use --provinces or --all")
            result = synthetic.write_synthetic_staging(
                args.output, args.year, provinces=provinces, seed=args.seed, scale=args.scale,
                households_per_commune=args.households_per_commune, progress=print)
        else:
            xlsx = True if args.xlsx == "all" else (_code_list(args.xlsx) if args.xlsx else False)
            options = {}
            if args.disagreement_rate is not None:
                options["disagreement_rate"] = args.disagreement_rate
            result = synthetic.write_synthetic_review(
                args.output, args.year, provinces=provinces, districts=args.districts, seed=args.seed,
                scale=args.scale, households_per_commune=args.households_per_commune, xlsx=xlsx,
                header=args.header, fill_reported=not args.no_reported, progress=print, **options)
    except ValueError as error:
        print(f"lnob generate: {error}", file=sys.stderr)
        return 2
    by_level: dict[str, int] = {}
    for generated in result.files:
        by_level[f"{generated.level} {generated.format}"] = by_level.get(f"{generated.level} {generated.format}",
                                                                          0) + 1
    print(f"done: {len(result.files):,} files ({', '.join(f'{n:,} {k}' for k, n in sorted(by_level.items()))}), "
          f"{result.households:,} households, {result.seconds:.1f} s "
          f"(generation {result.households_per_second:,.0f} households/s)")
    if result.manifest_path:
        print(f"manifest: {result.manifest_path}")
    return 0
