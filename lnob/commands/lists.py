"""`lnob lists`: load a decision's status list by name, and show who is on which list on a date."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from schemas.vocabulary import LIST_KINDS

DESCRIPTION = """\
Status lists (danh sách huyện nghèo, xã đặc biệt khó khăn, thôn đặc biệt khó khăn) are data with their
decision as provenance, effective from a date. Decisions publish names, not codes: `lnob lists load`
matches each name (province, then district, then commune; accents, case, spacing and words such as
"Huyện", "Xã", "Thị trấn" do not matter, nor "Đăk"/"Đắk") against the administrative list valid on the
decision date, and reports every name that matches no unit or several. Such a file is not stored unless
--allow-unmatched is given; lnob never guesses a code.

kinds: poor_district (huyện nghèo), ed_commune_coastal (xã ĐBKK vùng bãi ngang ven biển và hải đảo),
       region_iii_commune (xã khu vực III), ed_village (thôn ĐBKK; the file needs a village column)

A list file is CSV or XLSX with columns province/tỉnh, district/huyện, commune/xã (and village/thôn),
as the kind needs. A `decision` column lets one file hold several decisions: only the rows of --decision
are read.
"""

EPILOG = """\
examples:
  lnob lists load annex_ii.csv --kind ed_commune_coastal --decision 353/QĐ-TTg --effective 2022-03-15
  lnob lists load exits.csv --kind ed_commune_coastal --decision 576/QĐ-TTg --effective 2024-06-28 --removes
  lnob lists load --shipped            # the lists shipped in schemas/status_lists/ (poor districts PARTIAL)
  lnob lists show --kind poor_district --on 2024-12-31
  lnob lists decisions
"""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(subparsers) -> None:
    parser = subparsers.add_parser("lists", help="load and show status lists (poor districts, ĐBKK communes)",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="lists_action", metavar="ACTION")

    load = actions.add_parser("load", help="load one decision's list from a CSV or XLSX file",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    load.add_argument("file", nargs="?", help="the list file (CSV or XLSX)")
    load.add_argument("--shipped", action="store_true", help="load the lists shipped with lnob instead of FILE")
    load.add_argument("--kind", choices=LIST_KINDS)
    load.add_argument("--decision", help="decision number as written, e.g. 576/QĐ-TTg")
    load.add_argument("--effective", type=_date, help="date from which the decision takes effect (YYYY-MM-DD)")
    load.add_argument("--decision-date", type=_date, default=None,
                      help="date of the decision, for matching names (default: --effective)")
    load.add_argument("--removes", action="store_true", help="the decision removes these units from the list")
    load.add_argument("--partial", action="store_true", help="the file holds only part of the decision's list")
    load.add_argument("--completeness", default=None, help="a note on what the file lacks, stored with the list")
    load.add_argument("--allow-unmatched", action="store_true",
                      help="store the matched names even when others match no unit or several")
    load.add_argument("--replace", action="store_true",
                      help="replace a decision loaded before from a different file")
    load.add_argument("--json", action="store_true", help="print the load report as JSON")

    show = actions.add_parser("show", help="units on the lists on a date",
                              description="Units on the status lists on a date (default: today).",
                              formatter_class=argparse.RawDescriptionHelpFormatter,
                              epilog="example:\n  lnob lists show --kind ed_commune_coastal --on 2024-12-31\n")
    show.add_argument("--kind", choices=LIST_KINDS, default=None)
    show.add_argument("--on", type=_date, default=None, help="the date (YYYY-MM-DD; default today)")
    show.add_argument("--json", action="store_true", help="print JSON lines")

    actions.add_parser("decisions", help="every loaded decision, with its completeness",
                       description="Every loaded decision: kind, adds or removes, effective date, names matched.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  lnob lists decisions\n")


def run(args) -> int:
    from store.settings import load_settings

    settings = load_settings()
    action = getattr(args, "lists_action", None)
    if action == "load":
        return _load(settings, args)
    if action == "show":
        return _show(settings, args)
    if action == "decisions":
        return _decisions(settings)
    print("lnob lists: choose an action: load, show or decisions (lnob lists --help)", file=sys.stderr)
    return 2


def _load(settings, args) -> int:
    from pipeline.status_lists import ListFileError, load_shipped_lists, load_status_list, report_text
    from store.status_lists import ListLoadConflict

    try:
        if args.shipped:
            reports = load_shipped_lists(settings, replace=args.replace)
        else:
            missing = [flag for flag, value in (("FILE", args.file), ("--kind", args.kind),
                                                ("--decision", args.decision), ("--effective", args.effective))
                       if not value]
            if missing:
                print(f"lnob lists load: thiếu / missing {', '.join(missing)} (or use --shipped)", file=sys.stderr)
                return 2
            reports = [load_status_list(
                settings, args.file, kind=args.kind, decision=args.decision, effective=args.effective,
                removes=args.removes, decision_date=args.decision_date, partial=args.partial,
                completeness=args.completeness, allow_unmatched=args.allow_unmatched, replace=args.replace)]
    except (ListFileError, ListLoadConflict, FileNotFoundError) as error:
        print(f"lnob lists load: {error}", file=sys.stderr)
        return 1
    for report in reports:
        if args.json:
            print(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            print(report_text(report), end="")
    return 0 if all(r.stored for r in reports) else 1


def _show(settings, args) -> int:
    from pipeline.status_lists import memberships_frame

    on = args.on or date.today()
    members = memberships_frame(settings, on, args.kind)
    if args.json:
        for row in members.iter_rows(named=True):
            print(json.dumps({**row, "since": row["since"].isoformat()}, ensure_ascii=False))
        return 0
    if members.is_empty():
        print(f"không có đơn vị nào trong danh sách vào ngày {on} / no unit on the lists on {on}")
        return 0
    for kind in sorted(set(members["status_kind"])):
        rows = members.filter(members["status_kind"] == kind)
        partial = " — DANH SÁCH CHƯA ĐẦY ĐỦ / PARTIAL" if rows["partial"].any() else ""
        print(f"{kind}: {rows.height} đơn vị / units on {on}{partial}")
        for row in rows.iter_rows(named=True):
            village = f" / {row['village']}" if row["village"] else ""
            print(f"  {row['unit_code']}{village}  (tỉnh/province {row['province_code'] or '?'}; "
                  f"từ/since {row['since']}, {row['list_decisions']})")
    return 0


def _decisions(settings) -> int:
    from store.status_lists import StatusLists

    loads = StatusLists(settings.database_url).loads()
    if not loads:
        print("chưa nạp quyết định nào / no decision loaded yet (lnob lists load --shipped)")
    for load in loads:
        verb = "removes" if load.action == "remove" else "adds"
        partial = f"  PARTIAL: {load.completeness}" if load.partial else ""
        print(f"{load.effective_from}  {load.decision:<16} {load.status_kind:<20} {verb:<8} "
              f"{load.names_matched}/{load.names_listed} matched  ({load.source_name}){partial}")
    return 0
