"""A real `lnob serve` for the HTTP tests: uvicorn in a subprocess on a free loopback port, with its own
LNOB_HOME and SQLite registry, started once per test module and stopped by its process id."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.local_stack import free_loopback_port, stop_process_group

# Small on purpose: the 413 test needs an upload above it, every other upload stays far below.
TEST_MAX_UPLOAD_MIB = 0.25
STARTUP_SECONDS = 60


@dataclass
class LnobServer:
    base_url: str
    home: Path
    env: dict[str, str]
    log_path: Path
    max_upload_mib: float = TEST_MAX_UPLOAD_MIB
    process: subprocess.Popen | None = None

    def lnob(self, *args: str) -> subprocess.CompletedProcess:
        """Run the `lnob` command against this server's home."""
        return subprocess.run([sys.executable, "-m", "lnob", *args], env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)

    def registry(self):
        from store.registry import Registry

        return Registry(self.settings().database_url)

    def settings(self):
        """The server's settings (its environment, not this test process's)."""
        from store.settings import Settings

        return Settings(home=self.home, database_url=f"sqlite:///{self.home / 'registry.db'}",
                        max_upload_bytes=int(self.max_upload_mib * 1024 * 1024))

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def running_lnob_serve(home: Path, *, env: dict[str, str], serve_args: tuple[str, ...] = (),
                       max_upload_mib: float = TEST_MAX_UPLOAD_MIB) -> Iterator[LnobServer]:
    """`lnob serve` on a free loopback port over `home`, the environment cleared of PREFECT_API* and LNOB_*
    (in-process pipeline, this test's zones only) then given `env`; yields once it answers /healthz and
    stops it by its process group."""
    import httpx

    log_path = home.parent / f"{home.name}-serve.log"
    port = free_loopback_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_API", "LNOB_"))}
    environment.update(LNOB_HOME=str(home), LNOB_MAX_UPLOAD_MIB=str(max_upload_mib), PYTHONUNBUFFERED="1", **env)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "lnob", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning", *serve_args],
            env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = LnobServer(f"http://127.0.0.1:{port}", home, environment, log_path, max_upload_mib, process)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"`lnob serve` exited with {process.returncode}:\n{server.log()}")
            try:
                if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`lnob serve` did not answer /healthz within {STARTUP_SECONDS} s:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        stop_process_group(process)


@pytest.fixture(scope="session")
def serve_lnob():
    """`running_lnob_serve`, for test modules that start a server of their own (conftest is not importable)."""
    return running_lnob_serve


@pytest.fixture(scope="module")
def lnob_server(tmp_path_factory) -> Iterator[LnobServer]:
    yield from running_lnob_serve(tmp_path_factory.mktemp("lnob-home"), env={})
