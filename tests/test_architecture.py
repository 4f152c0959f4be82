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


# Notes kept outside the repository are not there for a user or a new colleague: code and docs cite what
# the repository holds (docs/legal-basis.md, docs/architecture.md).
OUTSIDE_POINTERS = ("../shared", "shared/domain", "domain.md", "domain notes", "stack-notes", "DESIGN.md",
                    "DEVELOPERS")
CHECKED_SUFFIXES = {".py", ".md", ".json", ".csv", ".toml", ".yaml", ".cfg", ".txt"}
SKIPPED_FOLDERS = {".git", ".venv", "lnob.egg-info", "__pycache__", ".lnob", "bench/data"}


def _repository_files():
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT).as_posix()
        if any(relative == s or relative.startswith(s + "/") for s in SKIPPED_FOLDERS) or "/." in "/" + relative:
            continue
        if path.is_file() and path.suffix in CHECKED_SUFFIXES and path != Path(__file__):
            yield path, relative


def test_code_and_docs_point_only_inside_the_repository():
    found = [f"{relative}: {pointer}" for path, relative in _repository_files()
             for pointer in OUTSIDE_POINTERS if pointer in path.read_text(encoding="utf-8", errors="replace")]
    assert not found, "point at docs/legal-basis.md or docs/architecture.md instead:\n" + "\n".join(found)


def _anchors(markdown: str) -> set[str]:
    # GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    headings = (line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#"))
    return {"".join(c for c in h.lower() if c.isalnum() or c in " -").replace(" ", "-") for h in headings}


def test_every_link_into_the_docs_names_a_section_that_exists():
    anchors = {name: _anchors((ROOT / "docs" / name).read_text(encoding="utf-8"))
               for name in ("legal-basis.md", "architecture.md")}
    broken = []
    for path, relative in _repository_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, known in anchors.items():
            for piece in text.split(f"{name}#")[1:]:
                anchor = piece.split()[0].rstrip(").,;:'\"`") if piece.split() else ""
                if anchor not in known:
                    broken.append(f"{relative}: {name}#{anchor}")
    assert not broken, "no such section:\n" + "\n".join(broken)
