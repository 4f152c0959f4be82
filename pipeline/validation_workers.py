"""Validation in separate worker processes, so that a file that kills its reader kills only that process.

A spreadsheet can be built to make a reader allocate hundreds of GiB or loop for ever; any unit with a
token can send one. The HTTP front door and the batch drain therefore validate in `WorkerPool` processes:
started once (spawned, not forked: Polars' thread pools do not survive a fork), warmed (lnob's modules and
Great Expectations loaded), then reused batch after batch. Each batch a worker takes is watched from here:

- memory: the worker's resident memory is read from /proc every WATCH_SECONDS and the worker is killed
  past the limit (an address-space rlimit would not do: Polars reserves far more address space than it
  touches, and a few GiB of it break its thread pools);
- time: a wall-clock limit per file of the batch.

A worker that dies (killed here, aborted, out of memory) takes no verdict with it: its batch is validated
again one file per worker, and a file that kills its worker on its own gets a final verdict, rejected with
a finding that says why (too large to read, with the limit; or too slow), in both languages. The rest of
the batch, and the process that called, carry on.

Limits (environment, read when a pool starts):
LNOB_VALIDATION_MEMORY_MIB     resident memory one worker may use (default 3072)
LNOB_VALIDATION_SECONDS        wall-clock time per file of a batch (default 120), plus WARM_SECONDS once

Test hook: LNOB_TEST_ABORT_MARKER=<text>: a worker aborts (os.abort) on a landed file that holds the text,
as a reader that crashes would; never set outside tests.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from typing import Self

from store.registry import Registry
from store.settings import Settings

DEFAULT_MEMORY_MIB = 3072
DEFAULT_SECONDS_PER_FILE = 120.0
WARM_SECONDS = 120.0
WATCH_SECONDS = 0.05
ABORT_MARKER_SETTING = "LNOB_TEST_ABORT_MARKER"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    seconds_per_file: float

    @classmethod
    def from_environment(cls) -> Limits:
        memory_mib = float(os.environ.get("LNOB_VALIDATION_MEMORY_MIB") or DEFAULT_MEMORY_MIB)
        seconds = float(os.environ.get("LNOB_VALIDATION_SECONDS") or DEFAULT_SECONDS_PER_FILE)
        return cls(memory_bytes=int(memory_mib * 1024 * 1024), seconds_per_file=seconds)


class WorkerDied(RuntimeError):
    """The worker process ended without answering; `reason` is "memory", "time" or "died"."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


# --- inside a worker ---------------------------------------------------------------------------------

def _abort_on_marker(records: list, settings: Settings) -> None:
    marker = os.environ.get(ABORT_MARKER_SETTING)
    if not marker:
        return
    from store.zones import landing_path

    for record in records:
        if marker.encode("utf-8") in landing_path(settings, record.content_hash).read_bytes():
            os.abort()


def _serve(connection) -> None:
    """A worker's life: warm up, then validate one claimed batch per message until told to stop."""
    from pipeline import ingest

    try:
        from expectations.runner import get_runner

        runner = get_runner()
    except Exception:   # the first batch shows why, in its verdicts
        log.exception("warming Great Expectations failed in a validation worker")
        runner = None
    connection.send(("ready", os.getpid()))
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        records, settings = message
        try:
            _abort_on_marker(records, settings)
            verdicts = ingest.validate_claimed(records, settings, runner=runner)
            connection.send(("ok", verdicts))
        except Exception as exc:   # noqa: BLE001 — handed to the caller, which raises it there
            connection.send(("error", f"{type(exc).__name__}: {exc}"))


# --- the caller's side -------------------------------------------------------------------------------

def _resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


class _Worker:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=_serve, args=(child_end,), name="lnob-validation-worker",
                                       daemon=True)
        self.process.start()
        child_end.close()
        self.ready = False

    def _wait_ready(self) -> None:
        if self.ready:
            return
        if not self.connection.poll(WARM_SECONDS):
            raise WorkerDied("time", "the validation worker did not start")
        try:
            self.connection.recv()
        except EOFError as exc:
            raise WorkerDied("died", "the validation worker ended while starting") from exc
        self.ready = True

    def run(self, records: list, settings: Settings, limits: Limits) -> list[dict]:
        self._wait_ready()
        self.connection.send((records, settings))
        deadline = time.monotonic() + limits.seconds_per_file * max(1, len(records))
        pid = self.process.pid
        while not self.connection.poll(WATCH_SECONDS):
            if not self.process.is_alive():
                break
            if _resident_bytes(pid) > limits.memory_bytes:
                self.kill()
                raise WorkerDied("memory", f"the validation worker went past {limits.memory_bytes} bytes")
            if time.monotonic() > deadline:
                self.kill()
                raise WorkerDied("time", "the validation worker went past its time limit")
        try:
            kind, answer = self.connection.recv()
        except (EOFError, OSError) as exc:
            self.kill()
            raise WorkerDied("died", f"the validation worker ended (exit code {self.process.exitcode})") from exc
        if kind == "error":
            raise RuntimeError(answer)
        return answer

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)
        self.connection.close()

    def stop(self) -> None:
        try:
            self.connection.send(None)
            self.process.join(timeout=10)
        except (OSError, ValueError):
            pass
        self.kill()


class WorkerPool:
    """Warm validation processes, reused; `validate(records)` runs one claimed batch in one of them.

    Thread-safe: each call takes a free worker (or waits for one). A worker that dies is replaced."""

    def __init__(self, size: int = 1, *, limits: Limits | None = None) -> None:
        self.limits = limits or Limits.from_environment()
        self._free: list[_Worker] = [_Worker() for _ in range(max(1, size))]
        self._available = threading.Condition()
        self._closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        with self._available:
            self._closed = True
            workers, self._free = self._free, []
        for worker in workers:
            worker.stop()

    def _take(self) -> _Worker:
        with self._available:
            while not self._free:
                self._available.wait()
            return self._free.pop()

    def _give(self, worker: _Worker) -> None:
        with self._available:
            if self._closed:
                worker.stop()
                return
            self._free.append(worker)
            self._available.notify()

    def _run_once(self, records: list, settings: Settings) -> list[dict]:
        worker = self._take()
        try:
            verdicts = worker.run(records, settings, self.limits)
        except WorkerDied:
            worker.kill()
            self._give(_Worker())
            raise
        self._give(worker)
        return verdicts

    def validate(self, records: list, settings: Settings, registry: Registry) -> list[dict]:
        """Verdicts of claimed records, in order. A batch whose worker dies is validated again file by file;
        a file that kills its worker alone is rejected with a finding saying why."""
        records = list(records)
        if not records:
            return []
        try:
            return self._run_once(records, settings)
        except WorkerDied as died:
            if len(records) == 1:
                return [reject_unreadable(records[0], settings, registry, died, self.limits)]
            log.warning("a validation worker died on a batch of %d files (%s); validating them one by one",
                        len(records), died)
        verdicts = []
        for record in records:
            current = registry.get(record.submission_id)
            if current is not None and current.status not in ("received", "validating"):
                from pipeline.ingest import stored_verdict

                verdicts.append(stored_verdict(settings, current, duplicate=False))
                continue
            try:
                verdicts += self._run_once([record], settings)
            except WorkerDied as died:
                verdicts.append(reject_unreadable(record, settings, registry, died, self.limits))
        return verdicts


def reject_unreadable(record, settings: Settings, registry: Registry, died: WorkerDied, limits: Limits) -> dict:
    """The final verdict of a file that killed its worker on its own: rejected, with the reason and the limit."""
    from pipeline import batch_write
    from pipeline.batch import Work

    work = Work(record=record, options={})
    if died.reason == "memory":
        limit_mib = limits.memory_bytes // (1024 * 1024)
        work.add("file.too_large_to_read", severity="error", value=f"{limit_mib} MiB",
                 message_vi=f"Tệp quá lớn để đọc: đọc tệp này cần hơn {limit_mib} MiB bộ nhớ (giới hạn cho một tệp). "
                            "Hãy kiểm tra tệp (mở bằng Excel, xoá các trang, dòng, cột thừa, lưu lại) rồi nộp lại.",
                 message_en=f"File too large to read: reading it needs more than {limit_mib} MiB of memory (the "
                            "limit for one file). Check the file (open it, remove extra sheets, rows and columns, "
                            "save it again) and submit it again.")
    elif died.reason == "time":
        seconds = int(limits.seconds_per_file)
        work.add("file.too_slow_to_read", severity="error", value=f"{seconds} s",
                 message_vi=f"Không đọc xong tệp trong {seconds} giây (giới hạn cho một tệp). Hãy kiểm tra tệp "
                            "(mở bằng Excel, xoá các trang, dòng, cột thừa, lưu lại) rồi nộp lại.",
                 message_en=f"The file could not be read within {seconds} seconds (the limit for one file). "
                            "Check the file (open it, remove extra sheets, rows and columns, save it again) and "
                            "submit it again.")
    else:
        work.add("file.cannot_be_read", severity="error", value=None,
                 message_vi="Không đọc được tệp: tiến trình đọc tệp bị dừng đột ngột khi đọc tệp này. Hãy mở tệp, "
                            "lưu lại ở dạng XLSX hoặc CSV rồi nộp lại.",
                 message_en="The file cannot be read: the process reading it stopped abruptly on this file. "
                            "Open it, save it again as XLSX or CSV and submit it again.")
    return batch_write.finish_all([work], settings, registry)[0]
