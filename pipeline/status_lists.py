"""Status lists from decisions: load a decision's list of names, and read the lists on a date.

    load_status_list(settings, path, kind=, decision=, effective=, removes=)   a decision → the lists
    load_shipped_lists(settings)                                            the lists shipped in schemas/
    memberships_frame(settings, on)                                         the lists on a date

Decisions publish names, not codes: loading matches them against the administrative list valid on the decision
date (`schemas.geography.units_at`) and reports every name that matches no unit or several. By default such a
load stores nothing; `allow_unmatched` stores the matched names and keeps the others on record, unmatched.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from schemas.text import fold
from store.status_lists import ADD, REMOVE, ListEntry, StatusLists
from transforms.exit_criteria import NO_VILLAGE
from transforms.name_matching import MATCHED, match_names

SHIPPED_LISTS = Path(__file__).resolve().parents[1] / "schemas" / "status_lists"
LIST_LEVEL: dict[str, str] = {"poor_district": "district", "ed_commune_coastal": "commune",
                              "region_iii_commune": "commune", "ed_village": "village"}

# Header spellings accepted in a list file (folded: accents and case do not matter).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "province": ("province", "tinh", "tinh/thanh pho", "tinh thanh pho", "ten tinh", "province_name"),
    "district": ("district", "huyen", "quan/huyen", "quan huyen", "ten huyen", "district_name"),
    "commune": ("commune", "xa", "xa/phuong/thi tran", "phuong xa", "ten xa", "commune_name"),
    "village": ("village", "thon", "thon/ban", "thon, ban", "ten thon", "village_name"),
    "decision": ("decision", "quyet dinh", "so quyet dinh"),
}


class ListFileError(ValueError):
    """A list file that cannot be read as a list of the given kind (bilingual message)."""


@dataclass
class LoadReport:
    """What loading one decision's list did, and every name that matched no unit or several."""

    status_kind: str
    decision: str
    action: str
    effective: date
    decision_date: date | None
    source: str
    names_listed: int
    names_matched: int
    problems: list[dict] = field(default_factory=list)
    stored: bool = False
    already_present: bool = False
    partial: bool = False
    completeness: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"status_kind": self.status_kind, "decision": self.decision, "action": self.action,
                "effective": self.effective.isoformat(),
                "decision_date": self.decision_date.isoformat() if self.decision_date else None,
                "source": self.source, "names_listed": self.names_listed, "names_matched": self.names_matched,
                "stored": self.stored, "already_present": self.already_present, "partial": self.partial,
                "completeness": self.completeness, "problems": self.problems}


# ---------------------------------------------------------------------------------------------
# Loading a decision's list


def read_list_file(path: Path) -> pl.DataFrame:
    """A CSV or XLSX list with its headers mapped to province / district / commune / village / decision."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pl.read_excel(path, infer_schema_length=0)
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem, said in both languages
        raise ListFileError(f"Không đọc được tệp {path.name}: {exc} / Cannot read {path.name}: {exc}") from None
    renamed: dict[str, str] = {}
    for column in frame.columns:
        key = fold(column).replace("_", " ").strip()
        for target, spellings in HEADER_ALIASES.items():
            if key in {fold(s).replace("_", " ") for s in spellings} and target not in renamed.values():
                renamed[column] = target
    frame = frame.rename(renamed)
    if "province" not in frame.columns:
        raise ListFileError(
            f"Tệp {path.name} thiếu cột tên tỉnh (province/tỉnh); các cột có: {', '.join(frame.columns)} / "
            f"{path.name} has no province column (province/tỉnh); its columns: {', '.join(frame.columns)}")
    return frame


def _same_decision(written: str | None, decision: str) -> bool:
    return written is not None and fold(written).replace(" ", "") == fold(decision).replace(" ", "")


def _geography(on: date, levels: tuple[str, ...]) -> dict[str, pl.DataFrame | None]:
    from schemas.geography import units_at

    return {level: units_at(level, on) if level in levels else None for level in ("province", "district", "commune")}


def _aliases() -> pl.DataFrame | None:
    path = SHIPPED_LISTS / "unit_aliases.csv"
    return pl.read_csv(path, infer_schema=False) if path.is_file() else None


def load_status_list(settings, path: Path, *, kind: str, decision: str, effective: date, removes: bool = False,
                     decision_date: date | None = None, partial: bool = False, completeness: str | None = None,
                     allow_unmatched: bool = False, replace: bool = False) -> LoadReport:
    """Match a decision's names to codes and store the decision's members (or removals) from `effective` on.

    A file with a `decision` column may hold several decisions: only the rows of `decision` are read. Names are
    matched against the units valid on the decision date (or `effective` when no date is given).
    """
    if kind not in LIST_LEVEL:
        raise ListFileError(f"Loại danh sách không hợp lệ: {kind} / Unknown list kind {kind!r}; expected one of "
                            f"{', '.join(LIST_LEVEL)}")
    path = Path(path)
    content = path.read_bytes()
    # row = the row as seen in the file, header counted, before any filtering
    frame = read_list_file(path).with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    if "decision" in frame.columns:
        frame = frame.filter(pl.col("decision").map_elements(lambda d: _same_decision(d, decision),
                                                             return_dtype=pl.Boolean))
        if frame.is_empty():
            raise ListFileError(f"Tệp {path.name} không có dòng nào của quyết định {decision} / {path.name} has "
                                f"no row for decision {decision}")
    level = LIST_LEVEL[kind]
    needed = {"district": ("district",), "commune": ("commune",), "village": ("commune", "village")}[level]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ListFileError(f"Tệp {path.name} thiếu cột {', '.join(missing)} cho danh sách {kind} / {path.name} "
                            f"lacks the column(s) {', '.join(missing)} that a {kind} list needs")
    names = frame
    matching_date = decision_date or effective
    geography = _geography(matching_date, ("province", "district") + (("commune",) if level != "district" else ()))
    matched = match_names(names.select("row", *[c for c in ("province", "district", "commune") if c in names.columns]),
                          geography["province"], geography["district"], geography["commune"], _aliases())
    if level == "village":
        matched = matched.join(names.select("row", "village"), on="row", how="left")
    problems = [
        {"row": r["row"], "province": r["province"], "district": r["district"], "commune": r["commune"],
         "status": r["status"], "level": r["failed_level"], "candidates": r["candidates"],
         "message_vi": f"{path.name}, dòng {r['row']}: {r['message_vi']}",
         "message_en": f"{path.name}, row {r['row']}: {r['message_en']}"}
        for r in matched.iter_rows(named=True) if r["status"] != MATCHED
    ]
    entries = [
        ListEntry(
            row_number=r["row"], unit_level=level, unit_code=r["unit_code"], match_status=r["status"],
            village=(r.get("village") or NO_VILLAGE).strip() if level == "village" else NO_VILLAGE,
            province_code=r["province_code"], district_code=r["district_code"], commune_code=r["commune_code"],
            province_name=r["province"], district_name=r["district"], commune_name=r["commune"],
            match_stage=r["stage"], candidates=r["candidates"],
            note=r["alias_note"] or (r["message_en"] if r["status"] != MATCHED else None))
        for r in matched.iter_rows(named=True)
    ]
    report = LoadReport(kind, decision, REMOVE if removes else ADD, effective, decision_date, path.name,
                        len(entries), sum(1 for e in entries if e.unit_code), problems, partial=partial,
                        completeness=completeness)
    if problems and not allow_unmatched:
        return report
    digest = hashlib.sha256(content + b"\x1f" + decision.encode("utf-8")).hexdigest()
    _, created = StatusLists(settings.database_url).record_load(
        status_kind=kind, decision=decision, action=report.action, effective_from=effective, entries=entries,
        decision_date=decision_date, source_name=path.name, content_hash=digest, partial=partial,
        completeness=completeness, replace=replace)
    report.stored, report.already_present = True, not created
    return report


def load_shipped_lists(settings, *, replace: bool = False) -> list[LoadReport]:
    """Load every list of `schemas/status_lists/manifest.json` (names without a unit are kept on record)."""
    manifest = json.loads((SHIPPED_LISTS / "manifest.json").read_text(encoding="utf-8"))
    reports = []
    for item in manifest["lists"]:
        reports.append(load_status_list(
            settings, SHIPPED_LISTS / item["file"], kind=item["kind"], decision=item["decision"],
            effective=date.fromisoformat(item["effective"]), removes=bool(item["removes"]),
            decision_date=date.fromisoformat(item["decision_date"]) if item.get("decision_date") else None,
            partial=bool(item.get("partial")), completeness=item.get("completeness"), allow_unmatched=True,
            replace=replace))
    return reports


def memberships_frame(settings, on: date, status_kind: str | None = None) -> pl.DataFrame:
    """The lists on a date, one row per member (for `lnob lists show` and the build)."""
    members = StatusLists(settings.database_url).members_on(on, status_kind)
    return pl.DataFrame(
        [{"status_kind": m.status_kind, "unit_code": m.unit_code, "village": m.village, "unit_level": m.unit_level,
          "province_code": m.province_code, "since": m.since, "list_decisions": m.decision, "partial": m.partial}
         for m in members],
        schema={"status_kind": pl.String, "unit_code": pl.String, "village": pl.String, "unit_level": pl.String,
                "province_code": pl.String, "since": pl.Date, "list_decisions": pl.String, "partial": pl.Boolean})



def report_text(report: LoadReport) -> str:
    """A load report for people, in Vietnamese and English."""
    out = io.StringIO()
    verb = "gỡ khỏi danh sách / removes" if report.action == REMOVE else "đưa vào danh sách / adds"
    out.write(f"{report.decision} ({report.status_kind}) {verb}, hiệu lực từ / effective {report.effective}: "
              f"{report.names_matched}/{report.names_listed} tên khớp mã / names matched\n")
    if report.partial:
        out.write(f"  DANH SÁCH CHƯA ĐẦY ĐỦ / PARTIAL LIST: {report.completeness or ''}\n")
    for problem in report.problems:
        out.write(f"  - {problem['message_vi']}\n    {problem['message_en']}\n")
    if report.stored:
        out.write("  đã có sẵn, không thay đổi / already loaded, unchanged\n" if report.already_present
                  else "  đã lưu / stored\n")
    else:
        out.write("  KHÔNG lưu: sửa các tên trên (hoặc dùng --allow-unmatched) / NOT stored: fix the names above "
                  "(or use --allow-unmatched)\n")
    return out.getvalue()
