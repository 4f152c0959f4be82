"""The benchmark's staging data: national synthetic households laid out as accepted submissions leave them.

Two layouts of the same households (same seed, same scale):
- `commune`: one staging Parquet per commune, as `lnob submit` of a commune household file writes it today
  (about 10,000 files before the 2025 reform);
- `province`: one staging Parquet per province (compacted), as synthetic.review.write_synthetic_staging
  writes it.
Generated once under bench/data/ (git-ignored), keyed by seed, scale, year and layout, and reused when a
finished copy is there (`ready.json` is written last, so an interrupted generation is redone).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

DATA_ROOT = Path(__file__).resolve().parent / "data"
LAYOUTS = ("commune", "province")
READY = "ready.json"


@dataclass(frozen=True)
class StagedFile:
    submission_id: str
    level: str
    unit_code: str
    path: str
    rows: int


@dataclass(frozen=True)
class StagedData:
    layout: str
    year: int
    seed: int
    scale: float
    households: int
    files: list[StagedFile]
    generation_s: float
    reused: bool

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]


def data_folder(seed: int, scale: float, year: int, layout: str, root: Path = DATA_ROOT,
                provinces: tuple[str, ...] | None = None) -> Path:
    subset = f"-provinces{'+'.join(provinces)}" if provinces else ""
    return root / f"seed{seed}-scale{scale:g}-year{year}{subset}" / layout


def commune_submission_id(commune_code: str, year: int, seed: int, scale: float) -> str:
    digest = hashlib.sha256(f"bench|household|commune|{commune_code}|{year}|{seed}|{scale}".encode()).hexdigest()
    return "S" + digest[:16]


def _load(folder: Path, layout: str, reused: bool) -> StagedData:
    ready = json.loads((folder / READY).read_text(encoding="utf-8"))
    return StagedData(layout=layout, year=ready["year"], seed=ready["seed"], scale=ready["scale"],
                      households=ready["households"], files=[StagedFile(**f) for f in ready["files"]],
                      generation_s=ready["generation_s"], reused=reused)


def _finish(folder: Path, *, layout: str, year: int, seed: int, scale: float, files: list[StagedFile],
            seconds: float) -> StagedData:
    files = sorted(files, key=lambda f: f.submission_id)
    ready = {"layout": layout, "year": year, "seed": seed, "scale": scale,
             "households": sum(f.rows for f in files), "generation_s": seconds,
             "files": [f.__dict__ for f in files]}
    (folder / READY).write_text(json.dumps(ready, indent=1) + "\n", encoding="utf-8")
    return _load(folder, layout, reused=False)


def province_layout(seed: int, scale: float, year: int, *, root: Path = DATA_ROOT, say=print,
                    provinces: tuple[str, ...] | None = None) -> StagedData:
    """One staging file per province (synthetic.review.write_synthetic_staging)."""
    from synthetic.review import write_synthetic_staging

    folder = data_folder(seed, scale, year, "province", root, provinces)
    if (folder / READY).is_file():
        return _load(folder, "province", reused=True)
    shutil.rmtree(folder, ignore_errors=True)
    say(f"generating {scale:g} × national households for {year} (seed {seed}), one file per province …")
    started = time.perf_counter()
    result = write_synthetic_staging(folder / "staging", year, seed=seed, scale=scale, provinces=provinces)
    files = [StagedFile(submission_id=Path(f.path).stem, level="province", unit_code=f.unit,
                        path=str(folder / "staging" / f.path), rows=f.rows) for f in result.files]
    return _finish(folder, layout="province", year=year, seed=seed, scale=scale, files=files,
                   seconds=time.perf_counter() - started)


def commune_layout(seed: int, scale: float, year: int, *, root: Path = DATA_ROOT, say=print,
                   provinces: tuple[str, ...] | None = None) -> StagedData:
    """One staging file per commune, as ingest stages a commune's household file: the same households as
    the province layout (split from it), with submitting_level "commune" and a submission id per commune."""
    import polars as pl

    folder = data_folder(seed, scale, year, "commune", root, provinces)
    if (folder / READY).is_file():
        return _load(folder, "commune", reused=True)
    compacted = province_layout(seed, scale, year, root=root, say=say, provinces=provinces)
    shutil.rmtree(folder, ignore_errors=True)
    target = folder / "staging" / "household" / f"year={year}"
    target.mkdir(parents=True)
    say(f"splitting {len(compacted.files)} province files into one file per commune …")
    started = time.perf_counter()
    files: list[StagedFile] = []
    for province in compacted.files:
        frame = pl.read_parquet(province.path)
        for (commune_code,), households in frame.partition_by("commune_code", as_dict=True,
                                                              maintain_order=True).items():
            submission_id = commune_submission_id(commune_code, year, seed, scale)
            path = target / f"{submission_id}.parquet"
            households.with_columns(
                pl.lit(submission_id).alias("submission_id"),
                pl.lit("commune").alias("submitting_level"),
                pl.lit(commune_code).alias("submitting_unit"),
            ).write_parquet(path, compression="zstd")
            files.append(StagedFile(submission_id, "commune", commune_code, str(path), households.height))
    return _finish(folder, layout="commune", year=year, seed=seed, scale=scale, files=files,
                   seconds=time.perf_counter() - started)


def staged(layout: str, seed: int, scale: float, year: int, *, root: Path = DATA_ROOT, say=print,
           provinces: tuple[str, ...] | None = None) -> StagedData:
    """The staged households of one layout; `provinces` limits them to those provinces (quick checks)."""
    if layout == "province":
        return province_layout(seed, scale, year, root=root, say=say, provinces=provinces)
    if layout == "commune":
        return commune_layout(seed, scale, year, root=root, say=say, provinces=provinces)
    raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
