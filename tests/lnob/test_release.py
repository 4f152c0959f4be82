"""`lnob release` writes a public copy of the current marts beside them, with disclosure control, and leaves
the internal marts byte for byte as they were."""

from __future__ import annotations

import json

import polars as pl
from fixtures_ingest import COMMUNE, YEAR, frame_of, gx_runner, household_rows, make_settings, write_csv

from lnob.cli import main
from pipeline.build import build_marts
from pipeline.intake import submit
from pipeline.release import released_table
from store.publish import current_path
from transforms.disclosure import PRIMARY, SUPPRESSION, SUPPRESSION_REASON

__all__ = ["gx_runner"]


def test_release_withholds_small_rows_and_leaves_the_marts_alone(tmp_path, monkeypatch, capsys, gx_runner):
    settings = make_settings(tmp_path / "home")
    monkeypatch.setenv("LNOB_HOME", str(settings.home))
    monkeypatch.delenv("LNOB_DATABASE_URL", raising=False)
    rows = household_rows(30)
    rows[0]["head_ethnicity_code"] = "24"               # one household of its group: must not be published
    path = write_csv(tmp_path / "00688.csv", frame_of(rows))
    assert submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, kind="household",
                  runner=gx_runner)["status"] == "accepted"
    build_marts(settings, YEAR)
    marts = current_path(settings)
    before = {p: p.read_bytes() for p in marts.rglob("*") if p.is_file()}

    assert main(["release", "--min-households", "3"]) == 0
    folder = settings.releases / marts.name
    assert capsys.readouterr().out.strip() == str(folder)
    assert {p: p.read_bytes() for p in marts.rglob("*") if p.is_file()} == before

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["release_of"] == marts.name and manifest["method"]["min_households"] == 3
    assert "classification_disagreements" in manifest["not_released"]
    released = released_table(folder, "poverty_by_ethnicity")
    small = released.filter(pl.col(SUPPRESSION) == PRIMARY)
    assert small.height > 0 and small.get_column("households_poor").null_count() == small.height
    assert all("fewer than 3" in reason for reason in small.get_column(SUPPRESSION_REASON).to_list())
    lone_group = released.filter((pl.col("unit_code") == COMMUNE) & (pl.col("ethnic_group") == "24"))
    assert lone_group.height > 0 and set(lone_group.get_column(SUPPRESSION)) == {PRIMARY}
    published = released.filter(pl.col(SUPPRESSION).is_null())
    assert published.filter(pl.col("households_total").is_between(1, 2)
                            | (pl.col("households_total").is_null()
                               & pl.col("households_poor_or_near_poor").is_between(1, 2))).height == 0
    assert not (folder / "classification_disagreements").exists()

    assert main(["release", "--min-households", "3"]) == 0           # the same release again: same folder
    assert main(["release", "--min-households", "5"]) == 1           # never rewritten with another k
    assert "already released" in capsys.readouterr().err
