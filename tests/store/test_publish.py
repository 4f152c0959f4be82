"""Mart versions are published, and rolled back, in one atomic step; a reader never sees a
half-written version, even when the build is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from store.publish import (
    PublishError,
    clean_abandoned,
    current_path,
    current_version,
    list_versions,
    publish,
    rollback,
    start_version,
)
from store.settings import load_settings


@pytest.fixture
def settings(tmp_path):
    return load_settings(tmp_path / "lnob-home")


def write_version(folder: Path, label: str, files: int = 3) -> None:
    """A small mart version: some files and a manifest naming each of them."""
    names = []
    for number in range(files):
        name = f"poverty/period=2025/part-{number}.csv"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"{label},{number}\n")
        names.append(name)
    (folder / "manifest.json").write_text(json.dumps({"label": label, "files": names}))


def build(settings, label: str) -> str:
    version, building_dir = start_version(settings)
    write_version(building_dir, label)
    publish(settings, version, building_dir)
    return version


def assert_complete(folder: Path) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        assert (folder / name).read_text().startswith(manifest["label"])
    return manifest


def test_nothing_is_current_before_the_first_publish(settings):
    assert current_version(settings) is None
    assert current_path(settings) is None
    assert list_versions(settings) == []


def test_a_started_version_is_a_building_folder_with_a_sortable_name(settings):
    first, first_dir = start_version(settings)
    second, _ = start_version(settings)
    assert first_dir == settings.marts / f".building-{first}"
    assert first_dir.is_dir() and not any(first_dir.iterdir())
    assert first < second
    assert list_versions(settings) == []


def test_publishing_makes_the_version_current_and_complete(settings):
    first = build(settings, "first")
    assert current_version(settings) == first
    assert current_path(settings) == settings.marts / first
    assert assert_complete(settings.marts / "current")["label"] == "first"
    assert not (settings.marts / f".building-{first}").exists()
    # Relative link, so the home folder can move.
    assert os.readlink(settings.marts / "current") == first

    second = build(settings, "second")
    assert list_versions(settings) == [first, second]
    assert current_version(settings) == second
    assert assert_complete(current_path(settings))["label"] == "second"
    assert assert_complete(settings.marts / first)["label"] == "first"


def test_rollback_without_a_version_goes_back_to_the_one_before(settings):
    first = build(settings, "first")
    second = build(settings, "second")
    third = build(settings, "third")
    assert rollback(settings) == second
    assert current_version(settings) == second
    assert rollback(settings) == first
    assert assert_complete(current_path(settings))["label"] == "first"
    with pytest.raises(PublishError, match="no version was published before"):
        rollback(settings)
    assert rollback(settings, third) == third
    assert assert_complete(current_path(settings))["label"] == "third"


def test_rollback_to_an_unknown_version_fails_clearly_and_changes_nothing(settings):
    first = build(settings, "first")
    with pytest.raises(PublishError, match="20990101T000000Z-000000.*is not a published version"):
        rollback(settings, "20990101T000000Z-000000")
    building, _ = start_version(settings)
    with pytest.raises(PublishError, match="is not a published version"):
        rollback(settings, building)
    assert current_version(settings) == first


def test_rollback_with_nothing_published_fails_clearly(settings):
    with pytest.raises(PublishError, match="no version is current"):
        rollback(settings)


def test_a_version_is_published_only_once_and_only_from_its_own_folder(settings):
    version, building_dir = start_version(settings)
    _other, other_dir = start_version(settings)
    write_version(building_dir, "v")
    with pytest.raises(PublishError, match="not the building folder"):
        publish(settings, version, other_dir)
    publish(settings, version, building_dir)
    with pytest.raises(PublishError, match="already published"):
        publish(settings, version, building_dir)


def test_a_build_that_never_finishes_leaves_the_previous_version_current(settings):
    first = build(settings, "first")
    _version, building_dir = start_version(settings)
    write_version(building_dir, "half", files=1)
    (building_dir / "manifest.json").unlink()  # the crash came before the manifest

    assert current_version(settings) == first
    assert assert_complete(current_path(settings))["label"] == "first"
    assert list_versions(settings) == [first]
    assert rollback(settings, first) == first
    # The build still belongs to a living process (this one), so it is not cleaned away.
    assert clean_abandoned(settings) == []
    assert building_dir.is_dir()


def test_readers_always_find_a_complete_version_while_versions_are_published(settings):
    build(settings, "v0")
    stop = threading.Event()
    problems = []
    reads = []

    def read_repeatedly():
        while not stop.is_set():
            try:
                reads.append(assert_complete(current_path(settings))["label"])
            except (OSError, ValueError, KeyError, AssertionError) as error:
                problems.append(error)

    reader = threading.Thread(target=read_repeatedly)
    reader.start()
    try:
        for number in range(1, 15):
            build(settings, f"v{number}")
    finally:
        stop.set()
        reader.join()
    assert problems == []
    assert len(reads) > 0
    assert assert_complete(current_path(settings))["label"] == "v14"


KILLED_BUILD = """
import sys, time
from store.publish import start_version
from store.settings import load_settings
settings = load_settings(sys.argv[1])
version, building_dir = start_version(settings)
(building_dir / "part-0.csv").write_text("half,0\\n")
print(version, flush=True)
number = 1
while True:
    (building_dir / f"part-{number}.csv").write_text(f"half,{number}\\n")
    number += 1
    time.sleep(0.01)
"""


def test_a_build_killed_with_sigkill_leaves_current_unchanged_and_is_cleaned_away(settings):
    first = build(settings, "first")
    builder = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(settings.home)], stdout=subprocess.PIPE, text=True
    )
    killed_version = builder.stdout.readline().strip()
    assert killed_version, "the build process did not start"
    building_dir = settings.marts / f".building-{killed_version}"
    # While it runs, its build is left alone.
    assert clean_abandoned(settings) == []
    os.kill(builder.pid, signal.SIGKILL)
    builder.wait(timeout=30)
    builder.stdout.close()

    assert building_dir.is_dir() and any(building_dir.iterdir())
    assert current_version(settings) == first
    assert assert_complete(current_path(settings))["label"] == "first"
    assert list_versions(settings) == [first]

    assert clean_abandoned(settings) == [killed_version]
    assert not building_dir.exists()
    assert sorted(entry.name for entry in settings.marts.iterdir()) == sorted([first, "current"])
    second = build(settings, "second")
    assert current_version(settings) == second


def test_a_second_build_or_rollback_waits_while_one_holds_the_build_lock(tmp_path):
    """Two builds (say the nightly deployment and an operator's rebuild) never publish at the same time."""
    import threading

    from store.publish import exclusive_build

    settings = load_settings(tmp_path / "home")
    order: list[str] = []
    second_started = threading.Event()

    def second() -> None:
        second_started.set()
        with exclusive_build(settings):
            order.append("second")

    with exclusive_build(settings):
        waiter = threading.Thread(target=second)
        waiter.start()
        second_started.wait(5)
        waiter.join(timeout=0.5)
        assert waiter.is_alive(), "the second build did not wait for the first"
        order.append("first")
    waiter.join(timeout=5)
    assert order == ["first", "second"]
