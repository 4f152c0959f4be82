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
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from store.settings import Settings
from store.zones import fsync_path

CURRENT = "current"
BUILDING_PREFIX = ".building-"
_VERSION = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")

# Open lock files of the builds started by this process, by version.
_build_locks: dict[str, int] = {}


class PublishError(RuntimeError):
    pass


@contextmanager
def exclusive_build(settings: Settings) -> Iterator[None]:
    """Hold the marts' build lock (`marts/.build.lock`, an flock) for the duration; waits while another
    build or rollback holds it. Released when the block ends or the process dies."""
    settings.marts.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(settings.marts / ".build.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)   # closing the descriptor releases the lock


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
    _fsync_tree(building_dir)
    os.rename(building_dir, published_dir)
    fsync_path(settings.marts)
    _release_build_lock(settings, version)
    _point_current_at(settings, version)
    return published_dir


def list_versions(settings: Settings) -> list[str]:
    """Published versions, oldest first."""
    if not settings.marts.is_dir():
        return []
    return sorted(
        entry.name
        for entry in settings.marts.iterdir()
        if _VERSION.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink()
    )


def current_version(settings: Settings) -> str | None:
    try:
        return os.readlink(settings.marts / CURRENT)
    except FileNotFoundError:
        return None


def current_path(settings: Settings) -> Path | None:
    """The folder of the live version (resolved now, so it stays valid while you read it)."""
    version = current_version(settings)
    return settings.marts / version if version is not None else None


def rollback(settings: Settings, version: str | None = None, *, registry=None) -> str:
    """Point `current` at another published version: the one given, or else the newest
    version whose name (build start time) comes before the current one. Returns the version
    now live. With `registry`, what is current now is first reconciled into it."""
    with exclusive_build(settings):
        if registry is not None:
            reconcile_registry(settings, registry)
        return _rollback(settings, version)


def reconcile_registry(settings: Settings, registry) -> str | None:
    """Record the current version in the registry if the registry's last publish or rollback names another
    (a switch whose process was killed before recording it); returns the version recorded, or None."""
    import json

    live = current_version(settings)
    if live is None:
        return None
    history = registry.publishes()
    if history and history[-1].version == live:
        return None
    manifest = settings.marts / live / "manifest.json"
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
    _point_current_at(settings, version)
    return version


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_abandoned(settings: Settings) -> list[str]:
    """Remove building folders whose builder has gone (killed or crashed); returns their versions.

    A build still running, in this process or another, holds its lock and is left alone.
    """
    if not settings.marts.is_dir():
        return []
    removed = []
    for entry in sorted(settings.marts.iterdir()):
        if entry.name.startswith(f"{CURRENT}.tmp-"):
            pid = entry.name.removeprefix(f"{CURRENT}.tmp-")
            if pid.isdigit() and not _pid_alive(int(pid)):
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
