"""Who holds a claim on a submission, and keeping it while the work lasts.

A claim in the registry is a lease (store/registry.py): `worker_name()` names this process so that a
later drain on the same host can tell its claims are orphaned the moment the process is gone
(`end_dead_claims`), without waiting for the lease to run out; `holding()` renews the lease while a
batch is validated, so a slow batch is never mistaken for an abandoned one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from store.publish import pid_alive
from store.registry import DEFAULT_LEASE, Registry

# Renewed this many times per lease: one missed renewal (a busy database) does not lose the claim.
RENEWALS_PER_LEASE = 3

_instance = uuid.uuid4().hex[:6]
log = logging.getLogger(__name__)


def worker_name(role: str | None = None) -> str:
    """`host:pid:instance[:role]`: the pid lets the same host see when the holder died."""
    name = f"{socket.gethostname()}:{os.getpid()}:{_instance}"
    return f"{name}:{role}" if role else name


def end_orphaned_claims(registry: Registry) -> list[str]:
    """End the claims of this host's processes that died holding them; they are claimable at once."""
    return registry.end_dead_claims(socket.gethostname(), pid_alive)


@contextmanager
def holding(registry: Registry, worker: str, submission_ids: Sequence[str], *,
            lease: timedelta = DEFAULT_LEASE) -> Iterator[None]:
    """Renew `worker`'s lease on these submissions in the background until the block ends."""
    stop = threading.Event()
    ids = list(submission_ids)

    def renew() -> None:
        while not stop.wait(lease.total_seconds() / RENEWALS_PER_LEASE):
            try:
                registry.renew_leases(worker, ids, lease=lease)
            except Exception:   # the next renewal tries again; the lease is still running
                log.warning("renewing the claims of %s failed; trying again", worker, exc_info=True)

    thread = threading.Thread(target=renew, name="lnob-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
