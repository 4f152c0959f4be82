"""`lnob submit FOLDER` and `lnob submit MANIFEST.csv`: every file registered once and validated through the
batch path; a second run adds nothing; a run killed with SIGKILL midway and run again finishes, each file one
submission with a final verdict. The command runs as a submitter runs it: a subprocess with its own home."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy.exc

from store.registry import Registry
from store.settings import load_settings

YEAR = 2024
DISTRICT = "026"   # Hà Giang: 19 small communes at this scale
ROOT = Path(__file__).resolve().parents[2]
FINAL = {"accepted", "rejected", "superseded"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    from synthetic.review import write_synthetic_review

    folder = tmp_path_factory.mktemp("review")
    write_synthetic_review(folder, YEAR, districts=[DISTRICT], seed=11, scale=0.01)
    return folder


def few(generated: Path, target: Path, count: int) -> Path:
    """A copy of the generated folder with `count` commune files and its manifest.json."""
    import shutil

    (target / str(YEAR) / "commune").mkdir(parents=True)
    for path in sorted((generated / str(YEAR) / "commune").iterdir())[:count]:
        shutil.copy(path, target / str(YEAR) / "commune" / path.name)
    shutil.copy(generated / "manifest.json", target / "manifest.json")
    return target


def lnob_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "LNOB_"))}
    env.update(LNOB_HOME=str(home), PYTHONPATH=str(ROOT))
    return env


def submit(path: Path, home: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lnob", "submit", str(path), *extra], env=lnob_env(home),
                          capture_output=True, text=True, timeout=600, check=False, cwd=ROOT)


def records(home: Path) -> list:
    return Registry(load_settings(home).database_url).list_submissions(year=YEAR)


def test_a_folder_is_registered_and_validated_and_a_second_run_changes_nothing(generated, tmp_path):
    folder = few(generated, tmp_path / "in", 4)
    home = tmp_path / "home"
    first = submit(folder, home)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "registered 4/4" in first.stdout and "accepted 4" in first.stdout
    assert str(home / "reports") in first.stdout
    before = {(r.unit_code, r.submission_id, r.status) for r in records(home)}
    assert len(before) == 4
    assert {status for _unit, _id, status in before} == {"accepted"}
    assert {unit for unit, _id, _status in before} == {p.stem for p in (folder / str(YEAR) / "commune").iterdir()}

    again = submit(folder, home)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {(r.unit_code, r.submission_id, r.status) for r in records(home)} == before


def test_a_run_killed_midway_and_run_again_finishes_without_doubles(generated, tmp_path):
    folder = generated
    home = tmp_path / "home"
    files = sorted((folder / str(YEAR)).glob("*/*.csv"))
    process = subprocess.Popen([sys.executable, "-m", "lnob", "submit", str(folder)], env=lnob_env(home),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            # The registry may still be being created by the run: an error here is tried again.
            with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
                if (home / "registry.db").exists() and len(records(home)) >= 3:
                    break
            time.sleep(0.02)
        assert process.poll() is None, "the run ended before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)   # the run and its validation workers, as a machine loses them
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    interrupted = records(home)
    assert len(interrupted) >= 3
    assert any(r.status not in FINAL for r in interrupted) or len(interrupted) < len(files)

    rerun = submit(folder, home)
    assert rerun.returncode in (0, 1), rerun.stdout + rerun.stderr
    finished = records(home)
    assert len(finished) == len(files)
    assert len({r.content_hash for r in finished}) == len(files)
    assert {r.status for r in finished} <= FINAL
    assert all(r.claimed_by is None for r in finished)
    assert f"registered {len(files)}/{len(files)}" in rerun.stdout


def test_a_manifest_csv_lists_the_files_and_a_rejected_one_is_named_with_its_report(generated, tmp_path):
    communes = sorted((generated / str(YEAR) / "commune").iterdir())[:2]
    broken = tmp_path / "lists" / "broken.csv"
    broken.parent.mkdir()
    broken.write_text("household_id,commune_code,household_size\nH1,99999,0\n", encoding="utf-8")
    manifest = tmp_path / "lists" / "nop.csv"
    with open(manifest, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "level", "unit", "year", "kind"])
        for path in communes:
            writer.writerow([str(path), "commune", path.stem, YEAR, "household"])
        writer.writerow(["broken.csv", "commune", communes[0].stem, YEAR, "household"])
    home = tmp_path / "home"
    done = submit(manifest, home)
    assert done.returncode == 1, done.stdout + done.stderr
    by_name = {r.original_name: r for r in records(home)}
    assert {by_name[p.name].status for p in communes} == {"accepted"}
    assert by_name["broken.csv"].status == "rejected"
    assert str(broken) in done.stdout and by_name["broken.csv"].submission_id in done.stdout


def test_a_manifest_naming_a_missing_file_is_a_usage_error(tmp_path):
    manifest = tmp_path / "nop.csv"
    manifest.write_text("path,level,unit,year,kind\nkhong-co.csv,commune,00688,2024,household\n", encoding="utf-8")
    done = submit(manifest, tmp_path / "home")
    assert done.returncode == 2
    assert "no such file" in done.stderr
