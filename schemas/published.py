"""Published national and regional review results: the ministry's figures, as reference and calibration targets.

Reads lnob's copy under `schemas/reference/published/` (provenance and checksums in its README). Two tables:
- `review_results()`: one row per review year × level × published unit (2022–2024, Decree 07/2021): the national
  row, the six pre-2025 regions and, where published, the Decision 353 poor-district aggregate;
- `national_series()`: one row per review year of the national series (2015 and 2021 on older standards).

Rates are percentages of all resident households of the unit; an empty cell stays null (not seen in any source,
never zero). Region names are matched to the region keys of `reference/regions_pre2025.csv` by their folded
spelling ("Bắc Trung bộ" and "Bắc Trung Bộ" are one region); a name that matches none is an error, not a guess.
"""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl

from schemas.text import fold

PUBLISHED_DIR = Path(__file__).resolve().parent / "reference" / "published"
NATIONAL_SERIES_FILE = "molisa_national_series.csv"
# One file per review year, named by the ministry's result decision.
REVIEW_RESULT_FILES: dict[int, str] = {
    2022: "molisa_2022_regions_qd71.csv",
    2023: "molisa_2023_regions_qd134.csv",
    2024: "molisa_2024_regions_qd217.csv",
}

# Folded published region name → lnob's region key (regions_pre2025.csv).
REGION_KEY_BY_FOLDED_NAME: dict[str, str] = {
    "trung du va mien nui phia bac": "northern_midlands_mountains",
    "dong bang song hong": "red_river_delta",
    "bac trung bo va duyen hai mien trung": "north_central_central_coast",
    "tay nguyen": "central_highlands",
    "dong nam bo": "southeast",
    "dong bang song cuu long": "mekong_delta",
}

_COUNTS = ("multidim_households", "poor_households", "near_poor_households")
_RATES = ("multidim_rate_pct", "poor_rate_pct", "near_poor_rate_pct")


def _read(name: str) -> pl.DataFrame:
    return pl.read_csv(PUBLISHED_DIR / name, infer_schema=False)


def _typed(frame: pl.DataFrame) -> pl.LazyFrame:
    return frame.lazy().with_columns(
        *[pl.col(c).cast(pl.Int64) for c in _COUNTS if c in frame.columns],
        *[pl.col(c).cast(pl.Float64) for c in _RATES if c in frame.columns],
    )


def region_key(published_name: str) -> str:
    """lnob's key of a region as the ministry names it (ValueError for a name of no pre-2025 region)."""
    key = REGION_KEY_BY_FOLDED_NAME.get(fold(published_name))
    if key is None:
        raise ValueError(f"published region name {published_name!r} matches no region of regions_pre2025.csv")
    return key


@functools.cache
def _review_results() -> pl.DataFrame:
    frames = []
    for year, name in sorted(REVIEW_RESULT_FILES.items()):
        frame = _read(name)
        if set(frame["year"].unique().to_list()) != {str(year)}:
            raise ValueError(f"{name} holds rows of another year than {year}")
        frames.append(frame)
    raw = pl.concat(frames)
    keys = [region_key(name) if level == "region" else None
            for level, name in raw.select("level", "region_name_as_published").iter_rows()]
    return (_typed(raw)
            .with_columns(pl.col("year").cast(pl.Int64), pl.Series("region_key", keys, dtype=pl.String))
            .select("year", "level", "region_key", "region_name_as_published", *_RATES, *_COUNTS, "note")
            .collect())


def review_results() -> pl.DataFrame:
    """One row per review year × level × published unit (level: national, region, poor_districts_qd353):
    year, level, region_key (regions only), region_name_as_published, multidim / poor / near-poor rates (%) and
    households, note. Sorted as published: by year, the national row first."""
    return _review_results().clone()


@functools.cache
def _national_series() -> pl.DataFrame:
    return (_typed(_read(NATIONAL_SERIES_FILE))
            .with_columns(pl.col("review_year").cast(pl.Int64))
            .sort("review_year")
            .collect())


def national_series() -> pl.DataFrame:
    """One row per review year of the national series: review_year, standard, decision, decision_date, poor /
    near-poor / multidim households and rates (%), source_url, reliability."""
    return _national_series().clone()
