"""The landing zone keeps each submitted file once, under its sha256, and never rewrites it."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time

import pytest

from store.settings import load_settings
from store.zones import land, landing_path, report_paths, staging_path


@pytest.fixture
def settings(tmp_path):
    return load_settings(tmp_path / "lnob-home")


def test_landed_bytes_are_named_by_their_sha256(settings):
    content = "Xã Phúc Xá, 2025".encode()
    landed = land(settings, content)
    expected_hash = hashlib.sha256(content).hexdigest()
    assert landed.content_hash == expected_hash
    assert landed.path == settings.landing / expected_hash[:2] / expected_hash
    assert landed.path == landing_path(settings, expected_hash)
    assert landed.path.read_bytes() == content
    assert landed.byte_size == len(content)
    assert not landed.already_present


def test_a_landed_file_is_read_only(settings):
    landed = land(settings, b"keep me as I am")
    assert not os.stat(landed.path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_landing_the_same_bytes_again_does_not_touch_the_file(settings):
    first = land(settings, b"the same bytes")
    before = os.stat(first.path)
    time.sleep(0.02)
    again = land(settings, b"the same bytes")
    after = os.stat(again.path)
    assert again.already_present
    assert again.path == first.path
    assert (after.st_ino, after.st_mtime_ns, after.st_ctime_ns) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_ctime_ns,
    )


def test_a_file_is_streamed_in_chunks_and_lands_with_the_same_hash_as_its_bytes(settings, tmp_path):
    big = tmp_path / "big.csv"
    # More than three read chunks, not a multiple of the chunk size.
    content = os.urandom(3 * 1024 * 1024 + 12345)
    big.write_bytes(content)
    landed = land(settings, big)
    assert landed.content_hash == hashlib.sha256(content).hexdigest()
    assert landed.byte_size == len(content)
    assert landed.path.read_bytes() == content
    assert land(settings, content).already_present


def test_concurrent_landings_of_the_same_bytes_write_it_once(settings):
    content = os.urandom(256 * 1024)
    start = threading.Barrier(8)
    results = []

    def land_it():
        start.wait()
        results.append(land(settings, content))

    threads = [threading.Thread(target=land_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len({result.path for result in results}) == 1
    assert sum(not result.already_present for result in results) == 1
    assert results[0].path.read_bytes() == content
    # No temporary files are left beside the landed one.
    assert os.listdir(results[0].path.parent) == [results[0].content_hash]


def test_landing_path_refuses_anything_but_a_sha256(settings):
    for bad in ["../../etc/passwd", "ABC", "g" * 64, "A" * 64]:
        with pytest.raises(ValueError):
            landing_path(settings, bad)


def test_staging_path_follows_the_kind_and_year_layout(settings):
    path = staging_path(settings, "household", 2025, "S0123456789abcdef")
    assert path == settings.staging / "household" / "year=2025" / "S0123456789abcdef.parquet"
    assert path.parent.is_dir()
    with pytest.raises(ValueError):
        staging_path(settings, "household", 2025, "../S0123456789abcdef")
    with pytest.raises(ValueError):
        staging_path(settings, "../household", 2025, "S0123456789abcdef")


def test_report_paths_are_a_json_and_an_html_under_reports(settings):
    json_path, html_path = report_paths(settings, "S0123456789abcdef")
    assert json_path == settings.reports / "S0123456789abcdef.json"
    assert html_path == settings.reports / "S0123456789abcdef.html"
    assert settings.reports.is_dir()


def test_concurrent_writers_of_one_file_each_get_their_own_temporary(tmp_path):
    from store.zones import temporary_beside

    target = tmp_path / "S0123.request.json"
    names = {temporary_beside(target) for _ in range(1000)}
    assert len(names) == 1000
    assert all(name.parent == tmp_path and name != target for name in names)
