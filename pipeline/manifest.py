"""The manifest of a mart version (`marts/<version>/manifest.json`): which code built it, with which
parameters, from exactly which submission versions, and every file with its rows and checksum.

The build time lives here and only here, so that the Parquet files of a rebuild are byte-identical.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.marts import Mart, all_marts
from store.mart_files import MANIFEST


def as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def code_version() -> dict[str, str | None]:
    """lnob's version and, when the code runs from a git checkout, its commit."""
    try:
        from importlib.metadata import version
        lnob_version = version("lnob")
    except Exception:  # noqa: BLE001 - an uninstalled tree still builds
        lnob_version = None
    commit = None
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                                capture_output=True, text=True, timeout=5, check=False)
        if result.returncode == 0:
            commit = result.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return {"lnob": lnob_version, "git_commit": commit}


def mart_manifest(mart: Mart) -> dict:
    return {
        "grain": mart.grain, "label_vi": mart.label_vi, "label_en": mart.label_en,
        "partition_by": list(mart.partition_by), "sort_key": list(mart.sort_key),
        "schema": [{"name": c.name, "dtype": str(c.dtype), "label_vi": c.label_vi, "label_en": c.label_en,
                    "unit": c.unit} for c in mart.columns],
    }


def submission_entry(submission: Any) -> dict:
    received = as_utc(getattr(submission, "received_at", None))
    return {"submission_id": submission.submission_id, "level": submission.level,
            "unit_code": submission.unit_code, "year": int(submission.year), "kind": submission.kind,
            "standard": submission.standard, "content_hash": getattr(submission, "content_hash", None),
            "received_at": received.isoformat() if received else None}


def new_manifest(version: str, parameters: dict) -> dict[str, Any]:
    """A version's manifest before any file is written: every mart with its layout and no file yet."""
    return {
        "version": version,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "parameters": parameters,
        "years": {},
        "marts": {name: {**mart_manifest(m), "row_count": 0, "files": []} for name, m in all_marts().items()},
    }


def finish_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """Files sorted by path, row counts summed, years in order, and every submission used, sorted."""
    for entry in manifest["marts"].values():
        entry["files"] = sorted(entry["files"], key=lambda e: e["path"])
        entry["row_count"] = sum(e["rows"] for e in entry["files"])
    manifest["years"] = dict(sorted(manifest["years"].items()))
    manifest["submission_ids"] = sorted(
        s["submission_id"] for entry in manifest["years"].values() for s in entry["submissions"])
    return manifest


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def read_manifest(folder: Path | None) -> dict | None:
    if folder is None or not (folder / MANIFEST).is_file():
        return None
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
