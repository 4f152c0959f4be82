"""The front door validates uploads in warm, isolated worker processes, in batches: a file that kills its
reader gets a final verdict and `lnob serve` answers the next upload; concurrent uploads each get exactly
one final verdict.

A real `lnob serve` in a subprocess, with the test hook LNOB_TEST_ABORT_MARKER set: a validation worker
aborts (as a crashing reader would) on a landed file holding the marker.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from test_http import YEAR, content_hash, household_csv, post

from lnob.http.auth import issue_token

pytestmark = pytest.mark.e2e

ABORT_MARKER = "lnob-test-abort-7f3c"


@pytest.fixture(scope="module")
def server(tmp_path_factory, serve_lnob):
    yield from serve_lnob(tmp_path_factory.mktemp("lnob-isolation-home"),
                                  env={"LNOB_TEST_ABORT_MARKER": ABORT_MARKER},
                                  serve_args=("--validation-workers", "2"), max_upload_mib=100)


@pytest.fixture(scope="module")
def operator(server):
    return issue_token(server.registry(), "operator", None, note="isolation test")[1]


@pytest.fixture(scope="module")
def communes():
    from schemas.geography import hierarchy_at, review_date

    codes = hierarchy_at(review_date(YEAR)).drop_nulls("commune_code").get_column("commune_code")
    return sorted(set(codes.to_list()))[:40]


def far_cell_workbook() -> bytes:
    """An XLSX of about 1.5 KB whose sheet holds one cell at XFD1048576 (as tests/pipeline/test_hostile_files)."""
    import io
    import zipfile

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    header = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>'
                     for i, h in enumerate(("household_id", "commune_code", "household_size")))
    sheet = (f'<worksheet xmlns="{main}"><dimension ref="A1:XFD1048576"/><sheetData><row r="1">{header}</row>'
             '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.'
                      'org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                      'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
                      '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
                      'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
                      'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                      'spreadsheetml.worksheet+xml"/></Types>')
        book.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{package}"><Relationship '
                      f'Id="rId1" Type="{rels}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        book.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rels}">'
                      '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        book.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="{package}">'
                      f'<Relationship Id="rId1" Type="{rels}/worksheet" Target="worksheets/sheet1.xml"/>'
                      '</Relationships>')
        book.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def rules_of(verdict: dict) -> list[str]:
    return [finding["rule"] for finding in verdict["findings"]]


def test_the_XFD1048576_workbook_is_rejected_and_the_server_answers_the_next_upload(server, operator, communes):
    workbook = far_cell_workbook()
    assert len(workbook) < 4096
    response = post(server, operator, workbook, level="commune", unit=communes[0], name="far.xlsx",
                    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["status"] == "rejected"
    assert "file.too_many_cells" in rules_of(verdict)

    following = post(server, operator, household_csv(communes[1], tag="after-far"), level="commune",
                     unit=communes[1])
    assert following.status_code == 201, following.text
    assert following.json()["status"] == "accepted"
    assert server.process.poll() is None


def test_a_file_that_kills_its_worker_is_rejected_and_its_batch_and_the_server_carry_on(server, operator, communes):
    """The killing file sent at the same moment as three good ones: the four may share a batch; the
    killing one is rejected `file.cannot_be_read`, the good ones accepted, the server answers after."""
    killing = household_csv(communes[2], tag=ABORT_MARKER)
    good = {commune: household_csv(commune, tag="beside-abort") for commune in communes[3:6]}
    jobs = [(communes[2], killing), *good.items()]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        responses = list(pool.map(lambda job: post(server, operator, job[1], level="commune", unit=job[0]), jobs))
    assert [r.status_code for r in responses] == [201] * len(jobs), [r.text for r in responses]
    first, *rest = [r.json() for r in responses]
    assert first["status"] == "rejected"
    assert rules_of(first) == ["file.cannot_be_read"]
    assert [v["status"] for v in rest] == ["accepted"] * len(rest)

    record = server.registry().get(first["submission_id"])
    assert record.status == "rejected"
    following = post(server, operator, household_csv(communes[6], tag="after-abort"), level="commune",
                     unit=communes[6])
    assert following.status_code == 201 and following.json()["status"] == "accepted", following.text
    assert server.process.poll() is None


def test_twenty_concurrent_uploads_each_get_exactly_one_final_verdict(server, operator, communes):
    chosen = communes[10:30]
    files = {commune: household_csv(commune, tag="twenty") for commune in chosen}
    with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        responses = list(pool.map(lambda c: post(server, operator, files[c], level="commune", unit=c), chosen))
    assert [r.status_code for r in responses] == [201] * len(chosen), [r.text for r in responses]
    verdicts = [r.json() for r in responses]
    assert all(v["status"] == "accepted" for v in verdicts), [v["status"] for v in verdicts]
    hashes = {content_hash(content) for content in files.values()}
    recorded = [r for r in server.registry().list_submissions(year=YEAR) if r.content_hash in hashes]
    assert len(recorded) == len(chosen)
    assert {r.submission_id for r in recorded} == {v["submission_id"] for v in verdicts}
    assert {r.status for r in recorded} == {"accepted"}
    assert all(r.claimed_by is None for r in recorded)
