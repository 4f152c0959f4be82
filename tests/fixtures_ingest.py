"""Builders of real submission files for the ingest tests: CSV and XLSX written with Polars and xlsxwriter.

Places used (GSO list of 2025-01-04, review year 2024): commune 00688 (Phường Quang Trung) and 00691 lie in
district 024 (Thành phố Hà Giang), province 02; commune 00712 lies in district 026. Commune 00004 exists in
the 2025 list (Phường Ba Đình, Hà Nội).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from schemas.contracts import AREA_SUMMARY, HOUSEHOLD, INDICATOR_IDS
from store.settings import Settings

COMMUNE = "00688"
OTHER_COMMUNE_SAME_DISTRICT = "00691"
COMMUNE_OTHER_DISTRICT = "00712"
DISTRICT = "024"
PROVINCE = "02"
COMMUNE_2025 = "00004"
YEAR = 2024

# Headers as a commune's form prints them (Vietnamese labels) — the usual case.
LABEL = {c.name: c.label_vi for c in (*HOUSEHOLD.columns, *AREA_SUMMARY.columns)}


def household_rows(count: int = 5, *, commune: str = COMMUNE) -> list[dict[str, str]]:
    """Valid household rows, every value as the text a statistician types, keyed by contract name."""
    rows = []
    for index in range(count):
        rows.append({
            "household_id": f"HH{index + 1:05d}", "commune_code": commune, "village": "Tổ 1",
            "area": "nông thôn" if index % 2 else "thành thị", "head_ethnicity_code": "01" if index % 3 else "02",
            "household_size": str(2 + index % 5), "income_per_capita_month": f"{1_200_000 + 1000 * index:,}".replace(",", "."),
            **{ind: "1" if (index + position) % 4 == 0 else "0" for position, ind in enumerate(INDICATOR_IDS)},
        })
    return rows


def summary_rows(*, district: str = DISTRICT, communes: tuple[str, ...] = (COMMUNE, OTHER_COMMUNE_SAME_DISTRICT)
                 ) -> list[dict[str, str]]:
    """A district's review summary: one ALL row per commune and one for the district itself."""
    rows = []
    for unit in (*communes, district):
        row = {c.name: "" for c in AREA_SUMMARY.columns}
        row.update({"unit_code": unit, "ethnic_group": "ALL", "area": "all", "households_total": "1.200",
                    "households_poor": "80", "households_near_poor": "60",
                    **{f"poor_deprived_{ind}": "10" for ind in INDICATOR_IDS}})
        rows.append(row)
    return rows


def frame_of(rows: list[dict[str, str]], *, headers: str = "vi") -> pl.DataFrame:
    """Rows keyed by contract name → a text frame whose headers are the labels ("vi") or names ("en")."""
    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})
    if headers == "vi":
        frame = frame.rename({name: LABEL[name] for name in frame.columns})
    return frame


def write_csv(path: Path, frame: pl.DataFrame, *, separator: str = ",", encoding: str = "utf-8",
              title_lines: tuple[str, ...] = ()) -> Path:
    text = frame.write_csv(separator=separator)
    text = "".join(line + "\n" for line in title_lines) + text
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, frame: pl.DataFrame, *, title_rows: tuple[str, ...] = (), numeric: tuple[str, ...] = (),
               formulas: dict[str, str] | None = None, merge: str | None = None, sheet: str = "Sheet1",
               extra_sheet: str | None = None) -> Path:
    """A workbook like a commune's form: optional merged title rows above the header (row 1…), the header,
    the data. Columns in `numeric` are written as Excel numbers (so codes lose their zeros, as in Excel)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    if extra_sheet:
        workbook.add_worksheet(extra_sheet).write(0, 0, "Hướng dẫn")
    sheet_ = workbook.add_worksheet(sheet)
    width = frame.width
    for index, title in enumerate(title_rows):
        if width > 1:
            sheet_.merge_range(index, 0, index, width - 1, title)
        else:
            sheet_.write(index, 0, title)
    header_row = len(title_rows)
    sheet_.write_row(header_row, 0, frame.columns)
    for row_index, row in enumerate(frame.iter_rows(), start=header_row + 1):
        for column_index, value in enumerate(row):
            if value is None or value == "":
                continue
            if frame.columns[column_index] in numeric:
                sheet_.write_number(row_index, column_index, float(value))
            else:
                sheet_.write_string(row_index, column_index, value)
    for cell, formula in (formulas or {}).items():
        sheet_.write_formula(cell, formula)
    if merge:
        sheet_.merge_range(merge, "")
    workbook.close()
    return path


def write_file(path_stem: Path, frame: pl.DataFrame, fmt: str, **options) -> Path:
    """The same table as CSV or XLSX."""
    if fmt == "csv":
        return write_csv(path_stem.with_suffix(".csv"), frame, **options)
    return write_xlsx(path_stem.with_suffix(".xlsx"), frame, **options)


def column_letter(frame: pl.DataFrame, header: str) -> str:
    index = frame.columns.index(header)
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def make_settings(home: Path, database_url: str | None = None, max_upload_bytes: int = 50 * 1024 * 1024) -> Settings:
    return Settings(home=home, database_url=database_url or f"sqlite:///{home / 'registry.db'}",
                    max_upload_bytes=max_upload_bytes)


def only(findings: list[dict], rule: str) -> list[dict]:
    return [f for f in findings if f["rule"] == rule]


@pytest.fixture(scope="session")
def gx_runner():
    """One Great Expectations runner for the whole test session (importing GX costs seconds)."""
    from expectations.runner import get_runner

    return get_runner()
