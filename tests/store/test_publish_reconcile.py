"""Whatever is current is in the registry after any kill: a switch never recorded is reconciled."""

from __future__ import annotations

import json

from store import publish
from store.registry import Registry
from store.settings import Settings


def published(settings, registry, *, record: bool = True) -> str:
    version, building = publish.start_version(settings)
    (building / "manifest.json").write_text(json.dumps({"submission_ids": [f"S{version[-6:]}"]}))
    publish.publish(settings, version, building)
    if record:
        registry.record_publish(version, manifest_path=None, action="publish", submission_ids=[])
    return version


def test_a_rollback_killed_after_the_switch_is_recorded_by_the_next_command(tmp_path, database_url):
    settings = Settings(home=tmp_path, database_url=database_url, max_upload_bytes=1024)
    registry = Registry(database_url)
    first = published(settings, registry)
    second = published(settings, registry)
    # A rollback whose process died between the switch and its registry write:
    publish._point_current_at(settings, first)
    assert registry.publishes()[-1].version == second

    assert publish.rollback(settings, second, registry=registry) == second
    history = [(entry.version, entry.action) for entry in registry.publishes()]
    assert history == [(first, "publish"), (second, "publish"), (first, "rollback")]
    assert publish.reconcile_registry(settings, registry) == second     # the caller had not recorded it yet
    assert publish.reconcile_registry(settings, registry) is None


def test_a_publish_killed_before_its_record_is_recorded_with_its_submissions(tmp_path, database_url):
    settings = Settings(home=tmp_path, database_url=database_url, max_upload_bytes=1024)
    registry = Registry(database_url)
    version = published(settings, registry, record=False)
    assert publish.reconcile_registry(settings, registry) == version
    [entry] = registry.publishes()
    assert (entry.version, entry.action, entry.submission_ids) == (version, "publish", [f"S{version[-6:]}"])
