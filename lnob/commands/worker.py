"""`lnob worker`: a warm validation worker that gives a verdict on each submission as it arrives."""

from __future__ import annotations

import argparse
import os
import sys

DESCRIPTION = """\
Validate submissions as they arrive (kiểm tra bản nộp ngay khi nhận được). With PREFECT_API_URL set,
`lnob submit` and the HTTP front door keep and record a file, emit lnob.submission.received and defer
its validation; this command receives those deferred runs from the Prefect server (a websocket, no
polling) and validates them in validation processes started once and kept warm (lnob and Great
Expectations already imported), so a verdict takes about a second, not a flow run's start-up.

Run one or more on one machine or several: each submission is validated once (the registry's claim),
a worker stopped or killed mid-run leaves its submissions to the `ingest-submission` deployment, which
validates what no worker finished. Every verdict is a task run named validate-submission in the
Prefect UI, with its logs, and emits lnob.submission.accepted or .rejected.

A file that kills its validation process kills that process only; the worker starts another.
Needs: PREFECT_API_URL, the same LNOB_HOME (or object storage) and LNOB_DATABASE_URL as the senders,
and Prefect's task storage shared with them (PREFECT_RESULTS_LOCAL_STORAGE_PATH on a shared folder,
or PREFECT_TASKS_SCHEDULING_DEFAULT_STORAGE_BLOCK).
Stop it with Ctrl-C or SIGTERM.
"""

EPILOG = """\
examples:
  lnob worker                          # one warm validation process, up to 8 runs at once
  lnob worker --processes 2 --limit 16
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="validate submissions as they arrive (needs a Prefect server)",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=1, metavar="N",
                        help="warm validation processes (each validates one batch at a time; default 1)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="deferred runs taken at once; more wait on the server (default 8 per process)")


def run(args) -> int:
    if not os.environ.get("PREFECT_API_URL"):
        print("lnob worker: cần PREFECT_API_URL (địa chỉ máy chủ Prefect) / PREFECT_API_URL must point at the "
              "Prefect server", file=sys.stderr)
        return 2
    if args.processes < 1 or (args.limit is not None and args.limit < 1):
        print("lnob worker: --processes và --limit phải ≥ 1 / --processes and --limit must be at least 1",
              file=sys.stderr)
        return 2
    from flows.validation_task import serve_validation

    print(f"lnob worker: {args.processes} tiến trình kiểm tra / validation processes; chờ bản nộp / waiting "
          f"for submissions at {os.environ['PREFECT_API_URL']}", flush=True)
    try:
        serve_validation(processes=args.processes, limit=args.limit)
    except KeyboardInterrupt:
        pass
    return 0
