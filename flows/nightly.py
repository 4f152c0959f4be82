"""The night: validate anything still pending, build every year's marts, publish, announce.

Each task is one unit of work that is safe to retry: a build that fails never becomes current
(store.publish), so retrying it simply builds a new version.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from flows.events import MARTS_PUBLISHED, emit_in_run, marts_resource
from flows.ingest import ingest_submission
from pipeline.build import build_marts
from store import publish
from store.registry import Registry
from store.settings import load_settings


@task(name="build-and-publish-marts", retries=1, retry_delay_seconds=30)
def build_and_publish(year: int | None) -> dict:
    logger = get_run_logger()
    settings = load_settings()
    result = build_marts(settings, year=year, progress=logger.info)
    emit_in_run(MARTS_PUBLISHED, marts_resource(result.version),
                {"path": str(result.path), "built_years": result.built_years,
                 "carried_years": result.carried_years})
    return {"version": result.version, "path": str(result.path), "built_years": result.built_years}


@flow(name="nightly-build", log_prints=True)
def nightly_build(year: int | None = None) -> dict:
    """Rebuild the marts (every year with accepted data, or one year) and publish a new version."""
    settings = load_settings()
    # A switch killed before it was recorded (a rollback, a publish) is recorded before anything else.
    publish.reconcile_registry(settings, Registry(settings.database_url))
    ingest_submission(batch_size=200)
    return build_and_publish(year)


@flow(name="rebuild-year", log_prints=True)
def rebuild_year(year: int) -> dict:
    """Rebuild one review year; the other years' partitions are carried into the new version unchanged."""
    return build_and_publish(year)


@flow(name="rollback-marts", log_prints=True)
def rollback_marts(version: str | None = None) -> str:
    """Make an earlier published version current again (the one before the current when not given)."""
    settings = load_settings()
    registry = Registry(settings.database_url)
    restored = publish.rollback(settings, version, registry=registry)
    registry.record_publish(restored, manifest_path=str(settings.marts / restored /
                                                   "manifest.json"), action="rollback", submission_ids=[])
    emit_in_run(MARTS_PUBLISHED, marts_resource(restored), {"action": "rollback"})
    get_run_logger().info("current mart version is now %s", restored)
    return restored
