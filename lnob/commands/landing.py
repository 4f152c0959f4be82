"""`lnob landing`: which raw files are kept unencrypted, and an operator's audited read of one."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
The landing zone keeps every submitted file byte for byte, as evidence; the files hold personal data.
With LNOB_LANDING_KEY set, each new file is stored encrypted; files landed before the key was set stay
as they were. --unencrypted lists those files (they are never rewritten). --read HASH writes one raw
file, decrypted, to --output; the read is recorded in the registry's audit table with --reader and
--purpose.

Vùng landing giữ nguyên tệp đã nộp (có dữ liệu cá nhân). --unencrypted liệt kê các tệp chưa mã hoá;
--read ghi lại ai đọc tệp nào, vì sao.
"""

EPILOG = """\
examples:
  lnob landing --unencrypted
  lnob landing --read 3f0c…e1 --reader "operator:lan" --purpose "appeal 2024-17" --output ./00688.csv
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("landing", help="list unencrypted raw files, or read one (audited)",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unencrypted", action="store_true", help="list landed files stored unencrypted")
    parser.add_argument("--read", metavar="HASH", help="the content hash of the raw file to read")
    parser.add_argument("--reader", help="who reads it (recorded in the audit table)")
    parser.add_argument("--purpose", help="why (recorded in the audit table)")
    parser.add_argument("--output", metavar="PATH", help="where to write the raw file")


def run(args) -> int:
    from store.settings import load_settings
    from store.zones import landing_protection, unencrypted_landed

    settings = load_settings()
    if args.read:
        if not (args.reader and args.purpose and args.output):
            print("lnob landing: --read needs --reader, --purpose and --output", file=sys.stderr)
            return 2
        from pathlib import Path

        from store.registry import Registry
        from store.zones import read_landed_for_person

        try:
            data = read_landed_for_person(settings, Registry(settings.database_url), args.read,
                                          reader=args.reader, purpose=args.purpose)
        except (OSError, ValueError, RuntimeError) as error:
            print(f"lnob landing: {error}", file=sys.stderr)
            return 1
        Path(args.output).write_bytes(data)
        print(f"{args.output} ({len(data)} bytes; read recorded in the audit table)")
        return 0
    print(landing_protection(settings))
    if args.unencrypted:
        paths = unencrypted_landed(settings)
        for path in paths:
            print(path)
        print(f"{len(paths)} landed file(s) stored unencrypted / tệp lưu chưa mã hoá", file=sys.stderr)
    return 0
