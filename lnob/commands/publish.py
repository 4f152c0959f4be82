"""`lnob publish --rollback [VERSION]`: point the live marts back at an earlier published version."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Change which published mart version is current. Builds publish themselves (`lnob build`);
this command undoes that: --rollback with no version goes back to the version published
before the current one; --rollback VERSION makes that published version current. The switch
is one atomic rename, so readers see either the old or the new version, never a mix. Every
rollback is recorded in the registry.
"""

EPILOG = """\
examples:
  lnob publish --rollback                          # back to the previous version
  lnob publish --rollback 20261127T114501Z-0a1b2c  # to a named version (see `lnob marts --list`)
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("publish", help="roll the current marts back to an earlier version",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rollback", nargs="?", const="", default=None, metavar="VERSION",
                        help="make VERSION (default: the version before the current one) current")


def run(args) -> int:
    if args.rollback is None:
        print("lnob publish: nothing to do; use --rollback [VERSION] (builds publish themselves)",
              file=sys.stderr)
        return 2
    import json

    from store import publish as publishing
    from store.registry import Registry
    from store.settings import load_settings

    settings = load_settings()
    registry = Registry(settings.database_url)
    try:
        # A switch killed before it was recorded is recorded first (reconciled to the pointer).
        version = publishing.rollback(settings, args.rollback or None, registry=registry)
    except publishing.PublishError as error:
        print(f"lnob publish: {error}", file=sys.stderr)
        return 1
    manifest_path = settings.marts / version / "manifest.json"
    submission_ids: list[str] = []
    if manifest_path.is_file():
        submission_ids = json.loads(manifest_path.read_text(encoding="utf-8")).get("submission_ids", [])
    registry.record_publish(version, manifest_path=manifest_path, action="rollback", submission_ids=submission_ids)
    print(f"current version: {version} ({settings.marts / version})")
    return 0
