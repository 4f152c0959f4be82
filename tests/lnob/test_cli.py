"""The command answers `--help` without loading the heavy libraries, and every subcommand explains itself."""

import subprocess
import sys

HEAVY = ("polars", "pyarrow", "prefect", "great_expectations", "pandas", "sqlalchemy", "duckdb")


def test_help_imports_no_heavy_library():
    probe = (
        "import sys, contextlib, io\n"
        "from lnob.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"`lnob --help` imported {out.stdout.strip()}"


def test_every_subcommand_has_help_with_an_example():
    from lnob.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert subparsers.choices, "no subcommands registered"
    for name, sub in subparsers.choices.items():
        text = sub.format_help()
        assert sub.description, f"`lnob {name} --help` has no description"
        assert "lnob " + name in text, f"`lnob {name} --help` shows no example of its use"


def test_bare_command_prints_help_and_succeeds():
    out = subprocess.run([sys.executable, "-m", "lnob"], capture_output=True, text=True, check=False)
    assert out.returncode == 0
    assert "Leave No One Behind" in out.stdout
