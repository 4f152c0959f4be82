"""Whether a household list holds every resident household of its commune (`lists_every_household`).

Declared with the submission (`lnob submit --complete`, the HTTP field, the upload page's box) or in the
household template's title block (schemas.contracts.COMPLETE_LIST_LABEL, "có" / "không" beside it). Either
"yes" makes the list complete; otherwise it is a list of the households reviewed, whose rates need the
commune's resident total from a summary. The resolved value is kept with the submission's options
(reports/<id>.request.json), written into its staging file and shown in its verdict and report.
"""

from __future__ import annotations

from schemas.contracts import COMPLETE_LIST_ANSWERS, COMPLETE_LIST_FIELD, COMPLETE_LIST_LABEL, HOUSEHOLD
from schemas.text import fold

__all__ = ["COMPLETE_LIST_FIELD", "of_options", "read_title_block", "resolve", "title_block_answer"]

TITLE_ROWS = 12      # the title block sits above the header row, within the first rows


def _folded(value) -> str:
    return fold(str(value)).strip().rstrip(":").strip() if value is not None else ""


def title_block_answer(rows: list[list]) -> bool | None:
    """The answer written beside the declaration's label in the first rows of a sheet (True, False, or None
    when the label is absent or its answer empty or unreadable)."""
    labels = {_folded(label) for label in COMPLETE_LIST_LABEL}
    answers = {fold(k): v for k, v in COMPLETE_LIST_ANSWERS.items()}
    for row in rows:
        cells = [_folded(v) for v in row]
        for position, text in enumerate(cells):
            if text and any(text.startswith(label) for label in labels):
                following = [c for c in cells[position + 1:] if c]
                return answers.get(following[0]) if following else None
    return None


def read_title_block(data: bytes, *, file_name: str = "", sheet: str | None = None) -> bool | None:
    """The title block's declaration of an XLSX household list; None for other formats or without one."""
    if not (file_name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK"):
        return None
    from pipeline import parse
    from store.settings import reading_limits

    # Read where the file is registered (the server's own process): a workbook is measured before calamine
    # sees it, as parse_file does, or one cell at XFD1048576 ends the process that registers it.
    fmt = parse.detect_format(data)
    if fmt not in ("xlsx", "ods") or parse._measure_workbook(data, fmt, sheet, parse.ParsedTable(format=fmt),
                                                             reading_limits()) is None:
        return None
    try:
        import fastexcel

        workbook = fastexcel.read_excel(data)
        name = sheet if sheet in workbook.sheet_names else workbook.sheet_names[0]
        top = workbook.load_sheet(name, header_row=None, n_rows=TITLE_ROWS, dtypes="string").to_polars()
    except Exception:  # noqa: BLE001 — an unreadable workbook is the parser's finding, not this one's
        return None
    return title_block_answer([list(r) for r in top.iter_rows()])


def resolve(kind: str, declared: bool | None, data: bytes, *, file_name: str = "",
            sheet: str | None = None) -> bool | None:
    """The submission's `lists_every_household`: None for kinds other than a household list; else True when
    the submitter or the title block says so, False otherwise (a list is reviewed-only unless declared)."""
    if kind != HOUSEHOLD.name:
        return None
    return bool(declared) or bool(read_title_block(data, file_name=file_name, sheet=sheet))


def of_options(options: dict, kind: str) -> bool | None:
    """The resolved declaration kept in a submission's options (False for a household list that has none)."""
    if kind != HOUSEHOLD.name:
        return None
    return bool(options.get(COMPLETE_LIST_FIELD))
