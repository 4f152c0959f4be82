"""The zones under LNOB_HOME and the paths inside them.

landing/<hash[:2]>/<sha256>                          raw submitted bytes, write-once, named by content
                                                    (encrypted when LNOB_LANDING_KEY is set)
staging/<kind>/year=<year>/<submission_id>.parquet  one normalised file per accepted submission
reports/<submission_id>.json|.html                  validation reports
keys/id-hash.key                                    the keyed hash's key when LNOB_ID_HASH_KEY is unset

Raw files hold personal data (names, national ID numbers, phone numbers of household heads), so:
- With LNOB_LANDING_KEY set, each newly landed file is stored encrypted with AES-GCM (authenticated: a
  changed byte fails to decrypt), still named by the sha256 of the submitted bytes, so the same file
  submitted twice is still one file. Files landed before the key was set stay as they are
  (`unencrypted_landed` lists them, `lnob landing --unencrypted` shows them); they are never rewritten.
- Every read of a raw file goes through `read_landed`; a read for a person (the submitting unit over
  HTTP, an operator) goes through `read_landed_for_person`, which records who read what in the registry's
  audit table first. lnob's own re-validation is logged, not audited per read.

With LNOB_HOME on object storage (s3://bucket/prefix) the same keys live in the store and the machine's
working folder (settings.home) mirrors them: landing is written once with the store's conditional put
(If-None-Match: *), so two machines landing the same bytes write them once; staging files and reports are
written locally as for a folder, then `share` puts them in the store, and the registry names a staged file
by its store address, which `staged_file` turns back into a local copy on whichever machine reads it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from store.objects import S3Zone, Zone
from store.settings import Settings

CHUNK_BYTES = 1024 * 1024
FSYNC_THREADS = 16

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUBMISSION_ID = re.compile(r"S[0-9a-f]{16}")
_KIND = re.compile(r"[a-z][a-z0-9_]*")
# The first bytes of an encrypted landed file; no CSV or XLSX file starts with them.
SEALED_MAGIC = b"LNOB-AESGCM-1\n"
NONCE_BYTES = 12
ID_HASH_KEY_FILE = "id-hash.key"
RAW_READ_ACTION = "landing.read"

log = logging.getLogger("lnob.landing")


class LandingKeyError(RuntimeError):
    """A landed file is encrypted and the key to read it is missing or wrong."""


@dataclass(frozen=True)
class LandedFile:
    content_hash: str
    path: Path
    byte_size: int
    already_present: bool


_zones: dict[str, Zone] = {}


def store_zone(settings: Settings) -> Zone:
    """The object store of a remote LNOB_HOME (one client per address and process)."""
    if settings.store_url is None:
        raise ValueError("LNOB_HOME is a local folder; there is no object store")
    if settings.store_url not in _zones:
        _zones[settings.store_url] = S3Zone(settings.store_url)
    return _zones[settings.store_url]


def key_of(settings: Settings, path: Path) -> str:
    """The store key of a path in the working folder (the zones keep one layout in both)."""
    return Path(path).absolute().relative_to(settings.home).as_posix()


def share(settings: Settings, paths: Iterable[Path]) -> None:
    """Put finished files of the working folder (staging Parquet, reports) in the object store, under the
    same keys; nothing to do when LNOB_HOME is a folder."""
    if settings.store_url is None:
        return
    zone = store_zone(settings)
    for path in paths:
        zone.upload(Path(path), key_of(settings, path))


def staged_name(settings: Settings, path: Path) -> str:
    """How the registry names a staged file: its path, or with an object store its address there (a path
    on one machine's disk means nothing to the others)."""
    return zone_url(settings, key_of(settings, path)) if settings.store_url else str(path)


def zone_url(settings: Settings, key: str) -> str:
    return f"{settings.store_url}/{key}"


def staged_file(settings: Settings, recorded: str | os.PathLike) -> Path:
    """A staged file as the registry names it, as a local path: itself, or the working folder's copy of
    the store's object (fetched once: a staging file is never rewritten under its name)."""
    recorded = str(recorded)
    if settings.store_url is None or not recorded.startswith(settings.store_url + "/"):
        return Path(recorded)
    key = recorded[len(settings.store_url) + 1:]
    local = settings.home / key
    if not local.is_file():
        store_zone(settings).download(key, local)
    return local


def landing_path(settings: Settings, content_hash: str) -> Path:
    """Where the bytes with this sha256 live (or would live) in the landing zone."""
    if not _SHA256.fullmatch(content_hash):
        raise ValueError(f"not a lowercase hex sha256: {content_hash!r}")
    return settings.landing / content_hash[:2] / content_hash


def staging_path(settings: Settings, kind: str, year: int, submission_id: str) -> Path:
    """The staging Parquet of one accepted submission; its folder is created if missing."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"not a submission kind: {kind!r}")
    if not _SUBMISSION_ID.fullmatch(submission_id):
        raise ValueError(f"not a submission id: {submission_id!r}")
    folder = settings.staging / kind / f"year={int(year)}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{submission_id}.parquet"


def report_paths(settings: Settings, submission_id: str) -> tuple[Path, Path]:
    """(json_path, html_path) of a submission's validation report; the folder is created if missing."""
    if not _SUBMISSION_ID.fullmatch(submission_id):
        raise ValueError(f"not a submission id: {submission_id!r}")
    settings.reports.mkdir(parents=True, exist_ok=True)
    return settings.reports / f"{submission_id}.json", settings.reports / f"{submission_id}.html"


def sha256_of(source: bytes | os.PathLike | str) -> tuple[str, int]:
    """(sha256 hex, byte size) of bytes or of a file read in chunks."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return hashlib.sha256(data).hexdigest(), len(data)
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entry to disk (a folder, so that a rename or link in it is durable)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_all(paths: Iterable[Path]) -> None:
    """`fsync_path` for many files or folders at once. The filesystem's journal commits requests that
    arrive together in one go, so a batch of files costs a few commits rather than one per file."""
    paths = list(paths)
    if len(paths) <= 1:
        for path in paths:
            fsync_path(path)
        return
    with ThreadPoolExecutor(max_workers=min(FSYNC_THREADS, len(paths))) as pool:
        list(pool.map(fsync_path, paths))


def temporary_beside(path: Path) -> Path:
    """A fresh name in `path`'s folder for writing before an atomic rename onto `path`: unique per
    process, thread and call, so concurrent writers of the same file never share a temporary."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(6)}")


def _write_temporary(folder: Path, source: bytes | Path, expected_hash: str) -> Path:
    """Copy the source into a new temporary file in `folder`, checking it is still the same bytes."""
    temporary = temporary_beside(folder / "landing")
    digest = hashlib.sha256()
    try:
        with open(temporary, "xb") as target:
            if isinstance(source, bytes):
                target.write(source)
                digest.update(source)
            else:
                with open(source, "rb") as stream:
                    while chunk := stream.read(CHUNK_BYTES):
                        target.write(chunk)
                        digest.update(chunk)
            target.flush()
            os.fsync(target.fileno())
        if digest.hexdigest() != expected_hash:
            raise RuntimeError(f"{source} changed while it was being landed; submit it again")
        os.chmod(temporary, 0o444)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def landing_protection(settings: Settings) -> str:
    """One line for the startup log: whether newly landed files are encrypted (Vietnamese / English)."""
    if settings.landing_key is not None:
        return ("landing: tệp mới được mã hoá (AES-GCM, LNOB_LANDING_KEY) / new files are stored encrypted "
                "(AES-GCM, LNOB_LANDING_KEY)")
    return ("landing: CHƯA mã hoá — tệp lưu nguyên dạng, chứa dữ liệu cá nhân; đặt LNOB_LANDING_KEY để mã hoá / "
            "NOT encrypted — files are kept as submitted, with personal data; set LNOB_LANDING_KEY to encrypt")


def _seal(key: bytes, data: bytes, content_hash: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(NONCE_BYTES)
    # The hash is bound in as associated data: a sealed file moved under another name fails to open.
    return SEALED_MAGIC + nonce + AESGCM(key).encrypt(nonce, data, content_hash.encode())


def _open_sealed(key: bytes | None, stored: bytes, content_hash: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if key is None:
        raise LandingKeyError(f"landed file {content_hash} is encrypted and LNOB_LANDING_KEY is not set")
    body = stored[len(SEALED_MAGIC):]
    try:
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], content_hash.encode())
    except InvalidTag:
        raise LandingKeyError(f"landed file {content_hash} does not open with this LNOB_LANDING_KEY "
                              "(another key, or the file was altered)") from None


def is_sealed(path: Path) -> bool:
    with open(path, "rb") as stream:
        return stream.read(len(SEALED_MAGIC)) == SEALED_MAGIC


def read_landed(settings: Settings, content_hash: str) -> bytes:
    """The submitted bytes of a landed file, decrypted if it was stored encrypted and checked against
    their hash. For lnob's own reading (validation); a person's read goes through `read_landed_for_person`."""
    if settings.store_url is not None:
        stored = store_zone(settings).read_bytes(key_of(settings, landing_path(settings, content_hash)))
    else:
        stored = landing_path(settings, content_hash).read_bytes()
    data = _open_sealed(settings.landing_key, stored, content_hash) if stored.startswith(SEALED_MAGIC) else stored
    if hashlib.sha256(data).hexdigest() != content_hash:
        raise RuntimeError(f"landed file {content_hash} no longer holds the bytes it was named after")
    log.debug("read landed file %s for validation", content_hash)
    return data


def read_landed_for_person(settings: Settings, registry, content_hash: str, *, reader: str, purpose: str,
                           unit_code: str | None = None, token_id: int | None = None) -> bytes:
    """A raw file read back for a person: the read is recorded in the registry's audit table (who, which
    file, why) before the bytes are handed over, and a read that fails is recorded as failed."""
    detail = f"reader={reader}; purpose={purpose}"
    try:
        data = read_landed(settings, content_hash)
    except Exception as error:
        registry.audit(action=RAW_READ_ACTION, result="failed", token_id=token_id, unit_code=unit_code,
                       target=content_hash, detail=f"{detail}; {type(error).__name__}")
        raise
    registry.audit(action=RAW_READ_ACTION, result="read", token_id=token_id, unit_code=unit_code,
                   target=content_hash, detail=detail)
    return data


def unencrypted_landed(settings: Settings) -> list[Path]:
    """Landed files stored as submitted (landed before LNOB_LANDING_KEY was set, or without it)."""
    if settings.store_url is not None:
        zone = store_zone(settings)
        return [settings.home / key for key in zone.list("landing")
                if _SHA256.fullmatch(key.rsplit("/", 1)[-1])
                and zone.read_bytes(key)[:len(SEALED_MAGIC)] != SEALED_MAGIC]
    if not settings.landing.is_dir():
        return []
    return sorted(p for p in settings.landing.glob("??/*") if _SHA256.fullmatch(p.name) and not is_sealed(p))


def id_hash_key(settings: Settings) -> bytes:
    """The key of the keyed hash that replaces national ID numbers: LNOB_ID_HASH_KEY, or else a random key
    made once and kept at keys/id-hash.key (readable by lnob's user only), so that the same ID gets the
    same replacement in every submission."""
    if settings.id_hash_key:
        return settings.id_hash_key
    path = settings.keys / ID_HASH_KEY_FILE
    if settings.store_url is not None:
        zone, key = store_zone(settings), key_of(settings, path)
        zone.write_once(key, secrets.token_hex(32).encode())   # the first machine's key wins
        return zone.read_bytes(key).strip()
    if not path.exists():
        settings.keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = temporary_beside(path)
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400), "wb") as target:
            target.write(secrets.token_hex(32).encode())
        try:
            os.link(temporary, path)   # the first writer's key wins; every later one reads it
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_bytes().strip()


def land(settings: Settings, source: bytes | os.PathLike | str) -> LandedFile:
    """Keep the submitted bytes in the landing zone, once, under their sha256.

    With a landing key the stored bytes are encrypted, still named by the hash of the submitted bytes. An
    existing landed file (encrypted or not) is never rewritten or touched. Concurrent writers of the same bytes
    are safe: each writes its own temporary file, and only the first hard link wins.
    """
    if isinstance(source, bytearray | memoryview):
        source = bytes(source)
    if not isinstance(source, bytes):
        source = Path(source)
    content_hash, byte_size = sha256_of(source)
    path = landing_path(settings, content_hash)
    if settings.store_url is not None:
        return _land_in_store(settings, source, content_hash, byte_size, path)
    if path.exists():
        return LandedFile(content_hash, path, byte_size, already_present=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if settings.landing_key is not None:
        plain = source if isinstance(source, bytes) else source.read_bytes()
        if hashlib.sha256(plain).hexdigest() != content_hash:
            raise RuntimeError(f"{source} changed while it was being landed; submit it again")
        sealed = _seal(settings.landing_key, plain, content_hash)
        temporary = _write_temporary(path.parent, sealed, hashlib.sha256(sealed).hexdigest())
    else:
        temporary = _write_temporary(path.parent, source, content_hash)
    try:
        try:
            # link() fails if the name exists, so a landed file is never replaced.
            os.link(temporary, path)
            already_present = False
        except FileExistsError:
            already_present = True
        except OSError:
            # Filesystems without hard links: rename only when the name is still free. Two
            # writers racing here hold the same bytes, so whichever rename lands is correct.
            if path.exists():
                already_present = True
            else:
                os.rename(temporary, path)
                already_present = False
    finally:
        temporary.unlink(missing_ok=True)
    if not already_present:
        fsync_path(path.parent)
    return LandedFile(content_hash, path, byte_size, already_present)


def _land_in_store(settings: Settings, source: bytes | Path, content_hash: str, byte_size: int,
                   path: Path) -> LandedFile:
    """`land` on object storage: the store's conditional put keeps the first copy and refuses the others."""
    zone, key = store_zone(settings), key_of(settings, path)
    if zone.exists(key):
        return LandedFile(content_hash, path, byte_size, already_present=True)
    plain = source if isinstance(source, bytes) else source.read_bytes()
    if hashlib.sha256(plain).hexdigest() != content_hash:
        raise RuntimeError(f"{source} changed while it was being landed; submit it again")
    stored = _seal(settings.landing_key, plain, content_hash) if settings.landing_key is not None else plain
    written = zone.write_once(key, stored)
    return LandedFile(content_hash, path, byte_size, already_present=not written)


def with_local_staging(settings: Settings, records: list) -> list:
    """Submission records whose staged files are local paths on this machine (copies fetched from the
    object store); the records themselves when LNOB_HOME is a folder."""
    if settings.store_url is None:
        return records
    from dataclasses import replace

    prefix = settings.store_url + "/"
    missing = {record.staging_path[len(prefix):] for record in records
               if record.staging_path and record.staging_path.startswith(prefix)
               and not (settings.home / record.staging_path[len(prefix):]).is_file()}
    store_zone(settings).download_many([(key, settings.home / key) for key in sorted(missing)])
    return [replace(record, staging_path=str(staged_file(settings, record.staging_path)))
            if record.staging_path else record for record in records]


def fetch_shared(settings: Settings, path: Path) -> Path:
    """A file of the working folder that another machine may have written (a report, a request's options):
    with an object store and no local copy yet, fetched from the store when it is there; the path either way."""
    path = Path(path)
    if settings.store_url is not None and not path.exists():
        key = key_of(settings, path)
        zone = store_zone(settings)
        if zone.exists(key):
            zone.download(key, path)
    return path
