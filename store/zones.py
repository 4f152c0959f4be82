"""The zones under LNOB_HOME and the paths inside them.

landing/<hash[:2]>/<sha256>                          raw submitted bytes, write-once, named by content
staging/<kind>/year=<year>/<submission_id>.parquet  one normalised file per accepted submission
reports/<submission_id>.json|.html                  validation reports
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from store.settings import Settings

CHUNK_BYTES = 1024 * 1024
FSYNC_THREADS = 16

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUBMISSION_ID = re.compile(r"S[0-9a-f]{16}")
_KIND = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class LandedFile:
    content_hash: str
    path: Path
    byte_size: int
    already_present: bool


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


def land(settings: Settings, source: bytes | os.PathLike | str) -> LandedFile:
    """Keep the submitted bytes in the landing zone, once, under their sha256.

    An existing landed file is never rewritten or touched. Concurrent writers of the same bytes
    are safe: each writes its own temporary file, and only the first hard link wins.
    """
    if isinstance(source, bytearray | memoryview):
        source = bytes(source)
    if not isinstance(source, bytes):
        source = Path(source)
    content_hash, byte_size = sha256_of(source)
    path = landing_path(settings, content_hash)
    if path.exists():
        return LandedFile(content_hash, path, byte_size, already_present=True)
    path.parent.mkdir(parents=True, exist_ok=True)
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
