"""A release: a copy of one mart version for the public, with disclosure control applied.

    release(settings, version=None, min_households=3) → the release folder

releases/<version>/<mart>/<year>.parquet   the released tables (same file layout as the marts)
releases/<version>/manifest.json          the mart version released, the method and its parameters, files

Decisions an operator will ask about:
- The internal marts are read, never altered. What is released: poverty_by_ethnicity and poverty_by_area,
  protected jointly (transforms/disclosure.py; docs/disclosure-control.md). Every other mart stays internal:
  classification_disagreements lists single households, and the other tables are not yet protected.
- A release is written once, under a temporary name then renamed: readers never see half of one. Asking
  again for the same version and k returns the existing release; another k is refused, since two releases
  of one version with different suppressions could be subtracted from each other.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from pipeline.manifest import code_version
from schemas.marts import POVERTY_BY_AREA, POVERTY_BY_ETHNICITY, all_marts
from store.mart_files import MANIFEST, file_entry, partition_path, read_mart, write_partition
from store.publish import current_version
from store.settings import Settings
from store.zones import temporary_beside
from transforms.disclosure import (
    DEFAULT_MIN_HOUSEHOLDS,
    PRIMARY,
    SECONDARY,
    SUPPRESSION,
    WITHHELD_COLUMNS,
    carry_over,
    suppress,
)

METHOD = "cell suppression by row: primary under k households, secondary over every additive relation jointly"
RELATIONS = (
    "ALL = Σ 2-digit ethnic groups of the same unit, year and area",
    "ALL = 01 (Kinh) + EM",
    "EM = Σ 2-digit ethnic groups but 01",
    "area all = rural + urban",
    "a unit = Σ the units whose parent_code names it (same year, ethnic group and area)",
)
INTERNAL_ONLY = {
    "classification_disagreements": "one row per household: never released",
}


class ReleaseError(ValueError):
    """A release that cannot be made as asked."""


def release(settings: Settings, version: str | None = None, *,
            min_households: int = DEFAULT_MIN_HOUSEHOLDS) -> Path:
    """Write (or find) the public release of a mart version; returns its folder."""
    version = version or current_version(settings)
    if version is None:
        raise ReleaseError("no published mart version yet: run `lnob build` first")
    source = settings.marts / version
    if not (source / MANIFEST).is_file():
        raise ReleaseError(f"no published mart version {version!r} (see `lnob marts --list`)")
    target = settings.releases / version
    if (target / MANIFEST).is_file():
        existing = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        if existing["method"]["min_households"] != min_households:
            raise ReleaseError(f"version {version} was already released with k = "
                               f"{existing['method']['min_households']}; a release is never rewritten")
        return target
    settings.releases.mkdir(parents=True, exist_ok=True)
    building = temporary_beside(target)
    try:
        manifest = _write(source, building, version, min_households)
        (building / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.rename(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return target


def _write(source: Path, folder: Path, version: str, k: int) -> dict:
    by_ethnicity = suppress(read_mart(source, POVERTY_BY_ETHNICITY.name), min_households=k)
    by_area = carry_over(read_mart(source, POVERTY_BY_AREA.name), by_ethnicity)
    marts: dict[str, dict] = {}
    for mart, table in ((POVERTY_BY_ETHNICITY, by_ethnicity), (POVERTY_BY_AREA, by_area)):
        files = []
        for (year,), rows in sorted(table.partition_by("year", as_dict=True).items()):
            path = partition_path(folder, mart.name, year)
            files.append(file_entry(folder, path, year, write_partition(rows.sort(list(mart.sort_key)), path)))
        counts = table.get_column(SUPPRESSION).value_counts()
        counted = dict(zip(counts.get_column(SUPPRESSION).to_list(), counts.get_column("count").to_list(),
                           strict=True))
        marts[mart.name] = {"grain": mart.grain, "rows": table.height, "files": files,
                            "rows_withheld_primary": int(counted.get(PRIMARY, 0)),
                            "rows_withheld_secondary": int(counted.get(SECONDARY, 0)),
                            "schema": [{"name": n, "dtype": str(d)} for n, d in table.schema.items()]}
    not_released = {name: INTERNAL_ONLY.get(name, "not protected by disclosure control yet: internal only")
                    for name in all_marts() if name not in marts}
    return {
        "release_of": version,
        "released_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "method": {
            "name": METHOD, "min_households": k, "documentation": "docs/disclosure-control.md",
            "primary": f"a row with 1 to {k - 1} households (households_total) has every count and rate withheld",
            "secondary": "where a published relation has exactly one withheld row, its smallest published row "
                         "is withheld too, repeated over all relations jointly; then each linked group of "
                         "withheld rows is solved as a linear system and any row it determines exactly gets one "
                         "more suppression, until no withheld count can be recovered exactly",
            "relations": list(RELATIONS),
            "withheld_columns": list(WITHHELD_COLUMNS),
            "markers": {"suppression": "primary | secondary | change (only the rate changes are withheld: the "
                                       "previous year's row is withheld)",
                        "suppression_reason": "why, in Vietnamese and English"},
        },
        "marts": marts,
        "not_released": not_released,
    }


def released_table(folder: Path, mart_name: str) -> pl.DataFrame:
    """A released table read back as one frame."""
    files = sorted((folder / mart_name).glob("*.parquet"))
    return pl.concat([pl.read_parquet(p) for p in files], how="diagonal_relaxed") if files else pl.DataFrame()
