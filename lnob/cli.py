"""The `lnob` command: a thin layer over pipeline/ and store/.

Each subcommand lives in `lnob/commands/<name>.py` and exposes `register(subparsers)` and
`run(args) -> int`. Command modules import only the standard library at module level, so that
`lnob --help` answers at once; Polars, Great Expectations and Prefect are imported inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Order here is the order `lnob --help` lists them in.
COMMANDS: tuple[str, ...] = (
    "submit", "status", "approve", "return", "reopen", "approvals", "build", "publish", "marts", "release",
    "explain", "lists", "generate", "template",
    "report", "serve", "worker", "tokens", "export", "reference", "landing", "demo",
)

DESCRIPTION = """\
lnob — Leave No One Behind (Không để ai bị bỏ lại phía sau).

Turns the annual poverty review (rà soát hộ nghèo, hộ cận nghèo) into validated, trusted marts:
communes, districts and provinces submit files; lnob validates each one, keeps its raw bytes,
rolls accepted data up by region, province, district, commune and ethnicity, and publishes
versioned Parquet marts for BI tools.

Settings (environment):
  LNOB_HOME            where the zones live (default ./.lnob)
  LNOB_DATABASE_URL    the registry (default a SQLite file under LNOB_HOME;
                       e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)
  PREFECT_API_URL      when set, submissions and builds go through Prefect: `lnob worker` validates
                       each submission as it arrives, the deployments catch what no worker took
  LNOB_LANDING_KEY     32-byte key (base64 or 64 hex digits): new raw files in landing/ are stored
                       encrypted (AES-GCM); unset, they are kept as submitted (`lnob landing` says which)
  LNOB_ID_HASH_KEY     key of the keyed hash that replaces national ID (CCCD) numbers found in a
                       contract column (default: a random key made once under LNOB_HOME/keys/)
"""

EPILOG = """\
examples:
  lnob generate --provinces 02 --year 2024 -o ./demo-data
  lnob submit ./demo-data/2024/commune/00688.csv --level commune --unit 00688 --year 2024
  lnob build --year 2024
  lnob marts
  lnob release                     # a public copy of the marts, no household disclosed
run `lnob COMMAND --help` for each command's options and an example.
"""


def _load(name: str):
    return importlib.import_module(f"lnob.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lnob", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = _load(name)
        except ModuleNotFoundError as exc:
            if exc.name == f"lnob.commands.{name}":
                continue  # a command not built yet is simply not offered
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    from store.settings import SettingsError

    try:
        return int(_load(args.command).run(args) or 0)
    except SettingsError as error:
        print(f"lnob: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
