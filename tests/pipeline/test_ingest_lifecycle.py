"""What happens to a submission over time and under bad input: bytes kept write-once, same bytes = same
submission, supersession, batches drained in one process, crashes, oversize files, and the commands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl
import pytest
from fixtures_ingest import (
    COMMUNE,
    DISTRICT,
    OTHER_COMMUNE_SAME_DISTRICT,
    YEAR,
    frame_of,
    gx_runner,
    household_rows,
    make_settings,
    only,
    summary_rows,
    write_csv,
    write_xlsx,
)

from pipeline.ingest import drain_pending_in_process, ingest_submission
from pipeline.intake import submit
from schemas.contracts import HOUSEHOLD
from store.registry import Registry, submission_id_for
from store.zones import land, landing_path

__all__ = ["gx_runner"]


def send(settings, path, gx_runner, *, level="commune", unit=COMMUNE, year=YEAR, kind="household", **options):
    return submit(settings, path, level=level, unit_code=unit, year=year, kind=kind, runner=gx_runner, **options)


def landed_files(settings) -> list:
    return sorted(p for p in settings.landing.rglob("*") if p.is_file())


# --- idempotency and supersession (SQLite and PostgreSQL) -------------------------------------------

def test_the_same_bytes_submitted_again_are_the_same_submission(tmp_path, database_url, gx_runner):
    settings = make_settings(tmp_path / "home", database_url)
    path = write_csv(tmp_path / "h.csv", frame_of(household_rows(3)))
    first = send(settings, path, gx_runner)
    copy = tmp_path / "copy-with-another-name.csv"
    copy.write_bytes(path.read_bytes())
    again = send(settings, copy, gx_runner)

    assert again["submission_id"] == first["submission_id"]
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert again["status"] == "accepted" and again["findings"] == first["findings"]
    assert len(Registry(database_url).list_submissions()) == 1
    assert len(landed_files(settings)) == 1


def test_a_new_accepted_file_supersedes_and_a_rejected_one_never_replaces(tmp_path, database_url, gx_runner):
    settings = make_settings(tmp_path / "home", database_url)
    registry = Registry(database_url)
    first = send(settings, write_csv(tmp_path / "v1.csv", frame_of(household_rows(3))), gx_runner, registry=registry)
    second = send(settings, write_csv(tmp_path / "v2.csv", frame_of(household_rows(4))), gx_runner,
                  registry=registry)
    broken_rows = household_rows(5)
    broken_rows[0]["household_size"] = "0"
    rejected = send(settings, write_csv(tmp_path / "v3.csv", frame_of(broken_rows)), gx_runner, registry=registry)

    assert (first["status"], second["status"], rejected["status"]) == ("accepted", "accepted", "rejected")
    assert second["supersedes"] == first["submission_id"]
    assert registry.get(first["submission_id"]).status == "superseded"
    assert registry.get(first["submission_id"]).superseded_by == second["submission_id"]
    current = registry.current_accepted(year=YEAR, kind="household")
    assert [r.submission_id for r in current] == [second["submission_id"]]
    assert len(landed_files(settings)) == 3                       # every version kept, the rejected one too
    report = json.loads(Path(second["report_json"]).read_text(encoding="utf-8"))
    assert report["supersedes"] == first["submission_id"]


# --- bad input never crashes and never loses data --------------------------------------------------

def _truncated_xlsx(tmp_path):
    whole = write_xlsx(tmp_path / "whole.xlsx", frame_of(household_rows(20))).read_bytes()
    return whole[: len(whole) // 2]


BAD_FILES = {
    "empty.csv": (lambda tmp_path: b"", "file.empty"),
    "garbage.xlsx": (lambda tmp_path: bytes(range(256)) * 40, "file.unreadable"),
    "truncated.xlsx": (_truncated_xlsx, "file.unreadable"),
    # "Mã hộ,Mã xã" as an ANSI (Windows-1258) export writes it: ã = 0xE3, not UTF-8.
    "windows-1258.csv": (lambda tmp_path: b"M\xe3 h\xf4,M\xe3 x\xe3\nHH1,00688\n", "file.encoding"),
    "records.json": (lambda tmp_path: b'{"not": "records"}', "file.unreadable"),
    "header-only.csv": (lambda tmp_path: "Mã hộ,Mã xã,Khu vực\n".encode(), "file.no_rows"),
    "no-header.csv": (lambda tmp_path: b"a,b,c\n1,2,3\n", "file.no_header"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_rejected_with_a_finding_and_its_bytes_are_kept(tmp_path, gx_runner, name):
    settings = make_settings(tmp_path / "home")
    build, rule = BAD_FILES[name]
    data = build(tmp_path)
    path = tmp_path / name
    path.write_bytes(data)
    verdict = send(settings, path, gx_runner)

    assert verdict["status"] == "rejected"
    [finding] = only(verdict["findings"], rule)
    assert finding["file"] == name and finding["message_vi"] and finding["message_en"]
    landed = landing_path(settings, verdict["content_hash"])
    assert landed.read_bytes() == data
    assert Registry(settings.database_url).get(verdict["submission_id"]).status == "rejected"


def test_a_wrongly_encoded_csv_says_on_which_line(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    path = tmp_path / "ansi.csv"
    # UTF-8 up to line 3, then "Bàn" as Windows-1258 writes it (à = 0xE0, not UTF-8).
    path.write_bytes("Mã hộ,Mã xã\r\nHH1,00688\r\n".encode() + b"HH2,B\xe0n\r\n")
    verdict = send(settings, path, gx_runner)
    [finding] = only(verdict["findings"], "file.encoding")
    assert finding["row"] == 3 and "UTF-8" in finding["message_en"]


def test_an_xlsx_named_csv_is_read_as_what_it_is(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    workbook = write_xlsx(tmp_path / "h.xlsx", frame_of(household_rows(3)))
    path = tmp_path / "really-a-workbook.csv"
    path.write_bytes(workbook.read_bytes())
    verdict = send(settings, path, gx_runner)
    assert verdict["status"] == "accepted"
    [finding] = only(verdict["findings"], "file.format_mismatch")
    assert finding["severity"] == "warning" and finding["value"] == ".csv"


def test_a_file_over_the_size_limit_is_refused_and_not_kept(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home", max_upload_bytes=1_000)
    path = write_csv(tmp_path / "big.csv", frame_of(household_rows(50)))
    verdict = send(settings, path, gx_runner)
    assert verdict["status"] == "rejected" and verdict["submission_id"] is None
    [finding] = verdict["findings"]
    assert finding["rule"] == "file.too_large" and str(path.stat().st_size) in finding["message_en"]
    assert landed_files(settings) == []
    assert Registry(settings.database_url).list_submissions() == []


def test_a_crash_while_writing_leaves_the_registry_consistent_and_the_bytes_kept(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    path = write_csv(tmp_path / "h.csv", frame_of(household_rows(3)))
    data = path.read_bytes()
    content_hash = land(settings, data).content_hash
    submission_id = submission_id_for(content_hash, "commune", COMMUNE, YEAR, "household")
    blocker = settings.reports / f"{submission_id}.html"      # a directory where the report must go
    blocker.mkdir(parents=True)
    (blocker / "keep").write_text("x")

    with pytest.raises(OSError):
        send(settings, path, gx_runner)
    registry = Registry(settings.database_url)
    assert registry.get(submission_id).status == "received"
    assert registry.current_accepted() == []
    assert landing_path(settings, content_hash).read_bytes() == data

    (blocker / "keep").unlink()
    blocker.rmdir()
    verdict = ingest_submission(submission_id, settings, runner=gx_runner)     # the retry a worker makes
    assert verdict["status"] == "accepted"
    assert [r.submission_id for r in registry.current_accepted()] == [submission_id]


# --- many submissions in one process ---------------------------------------------------------------

def _register(settings, registry, path, *, level="commune", unit=COMMUNE, kind="household"):
    landed = land(settings, path)
    record, _created = registry.record_received(
        content_hash=landed.content_hash, byte_size=landed.byte_size, original_name=path.name, level=level,
        unit_code=unit, year=YEAR, kind=kind, standard="nd07_2021", submitter="test")
    return record.submission_id


def test_drain_pending_validates_a_batch_and_maps_findings_back_to_each_file(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    registry = Registry(settings.database_url)
    good = _register(settings, registry, write_csv(tmp_path / "good.csv", frame_of(household_rows(4))))
    # Same household ids in another commune's file: not duplicates of the first file's.
    neighbour = _register(settings, registry,
                          write_csv(tmp_path / "neighbour.csv",
                                    frame_of(household_rows(4, commune=OTHER_COMMUNE_SAME_DISTRICT))),
                          unit=OTHER_COMMUNE_SAME_DISTRICT)
    bad_rows = household_rows(5)
    bad_rows[3]["household_size"] = "60"
    bad = _register(settings, registry, write_xlsx(tmp_path / "bad.xlsx", frame_of(bad_rows),
                                                   title_rows=("BÁO CÁO",)))
    summary = _register(settings, registry, write_csv(tmp_path / "summary.csv", frame_of(summary_rows())),
                        level="district", unit=DISTRICT, kind="area_summary")

    verdicts = {v["submission_id"]: v for v in drain_pending_in_process(settings, batch_size=3, runner=gx_runner)}

    assert {k: v["status"] for k, v in verdicts.items()} == {
        good: "accepted", neighbour: "accepted", bad: "rejected", summary: "accepted"}
    [finding] = only(verdicts[bad]["findings"], "household.size_range")
    assert (finding["file"], finding["row"], finding["cell"]) == ("bad.xlsx", 1 + 1 + 4, f"F{1 + 1 + 4}")
    assert not only(verdicts[good]["findings"], "household.id_unique")
    assert registry.pending() == []
    assert drain_pending_in_process(settings, batch_size=3, runner=gx_runner) == []


def test_files_typed_together_keep_their_own_rows_and_findings(tmp_path, gx_runner):
    """Several CSVs of one batch are typed as one frame; each value problem stays with its file and row."""
    settings = make_settings(tmp_path / "home")
    registry = Registry(settings.database_url)
    good = _register(settings, registry, write_csv(tmp_path / "good.csv", frame_of(household_rows(6))))
    unreadable = household_rows(5, commune=OTHER_COMMUNE_SAME_DISTRICT)
    unreadable[1]["household_size"] = "bốn"
    unreadable[4]["income_per_capita_month"] = "1.500,5,0"
    bad = _register(settings, registry, write_csv(tmp_path / "bad.csv", frame_of(unreadable)),
                    unit=OTHER_COMMUNE_SAME_DISTRICT)

    verdicts = {v["submission_id"]: v for v in drain_pending_in_process(settings, batch_size=10, runner=gx_runner)}

    assert verdicts[good]["status"] == "accepted" and verdicts[good]["findings"] == []
    assert verdicts[bad]["status"] == "rejected"
    located = {(f["rule"], f["column"], f["row"], f["file"]) for f in verdicts[bad]["findings"]}
    size, income = (HOUSEHOLD.column(n).label_vi for n in ("household_size", "income_per_capita_month"))
    assert located == {("value.not_a_number", size, 3, "bad.csv"), ("value.not_a_number", income, 6, "bad.csv")}
    staged = pl.read_parquet(settings.staging / "household" / f"year={YEAR}" / f"{good}.parquet")
    assert staged["household_id"].to_list() == [r["household_id"] for r in household_rows(6)]


def _batch_of_troubles(folder: Path) -> list[tuple[Path, dict]]:
    """Files of every sort of trouble, with how each is submitted (kind given or not)."""
    folder.mkdir(parents=True, exist_ok=True)
    numbers = household_rows(30)
    numbers[2]["income_per_capita_month"] = "1,500"            # ambiguous
    numbers[3]["household_size"] = "1,500"                     # thousands comma, then out of range
    numbers[4]["household_size"] = "hai"
    numbers[5]["d03"] = "có lẽ"
    numbers[6]["commune_code"] = "688"                         # zeros restored
    numbers[7]["head_ethnicity_code"] = "Tày"                  # name replaced by its code
    numbers[8]["head_ethnicity_code"] = "55"
    numbers[9]["household_id"] = numbers[0]["household_id"]
    elsewhere = household_rows(6, commune=OTHER_COMMUNE_SAME_DISTRICT)   # another commune's households
    unreadable = folder / "binary.csv"
    unreadable.write_bytes(bytes(range(256)) * 8)
    missing = frame_of(household_rows(5)).drop(HOUSEHOLD.column("d05").label_vi)
    xlsx_rows = household_rows(12)
    xlsx_rows[3]["household_size"] = "60"
    return [
        (write_csv(folder / "good.csv", frame_of(household_rows(40))), {}),
        (write_csv(folder / "numbers.csv", frame_of(numbers)), {}),
        (write_csv(folder / "elsewhere.csv", frame_of(elsewhere)), {}),
        (unreadable, {"kind": "household"}),
        (write_csv(folder / "missing.csv", missing), {}),
        (write_xlsx(folder / "form.xlsx", frame_of(xlsx_rows), title_rows=("BÁO CÁO",), numeric=("Số nhân khẩu",)),
         {}),
        (write_csv(folder / "summary.csv", frame_of(summary_rows())), {"level": "district", "unit": DISTRICT}),
        (write_csv(folder / "semicolon.csv", frame_of(household_rows(9, commune=OTHER_COMMUNE_SAME_DISTRICT)),
                   separator=";"), {"unit": OTHER_COMMUNE_SAME_DISTRICT}),
    ]


def _comparable(verdict: dict, settings) -> dict:
    """A verdict and what it wrote, without the paths of the home it was written in."""
    home = str(settings.home)
    report = json.loads(Path(verdict["report_json"]).read_text(encoding="utf-8"))
    report.pop("received_at")
    staged = None
    if report["staging_path"]:
        staged = pl.read_parquet(report["staging_path"]).rows()
    text = json.dumps({**verdict, "report": report}, ensure_ascii=False, sort_keys=True, default=str)
    return {"verdict": json.loads(text.replace(home, "HOME")), "staged": staged,
            "html": Path(verdict["report_html"]).read_text(encoding="utf-8")}


def test_a_batch_gives_each_file_what_it_gets_validated_alone(tmp_path, gx_runner):
    """Typing, column rules, reference checks and writing done for the whole batch at once: every file's
    verdict, findings, report and staging rows are those it gets on its own."""
    files = _batch_of_troubles(tmp_path / "files")
    alone_settings, batch_settings = make_settings(tmp_path / "alone"), make_settings(tmp_path / "batch")
    alone = []
    for path, how in files:
        options = {k: v for k, v in how.items() if k not in ("level", "unit")}
        alone.append(submit(alone_settings, path, level=how.get("level", "commune"), unit_code=how.get("unit", COMMUNE),
                            year=YEAR, runner=gx_runner, **options))
    for path, how in files:
        options = {k: v for k, v in how.items() if k not in ("level", "unit")}
        submit(batch_settings, path, level=how.get("level", "commune"), unit_code=how.get("unit", COMMUNE),
               year=YEAR, validate=False, **options)
    batch = drain_pending_in_process(batch_settings, batch_size=len(files), runner=gx_runner)

    assert [v["submission_id"] for v in batch] == [v["submission_id"] for v in alone]
    assert {v["status"] for v in batch} == {"accepted", "rejected"}
    for one, together in zip(alone, batch, strict=True):
        assert _comparable(together, batch_settings) == _comparable(one, alone_settings)
    assert not [p for p in batch_settings.home.rglob(".*tmp*")]          # no temporary left behind


def test_a_bug_with_one_file_leaves_it_pending_and_the_rest_of_its_batch_decided(tmp_path, gx_runner, monkeypatch,
                                                                                 caplog):
    from pipeline import ingest

    settings = make_settings(tmp_path / "home")
    registry = Registry(settings.database_url)
    rows = household_rows(5)
    rows[1]["household_id"] = "TRIGGERS-A-BUG"
    troubled = _register(settings, registry, write_csv(tmp_path / "troubled.csv", frame_of(rows)))
    fine = _register(settings, registry, write_csv(tmp_path / "fine.csv",
                                                  frame_of(household_rows(5, commune=OTHER_COMMUNE_SAME_DISTRICT))),
                     unit=OTHER_COMMUNE_SAME_DISTRICT)
    typing = ingest.normalize_distinct

    def buggy(raw, *args, **kwargs):
        if "TRIGGERS-A-BUG" in raw.get_column("household_id").to_list():
            raise RuntimeError("a bug in lnob")
        return typing(raw, *args, **kwargs)

    monkeypatch.setattr(ingest, "normalize_distinct", buggy)
    verdicts = {v["submission_id"]: v for v in drain_pending_in_process(settings, batch_size=10, runner=gx_runner)}

    assert verdicts[fine]["status"] == "accepted" and verdicts[fine]["findings"] == []
    assert verdicts[troubled]["status"] == "validating"          # kept for a worker to run again
    assert [f["rule"] for f in verdicts[troubled]["findings"]] == ["ingest.internal_error"]
    # The submitter gets a reference to quote; the bug's own text goes to the operator's log only.
    message = verdicts[troubled]["findings"][0]["message_en"]
    assert troubled in message and "a bug in lnob" not in message
    assert any(troubled in r.getMessage() and "a bug in lnob" in r.getMessage() for r in caplog.records)
    assert registry.get(troubled).status == "validating"
    assert not (settings.staging / "household" / f"year={YEAR}" / f"{troubled}.parquet").exists()
    assert not [p for p in settings.home.rglob(".*tmp*")]


def test_two_versions_of_one_commune_in_one_batch_the_later_received_is_current(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    registry = Registry(settings.database_url)
    rows = household_rows(4)
    first = _register(settings, registry, write_csv(tmp_path / "v1.csv", frame_of(rows)))
    rows[0]["village"] = "Tổ 2"
    second = _register(settings, registry, write_csv(tmp_path / "v2.csv", frame_of(rows)))
    rows[1]["household_size"] = "hai"
    rejected = _register(settings, registry, write_csv(tmp_path / "v3.csv", frame_of(rows)))

    verdicts = {v["submission_id"]: v for v in drain_pending_in_process(settings, batch_size=10, runner=gx_runner)}

    # As when finished one after the other: the first was accepted (then superseded by the second).
    assert (verdicts[first]["status"], verdicts[first]["supersedes"]) == ("accepted", None)
    assert (verdicts[second]["status"], verdicts[second]["supersedes"]) == ("accepted", first)
    assert verdicts[rejected]["status"] == "rejected"
    assert json.loads(Path(verdicts[second]["report_json"]).read_text())["supersedes"] == first
    assert (registry.get(first).status, registry.get(first).superseded_by) == ("superseded", second)
    assert [r.submission_id for r in registry.current_accepted()] == [second]


# --- the commands ------------------------------------------------------------------------------------

def test_lnob_submit_and_status_print_the_verdict_and_exit_by_status(tmp_path, monkeypatch, capsys, gx_runner):
    from lnob.cli import main

    monkeypatch.setenv("LNOB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LNOB_DATABASE_URL", raising=False)
    good = write_csv(tmp_path / "good.csv", frame_of(household_rows(3)))
    rows = household_rows(3)
    rows[1]["household_size"] = "0"
    bad = write_csv(tmp_path / "bad.csv", frame_of(rows))

    assert main(["submit", str(good), "--level", "commune", "--unit", COMMUNE, "--year", str(YEAR), "--json"]) == 0
    accepted = json.loads(capsys.readouterr().out)
    assert accepted["status"] == "accepted" and accepted["kind"] == "household"      # kind told from columns
    assert main(["submit", str(bad), "--level", "commune", "--unit", COMMUNE, "--year", str(YEAR)]) == 1
    text = capsys.readouterr().out
    assert "household.size_range" in text and "BỊ TỪ CHỐI" in text and "rejected" in text
    assert text.index("vi:") < text.index("en:")
    assert main(["submit", str(good), "--level", "commune", "--unit", "688", "--year", str(YEAR)]) == 2
    assert "5 digits" in capsys.readouterr().err
    assert main(["submit", str(tmp_path / "missing.csv"), "--level", "commune", "--unit", COMMUNE,
                 "--year", str(YEAR)]) == 2
    capsys.readouterr()

    assert main(["status", accepted["submission_id"], "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["submission_id"] == accepted["submission_id"] and status["status"] == "accepted"
    assert [h["status"] for h in status["history"]] == ["received", "validating", "accepted"]
    assert main(["status", "S0000000000000000"]) == 2


# --- speed -------------------------------------------------------------------------------------------

def test_a_commune_file_of_3000_households_validates_whole(tmp_path, gx_runner):
    # How fast is the benchmark's business (`make bench`); this prints the figure and checks the outcome.
    settings = make_settings(tmp_path / "home")
    warm = write_csv(tmp_path / "warm.csv", frame_of(household_rows(50)))
    send(settings, warm, gx_runner)                      # imports, reference lists and suites loaded once
    path = write_csv(tmp_path / "commune.csv", frame_of(household_rows(3000)))
    started = time.perf_counter()
    verdict = send(settings, path, gx_runner)
    elapsed = time.perf_counter() - started
    print(f"\n3,000 households: submit → verdict in {elapsed:.2f} s")
    assert verdict["status"] == "accepted"
    staged = pl.read_parquet(settings.staging / "household" / f"year={YEAR}" / f"{verdict['submission_id']}.parquet")
    assert staged.height == 3000


def test_a_file_registered_without_validating_is_validated_later_by_a_worker(tmp_path, gx_runner):
    settings = make_settings(tmp_path / "home")
    path = write_csv(tmp_path / "h.csv", frame_of(household_rows(3)))
    registered = submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, validate=False)
    assert registered["status"] == "received" and registered["kind"] == "household"
    assert Registry(settings.database_url).pending()[0].submission_id == registered["submission_id"]
    [verdict] = drain_pending_in_process(settings, batch_size=10, runner=gx_runner)
    assert (verdict["submission_id"], verdict["status"]) == (registered["submission_id"], "accepted")
    assert ingest_submission(registered["submission_id"], settings)["status"] == "accepted"   # decided: stored


def test_the_same_file_submitted_from_many_threads_at_once_is_one_submission(tmp_path, gx_runner):
    """What the HTTP front door does when one file is uploaded twice at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    settings = make_settings(tmp_path / "home")
    registry = Registry(settings.database_url)
    path = write_csv(tmp_path / "commune.csv", frame_of(household_rows(30)))

    def send(_: int) -> dict:
        return submit(settings, path, level="commune", unit_code=COMMUNE, year=YEAR, registry=registry,
                      runner=gx_runner)

    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(send, range(16)))

    assert {v["submission_id"] for v in verdicts} == {verdicts[0]["submission_id"]}
    assert {v["status"] for v in verdicts} == {"accepted"}
    assert len(registry.list_submissions(unit_code=COMMUNE, year=YEAR)) == 1
