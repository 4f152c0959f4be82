"""A real `lnob serve` for the HTTP tests: uvicorn in a subprocess on a free loopback port, with its own
LNOB_HOME and SQLite registry, started once per test module and stopped by its process id."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
                        max_upload_bytes=int(TEST_MAX_UPLOAD_MIB * 1024 * 1024))

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def lnob_server(tmp_path_factory) -> LnobServer:
    import httpx

    home = tmp_path_factory.mktemp("lnob-home")
    log_path = home.parent / f"{home.name}-serve.log"
    port = free_loopback_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PREFECT_API", "LNOB_"))}   # in-process pipeline, this test's zones only
    env.update(LNOB_HOME=str(home), LNOB_MAX_UPLOAD_MIB=str(TEST_MAX_UPLOAD_MIB), PYTHONUNBUFFERED="1")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "lnob", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = LnobServer(f"http://127.0.0.1:{port}", home, env, log_path)
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
