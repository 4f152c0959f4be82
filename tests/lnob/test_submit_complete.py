"""`lnob submit --complete`: the household list is declared to hold every resident household; without it the
list is the households reviewed, and the verdict says which."""

from __future__ import annotations

import json

from fixtures_ingest import COMMUNE, YEAR, frame_of, household_rows, write_csv

from lnob.cli import main


def submit_json(path, capsys, *extra: str) -> dict:
    code = main(["submit", str(path), "--level", "commune", "--unit", COMMUNE, "--year", str(YEAR),
                 "--kind", "household", "--json", *extra])
    out = capsys.readouterr().out
    return {"code": code, **json.loads(out.strip().splitlines()[-1])}


def test_complete_declares_the_list_and_a_plain_submit_does_not(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LNOB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    complete = write_csv(tmp_path / "complete.csv", frame_of(household_rows(6)))
    reviewed = write_csv(tmp_path / "reviewed.csv", frame_of(household_rows(7)))
    declared = submit_json(complete, capsys, "--complete")
    assert (declared["code"], declared["status"], declared["lists_every_household"]) == (0, "accepted", True)
    plain = submit_json(reviewed, capsys)
    assert (plain["status"], plain["lists_every_household"]) == ("accepted", False)
    # The same bytes declared otherwise are a usage error (exit 2), not the first verdict again.
    code = main(["submit", str(reviewed), "--level", "commune", "--unit", COMMUNE, "--year", str(YEAR),
                 "--kind", "household", "--complete"])
    assert code == 2
    assert "the reviewed households only" in capsys.readouterr().err
