"""`lnob explain`: a unit's statuses and, criterion by criterion, why it stays on a list or may leave it."""

from __future__ import annotations

import argparse
import json
import sys

DESCRIPTION = """\
Print, for one unit (commune, district, or a village with --village), the status lists it is on
at 31 December of the review year (with the decisions behind them) and the evaluation of each
list's entry criteria: value, threshold, comparison, outcome (met / not met / insufficient data),
legal citation, and whether the threshold is confirmed — in Vietnamese and English.

Reads the current published marts (exit_candidates, exit_criteria, entry_candidates) and the lists.
A unit the published marts do not hold (on no list and no entry candidate) is evaluated on the spot
from the published poverty marts and the accepted area attributes, and says so.
"""

EPILOG = """\
examples:
  lnob explain 29200 --year 2024
  lnob explain 031 --year 2024              # a district (poor_district)
  lnob explain 00688 --year 2024 --village "Bản Nà Lừa"
  lnob explain 29200 --year 2024 --json
"""

OUTCOMES = {"met": ("đạt", "met"), "not_met": ("không đạt", "not met"),
            "insufficient_data": ("thiếu dữ liệu", "insufficient data"), "reported": ("chỉ báo", "indicator")}
VERDICTS = {"remains": ("vẫn đáp ứng tiêu chí, ở lại danh sách", "still meets the criteria, remains"),
            "exit_candidate": ("không còn đáp ứng tiêu chí: đề xuất thoát",
                               "no longer meets the criteria: exit candidate"),
            "insufficient_data": ("thiếu dữ liệu để kết luận", "not enough data to decide"),
            "no_confirmed_rule": ("chưa có quy tắc được xác nhận: chỉ báo cáo giá trị các tiêu chí, không kết luận",
                                  "no confirmed legal rule: the criteria's values are shown, no verdict is drawn"),
            "entry_candidate": ("đáp ứng tiêu chí nhưng chưa có trong danh sách: đề xuất đưa vào",
                                "meets the criteria but is not on the list: entry candidate")}
SIGNS = {">=": "≥", ">": ">", "<": "<", "<=": "≤", "==": "="}


def register(subparsers) -> None:
    parser = subparsers.add_parser("explain", help="why a unit is (or may stop being) on a status list",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("unit_code", help="commune (5 digits) or district (3 digits) code")
    parser.add_argument("--year", type=int, required=True, help="review year")
    parser.add_argument("--village", default=None, help="a village of the commune (for ed_village)")
    parser.add_argument("--json", action="store_true", help="print the evaluation as JSON")


def _number(value, flag: bool = False) -> str:
    if value is None:
        return "?"
    if isinstance(value, bool) or flag:
        return "đúng/true" if value else "sai/false"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def run(args) -> int:
    from pipeline.explain import explain_unit
    from store.settings import load_settings

    code = args.unit_code.strip()
    if not code.isdigit() or len(code) not in (3, 5):
        print(f"lnob explain: mã đơn vị phải có 3 (huyện) hoặc 5 (xã) chữ số: {code!r} / the unit code must have "
              f"3 (district) or 5 (commune) digits: {code!r}", file=sys.stderr)
        return 2
    explained = explain_unit(load_settings(), code, args.year, village=args.village)
    if args.json:
        print(json.dumps(explained, ensure_ascii=False, default=str, indent=2))
        return 0
    print(_render(explained))
    return 0


def _render(explained: dict) -> str:
    lines = []
    unit = explained["unit_code"] + (f" / {explained['village']}" if explained["village"] else "")
    lines.append(f"Đơn vị / Unit {unit} — năm rà soát / review year {explained['year']} "
                 f"(ngày tham chiếu / reference date {explained['review_date']}; "
                 f"phiên bản dữ liệu / mart version {explained['published_version'] or 'chưa công bố / none'})")
    if explained["history"]:
        lines.append("Quyết định liên quan / Decisions naming this unit:")
        for change in explained["history"]:
            verb = ("đưa vào / added to" if change["action"] == "add" else "gỡ khỏi / removed from")
            lines.append(f"  {change['effective_from']}  {change['decision']}: {verb} {change['status_kind']}")
    if not explained["statuses"]:
        lines.append("Không có danh sách nào ở cấp này / No status list exists at this level.")
    for status in explained["statuses"]:
        lines.append("")
        on_list = ("CÓ trong danh sách / ON the list" if status["on_list"]
                   else "không có trong danh sách / not on the list")
        lines.append(f"== {status['title_vi']} / {status['title_en']} ({status['status_kind']}): {on_list}")
        if status["on_list"]:
            partial = " (danh sách chưa đầy đủ / partial list)" if status.get("list_partial") else ""
            lines.append(f"   từ / since {status['member_since']}, {status['member_by']}{partial}")
        if status.get("provisional"):
            lines.append(f"   ! {status['provisional_note_vi']}")
            lines.append(f"   ! {status['provisional_note_en']}")
        source = ("từ dữ liệu đã công bố / from the published marts" if status["source"] == "published"
                  else "đánh giá ngay từ số liệu đã công bố / evaluated now from the published figures")
        lines.append(f"   {source}")
        verdict = status.get("verdict")
        if verdict is None and status.get("rule_outcome"):
            verdict = {"met": "remains" if status["on_list"] else "entry_candidate",
                       "not_met": "exit_candidate" if status["on_list"] else None,
                       "insufficient_data": "insufficient_data"}.get(status["rule_outcome"])
        if verdict:
            vi, en = VERDICTS[verdict]
            lines.append(f"   Kết luận / Verdict: {vi} / {en}")
        elif status.get("rule_outcome") == "not_met":
            lines.append("   Kết luận / Verdict: không đáp ứng tiêu chí / does not meet the criteria")
        if status.get("depends_on_unconfirmed"):
            lines.append("   ! Kết luận phụ thuộc ngưỡng chưa xác nhận / the verdict depends on an unconfirmed "
                         "threshold or a provisional rule")
        if status.get("classified_as"):
            lines.append(f"   Phân loại theo số liệu / Classified by the figures as: {status['classified_as']}")
        for criterion in status.get("criteria", []):
            vi, en = OUTCOMES.get(criterion["outcome"], (criterion["outcome"], criterion["outcome"]))
            sign = SIGNS.get(criterion.get("comparison") or "", "")
            flag = criterion.get("comparison") == "==" and not criterion.get("unit")
            threshold = f" {sign} {_number(criterion.get('threshold'), flag)}" if sign else ""
            unit_text = f" {criterion['unit']}" if criterion.get("unit") else ""
            variant = f" [{criterion['variant']}]" if criterion.get("variant") else ""
            confirmed = "" if criterion.get("confirmed") else " (ngưỡng chưa xác nhận / UNCONFIRMED)"
            value = _number(criterion.get("value"), flag) if criterion.get("value") is not None else "?"
            lines.append(f"   - {criterion['label_vi']}")
            lines.append(f"     {criterion['label_en']}")
            lines.append(f"     giá trị / value {value}{unit_text}{threshold}{variant}: {vi} / {en}{confirmed}")
            if criterion.get("detail"):
                lines.append(f"     ({criterion['detail']})")
            lines.append(f"     căn cứ / citation: {criterion['citation']}")
    return "\n".join(lines)
