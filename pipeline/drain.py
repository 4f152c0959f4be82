"""Validate everything waiting for a verdict, each batch in an isolated worker process.

    drain_pending(settings, batch_size)     → [verdict, ...]

What waits: received submissions, and those whose earlier claim ended without a verdict (its process was
killed: at once on this host, after its lease elsewhere). A batch runs in a WorkerPool process
(pipeline/validation_workers.py), so a file that kills its reader costs only that worker; the claims are
renewed from here while it runs.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline import claims
from pipeline.validation_workers import WorkerPool
from store.registry import Registry
from store.settings import Settings


def drain_pending(settings: Settings, batch_size: int = 50, *, registry: Registry | None = None,
                  pool: WorkerPool | None = None,
                  on_batch: Callable[[list[dict]], None] | None = None) -> list[dict]:
    """Validate every submission waiting for a verdict, `batch_size` at a time; a pool is started and
    stopped here when none is given. `on_batch` hears each batch's verdicts as they come (progress)."""
    registry = registry or Registry(settings.database_url)
    worker = claims.worker_name()
    claims.end_orphaned_claims(registry)
    own_pool = pool is None
    pool = pool or WorkerPool(1)
    verdicts: list[dict] = []
    try:
        while batch := registry.claim_pending(batch_size, worker):
            with claims.holding(registry, worker, [record.submission_id for record in batch]):
                done = pool.validate(batch, settings, registry)
            verdicts += done
            if on_batch is not None:
                on_batch(done)
    finally:
        if own_pool:
            pool.close()
    return verdicts
