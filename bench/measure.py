"""Run one contender in a child process of its own and read its peak memory (VmHWM via wait4's ru_maxrss),
so no contender's memory or warm caches leak into another's figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ChildFailed(RuntimeError):
    pass


def run_child(module: str, spec: dict, *, timeout: float | None = None) -> dict:
    """`python -m <module> <spec.json> <out.json>` in a fresh interpreter; returns the child's JSON output
    plus `peak_rss_mib` (the child's high-water mark of resident memory) and `child_wall_s`."""
    import time

    with tempfile.TemporaryDirectory(prefix="lnob-bench-") as folder:
        spec_path, out_path = Path(folder) / "spec.json", Path(folder) / "out.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", module, str(spec_path), str(out_path)], cwd=ROOT)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if process.returncode != 0 or not out_path.exists():
            raise ChildFailed(f"{module} {spec.get('contender', '')} exited with {process.returncode}")
        result = json.loads(out_path.read_text(encoding="utf-8"))
    # The child's own high-water mark (VmHWM, read by the child at its end) counts only what it used after
    # exec; wait4's ru_maxrss also counts the parent's resident memory at fork time, so it is kept for
    # reference only.
    result["rusage_maxrss_mib"] = usage.ru_maxrss / 1024.0   # Linux reports KiB
    result["peak_rss_mib"] = result.get("vm_hwm_mib", result["rusage_maxrss_mib"])
    result["child_wall_s"] = wall
    return result


def high_water_mib() -> float:
    """This process's peak resident memory so far (VmHWM)."""
    return _status_mib("VmHWM:")


def current_rss_mib() -> float:
    """This process's resident memory now (for the baseline after imports)."""
    return _status_mib("VmRSS:")


def _status_mib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024.0
    return float("nan")
