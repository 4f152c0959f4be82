"""Where lnob keeps things, read from the environment once per call.

LNOB_HOME            root of the zones (default ./.lnob)
LNOB_DATABASE_URL    the registry (default: a SQLite file under LNOB_HOME)
LNOB_MAX_UPLOAD_MIB  largest submission accepted, in MiB (default 100)
LNOB_LANDING_KEY     32-byte key (base64 or 64 hex digits) that encrypts each newly landed file (AES-GCM);
                     unset: landed files are kept as submitted, unencrypted
LNOB_ID_HASH_KEY     key of the keyed hash (HMAC-SHA256) that replaces national ID numbers found in a
                     contract column; unset: a random key kept in LNOB_HOME/keys/ is made on first need
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    max_upload_bytes: int
    landing_key: bytes | None = field(default=None, repr=False)
    id_hash_key: bytes | None = field(default=None, repr=False)

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

    @property
    def releases(self) -> Path:
        return self.home / "releases"

    @property
    def keys(self) -> Path:
        return self.home / "keys"


def landing_key(text: str | None) -> bytes | None:
    """LNOB_LANDING_KEY as 32 bytes: 64 hex digits or base64 (e.g. `openssl rand -base64 32`)."""
    import base64
    import binascii

    text = (text or "").strip()
    if not text:
        return None
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != 32:
        raise ValueError("LNOB_LANDING_KEY must be 32 bytes, written as 64 hex digits or in base64 "
                         "(e.g. `openssl rand -base64 32`)")
    return key


def load_settings(home: str | os.PathLike | None = None) -> Settings:
    root = Path(home or os.environ.get("LNOB_HOME") or ".lnob").absolute()
    url = os.environ.get("LNOB_DATABASE_URL") or f"sqlite:///{root / 'registry.db'}"
    max_mib = float(os.environ.get("LNOB_MAX_UPLOAD_MIB", "100"))
    id_hash_key = os.environ.get("LNOB_ID_HASH_KEY", "").strip().encode() or None
    return Settings(home=root, database_url=url, max_upload_bytes=int(max_mib * 1024 * 1024),
                    landing_key=landing_key(os.environ.get("LNOB_LANDING_KEY")), id_hash_key=id_hash_key)
