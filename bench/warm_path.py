"""Submit → verdict through warm `lnob worker` processes and a real Prefect server on loopback.

    python -m bench.warm_path spec.json out.json      (or: python -m bench.warm_path --files N --steady N)

For one and for two workers (each with one warm validation process), on a fresh LNOB_HOME each time:
- steady: `steady` commune files of about 3,000 households arriving `per_second` a second (bench.arrivals
  sends them as `lnob submit` does: keep, record, emit lnob.submission.received, defer); each file's
  latency runs from the start of its send to the registry's final status; p50 / p95 / max;
- saturation: `burst` other files sent all at once; files/s from the first send to the last verdict.
Two warm-up files go first (not counted). The server, the ingest deployment (its proactive trigger is the
safety net) and the process worker are flows.local_stack's; everything is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flows.local_stack import REPO, local_prefect, stop_process_group, wait_for

FINAL = ("accepted", "rejected")
VERDICT_TIMEOUT_S = 600
WARM_UP_FILES = 2


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _send(env: dict, files: list[dict], out: Path, per_second: float) -> list[dict]:
    listing = out.with_suffix(".files.json")
    listing.write_text(json.dumps(files), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "bench.arrivals", str(listing), str(out), "--per-second",
                    str(per_second)], env=env, cwd=REPO, check=True, timeout=3600)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _verdict_times(registry, sent: list[dict], logs) -> dict[str, float]:
    """Epoch seconds of each submission's final status (waits for all of them)."""
    ids = [s["submission_id"] for s in sent]
    wait_for("every verdict", lambda: all(registry.get(i).status in FINAL for i in ids), VERDICT_TIMEOUT_S, logs,
             interval=0.5)
    return {i: next(c.at for c in registry.history(i) if c.status in FINAL).timestamp() for i in ids}


def _one_setup(stack, root: Path, workers: int, files: list[dict], spec: dict) -> dict:
    from store.registry import Registry
    from store.settings import load_settings

    home = root / f"home-{workers}"
    env = {**stack.env, "LNOB_HOME": str(home)}
    registry = Registry(load_settings(home).database_url)
    logs = [root / f"worker-{workers}-{n}.log" for n in range(workers)]
    started = []
    try:
        for log in logs:
            with open(log, "wb") as out:
                started.append(subprocess.Popen([sys.executable, "-m", "lnob", "worker", "--processes", "1"],
                                                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True))

        def all_logs() -> str:
            return stack.logs() + "".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                                          for log in logs)

        wait_for("the workers to subscribe", lambda: all("Subscribing to runs" in log.read_text(errors="replace")
                                                          for log in logs), 180, all_logs)
        warm = files[:WARM_UP_FILES]
        steady = files[WARM_UP_FILES:WARM_UP_FILES + spec["steady"]]
        burst = files[WARM_UP_FILES + spec["steady"]:WARM_UP_FILES + spec["steady"] + spec["burst"]]
        _verdict_times(registry, _send(env, warm, root / f"warm-{workers}.jsonl", 1.0), all_logs)

        sent = _send(env, steady, root / f"steady-{workers}.jsonl", spec["per_second"])
        decided = _verdict_times(registry, sent, all_logs)
        latencies = [decided[s["submission_id"]] - s["sent_at"] for s in sent]
        handed = [s["handed_s"] for s in sent]

        sent_burst = _send(env, burst, root / f"burst-{workers}.jsonl", 0)
        decided_burst = _verdict_times(registry, sent_burst, all_logs)
        burst_s = max(decided_burst.values()) - min(s["sent_at"] for s in sent_burst)
        statuses: dict[str, int] = {}
        for s in [*sent, *sent_burst]:
            status = registry.get(s["submission_id"]).status
            statuses[status] = statuses.get(status, 0) + 1
        return {
            "workers": workers, "files": len(sent), "per_second": spec["per_second"],
            "households_mean": statistics.fmean(f["rows"] for f in steady),
            "verdict_p50_s": statistics.median(latencies), "verdict_p95_s": _percentile(latencies, 0.95),
            "verdict_max_s": max(latencies), "send_p50_s": statistics.median(handed),
            "send_p95_s": _percentile(handed, 0.95),
            "burst_files": len(sent_burst), "burst_s": burst_s, "saturation_files_per_s": len(sent_burst) / burst_s,
            "statuses": statuses,
        }
    finally:
        for process in started:
            stop_process_group(process, grace_seconds=10)


def measure(spec: dict) -> dict:
    root = Path(tempfile.mkdtemp(prefix="lnob-bench-warm-"))
    files = spec["files"]
    begun = time.perf_counter()
    with local_prefect(root / "prefect", deployments=["ingest-submission"], env={"LNOB_HOME": str(root / "home")}
                       ) as stack:
        setup_s = time.perf_counter() - begun
        runs = [_one_setup(stack, root, workers, files, spec) for workers in spec.get("workers", [1, 2])]
    return {"setup_s": setup_s, "runs": runs}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.warm_path")
    parser.add_argument("spec", nargs="?")
    parser.add_argument("out", nargs="?")
    parser.add_argument("--steady", type=int, default=200)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--per-second", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--update-latest", action="store_true",
                        help="write the figures into bench/results/latest.json (event_verdict_*, workers)")
    args = parser.parse_args(argv)
    if args.spec:
        spec = json.loads(Path(args.spec).read_text(encoding="utf-8"))
    else:
        from bench.ingest import INGEST_YEAR, commune_files

        needed = WARM_UP_FILES + args.steady + args.burst
        available = commune_files(needed, args.seed)
        files = [{**f, "year": INGEST_YEAR} for f in available[:needed]]
        spec = {"files": files, "steady": args.steady, "burst": args.burst, "per_second": args.per_second}
    result = measure(spec)
    text = json.dumps(result, indent=1, default=str)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    if args.update_latest:
        latest_path = REPO / "bench" / "results" / "latest.json"
        latest = json.loads(latest_path.read_text(encoding="utf-8"))
        one = next(run for run in result["runs"] if run["workers"] == 1)
        latest.update(event_verdict_p50_s=one["verdict_p50_s"], event_verdict_p95_s=one["verdict_p95_s"],
                      event_verdict_max_s=one["verdict_max_s"], workers=result["runs"])
        latest_path.write_text(json.dumps(latest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
