"""Where lnob keeps things and how much of a submitted file it will read, from the environment once per call.

LNOB_HOME              root of the zones (default ./.lnob): a folder, or an S3-compatible object store
                       `s3://bucket/prefix` (credentials and endpoint the usual AWS way: AWS_ACCESS_KEY_ID,
                       AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL; the registry must then be
                       PostgreSQL, LNOB_DATABASE_URL, since every machine shares it)
LNOB_WORK_DIR          with an object store: this machine's own working folder (default ./.lnob), which holds
                       versions being built, copies of what it read from the store, and the front door's spool
LNOB_DATABASE_URL      the registry (default: a SQLite file under LNOB_HOME)
LNOB_MAX_UPLOAD_MIB    largest submission accepted, in MiB (default 100)
LNOB_LANDING_KEY       32-byte key (base64 or 64 hex digits) that encrypts each newly landed file (AES-GCM);
                       unset: landed files are kept as submitted, unencrypted
LNOB_ID_HASH_KEY       key of the keyed hash (HMAC-SHA256) that replaces national ID numbers found in a
                       contract column; unset: a random key kept in LNOB_HOME/keys/ is made on first need
LNOB_SHARED_FILES      1 to let other users of the machine read what lnob writes (default: lnob's own
                       user only — registry, reports, landing, staging and marts hold personal data)
LNOB_TRUST_FORWARDED_PROTO  1 when `lnob serve` sits behind a TLS proxy that sets X-Forwarded-Proto (the
                       session cookie is then marked Secure for requests the proxy received over https)

Reading limits (a file over one is refused with a finding that names the limit, before any reader
allocates for it; the defaults are far above the largest province's household list):
LNOB_MAX_CELLS             cells of a sheet, counted over its used range (default 20,000,000)
LNOB_MAX_UNPACKED_MIB      a workbook's parts once unpacked, in MiB (default 1024)
LNOB_MAX_COMPRESSION_RATIO unpacked size over packed size of one part (default 200; sheets of real data
                           pack 5 to 30 times)
LNOB_MAX_LINE_CHARS        characters of one line of a CSV file (default 1,000,000)
LNOB_MAX_CELL_CHARS        characters of one cell (default 32,767, Excel's own limit)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PRIVATE_UMASK = 0o077
S3_SCHEME = "s3://"


class SettingsError(ValueError):
    """The environment names a combination lnob cannot run with; the message is for the operator."""


@dataclass(frozen=True)
class ReadingLimits:
    max_cells: int = 20_000_000
    max_unpacked_bytes: int = 1 << 30
    max_compression_ratio: float = 200.0
    max_line_chars: int = 1_000_000
    max_cell_chars: int = 32_767


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    max_upload_bytes: int
    limits: ReadingLimits = field(default_factory=ReadingLimits)
    shared_files: bool = False
    trust_forwarded_proto: bool = False
    landing_key: bytes | None = field(default=None, repr=False)
    id_hash_key: bytes | None = field(default=None, repr=False)
    # s3://bucket/prefix when the zones live on object storage; `home` is then this machine's working folder.
    store_url: str | None = None

    @property
    def remote(self) -> bool:
        return self.store_url is not None

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


def reading_limits() -> ReadingLimits:
    """The reading limits of the environment (defaults where a variable is unset)."""
    default = ReadingLimits()
    return ReadingLimits(
        max_cells=int(float(os.environ.get("LNOB_MAX_CELLS", default.max_cells))),
        max_unpacked_bytes=int(float(os.environ.get("LNOB_MAX_UNPACKED_MIB", default.max_unpacked_bytes >> 20))
                               * 1024 * 1024),
        max_compression_ratio=float(os.environ.get("LNOB_MAX_COMPRESSION_RATIO", default.max_compression_ratio)),
        max_line_chars=int(float(os.environ.get("LNOB_MAX_LINE_CHARS", default.max_line_chars))),
        max_cell_chars=int(float(os.environ.get("LNOB_MAX_CELL_CHARS", default.max_cell_chars))),
    )


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
    where = str(home or os.environ.get("LNOB_HOME") or ".lnob")
    store_url = where.rstrip("/") if where.startswith(S3_SCHEME) else None
    root = Path((os.environ.get("LNOB_WORK_DIR") or ".lnob") if store_url else where).absolute()
    url = os.environ.get("LNOB_DATABASE_URL") or f"sqlite:///{root / 'registry.db'}"
    if store_url and not url.startswith("postgresql"):
        raise SettingsError(
            f"LNOB_HOME={store_url}: kho đối tượng dùng chung cho nhiều máy nên sổ đăng ký cũng phải dùng chung — "
            "đặt LNOB_DATABASE_URL=postgresql+psycopg://… (SQLite chỉ nằm trên một máy) / with the zones on "
            "object storage every machine must share the registry: set LNOB_DATABASE_URL to a PostgreSQL "
            "address (postgresql+psycopg://…); a SQLite file lives on one machine only")
    max_mib = float(os.environ.get("LNOB_MAX_UPLOAD_MIB", "100"))
    shared = os.environ.get("LNOB_SHARED_FILES", "").strip().lower() in ("1", "true", "yes")
    id_hash_key = os.environ.get("LNOB_ID_HASH_KEY", "").strip().encode() or None
    return Settings(home=root, database_url=url, max_upload_bytes=int(max_mib * 1024 * 1024),
                    limits=reading_limits(), shared_files=shared,
                    trust_forwarded_proto=os.environ.get("LNOB_TRUST_FORWARDED_PROTO", "").strip() in ("1", "true"),
                    landing_key=landing_key(os.environ.get("LNOB_LANDING_KEY")), id_hash_key=id_hash_key,
                    store_url=store_url)


def keep_files_private(settings: Settings) -> None:
    """Make every file and folder this process creates from now on readable by its own user only, unless
    the operator chose LNOB_SHARED_FILES (then the umask the process was started with stays)."""
    if settings.shared_files:
        return
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)
    # What was written before (a registry made by `lnob tokens issue`, earlier reports) is closed too:
    # the home folder itself admits no one else.
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.home.chmod(0o700)
