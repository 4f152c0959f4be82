"""The zones on a real S3-compatible server (SeaweedFS on loopback, the `s3_server` fixture): landing written
once under a race, the pointer refusing a stale writer, publish / rollback / reconcile / abandoned versions
through `marts/current.json`, and the marts read straight from the store with Polars and PyArrow."""

from __future__ import annotations

import json
import threading

import polars as pl
import pytest

from store import publish as publishing
from store.mart_files import file_entry, partition_path, read_mart, write_partition
from store.objects import Precondition, polars_storage_options, pyarrow_filesystem
from store.registry import Registry
from store.settings import SettingsError, load_settings
from store.zones import land, read_landed, store_zone, unencrypted_landed

KEY = bytes(range(32))


@pytest.fixture
def settings(s3_home, postgres_url, monkeypatch):
    monkeypatch.setenv("LNOB_DATABASE_URL", postgres_url)
    return load_settings()


def test_object_storage_needs_a_shared_registry(monkeypatch, tmp_path):
    monkeypatch.setenv("LNOB_HOME", "s3://bucket/lnob")
    monkeypatch.setenv("LNOB_WORK_DIR", str(tmp_path))
    monkeypatch.delenv("LNOB_DATABASE_URL", raising=False)
    with pytest.raises(SettingsError, match="LNOB_DATABASE_URL") as refused:
        load_settings()
    assert "sổ đăng ký" in str(refused.value) and "PostgreSQL" in str(refused.value)
    monkeypatch.setenv("LNOB_DATABASE_URL", f"sqlite:///{tmp_path / 'registry.db'}")
    with pytest.raises(SettingsError):
        load_settings()
    monkeypatch.setenv("LNOB_DATABASE_URL", "postgresql+psycopg://lnob@db/lnob")
    remote = load_settings()
    assert remote.store_url == "s3://bucket/lnob" and remote.home == tmp_path


def test_a_local_home_is_unchanged(monkeypatch, tmp_path):
    monkeypatch.delenv("LNOB_DATABASE_URL", raising=False)
    local = load_settings(tmp_path / "home")
    assert local.store_url is None and not local.remote
    assert local.home == tmp_path / "home" and local.database_url == f"sqlite:///{tmp_path / 'home' / 'registry.db'}"


def test_write_once_under_a_race_keeps_the_first_bytes(settings):
    zone = store_zone(settings)
    barrier = threading.Barrier(8)
    results: dict[int, bool] = {}

    def writer(index: int) -> None:
        barrier.wait()
        results[index] = zone.write_once("race/one", f"writer {index}".encode())

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [index for index, won in results.items() if won]
    assert len(winners) == 1
    assert zone.read_bytes("race/one") == f"writer {winners[0]}".encode()


def test_landing_on_the_store_writes_each_content_once(settings):
    data = b"ma_xa,so_ho\n00001,12\n"
    barrier = threading.Barrier(6)
    landed = []

    def lander() -> None:
        barrier.wait()
        landed.append(land(settings, data))

    threads = [threading.Thread(target=lander) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(not file.already_present for file in landed) == 1
    assert len({file.content_hash for file in landed}) == 1
    assert read_landed(settings, landed[0].content_hash) == data
    key = f"landing/{landed[0].content_hash[:2]}/{landed[0].content_hash}"
    assert store_zone(settings).read_bytes(key) == data
    assert [p.name for p in unencrypted_landed(settings)] == [landed[0].content_hash]
    # Nothing of it was written to this machine's disk.
    assert not (settings.home / "landing").exists()


def test_landing_encrypted_on_the_store_is_never_rewritten(settings):
    from dataclasses import replace

    sealed = replace(settings, landing_key=KEY)
    first = land(sealed, b"household rows")
    stored = store_zone(settings).read_bytes(f"landing/{first.content_hash[:2]}/{first.content_hash}")
    assert stored.startswith(b"LNOB-AESGCM-1") and b"household rows" not in stored
    again = land(settings, b"household rows")       # without the key: the sealed object is left as it is
    assert again.already_present
    assert store_zone(settings).read_bytes(f"landing/{first.content_hash[:2]}/{first.content_hash}") == stored
    assert read_landed(sealed, first.content_hash) == b"household rows"
    assert unencrypted_landed(settings) == []


def _build(settings, rows: list[tuple[str, int]], year: int = 2024) -> tuple[str, object]:
    """A version with one small mart and its manifest, written as a build writes one (not yet published)."""
    version, building = publishing.start_version(settings)
    frame = pl.DataFrame(rows, schema={"unit_code": pl.String, "poor_households": pl.Int64}, orient="row")
    frame = frame.with_columns(pl.lit(year, dtype=pl.Int32).alias("year"))
    path = partition_path(building, "poverty_by_area", year)
    entry = file_entry(building, path, year, write_partition(frame, path))
    manifest = {"version": version, "marts": {"poverty_by_area": {"files": [entry]}}, "submission_ids": ["S" + "0" * 16]}
    (building / "manifest.json").write_text(json.dumps(manifest))
    return version, building


def test_publish_writes_the_manifest_last_and_the_pointer_names_it(settings):
    import hashlib

    assert publishing.current_version(settings) is None
    version, building = _build(settings, [("01", 10), ("02", 20)])
    publishing.publish(settings, version, building)
    zone = store_zone(settings)
    pointer = json.loads(zone.read_bytes("marts/current.json"))
    manifest = zone.read_bytes(f"marts/{version}/manifest.json")
    assert pointer == {"version": version, "manifest_sha256": hashlib.sha256(manifest).hexdigest()}
    assert publishing.current_version(settings) == version
    assert publishing.list_versions(settings) == [version]

    # Another machine (its own working folder, nothing shared but the store) reads the same version.
    from dataclasses import replace

    other = replace(settings, home=settings.home.parent / "other-machine")
    folder = publishing.current_path(other)
    assert folder == other.marts / version
    assert read_mart(folder, "poverty_by_area")["poor_households"].to_list() == [10, 20]


def test_a_stale_pointer_writer_is_refused_and_leaves_no_version(settings):
    first, first_dir = _build(settings, [("01", 1)])
    publishing.publish(settings, first, first_dir)
    zone = store_zone(settings)
    stale = zone.tag("marts/current.json")
    slow, slow_dir = _build(settings, [("01", 2)])        # reads the pointer's ETag now
    fast, fast_dir = _build(settings, [("01", 3)])
    publishing.publish(settings, fast, fast_dir)
    with pytest.raises(publishing.PublishError, match="pointer changed"):
        publishing.publish(settings, slow, slow_dir)
    assert publishing.current_version(settings) == fast
    assert slow not in publishing.list_versions(settings)
    assert list(store_zone(settings).list(f"marts/{slow}/")) == []
    assert not slow_dir.exists()
    # The store itself refuses the stale ETag (not only lnob's own check), and keeps the newer pointer.
    with pytest.raises(Precondition):
        zone.write_if("marts/current.json", b"{}", stale)
    assert publishing.current_version(settings) == fast


def test_rollback_and_reconcile_through_the_pointer(settings):
    registry = Registry(settings.database_url)
    old, old_dir = _build(settings, [("01", 1)])
    publishing.publish(settings, old, old_dir)
    registry.record_publish(old, manifest_path=settings.marts / old / "manifest.json", action="publish",
                            submission_ids=[])
    new, new_dir = _build(settings, [("01", 2)])
    publishing.publish(settings, new, new_dir)
    # Killed before its registry write: the pointer is the truth, the next command records it.
    assert publishing.reconcile_registry(settings, registry) == new
    assert [p.version for p in registry.publishes()] == [old, new]
    # The rollback runs on another machine: it gets a copy of the version it names, to record it from.
    from dataclasses import replace

    other = replace(settings, home=settings.home.parent / "other-machine")
    assert publishing.rollback(other, registry=registry) == old
    assert (other.marts / old / "manifest.json").is_file()
    assert publishing.current_version(settings) == old
    assert json.loads(store_zone(settings).read_bytes("marts/current.json"))["version"] == old
    assert publishing.reconcile_registry(settings, registry) == old
    assert registry.publishes()[-1].action == "rollback"
    with pytest.raises(publishing.PublishError):
        publishing.rollback(settings, "20000101T000000Z-000000")


def test_a_version_without_manifest_is_cleaned_by_the_next_build(settings):
    kept, kept_dir = _build(settings, [("01", 1)])
    publishing.publish(settings, kept, kept_dir)
    zone = store_zone(settings)
    zone.write("marts/20240101T000000Z-00abcd/poverty_by_area/2024.parquet", b"half an upload")
    assert "20240101T000000Z-00abcd" not in publishing.list_versions(settings)
    with publishing.exclusive_build(settings):
        removed = publishing.clean_abandoned(settings)
    assert removed == ["20240101T000000Z-00abcd"]
    assert list(zone.list("marts/20240101T000000Z-00abcd/")) == []
    assert publishing.list_versions(settings) == [kept]


def test_the_build_lock_is_held_in_the_registry(settings):
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        inside.wait()
        with publishing.exclusive_build(settings):
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    with publishing.exclusive_build(settings):
        inside.set()
        thread.join(timeout=1.0)
        assert thread.is_alive(), "a second build ran while the first held the lock"
        order.append("first")
    thread.join(timeout=10)
    assert order == ["first", "second"]
    assert not (settings.marts / ".build.lock").exists()


def test_polars_and_pyarrow_read_the_marts_from_the_store(settings, s3_home):
    import pyarrow.parquet as pq

    version, building = _build(settings, [("01", 10), ("02", 20)])
    publishing.publish(settings, version, building)
    url = f"{s3_home}/marts/{version}/poverty_by_area/2024.parquet"
    frame = pl.read_parquet(url, storage_options=polars_storage_options())
    assert frame["poor_households"].to_list() == [10, 20]
    lazy = pl.scan_parquet(f"{s3_home}/marts/{version}/poverty_by_area/*.parquet",
                           storage_options=polars_storage_options())
    assert lazy.select(pl.col("poor_households").sum()).collect().item() == 30
    table = pq.read_table(url.removeprefix("s3://"), filesystem=pyarrow_filesystem())
    assert table.column("poor_households").to_pylist() == [10, 20]


def test_lnob_refuses_object_storage_without_postgresql(monkeypatch, tmp_path, capsys):
    from lnob.cli import main

    monkeypatch.setenv("LNOB_HOME", "s3://bucket/lnob")
    monkeypatch.setenv("LNOB_WORK_DIR", str(tmp_path))
    monkeypatch.delenv("LNOB_DATABASE_URL", raising=False)
    assert main(["marts"]) == 2
    said = capsys.readouterr().err
    assert "LNOB_DATABASE_URL" in said and "sổ đăng ký" in said and "Traceback" not in said


def test_lnob_marts_prints_the_store_address_and_downloads_a_checked_copy(settings, s3_home, tmp_path, capsys):
    from lnob.cli import main

    version, building = _build(settings, [("01", 10), ("02", 20)])
    publishing.publish(settings, version, building)
    assert main(["marts"]) == 0
    assert capsys.readouterr().out.strip() == f"{s3_home}/marts/{version}"
    target = tmp_path / "copy"
    assert main(["marts", "--download", str(target)]) == 0
    assert read_mart(target, "poverty_by_area")["poor_households"].to_list() == [10, 20]
    assert json.loads((target / "manifest.json").read_text())["version"] == version
    assert main(["marts", "--download", str(target)]) == 1      # never over an existing copy
