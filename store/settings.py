"""Where lnob keeps things, read from the environment once per call.

LNOB_HOME            root of the zones (default ./.lnob)
LNOB_DATABASE_URL    the registry (default: a SQLite file under LNOB_HOME)
LNOB_MAX_UPLOAD_MIB  largest submission accepted, in MiB (default 100)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    max_upload_bytes: int

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def staging(self) -> Path:
        return self.home / "staging"

    @property
    def marts(self) -> Path:
        return self.home / "marts"

    @property
    def reports(self) -> Path:
        return self.home / "reports"


def load_settings(home: str | os.PathLike | None = None) -> Settings:
    root = Path(home or os.environ.get("LNOB_HOME") or ".lnob").absolute()
    url = os.environ.get("LNOB_DATABASE_URL") or f"sqlite:///{root / 'registry.db'}"
    max_mib = float(os.environ.get("LNOB_MAX_UPLOAD_MIB", "100"))
    return Settings(home=root, database_url=url, max_upload_bytes=int(max_mib * 1024 * 1024))
