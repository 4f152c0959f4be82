"""Generate the data dictionary (docs/data-dictionary.md) from the contracts and mart layouts.

Run `python -m schemas.dictionary > docs/data-dictionary.md` (or `make dictionary`). A test
checks that the committed file matches what this prints, so the dictionary never drifts.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from schemas.contracts import CONTRACTS, SUBMISSION, Contract


def _dtype_name(dtype) -> str:
    return str(dtype).replace("String", "text").replace("Boolean", "bool")


def _format_range(col) -> str:
    parts = []
    if getattr(col, "code_width", None) is not None:
        widths = col.code_width if isinstance(col.code_width, tuple) else (col.code_width,)
        parts.append("code, " + " or ".join(f"{w} digits" for w in widths))
    if getattr(col, "allowed", None):
        parts.append("one of " + ", ".join(f"`{v}`" for v in col.allowed))
    lo, hi = getattr(col, "minimum", None), getattr(col, "maximum", None)
    if lo is not None and hi is not None:
        parts.append(f"{lo:g} to {hi:g}")
    elif lo is not None:
        parts.append(f"≥ {lo:g}")
    elif hi is not None:
        parts.append(f"≤ {hi:g}")
    return "; ".join(parts)


def _table(grain: str, label_vi: str, label_en: str, columns: Iterable, notes: Iterable[str] = ()) -> list[str]:
    lines = [f"*{label_vi}* — {label_en}.", "", f"**Grain:** {grain}.", ""]
    lines += [f"> {note}" for note in notes]
    if notes:
        lines.append("")
    lines += ["| column | type | required | nhãn (vi) | label (en) | unit | allowed / range | notes |",
              "|---|---|---|---|---|---|---|---|"]
    for col in columns:
        required = "yes" if getattr(col, "required", False) else ""
        if getattr(col, "nullable", True) is False:
            required = (required + ", not empty").lstrip(", ")
        description = getattr(col, "description", "") or ""
        lines.append(
            f"| `{col.name}` | {_dtype_name(col.dtype)} | {required} | {col.label_vi} | {col.label_en} | "
            f"{getattr(col, 'unit', None) or ''} | {_format_range(col)} | {description} |"
        )
    lines.append("")
    return lines


def _contract_section(contract: Contract) -> list[str]:
    return [f"### `{contract.name}`", ""] + _table(
        contract.grain, contract.label_vi, contract.label_en, contract.columns, contract.notes)


def _mart_sections() -> list[str]:
    from schemas.marts import all_marts

    lines = ["## Marts (Parquet, `marts/current/<mart>/<year>.parquet`)", ""]
    for mart in all_marts().values():
        lines += [f"### `{mart.name}`", ""]
        lines += _table(mart.grain, mart.label_vi, mart.label_en, mart.columns, getattr(mart, "notes", ()))
    return lines


def render() -> str:
    lines = [
        "# lnob data dictionary — Từ điển dữ liệu",
        "",
        "Generated from `schemas/` by `make dictionary`; do not edit by hand.",
        "Codes are text with their official widths (province 2, district 3, commune 5, ethnic group 2).",
        "An empty count means *not reported*, never zero.",
        "",
        "## Submission contracts",
        "",
    ]
    for contract in CONTRACTS.values():
        lines += _contract_section(contract)
    lines += ["## Submission metadata", ""] + _contract_section(SUBMISSION)
    lines += _mart_sections()
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
