"""The house keeps its shape: the import contracts of pyproject.toml hold (rooms, no cycles, Prefect only in flows).

The contracts and the rooms they protect are described in docs/architecture.md.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
ROOMS = ("schemas", "expectations", "transforms", "store", "documents", "synthetic", "pipeline", "flows", "lnob")


def _config() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["tool"]["importlinter"]


def test_import_contracts_hold():
    # --no-cache: the shared working tree gets no cache folders from a test run.
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_room_is_checked_and_layered_in_the_documented_order():
    config = _config()
    assert tuple(config["root_packages"]) == ROOMS
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    flattened = [room.strip() for layer in reversed(layers) for room in layer.split("|")]
    assert flattened == list(ROOMS), "the layers must list the rooms of docs/architecture.md, ground last"
    cycles = next(c for c in config["contracts"] if c["type"] == "acyclic_siblings")
    assert set(cycles["ancestors"]) == set(ROOMS)


def test_the_architecture_page_names_every_room():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for room in ROOMS:
        assert f"`{room}/`" in page, f"docs/architecture.md does not describe {room}/"
