"""Poverty standards as data: each decree is one JSON file in schemas/standards/ (see the README there).

A file carries the income lines by area, the average-living-standard bands, the 12 deprivation indicators,
the classification rule and the legal citation, each value with the status it has in docs/legal-basis.md
(CONFIRMED / SECONDARY / UNCONFIRMED) and a `confirmed` flag. Code reads the numbers from here; nothing
else in lnob writes a poverty line down.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

STANDARDS_DIR = Path(__file__).resolve().parent / "standards"
# A province may set its own, higher, lines (a local standard): its classification is published beside the
# national one, never in its place. Files ship in standards/local/ or come from LNOB_LOCAL_STANDARDS_DIR.
LOCAL_STANDARDS_DIR = STANDARDS_DIR / "local"
_LOCAL_REQUIRED_KEYS = ("id", "title", "legal_citation", "province_code", "based_on", "applies_from_year",
                        "applies_to_year", "income_line")
AREAS: tuple[str, ...] = ("rural", "urban")
STATUSES: tuple[str, ...] = ("CONFIRMED", "SECONDARY", "UNCONFIRMED")
_REQUIRED_KEYS = ("id", "title", "legal_citation", "applies_from_year", "applies_to_year", "income_line",
                  "average_living_upper", "indicators", "rule")


class UnknownStandardError(KeyError):
    """A standard id with no file in schemas/standards/."""


def available_standards() -> list[str]:
    """Ids of every standard file, oldest first (by the first year it applies)."""
    return sorted(_documents(), key=lambda standard_id: _documents()[standard_id]["applies_from_year"])


def load_standard(standard_id: str) -> dict[str, Any]:
    """The whole standard file as a dict (a copy: callers may change it without touching the cache)."""
    documents = _documents()
    if standard_id not in documents:
        raise UnknownStandardError(
            f"no poverty standard {standard_id!r}; known: {', '.join(available_standards())}")
    return copy.deepcopy(documents[standard_id])


def standard_for_year(year: int) -> str:
    """The standard a review year is measured on when a submission names none.

    Read from the files' applies_from_year / applies_to_year (null = until a successor decree):
    2022–2026 → "nd07_2021", 2027 on → "nd351_2025". A year before any file (2021 used Decision
    59/2015/QĐ-TTg, not encoded) raises ValueError.
    """
    matches = [
        standard_id for standard_id, document in _documents().items()
        if document["applies_from_year"] <= year
        and (document["applies_to_year"] is None or year <= document["applies_to_year"])
    ]
    if len(matches) != 1:
        found = "no standard" if not matches else f"several standards ({', '.join(sorted(matches))})"
        raise ValueError(f"{found} applies to review year {year}")
    return matches[0]


def income_lines(standard_id: str) -> dict[str, float]:
    """Poverty lines in VND per person per month: {"rural": ..., "urban": ...}."""
    lines = _documents_or_raise(standard_id)["income_line"]
    return {area: float(lines[area]["value"]) for area in AREAS}


def average_living_upper(standard_id: str) -> dict[str, float | None]:
    """Upper bounds of the average-living-standard band by area; None where the decree's value is unknown."""
    bands = _documents_or_raise(standard_id)["average_living_upper"]
    return {area: None if bands[area]["value"] is None else float(bands[area]["value"]) for area in AREAS}


def indicator_ids(standard_id: str) -> list[str]:
    """The standard's indicator ids in order (d01..d12)."""
    return [indicator["id"] for indicator in _documents_or_raise(standard_id)["indicators"]]


def _documents_or_raise(standard_id: str) -> dict[str, Any]:
    if standard_id not in _documents():
        load_standard(standard_id)  # raises with the list of known ids
    return _documents()[standard_id]


@functools.cache
def _documents() -> dict[str, dict[str, Any]]:
    documents = {}
    for path in sorted(STANDARDS_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        _check(document, path)
        documents[document["id"]] = document
    return documents


def _check(document: dict[str, Any], path: Path) -> None:
    """Refuse a standard file that lacks a key, a status, or whose id is not its file name."""
    missing = [key for key in _REQUIRED_KEYS if key not in document]
    if missing:
        raise ValueError(f"{path.name}: missing {', '.join(missing)}")
    if document["id"] != path.stem:
        raise ValueError(f"{path.name}: id {document['id']!r} differs from the file name")
    flagged = [document["legal_citation"], document["rule"], *document.get("dimensions", [])]
    for section in ("income_line", "average_living_upper"):
        flagged += [document[section][area] for area in AREAS]
    for indicator in document["indicators"]:
        flagged += [indicator, indicator["deprived_if"]]
    for value in flagged:
        if value.get("status") not in STATUSES or not isinstance(value.get("confirmed"), bool):
            raise ValueError(f"{path.name}: a value lacks its status or confirmed flag: {value}")
        if value["confirmed"] != (value["status"] == "CONFIRMED"):
            raise ValueError(f"{path.name}: confirmed flag disagrees with status: {value}")


# ---------------------------------------------------------------------------------------------
# Local standards


class LocalStandardError(ValueError):
    """A local standard file that cannot be used; the message names the file and the problem."""


def local_standard_dirs() -> list[Path]:
    configured = os.environ.get("LNOB_LOCAL_STANDARDS_DIR")
    return [LOCAL_STANDARDS_DIR, *([Path(configured)] if configured else [])]


def local_standards_for(year: int) -> list[dict[str, Any]]:
    """The local standards that apply to review `year`, each complete: the national standard it is based on
    (indicators, rule, bands) with the local file's own values on top, and `local` = true.

    A local file names its province (`province_code`, on the geography of the years it applies to) and the
    national standard it raises (`based_on`); a line below the national one is refused, since a local standard
    may only add households to the poor, never take them out of the national figures' meaning.
    """
    found = []
    for path, document in _local_documents(tuple(local_standard_dirs())):
        if document["applies_from_year"] <= year and (
                document["applies_to_year"] is None or year <= document["applies_to_year"]):
            found.append(_merged_local(document, path))
    return sorted(found, key=lambda d: (d["province_code"], d["id"]))


def _merged_local(document: dict[str, Any], path: Path) -> dict[str, Any]:
    national = load_standard(document["based_on"])
    merged = {**national, **copy.deepcopy(document), "local": True}
    for area in AREAS:
        local_line = merged["income_line"][area]["value"]
        national_line = national["income_line"][area]["value"]
        if local_line is None or national_line is None or float(local_line) < float(national_line):
            raise LocalStandardError(
                f"{path.name}: the {area} line {local_line} is below (or missing beside) the national line "
                f"{national_line} of {document['based_on']} / đường nghèo {area} {local_line} thấp hơn "
                f"chuẩn quốc gia {national_line}")
    return merged


@functools.cache
def _local_documents(directories: tuple[Path, ...]) -> tuple[tuple[Path, dict[str, Any]], ...]:
    documents = []
    seen: dict[str, Path] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise LocalStandardError(f"{path}: not valid JSON ({exc})") from None
            missing = [key for key in _LOCAL_REQUIRED_KEYS if key not in document]
            if missing:
                raise LocalStandardError(f"{path.name}: missing {', '.join(missing)}")
            if document["id"] != path.stem:
                raise LocalStandardError(f"{path.name}: id {document['id']!r} differs from the file name")
            if document["id"] in seen or document["id"] in _documents():
                raise LocalStandardError(f"{path.name}: id {document['id']!r} is already used "
                                         f"({seen.get(document['id'], 'a national standard')})")
            for area in AREAS:
                value = document["income_line"].get(area) or {}
                if value.get("status") not in STATUSES or not isinstance(value.get("confirmed"), bool):
                    raise LocalStandardError(f"{path.name}: income_line.{area} lacks its value's status or "
                                             "confirmed flag")
            seen[document["id"]] = path
            documents.append((path, document))
    return tuple(documents)
