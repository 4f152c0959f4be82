"""Starting and stopping the real servers the end-to-end tests drive, on loopback only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen, *, grace_seconds: float = 15) -> None:
    """Stop a server started with start_new_session=True, with everything it started (its process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
