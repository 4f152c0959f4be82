"""Versioned marts with one atomic switch.

marts/.building-<version>/   a version being written (never read by anyone)
marts/<version>/             a published version, complete and never changed again
marts/current -> <version>   the live version: a relative symlink replaced in one rename

A version name is its build start time in UTC plus the microseconds in hex
(`20261127T114501Z-0a1b2c`), so names sort in the order builds started. A reader should resolve
`current` once (`current_path`) and read everything from that folder.

A build killed half-way leaves only a `.building-*` folder, which never becomes current;
`clean_abandoned` removes those whose builder is gone (each build holds an flock on
`marts/.building-<version>.lock` for as long as its process lives).

Builds and rollbacks take `exclusive_build(settings)` first: whichever process, command or Prefect
deployment starts them, two never run, or publish, at the same time; the later one waits.

The pointer is the truth; the registry's list of publishes follows it. A process killed between the
switch and its registry write leaves a `current` the registry never heard of: `reconcile_registry`
records it (as a publish, or as a rollback when that version was published before), and every
rollback runs it first, under the build lock.

With LNOB_HOME on object storage (s3://bucket/prefix) the store holds the truth and each machine's working
folder the rest:

    <store>/marts/<version>/...            a version's files, then its manifest.json, written last: a
                                           version without a manifest is incomplete and never read
    <store>/marts/current.json             the pointer: {"version", "manifest_sha256"}, replaced with a
                                           conditional put (If-Match on the ETag read when the build
                                           started), so a build that lost its lock never overwrites a
                                           newer pointer
    <work>/marts/.building-<version>/      the version being written, on the builder's own disk
    <work>/marts/<version>/                a local copy of a published version (versions never change)

The build lock is then held in the registry (a PostgreSQL advisory lock), which every machine shares;
incomplete versions in the store are removed by the next build, under that lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from store.objects import Precondition
from store.settings import Settings
from store.zones import fsync_path, store_zone

CURRENT = "current"
POINTER_KEY = "marts/current.json"
MANIFEST = "manifest.json"
BUILDING_PREFIX = ".building-"
_VERSION = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")

# Open lock files of the builds started by this process, by version.
_build_locks: dict[str, int] = {}
# With an object store: the pointer's ETag when each build of this process started (None: no pointer yet).
_pointer_tags: dict[str, str | None] = {}


class PublishError(RuntimeError):
    pass


@contextmanager
def exclusive_build(settings: Settings) -> Iterator[None]:
    """Hold the marts' build lock (`marts/.build.lock`, an flock) for the duration; waits while another
    build or rollback holds it. Released when the block ends or the process dies. With an object store the
    lock is the registry's (every machine shares it), held on a connection of its own."""
    if settings.remote:
        with _registry_lock(settings):
            yield
        return
    settings.marts.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(settings.marts / ".build.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)   # closing the descriptor releases the lock


@contextmanager
def _registry_lock(settings: Settings) -> Iterator[None]:
    from sqlalchemy import text

    from store.registry import engine_for

    key = int.from_bytes(hashlib.sha256(b"lnob-marts-build").digest()[:8], "big", signed=True)
    with engine_for(settings.database_url).connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


def _read_pointer(settings: Settings) -> tuple[dict | None, str | None]:
    """(pointer, its ETag) of the object store; (None, None) before the first publish."""
    zone = store_zone(settings)
    tag = zone.tag(POINTER_KEY)
    if tag is None:
        return None, None
    return json.loads(zone.read_bytes(POINTER_KEY)), tag


def _write_pointer(settings: Settings, version: str, tag: str | None) -> None:
    zone = store_zone(settings)
    manifest = zone.read_bytes(f"marts/{version}/{MANIFEST}")
    pointer = {"version": version, "manifest_sha256": hashlib.sha256(manifest).hexdigest()}
    try:
        zone.write_if(POINTER_KEY, json.dumps(pointer, sort_keys=True).encode(), tag)
    except Precondition:
        raise PublishError(
            f"marts/current.json đã được ghi bởi một lần khác kể từ khi bắt đầu; phiên bản {version} không được "
            f"công bố / the pointer changed since this build started (another build or rollback published): "
            f"{version} is not made current") from None


def _new_version_name(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{now.microsecond:06x}"


def _building_dir(settings: Settings, version: str) -> Path:
    return settings.marts / f"{BUILDING_PREFIX}{version}"


def _lock_file(settings: Settings, version: str) -> Path:
    return settings.marts / f"{BUILDING_PREFIX}{version}.lock"


def _fsync_tree(root: Path) -> None:
    for folder, _subfolders, files in os.walk(root):
        for name in files:
            fsync_path(Path(folder) / name)
        fsync_path(Path(folder))


def start_version(settings: Settings) -> tuple[str, Path]:
    """A new version name and the empty folder to write it into."""
    settings.marts.mkdir(parents=True, exist_ok=True)
    while True:
        version = _new_version_name(datetime.now(UTC))
        if (settings.marts / version).exists():
            continue
        # The lock comes before the folder, so a cleaner never sees an unlocked live build.
        try:
            descriptor = os.open(_lock_file(settings, version), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        building_dir = _building_dir(settings, version)
        try:
            building_dir.mkdir()
        except FileExistsError:
            os.close(descriptor)
            continue
        _build_locks[version] = descriptor
        if settings.remote:
            _pointer_tags[version] = _read_pointer(settings)[1]
        return version, building_dir


def _release_build_lock(settings: Settings, version: str) -> None:
    _lock_file(settings, version).unlink(missing_ok=True)
    descriptor = _build_locks.pop(version, None)
    if descriptor is not None:
        os.close(descriptor)


def abandon(settings: Settings, version: str) -> None:
    """Give up a version being built (a build that failed): its folder is removed and its lock released,
    so it never becomes current and the next build does not wait for it."""
    building_dir = _building_dir(settings, version)
    if building_dir.exists():
        shutil.rmtree(building_dir)
    _release_build_lock(settings, version)


def _point_current_at(settings: Settings, version: str) -> None:
    temporary = settings.marts / f"{CURRENT}.tmp-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    # Relative, so that LNOB_HOME can be moved or mounted elsewhere.
    os.symlink(version, temporary)
    os.replace(temporary, settings.marts / CURRENT)
    fsync_path(settings.marts)


def publish(settings: Settings, version: str, building_dir: Path) -> Path:
    """Make a fully written version live; returns its published folder."""
    building_dir = Path(building_dir)
    if building_dir != _building_dir(settings, version):
        raise PublishError(f"{building_dir} is not the building folder of version {version}")
    if not building_dir.is_dir():
        raise PublishError(f"version {version} has no building folder at {building_dir} (already published?)")
    published_dir = settings.marts / version
    if published_dir.exists():
        raise PublishError(f"version {version} is already published at {published_dir}")
    if settings.remote:
        _publish_to_store(settings, version, building_dir)
    _fsync_tree(building_dir)
    os.rename(building_dir, published_dir)
    fsync_path(settings.marts)
    _release_build_lock(settings, version)
    if not settings.remote:
        _point_current_at(settings, version)
    return published_dir


def _publish_to_store(settings: Settings, version: str, building_dir: Path) -> None:
    """Every file of the version, then its manifest, then the pointer (If-Match on the ETag read at the
    start of the build). A refused pointer leaves no trace of the version in the store."""
    zone = store_zone(settings)
    files = sorted(p for p in building_dir.rglob("*") if p.is_file())
    manifest = building_dir / MANIFEST
    if manifest not in files:
        raise PublishError(f"version {version} has no {MANIFEST}: it is not complete")
    keys = []
    for path in [p for p in files if p != manifest] + [manifest]:
        key = f"marts/{version}/{path.relative_to(building_dir).as_posix()}"
        zone.upload(path, key)
        keys.append(key)
    tag = _pointer_tags.pop(version) if version in _pointer_tags else _read_pointer(settings)[1]
    try:
        _write_pointer(settings, version, tag)
    except PublishError:
        for key in reversed(keys):     # the manifest first: the version is incomplete from then on
            zone.delete(key)
        abandon(settings, version)
        raise


def list_versions(settings: Settings) -> list[str]:
    """Published versions, oldest first."""
    if settings.remote:
        return sorted({key.split("/")[1] for key in store_zone(settings).list("marts/")
                       if key.count("/") == 2 and key.endswith(f"/{MANIFEST}") and _VERSION.fullmatch(key.split("/")[1])})
    if not settings.marts.is_dir():
        return []
    return sorted(
        entry.name
        for entry in settings.marts.iterdir()
        if _VERSION.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink()
    )


def current_version(settings: Settings) -> str | None:
    if settings.remote:
        pointer, _tag = _read_pointer(settings)
        return pointer["version"] if pointer else None
    try:
        return os.readlink(settings.marts / CURRENT)
    except FileNotFoundError:
        return None


def current_path(settings: Settings) -> Path | None:
    """The folder of the live version (resolved now, so it stays valid while you read it). With an object
    store: this machine's copy of it, fetched on first use."""
    version = current_version(settings)
    if version is None:
        return None
    return local_copy(settings, version) if settings.remote else settings.marts / version


def local_copy(settings: Settings, version: str, target: Path | None = None) -> Path:
    """A published version of the object store copied to a folder (default: the working folder's
    marts/<version>), manifest last and checked against each file's checksum; kept once complete."""
    target = Path(target) if target is not None else settings.marts / version
    if (target / MANIFEST).is_file():
        return target
    zone = store_zone(settings)
    prefix = f"marts/{version}/"
    manifest = json.loads(zone.read_bytes(prefix + MANIFEST))
    for entry in [entry for mart in manifest.get("marts", {}).values() for entry in mart.get("files", [])]:
        path = target / entry["path"]
        zone.download(prefix + entry["path"], path)
        if "sha256" in entry and hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            raise PublishError(f"{prefix}{entry['path']} does not match its manifest checksum")
    for key in zone.list(prefix):
        relative = key[len(prefix):]
        if relative != MANIFEST and not (target / relative).exists():
            zone.download(key, target / relative)
    zone.download(prefix + MANIFEST, target / MANIFEST)
    return target


def rollback(settings: Settings, version: str | None = None, *, registry=None) -> str:
    """Point `current` at another published version: the one given, or else the newest
    version whose name (build start time) comes before the current one. Returns the version
    now live. With `registry`, what is current now is first reconciled into it."""
    with exclusive_build(settings):
        if registry is not None:
            reconcile_registry(settings, registry)
        version = _rollback(settings, version)
    if settings.remote:
        local_copy(settings, version)   # callers record the rollback from its manifest, as on a folder
    return version


def reconcile_registry(settings: Settings, registry) -> str | None:
    """Record the current version in the registry if the registry's last publish or rollback names another
    (a switch whose process was killed before recording it); returns the version recorded, or None."""
    live = current_version(settings)
    if live is None:
        return None
    history = registry.publishes()
    if history and history[-1].version == live:
        return None
    manifest = local_copy(settings, live) / MANIFEST if settings.remote else settings.marts / live / MANIFEST
    submission_ids: list[str] = []
    if manifest.is_file():
        submission_ids = json.loads(manifest.read_text(encoding="utf-8")).get("submission_ids", [])
    action = "rollback" if any(entry.version == live for entry in history) else "publish"
    registry.record_publish(live, manifest_path=manifest, action=action, submission_ids=submission_ids)
    return live


def _rollback(settings: Settings, version: str | None) -> str:
    versions = list_versions(settings)
    live = current_version(settings)
    if version is None:
        if live is None:
            raise PublishError("no version is current, so there is nothing to roll back from")
        earlier = [candidate for candidate in versions if candidate < live]
        if not earlier:
            raise PublishError(f"no version was published before {live}; nothing to roll back to")
        version = earlier[-1]
    elif version not in versions:
        known = ", ".join(versions) if versions else "none"
        raise PublishError(f"version {version!r} is not a published version (published: {known})")
    if settings.remote:
        _write_pointer(settings, version, _read_pointer(settings)[1])
    else:
        _point_current_at(settings, version)
    return version


def pid_alive(pid: int) -> bool:
    """Whether a process of this host with that id still runs (one owned by another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_abandoned(settings: Settings) -> list[str]:
    """Remove building folders whose builder has gone (killed or crashed); returns their versions.

    A build still running, in this process or another, holds its lock and is left alone. With an object
    store, call it under the build lock: the store's versions without a manifest are then abandoned ones.
    """
    removed = _clean_store(settings) if settings.remote else []
    if not settings.marts.is_dir():
        return removed
    for entry in sorted(settings.marts.iterdir()):
        if entry.name.startswith(f"{CURRENT}.tmp-"):
            pid = entry.name.removeprefix(f"{CURRENT}.tmp-")
            if pid.isdigit() and not pid_alive(int(pid)):
                entry.unlink(missing_ok=True)
            continue
        if not entry.name.startswith(BUILDING_PREFIX):
            continue
        version = entry.name.removeprefix(BUILDING_PREFIX).removesuffix(".lock")
        building_dir = _building_dir(settings, version)
        lock_path = _lock_file(settings, version)
        if entry == lock_path and building_dir.exists():
            continue  # handled with its folder
        try:
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            if building_dir.exists():
                shutil.rmtree(building_dir)
                removed.append(version)
            lock_path.unlink(missing_ok=True)
        finally:
            os.close(descriptor)
    return removed


def _clean_store(settings: Settings) -> list[str]:
    """Versions in the object store with files but no manifest (a build killed while uploading): removed."""
    zone = store_zone(settings)
    by_version: dict[str, list[str]] = {}
    for key in zone.list("marts/"):
        parts = key.split("/")
        if len(parts) > 2 and _VERSION.fullmatch(parts[1]):
            by_version.setdefault(parts[1], []).append(key)
    removed = []
    for version, keys in sorted(by_version.items()):
        if f"marts/{version}/{MANIFEST}" not in keys:
            for key in keys:
                zone.delete(key)
            removed.append(version)
    return removed
