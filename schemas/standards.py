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
from pathlib import Path
from typing import Any

STANDARDS_DIR = Path(__file__).resolve().parent / "standards"
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
