"""Commune files arriving at a steady rate, each sent as `lnob submit` sends it with a Prefect server
configured: kept and recorded (no validation here), lnob.submission.received emitted, validation deferred
to the warm workers (flows.validation_task.hand_over).

    python -m bench.arrivals files.json out.jsonl --per-second 2 [--kill-pid PID --kill-after N]

`files.json` is a list of {"path", "unit_code", "year"}; each line of `out.jsonl` is one submission:
{"submission_id", "sent_at" (epoch s, when the send began), "handed_s" (how long the send took)}.
Run with PREFECT_API_URL, LNOB_HOME and PREFECT_HOME of the stack under test. `--kill-pid` kills that
process (SIGKILL) once N files have been sent: a worker dying mid-burst, for the end-to-end test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SENDERS = 4


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.arrivals")
    parser.add_argument("files")
    parser.add_argument("out")
    parser.add_argument("--per-second", type=float, default=2.0, help="0: all at once")
    parser.add_argument("--kill-pid", type=int, default=None)
    parser.add_argument("--kill-after", type=int, default=None)
    args = parser.parse_args(argv)

    from flows.validation_task import hand_over
    from pipeline.intake import submit
    from store.registry import Registry
    from store.settings import load_settings

    settings = load_settings()
    registry = Registry(settings.database_url)
    files = json.loads(Path(args.files).read_text(encoding="utf-8"))
    gap = 1.0 / args.per_second if args.per_second > 0 else 0.0
    lines: list[str] = []

    def send(file: dict) -> None:
        sent_at = time.time()
        verdict = submit(settings, file["path"], level="commune", unit_code=file["unit_code"], year=file["year"],
                         registry=registry, validate=False)
        if verdict["status"] == "received":
            hand_over(verdict)
        lines.append(json.dumps({"submission_id": verdict["submission_id"], "sent_at": sent_at,
                                 "handed_s": time.time() - sent_at}))

    # Steady arrivals: each send starts on its own tick, in its own thread (as separate submitters would),
    # whatever the previous ones took.
    begun = time.monotonic()
    with ThreadPoolExecutor(max_workers=SENDERS) as senders:
        sending = []
        for position, file in enumerate(files):
            if args.kill_pid and position == args.kill_after:
                os.kill(args.kill_pid, signal.SIGKILL)
            pause = begun + position * gap - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sending.append(senders.submit(send, file))
        for done in sending:
            done.result()
    Path(args.out).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
