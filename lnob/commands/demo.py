"""`lnob demo`: one review season end to end on generated data, then the figures read back from the marts."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Run lnob end to end on embedded defaults (what `make demo` does):

  1. generate review data for 2023 and 2024: Hà Giang (02) in household detail — every commune's
     household list, its districts' and the province's summaries — and every other province as
     a province summary, all at 2 % of the real household count and calibrated to the ministry's
     published national and regional rates of each year;
  2. submit every file (raw bytes kept in landing/, recorded in the registry) and validate them
     in batches; then submit a few deliberately broken files and show what their submitters are
     told, and a corrected resubmission that supersedes an accepted file;
  3. load the status lists shipped with lnob, build and publish the marts, evaluate exit
     candidates and national targets, and write the HTML report;
  4. print a national and regional table, exit candidates and target progress read back from
     the published marts with DuckDB-free plain Parquet reads.

It uses LNOB_HOME (default ./.lnob) and writes generated files under LNOB_HOME/demo-data.
Running it again is idempotent: files already submitted are recognised, and the new mart
version is byte-identical to the previous one.
"""

EPILOG = """\
examples:
  lnob demo
  LNOB_HOME=/tmp/lnob-demo lnob demo
"""


def register(subparsers) -> None:
    subparsers.add_parser("demo", help="run one review season end to end on generated data",
                          description=DESCRIPTION, epilog=EPILOG,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _rate(value) -> str:
    return "  unknown" if value is None else f"{value:8.2f}%"


def _count(value) -> str:
    return "unknown" if value is None else f"{value:,}"


def _print_broken(result) -> None:
    print("\nDeliberately broken files — what their submitters are told / Tệp lỗi cố ý — người nộp nhận được gì:")
    for case in result.broken:
        verdict = case["verdict"]
        print(f"  • {case['what']}: {verdict['status']} ({verdict.get('findings_total', 0)} findings)")
        for finding in verdict.get("findings", [])[:3]:
            place = finding.get("cell") or (f"row {finding['row']}" if finding.get("row") else "file")
            print(f"      [{finding['rule']}] {place} {finding.get('column') or ''} = {finding.get('value')!r}")
            print(f"        vi: {finding['message_vi']}")
            print(f"        en: {finding['message_en']}")
    if result.superseding:
        s = result.superseding
        print(f"  • corrected resubmission {s['submission_id']}: {s['status']}, supersedes {s.get('supersedes')}")


def _print_tables(result) -> None:
    import polars as pl

    marts = result.marts_path
    poverty = pl.read_parquet(marts / "poverty_by_area" / "**" / "*.parquet")
    top = (poverty.filter(pl.col("level").is_in(["national", "region"]), pl.col("area") == "all")
           .sort("year", pl.col("level") != "national", "unit_code"))
    print("\nNational and regional poverty (poverty_by_area, area = all) / Tỷ lệ nghèo toàn quốc và theo vùng:")
    print(f"  {'year':4}  {'unit':28} {'households':>12} {'poor':>9} {'near-poor':>10} {'change pp':>9}  source")
    for row in top.iter_rows(named=True):
        change = row["poor_or_near_poor_rate_change_pp"]
        print(f"  {row['year']:4}  {row['unit_code']:28} {_count(row['households_total']):>12} "
              f"{_rate(row['poor_rate']):>9} {_rate(row['near_poor_rate']):>10} "
              f"{'' if change is None else f'{change:+.2f}':>9}  {row['source_level']}, "
              f"{row['child_units_reported']}/{row['child_units_expected']} units")

    exits = pl.read_parquet(marts / "exit_candidates" / "**" / "*.parquet")
    latest = exits.filter(pl.col("year") == exits["year"].max()) if exits.height else exits
    print(f"\nListed units by verdict (exit_candidates, {latest['year'].max() if latest.height else '-'}) "
          "/ Đơn vị trong danh sách theo kết luận:")
    for (kind, verdict), rows in sorted(latest.group_by("status_kind", "verdict"), key=lambda item: item[0]):
        why = {"no_confirmed_rule": "no confirmed legal rule: criteria values only, see exit_criteria",
               "exit_candidate": "no longer meet the entry criteria", "remains": "still meet the criteria",
               "insufficient_data": "figures missing"}.get(verdict, "")
        flags = " (some depend on UNCONFIRMED criteria)" if rows["depends_on_unconfirmed"].any() else ""
        print(f"  {kind:20} {verdict:18} {rows.height:4}  {why}{flags}")
    candidates = latest.filter(pl.col("verdict") == "exit_candidate")
    for row in candidates.head(12).iter_rows(named=True):
        flags = " [depends on UNCONFIRMED / provisional rule]" if row["depends_on_unconfirmed"] else ""
        print(f"    exit candidate: {row['status_kind']:20} {row['unit_code']:6} {row['unit_name'] or ''}{flags}")
    if candidates.height > 12:
        print(f"    … {candidates.height - 12} more exit candidates in the mart")

    targets = pl.read_parquet(marts / "target_progress" / "**" / "*.parquet")
    national = targets.filter(pl.col("level") == "national", pl.col("year") == targets["year"].max())
    print("\nNational targets (target_progress) / Tiến độ mục tiêu quốc gia:")
    for row in national.iter_rows(named=True):
        value = "unknown" if row["value"] is None else f"{row['value']:.2f}"
        caveats = [] if row["confirmed"] else ["target UNCONFIRMED"]
        caveats += [row["note"]] if row["note"] else []
        print(f"  {row['target_id']:30} {row['basis']:31} {value:>8}  {row['status']:17} "
              f"goal: {row['goal_text'] or '-'}" + (f"  [{'; '.join(caveats)}]" if caveats else ""))


def run(args) -> int:
    from lnob.demo import run_demo
    from store.settings import load_settings

    settings = load_settings()
    result = run_demo(settings, settings.home / "demo-data", say=lambda line: print(line, flush=True))
    _print_broken(result)
    _print_tables(result)
    print(f"\nDone in {result.seconds:.0f} s.")
    print(f"  published marts / kho dữ liệu: {result.marts_path}  (also {settings.marts / 'current'})")
    print(f"  national report / báo cáo:    {result.report_path}")
    print(f"  validation reports:           {settings.reports}")
    print(f"  registry:                     {settings.database_url}")
    return 0
