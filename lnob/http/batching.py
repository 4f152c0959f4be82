"""Uploads validated together: the front door's queue into the warm, isolated batch path.

Each upload is registered in the request (landed, recorded: `received`), then its submission id is put on
one in-process queue. A collector gathers what arrives within WINDOW_SECONDS (or up to MAX_BATCH files)
into one batch, claims it in the registry and validates it in a `WorkerPool` process
(pipeline/validation_workers.py), the same warm, isolated path the batch drain takes: twenty uploads
arriving together cost one Great Expectations validation per kind instead of twenty, and a file that kills
its reader kills only a worker; it gets a final verdict and the server carries on. Each request waits for
its own verdict.

While every worker is busy the queue grows, so the next batch is larger: the rate of verdicts follows the
batch path's rather than one file at a time.

Settings (environment, read at start):
LNOB_HTTP_BATCH_WINDOW_MS     how long the first upload of a batch waits for others (default 200)
LNOB_HTTP_BATCH_MAX           files in one batch at most (default 50)
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from concurrent.futures import Future

from pipeline import claims
from pipeline.validation_workers import WorkerPool
from schemas.vocabulary import FINAL_STATUSES

WINDOW_SECONDS = 0.2
MAX_BATCH = 50
# A submission another process holds (the same bytes sent there too) is looked at again after this.
RETRY_SECONDS = 0.5

log = logging.getLogger("lnob.http")


class UploadBatcher:
    """One queue of registered submissions, validated in batches by a WorkerPool of `workers` processes.

    `wait_for(submission_id)` returns a Future of its verdict. Thread-safe."""

    def __init__(self, settings, registry, *, workers: int = 2, window_seconds: float | None = None,
                 max_batch: int | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.window = (window_seconds if window_seconds is not None
                       else float(os.environ.get("LNOB_HTTP_BATCH_WINDOW_MS") or WINDOW_SECONDS * 1000) / 1000)
        self.max_batch = max(1, max_batch or int(os.environ.get("LNOB_HTTP_BATCH_MAX") or MAX_BATCH))
        self.pool = WorkerPool(max(1, workers))
        self._slots = threading.Semaphore(max(1, workers))
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._waiting: dict[str, list[Future]] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._worker = claims.worker_name("http")
        self._collector = threading.Thread(target=self._collect, name="lnob-upload-batches", daemon=True)
        self._collector.start()

    def wait_for(self, submission_id: str) -> Future:
        """A Future of the submission's verdict. The same bytes uploaded again while the first upload waits
        are one submission, validated once: the later uploads' verdicts say they were sent before."""
        future: Future = Future()
        with self._lock:
            first = submission_id not in self._waiting
            self._waiting.setdefault(submission_id, []).append(future)
        if first:
            self._queue.put(submission_id)
        return future

    def close(self) -> None:
        self._closed.set()
        self._queue.put(None)
        self._collector.join(timeout=30)
        self.pool.close()

    # -- the collector's thread --------------------------------------------------------------------

    def _gather(self) -> list[str]:
        first = self._queue.get()
        if first is None:
            return []
        batch = [first]
        deadline = time.monotonic() + self.window
        while len(batch) < self.max_batch:
            try:
                # Whatever queued while the workers were busy is taken at once; then the window runs.
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)
                break
            batch.append(item)
        return list(dict.fromkeys(batch))

    def _collect(self) -> None:
        while not self._closed.is_set():
            self._slots.acquire()   # gather only when a worker is free: a busy pool makes the next batch bigger
            ids = self._gather()
            if not ids:
                self._slots.release()
                continue
            threading.Thread(target=self._run_batch, args=(ids,), name="lnob-upload-batch", daemon=True).start()

    def _run_batch(self, ids: list[str]) -> None:
        try:
            self._validate(ids)
        except BaseException as exc:   # every waiting request hears of it
            log.exception("validating a batch of %d uploads failed", len(ids))
            for submission_id in ids:
                self._answer(submission_id, error=exc)
        finally:
            self._slots.release()

    def _validate(self, ids: list[str]) -> None:
        from pipeline.ingest import stored_verdict

        claims.end_orphaned_claims(self.registry)
        claimed, later = [], []
        for submission_id in ids:
            record = self.registry.claim(submission_id, self._worker)
            if record is not None:
                claimed.append(record)
                continue
            current = self.registry.get(submission_id)
            if current is not None and current.status in FINAL_STATUSES:
                self._answer(submission_id, verdict=stored_verdict(self.settings, current, duplicate=False))
            else:
                later.append(submission_id)   # held by another live process: its verdict will be this one's
        if claimed:
            with claims.holding(self.registry, self._worker, [r.submission_id for r in claimed]):
                verdicts = self.pool.validate(claimed, self.settings, self.registry)
            for verdict in verdicts:
                self._answer(verdict["submission_id"], verdict=verdict)
            # A verdict the batch did not return (a check of lnob's own that stopped) is read back.
            for record in claimed:
                if self._pending(record.submission_id):
                    current = self.registry.get(record.submission_id)
                    self._answer(record.submission_id, verdict=stored_verdict(self.settings, current,
                                                                              duplicate=False))
        if later:
            threading.Timer(RETRY_SECONDS, lambda: [self._queue.put(i) for i in later]).start()

    def _pending(self, submission_id: str) -> bool:
        with self._lock:
            return submission_id in self._waiting

    def _answer(self, submission_id: str, *, verdict: dict | None = None, error: BaseException | None = None) -> None:
        with self._lock:
            futures = self._waiting.pop(submission_id, [])
        for position, future in enumerate(futures):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(verdict if position == 0 else {**verdict, "duplicate": True})
