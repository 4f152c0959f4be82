"""`lnob tokens`: issue, list and revoke the bearer tokens of the HTTP front door."""

from __future__ import annotations

import argparse
import json
import sys

from schemas.vocabulary import TOKEN_LEVELS

DESCRIPTION = """\
Bearer tokens for `lnob serve`. A token belongs to one unit:
  commune   submits and reads its own commune only
  district  itself and its communes
  province  itself, its districts and their communes
  operator  everything (no --unit)
"Its communes" follow the geography of each review year. A token is printed once, when issued;
the registry keeps only its SHA-256, so a lost token is revoked and a new one issued.
"""

EPILOG = """\
examples:
  lnob tokens issue --level commune --unit 00688 --expires 30 --note "Phường Quang Trung, cán bộ thống kê"
  lnob tokens issue --level operator --note "central data team"
  lnob tokens list
  lnob tokens revoke 3
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("tokens", help="issue, list and revoke API tokens",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="tokens_action", metavar="ACTION", required=True)

    issue = actions.add_parser("issue", help="create a token and print it once",
                               description="Create a token for one unit and print it (only this once).",
                               epilog="example:\n  lnob tokens issue --level district --unit 001 --expires 90",
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    issue.add_argument("--level", required=True, choices=TOKEN_LEVELS)
    issue.add_argument("--unit", help="the unit's code: commune 5, district 3, province 2 digits (none for operator)")
    issue.add_argument("--expires", type=float, metavar="DAYS", help="valid for this many days (default: no end)")
    issue.add_argument("--note", help="who holds it, for `lnob tokens list`")
    issue.add_argument("--json", action="store_true", help="print {token_id, token, level, unit_code} as JSON")

    revoke = actions.add_parser("revoke", help="revoke a token by its id",
                                description="Revoke a token: from now on it is refused with 401.",
                                epilog="example:\n  lnob tokens revoke 3",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    revoke.add_argument("token_id", type=int, metavar="ID")

    listing = actions.add_parser("list", help="list tokens (never the tokens themselves)",
                                 description="List every token: id, level, unit, state, dates and note.",
                                 epilog="example:\n  lnob tokens list --json",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    listing.add_argument("--json", action="store_true", help="print the list as JSON")


def run(args) -> int:
    from lnob.http import auth
    from store.registry import Registry
    from store.settings import load_settings

    registry = Registry(load_settings().database_url)
    if args.tokens_action == "issue":
        try:
            token_id, token = auth.issue_token(registry, args.level, args.unit, expires_days=args.expires,
                                               note=args.note)
        except ValueError as exc:
            print(f"lnob tokens issue: {exc}", file=sys.stderr)
            return 2
        unit = auth.check_token_unit(args.level, args.unit)
        if args.json:
            print(json.dumps({"token_id": token_id, "token": token, "level": args.level, "unit_code": unit}))
        else:
            print(f"token {token_id} for {args.level} {unit} (shown only now, keep it safe):\n{token}")
        return 0
    if args.tokens_action == "revoke":
        revoked = registry.revoke_token(args.token_id)
        registry.audit(action="token.revoke", result="revoked" if revoked else "not_found_or_already_revoked",
                       token_id=args.token_id, target=f"token:{args.token_id}")
        if not revoked:
            print(f"lnob tokens revoke: no active token {args.token_id} (see `lnob tokens list`)", file=sys.stderr)
            return 1
        print(f"token {args.token_id} revoked")
        return 0
    rows = [_token_row(record) for record in registry.list_tokens()]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    print(f"{'id':>4}  {'level':<9} {'unit':<6} {'state':<8} {'created (UTC)':<17} {'expires (UTC)':<17} note")
    for row in rows:
        print(f"{row['token_id']:>4}  {row['level']:<9} {row['unit_code']:<6} {row['state']:<8} "
              f"{row['created_at'][:16]:<17} {(row['expires_at'] or '-')[:16]:<17} {row['note'] or ''}")
    return 0


def _token_row(record) -> dict:
    state = "revoked" if record.revoked_at else ("active" if record.is_active() else "expired")
    return {"token_id": record.token_id, "level": record.level, "unit_code": record.unit_code, "state": state,
            "created_at": record.created_at.isoformat(),
            "expires_at": record.expires_at.isoformat() if record.expires_at else None,
            "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None, "note": record.note}
