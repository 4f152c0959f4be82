"""Validation as a deferred Prefect task, run by warm `lnob worker` processes as submissions arrive.

    hand_over(verdict)                  the sender's side (`lnob submit`, the HTTP front door, with
                                        PREFECT_API_URL): emit lnob.submission.received, defer validation
    serve_validation(processes, limit)  the worker's side (`lnob worker`): warm validation processes, then
                                        Prefect's task worker, which receives the deferred runs over the
                                        server's websocket

A deferred run carries the submission id only (Prefect keeps a task's parameters in its result storage:
no file contents or personal data go there). The run claims the submission through the registry's lease
(pipeline/claims.py): a submission decided or held by a live worker is left alone, so a run delivered
twice, or racing the `ingest-submission` deployment, validates nothing twice. A worker killed mid-run
leaves claims on a dead process; the deployment's safety net (prefect.yaml) ends them and validates what
they held, and a file that killed its process MAX_ATTEMPTS times gets a final "cannot be read" verdict.

Runs that arrive within BATCH_WINDOW_S of each other are validated together (`_Batcher`): one Great
Expectations validation per batch, in one of the warm processes (pipeline/validation_workers.py).
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.events import SUBMISSION_RECEIVED, emit_and_wait, emit_in_run, submission_resource, verdict_event
from pipeline import claims
from pipeline.ingest import stored_verdict
from pipeline.validation_workers import WorkerPool
from schemas.vocabulary import FINAL_STATUSES
from store.registry import Registry
from store.settings import Settings, load_settings

BATCH_WINDOW_S = 0.15     # how long the first run that finds the batcher idle waits for others to join
MAX_BATCH = 50            # a batch never holds more files than this
DEFAULT_LIMIT_PER_PROCESS = 8


class _Batcher:
    """Gathers claimed submissions from concurrent task runs and validates them together in the pool;
    each run waits for its own verdict."""

    def __init__(self, pool: WorkerPool, settings: Settings, registry: Registry, processes: int) -> None:
        self.pool, self.settings, self.registry = pool, settings, registry
        self._waiting: queue.Queue[tuple[Any, Future]] = queue.Queue()
        self._slots = threading.Semaphore(max(1, processes))
        threading.Thread(target=self._gather, name="lnob-batcher", daemon=True).start()

    def validate(self, record) -> dict:
        done: Future = Future()
        self._waiting.put((record, done))
        return done.result()

    def _gather(self) -> None:
        while True:
            first = self._waiting.get()
            # A free warm process first: while all are busy, arrivals keep joining the next batch.
            self._slots.acquire()
            batch = [first]
            try:
                batch.append(self._waiting.get(timeout=BATCH_WINDOW_S))
                while len(batch) < MAX_BATCH:
                    batch.append(self._waiting.get_nowait())
            except queue.Empty:
                pass
            threading.Thread(target=self._run, args=(batch,), name="lnob-batch", daemon=True).start()

    def _run(self, batch: list[tuple[Any, Future]]) -> None:
        try:
            records = [record for record, _done in batch]
            worker = claims.worker_name()
            with claims.holding(self.registry, worker, [r.submission_id for r in records]):
                verdicts = self.pool.validate(records, self.settings, self.registry)
            by_id = {v["submission_id"]: v for v in verdicts}
            for record, done in batch:
                done.set_result(by_id[record.submission_id])
        except BaseException as exc:  # noqa: BLE001 — each waiting run fails with it; its claim runs out
            for _record, done in batch:
                if not done.done():
                    done.set_exception(exc)
        finally:
            self._slots.release()


_batcher: _Batcher | None = None


def _summary(verdict: dict, outcome: str) -> dict:
    """What the task run returns (kept in Prefect's result storage): ids and counts, no findings."""
    return {"submission_id": verdict.get("submission_id"), "status": verdict.get("status"),
            "findings_total": verdict.get("findings_total", 0), "outcome": outcome}


@task(name="validate-submission", cache_policy=NO_CACHE, log_prints=True)
def validate_submission(submission_id: str) -> dict:
    """Claim one submission, validate it in a warm process (with whatever arrived beside it), record the
    verdict and announce it; a submission already decided or held by another live worker is left alone."""
    logger = get_run_logger()
    if _batcher is None:
        raise RuntimeError("validate-submission runs in `lnob worker` (serve_validation), not elsewhere")
    registry, settings = _batcher.registry, _batcher.settings
    claims.end_orphaned_claims(registry)
    claimed = registry.claim(submission_id, claims.worker_name())
    if claimed is None:
        record = registry.get(submission_id)
        if record is None:
            logger.warning("no submission %s in the registry / không có bản nộp này", submission_id)
            return {"submission_id": submission_id, "status": None, "findings_total": 0, "outcome": "unknown"}
        outcome = "already decided" if record.status in FINAL_STATUSES else f"held by {record.claimed_by}"
        logger.info("submission %s: %s (%s), nothing to do here", submission_id, record.status, outcome)
        return _summary(stored_verdict(settings, record, duplicate=False) if record.status in FINAL_STATUSES
                        else {"submission_id": submission_id, "status": record.status}, outcome)
    verdict = _batcher.validate(claimed)
    if verdict["status"] in FINAL_STATUSES:
        emit_in_run(*verdict_event(verdict))
    logger.info("submission %s (%s %s %s): %s, %d findings (attempt %d)", submission_id, claimed.level,
                claimed.unit_code, claimed.year, verdict["status"], verdict.get("findings_total", 0),
                claimed.attempts)
    return _summary(verdict, "validated")


def serve_validation(*, processes: int = 1, limit: int | None = None) -> None:
    """Warm `processes` validation processes, then serve deferred validation runs until stopped, at most
    `limit` at once (default DEFAULT_LIMIT_PER_PROCESS per process): a burst waits on the server, not here."""
    global _batcher
    from prefect.task_worker import serve

    # Task runs here have no flow run: their own logs go to the API, other loggers' lines stay local.
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    settings = load_settings()
    registry = Registry(settings.database_url)
    # The processes warm up (lnob and Great Expectations imported) while the worker connects.
    with WorkerPool(processes) as pool:
        _batcher = _Batcher(pool, settings, registry, processes)
        serve(validate_submission, limit=limit or DEFAULT_LIMIT_PER_PROCESS * processes)


def hand_over(verdict: dict) -> dict:
    """Announce a recorded submission (lnob.submission.received) and defer its validation to the warm
    workers; returns the event and task run ids. The deployment's safety net validates it should no
    worker take it."""
    submission_id = verdict["submission_id"]
    event_id = emit_and_wait(
        SUBMISSION_RECEIVED,
        submission_resource(submission_id, verdict["level"], verdict["unit_code"], verdict["year"]),
        {"kind": verdict.get("kind"), "content_hash": verdict.get("content_hash")})
    future = validate_submission.delay(submission_id)
    return {"event_id": event_id, "task_run_id": str(future.task_run_id)}
