"""The HTTP front door, driven over real sockets: `lnob serve` in a subprocess (see conftest.py).

Rules checked here:
- a submitter sends a file and gets the same verdict `lnob submit --json` gives, with every finding located;
- no token is 401, a unit outside the token's reach is 403, for each level; revoked and expired tokens are 401;
  a refused request leaves an audit line and nothing else;
- an upload above the limit is refused with 413 while it streams; a client's file name never becomes a path;
  what a file is comes from its bytes;
- 50 uploads at once are each recorded exactly once; the same bytes twice are one submission;
- the OpenAPI description, explored property-based, provokes no server error;
- the upload page works in a real browser with no script of its own.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest

YEAR = 2024   # before the 2025 reform: communes, districts and provinces all exist
INDICATORS = [f"d{i:02d}" for i in range(1, 13)]
HEADER = ["household_id", "commune_code", "area", "head_ethnicity_code", "household_size",
          "income_per_capita_month", *INDICATORS]
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def household_csv(commune: str, *, households: int = 4, tag: str = "a", bad_size_on_line: int | None = None) -> bytes:
    """A small household list for one commune; `bad_size_on_line` (file line, header = 1) gets size 0."""
    lines = [",".join(HEADER)]
    for number in range(households):
        line_number = number + 2
        size = "0" if line_number == bad_size_on_line else str(3 + number % 3)
        flags = ["1" if (number + i) % 5 == 0 else "0" for i in range(12)]
        lines.append(",".join([f"{commune}-{tag}-{number:04d}", commune, "rural", "01", size,
                               str(2_500_000 + 10_000 * number), *flags]))
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture(scope="module")
def units():
    """Real units of the review year's geography: a commune, its neighbour, another district's commune,
    another province's commune."""
    from schemas.geography import hierarchy_at, review_date

    hierarchy = hierarchy_at(review_date(YEAR)).drop_nulls("commune_code")
    first = hierarchy.sort("commune_code").row(0, named=True)
    same_district = hierarchy.filter(pl.col("district_code") == first["district_code"]).sort("commune_code")
    other_district = hierarchy.filter((pl.col("province_code") == first["province_code"])
                                      & (pl.col("district_code") != first["district_code"])).sort("commune_code")
    other_province = hierarchy.filter(pl.col("province_code") != first["province_code"]).sort("commune_code")
    return {
        "commune": first["commune_code"], "neighbour": same_district.row(1, named=True)["commune_code"],
        "district": first["district_code"], "province": first["province_code"],
        "other_district_commune": other_district.row(0, named=True)["commune_code"],
        "other_province_commune": other_province.row(0, named=True)["commune_code"],
        "many": same_district.get_column("commune_code").to_list()
        + other_district.get_column("commune_code").to_list(),
    }


@pytest.fixture(scope="module")
def tokens(lnob_server, units):
    """One token per level; the commune's through `lnob tokens issue`, as an operator would issue it."""
    from lnob.http.auth import issue_token

    issued = {}
    result = lnob_server.lnob("tokens", "issue", "--level", "commune", "--unit", units["commune"], "--json")
    assert result.returncode == 0, result.stderr
    issued["commune"] = json.loads(result.stdout)["token"]
    registry = lnob_server.registry()
    issued["operator"] = issue_token(registry, "operator", None, note="test operator")[1]
    issued["neighbour"] = issue_token(registry, "commune", units["neighbour"])[1]
    issued["district"] = issue_token(registry, "district", units["district"])[1]
    issued["province"] = issue_token(registry, "province", units["province"])[1]
    return issued


@pytest.fixture(scope="module")
def warmed(lnob_server, tokens, units):
    """The first validation loads Great Expectations (seconds); do it once, and keep its verdict."""
    started = time.perf_counter()
    response = post(lnob_server, tokens["commune"], household_csv(units["commune"], tag="warm"),
                    level="commune", unit=units["commune"])
    assert response.status_code == 201, response.text
    return {"verdict": response.json(), "seconds": time.perf_counter() - started}


def post(server, token: str | None, content: bytes, *, level: str, unit: str, year: int = YEAR,
         kind: str = "household", name: str = "households.csv", content_type: str = "text/csv") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.base_url}/api/submissions", headers=headers,
                      files={"file": (name, content, content_type)},
                      data={"level": level, "unit": unit, "year": str(year), "kind": kind}, timeout=180)


def get(server, token: str | None, path: str, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{server.base_url}{path}", headers=headers, params=params, timeout=60)


def content_hash(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


def assert_nothing_stored(server, content: bytes, unit: str) -> None:
    """A refused upload leaves no submission and no landed bytes."""
    from store.zones import landing_path

    assert server.registry().list_submissions(unit_code=unit, year=YEAR) == []
    assert not landing_path(server.settings(), content_hash(content)).exists()
    assert list((server.home / "incoming").iterdir()) == [], "the spooled upload was not deleted"


def audit_results(server, action: str = "submission.create") -> list[str]:
    return [entry.result for entry in server.registry().audit_entries() if entry.action == action]


# --- the service ------------------------------------------------------------------------------------

def test_health_needs_no_token_and_the_api_describes_itself(lnob_server):
    assert get(lnob_server, None, "/healthz").json() == {"status": "ok"}
    description = get(lnob_server, None, "/openapi.json").json()
    assert {"/api/submissions", "/api/submissions/{submission_id}", "/api/marts/current", "/healthz"} \
        <= set(description["paths"])
    upload = description["paths"]["/api/submissions"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert set(upload["schema"]["required"]) == {"file", "level", "unit", "year", "kind"}


def test_the_live_mart_manifest_is_served_once_a_version_is_published(lnob_server, tokens):
    from store.publish import publish, start_version

    assert get(lnob_server, tokens["commune"], "/api/marts/current").status_code == 404
    version, building = start_version(lnob_server.settings())
    manifest = {"version": version, "marts": {"poverty_by_province": {"rows": 63}}}
    (building / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    publish(lnob_server.settings(), version, building)
    assert get(lnob_server, tokens["commune"], "/api/marts/current").json() == manifest


# --- verdicts ---------------------------------------------------------------------------------------

def test_a_commune_submits_its_file_and_reads_the_verdict(lnob_server, tokens, units, warmed):
    content = household_csv(units["commune"], tag="ok")
    started = time.perf_counter()
    response = post(lnob_server, tokens["commune"], content, level="commune", unit=units["commune"])
    seconds = time.perf_counter() - started
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["status"] == "accepted", verdict["findings"]
    assert not [f for f in verdict["findings"] if f["severity"] == "error"]
    assert (verdict["level"], verdict["unit_code"], verdict["year"], verdict["kind"]) == \
        ("commune", units["commune"], YEAR, "household")
    assert verdict["content_hash"] == content_hash(content) and verdict["duplicate"] is False
    print(f"\nupload-to-verdict: {seconds:.2f} s (first, warming upload: {warmed['seconds']:.2f} s)")

    again = post(lnob_server, tokens["commune"], content, level="commune", unit=units["commune"])
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["submission_id"] == verdict["submission_id"]

    shown = get(lnob_server, tokens["commune"], f"/api/submissions/{verdict['submission_id']}").json()
    assert shown["status"] == "accepted" and shown["content_hash"] == verdict["content_hash"]
    listed = get(lnob_server, tokens["commune"], "/api/submissions", unit=units["commune"], year=YEAR).json()
    assert verdict["submission_id"] in {record["submission_id"] for record in listed}
    assert {"accepted", "duplicate_accepted"} <= set(audit_results(lnob_server))


def test_a_rejected_upload_lists_findings_located_by_row_column_and_value(lnob_server, tokens, units, warmed):
    content = household_csv(units["commune"], tag="bad", bad_size_on_line=3)
    response = post(lnob_server, tokens["commune"], content, level="commune", unit=units["commune"])
    assert response.status_code == 201, response.text
    verdict = response.json()
    assert verdict["status"] == "rejected"
    located = [f for f in verdict["findings"] if f["severity"] == "error" and f["column"] == "household_size"]
    assert located, verdict["findings"]
    assert (located[0]["row"], located[0]["value"]) == (3, "0")
    assert located[0]["message_vi"] and located[0]["message_en"]
    assert verdict["findings_total"] >= len([f for f in verdict["findings"] if f["severity"] == "error"])

    report = get(lnob_server, tokens["commune"], verdict["report_url"])
    assert report.status_code == 200 and "household_size" in report.text
    assert get(lnob_server, tokens["neighbour"], verdict["report_url"]).status_code == 404


# --- who may do what --------------------------------------------------------------------------------

def test_no_token_or_an_unknown_one_is_401_and_nothing_is_stored(lnob_server, units):
    content = household_csv(units["commune"], tag="anonymous")
    for token in (None, "not-a-token"):
        response = post(lnob_server, token, content, level="commune", unit=units["commune"])
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["message_vi"] and response.json()["message_en"]
        assert get(lnob_server, token, "/api/submissions").status_code == 401
        assert get(lnob_server, token, "/api/marts/current").status_code == 401
    from store.zones import landing_path

    assert not landing_path(lnob_server.settings(), content_hash(content)).exists()
    assert audit_results(lnob_server).count("refused_401") >= 2


def test_the_upload_page_refuses_without_a_token_in_both_languages(lnob_server, units):
    page = httpx.get(f"{lnob_server.base_url}/", timeout=30)
    assert page.status_code == 200 and "<script" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    refused = httpx.post(f"{lnob_server.base_url}/", files={"file": ("h.csv", household_csv(units["commune"]))},
                         data={"level": "commune", "unit": units["commune"], "year": str(YEAR),
                               "kind": "household", "token": ""}, timeout=30)
    assert refused.status_code == 401 and refused.headers["content-type"].startswith("text/html")
    assert "Thiếu mã truy cập" in refused.text and "No access token" in refused.text
    assert refused.text.index("Thiếu mã truy cập") < refused.text.index("No access token")


def test_revoked_and_expired_tokens_are_401(lnob_server, units, warmed):
    from lnob.http.auth import hash_token

    issued = json.loads(lnob_server.lnob("tokens", "issue", "--level", "commune", "--unit", units["commune"],
                                         "--json").stdout)
    content = household_csv(units["commune"], tag="revoked")
    assert lnob_server.lnob("tokens", "revoke", str(issued["token_id"])).returncode == 0
    assert [(e.token_id, e.result) for e in lnob_server.registry().audit_entries() if e.action == "token.revoke"] \
        == [(issued["token_id"], "revoked")]
    refused = post(lnob_server, issued["token"], content, level="commune", unit=units["commune"])
    assert refused.status_code == 401 and "revoked" in refused.json()["message_en"]

    expired = "expired-token-for-the-test"
    lnob_server.registry().issue_token("commune", units["commune"], hash_token(expired),
                                       datetime.now(UTC) - timedelta(minutes=1), "expired")
    refused = post(lnob_server, expired, content, level="commune", unit=units["commune"])
    assert refused.status_code == 401 and "expired" in refused.json()["message_en"]
    assert "revoked" in lnob_server.lnob("tokens", "list").stdout
    from store.zones import landing_path

    assert not landing_path(lnob_server.settings(), content_hash(content)).exists()


@pytest.mark.parametrize("token_name, target", [
    ("commune", "neighbour"),                  # a commune posting for its neighbour
    ("district", "other_district_commune"),    # a district for another district's commune
    ("province", "other_province_commune"),    # a province for another province's commune
])
def test_a_unit_outside_the_tokens_reach_is_403_and_only_an_audit_line_remains(
        lnob_server, tokens, units, token_name, target):
    unit = units[target]
    content = household_csv(unit, tag=f"reach-{token_name}")
    refused_before = audit_results(lnob_server).count("refused_403")
    response = post(lnob_server, tokens[token_name], content, level="commune", unit=unit)
    assert response.status_code == 403, response.text
    assert unit in response.json()["message_vi"] and unit in response.json()["message_en"]
    assert_nothing_stored(lnob_server, content, unit)
    assert audit_results(lnob_server).count("refused_403") == refused_before + 1


def test_district_and_province_tokens_reach_their_communes_and_reads_follow_reach(lnob_server, tokens, units,
                                                                                    warmed):
    by_district = post(lnob_server, tokens["district"], household_csv(units["neighbour"], tag="district"),
                       level="commune", unit=units["neighbour"])
    assert by_district.status_code == 201, by_district.text
    by_province = post(lnob_server, tokens["province"], household_csv(units["other_district_commune"],
                                                                      tag="province"),
                       level="commune", unit=units["other_district_commune"])
    assert by_province.status_code == 201, by_province.text

    neighbours_id = by_district.json()["submission_id"]
    assert get(lnob_server, tokens["neighbour"], f"/api/submissions/{neighbours_id}").status_code == 200
    # Another unit's submission answers exactly as an id that does not exist: nothing to learn from it.
    theirs = get(lnob_server, tokens["commune"], f"/api/submissions/{neighbours_id}")
    unknown_id = neighbours_id[:-4] + ("0000" if not neighbours_id.endswith("0000") else "1111")
    unknown = get(lnob_server, tokens["commune"], f"/api/submissions/{unknown_id}")
    assert (theirs.status_code, unknown.status_code) == (404, 404)
    assert theirs.json() == json.loads(unknown.text.replace(unknown_id, neighbours_id))
    seen_by_commune = {r["unit_code"] for r in get(lnob_server, tokens["commune"], "/api/submissions").json()}
    seen_by_district = {r["unit_code"] for r in get(lnob_server, tokens["district"], "/api/submissions").json()}
    seen_by_operator = {r["unit_code"] for r in get(lnob_server, tokens["operator"], "/api/submissions").json()}
    assert seen_by_commune == {units["commune"]}
    assert get(lnob_server, tokens["commune"], "/api/submissions", unit=units["neighbour"],
               year=YEAR).status_code == 403
    assert seen_by_district == {units["commune"], units["neighbour"]}
    assert {units["commune"], units["neighbour"], units["other_district_commune"]} <= seen_by_operator


# --- hostile input ----------------------------------------------------------------------------------

def test_an_upload_above_the_limit_is_413(lnob_server, tokens, units):
    limit = lnob_server.settings().max_upload_bytes
    content = household_csv(units["commune"], households=int(limit / 60) + 200, tag="big")
    assert len(content) > limit
    response = post(lnob_server, tokens["commune"], content, level="commune", unit=units["commune"])
    assert response.status_code == 413
    assert "MiB" in response.json()["message_vi"]
    assert_nothing_stored_for_hash(lnob_server, content)


def assert_nothing_stored_for_hash(server, content: bytes) -> None:
    from store.zones import landing_path

    assert not landing_path(server.settings(), content_hash(content)).exists()


def test_an_endless_upload_is_refused_while_it_streams(lnob_server, tokens, units):
    """No Content-Length (chunked): the server counts as bytes arrive and answers 413 long before the end."""
    limit = lnob_server.settings().max_upload_bytes
    boundary = "lnob-test-boundary"
    host, port = lnob_server.base_url.removeprefix("http://").split(":")
    preamble = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"level\"\r\n\r\ncommune\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
                "Content-Type: text/csv\r\n\r\n").encode()
    chunk = household_csv(units["commune"], households=200, tag="stream")
    would_send = 200 * limit
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall((f"POST /api/submissions HTTP/1.1\r\nHost: {host}:{port}\r\n"
                            f"Authorization: Bearer {tokens['commune']}\r\n"
                            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n").encode())
        connection.sendall(b"%x\r\n%s\r\n" % (len(preamble), preamble))
        connection.settimeout(0.05)
        answer = b""
        while sent < would_send:
            try:
                answer = connection.recv(65536)
                if answer:
                    break
            except TimeoutError:
                pass
            try:
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        connection.settimeout(10)
        while b"\r\n" not in answer:
            more = connection.recv(65536)
            if not more:
                break
            answer += more
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 4 * limit, f"the server read {sent} bytes before refusing a {limit}-byte limit"


def test_a_file_name_with_path_parts_never_touches_the_file_system(lnob_server, tokens, units, warmed):
    from store.zones import landing_path

    content = household_csv(units["commune"], tag="passwd")
    response = post(lnob_server, tokens["commune"], content, level="commune", unit=units["commune"],
                    name="../../etc/passwd")
    assert response.status_code == 201, response.text
    record = lnob_server.registry().get(response.json()["submission_id"])
    assert record.original_name == "passwd"
    assert landing_path(lnob_server.settings(), content_hash(content)).read_bytes() == content
    assert not (lnob_server.home / "../../etc/passwd").exists()
    assert not [path for path in lnob_server.home.parent.rglob("*passwd*")]


def test_names_and_values_from_a_submitter_are_printed_as_text_never_as_markup(lnob_server, tokens, units,
                                                                                warmed):
    hostile = '<img src=x onerror="alert(1)">.csv'
    page = httpx.post(f"{lnob_server.base_url}/",
                      files={"file": (hostile, household_csv(units["commune"], tag="<b>x</b>", bad_size_on_line=2))},
                      data={"level": "commune", "unit": units["commune"], "year": str(YEAR), "kind": "household",
                            "token": tokens["commune"]}, timeout=180)
    assert page.status_code == 200, page.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=" in page.text
    assert "lnob_token=" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]


def test_what_a_file_is_comes_from_its_bytes(lnob_server, tokens, units, warmed):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    refused = post(lnob_server, tokens["commune"], png, level="commune", unit=units["commune"],
                   name="households.csv", content_type="text/csv")
    assert refused.status_code == 415, refused.text
    assert_nothing_stored_for_hash(lnob_server, png)

    csv_named_xlsx = household_csv(units["commune"], tag="misnamed")
    read_as_csv = post(lnob_server, tokens["commune"], csv_named_xlsx, level="commune", unit=units["commune"],
                       name="households.xlsx",
                       content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert read_as_csv.status_code == 201, read_as_csv.text
    assert read_as_csv.json()["status"] == "accepted", read_as_csv.json()["findings"]


def test_every_state_changing_request_leaves_an_audit_record(lnob_server, warmed):
    entries = [e for e in lnob_server.registry().audit_entries() if e.action == "submission.create"]
    assert entries
    for entry in entries:
        assert entry.at is not None and entry.result
        if not entry.result.startswith("refused_401"):
            assert entry.token_id is not None, entry
    assert {e.action for e in lnob_server.registry().audit_entries()} >= {"token.issue", "submission.create"}


# --- concurrency ------------------------------------------------------------------------------------

def test_fifty_concurrent_uploads_are_each_recorded_exactly_once(lnob_server, tokens, units, warmed):
    """25 communes' files, each sent twice at the same moment: 25 submissions, none lost or doubled."""
    communes = [c for c in units["many"] if c not in (units["commune"], units["neighbour"])][:25]
    files = {commune: household_csv(commune, tag="crowd") for commune in communes}
    jobs = [commune for commune in communes for _ in range(2)]

    def send(commune: str) -> httpx.Response:
        return post(lnob_server, tokens["operator"], files[commune], level="commune", unit=commune)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        responses = list(pool.map(send, jobs))
    seconds = time.perf_counter() - started
    print(f"\n50 concurrent uploads: {seconds:.1f} s")

    assert [r.status_code for r in responses if r.status_code not in (200, 201)] == []
    by_commune: dict[str, set[str]] = {}
    for commune, response in zip(jobs, responses, strict=True):
        by_commune.setdefault(commune, set()).add(response.json()["submission_id"])
    assert all(len(ids) == 1 for ids in by_commune.values()), by_commune
    assert sum(1 for r in responses if not r.json()["duplicate"]) == len(communes)
    crowd_hashes = {content_hash(content) for content in files.values()}
    recorded = [r for r in lnob_server.registry().list_submissions(year=YEAR) if r.content_hash in crowd_hashes]
    assert len(recorded) == len(communes)
    assert {r.submission_id for r in recorded} == {ids.pop() for ids in by_commune.values()}
    assert {r.status for r in recorded} == {"accepted"}


# --- the OpenAPI description, explored ------------------------------------------------------------

def test_a_property_based_run_of_the_openapi_description_finds_no_server_error(lnob_server, tokens, warmed,
                                                                                tmp_path):
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if schemathesis is None:
        pytest.skip("schemathesis is not installed (pip install schemathesis)")
    result = subprocess.run(
        [schemathesis, "run", f"{lnob_server.base_url}/openapi.json",
         "--header", f"Authorization: Bearer {tokens['operator']}",
         "--checks", "not_a_server_error", "--max-examples", "10", "--max-time", "15", "--seed", "20241231",
         "--workers", "2", "--no-color", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:] + lnob_server.log()[-4000:]


# --- the upload page in a browser -----------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Chromium:
    """Headless Chromium driven over --remote-debugging-pipe (the DevTools protocol on fds 3 and 4),
    so the real upload form is filled and submitted with no driver package."""

    def __init__(self, binary: str, profile: Path) -> None:
        import fcntl

        to_browser_read, to_browser_write = os.pipe()
        from_browser_read, from_browser_write = os.pipe()
        # Keep the child's ends away from 3 and 4 until the child moves them there.
        child_read = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
        child_write = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
        os.close(to_browser_read)
        os.close(from_browser_write)

        def place_pipes() -> None:
            os.dup2(child_read, 3)
            os.dup2(child_write, 4)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--remote-debugging-pipe", f"--user-data-dir={profile}",
             "--window-size=1280,1400", "about:blank"],
            # The pipes must sit on fds 3 and 4 in the browser; nothing else runs in this child.
            preexec_fn=place_pipes, close_fds=False,  # noqa: PLW1509
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(child_read)
        os.close(child_write)
        self.writer = os.fdopen(to_browser_write, "wb", buffering=0)
        self.reader = os.fdopen(from_browser_read, "rb", buffering=0)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            data = self.reader.read(65536)
            if not data:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += data
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: bool = False, timeout: float = 30, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.writer.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_load(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if any(event.get("method") == "Page.loadEventFired" for event in self.events):
                self.events.clear()
                return
            self.events.append(self._read_message(deadline))

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_for_load()

    def fill_and_submit(self, fields: dict[str, str], file_path: Path) -> None:
        for name, value in fields.items():
            self.evaluate(f"document.getElementById({json.dumps(name)}).value = {json.dumps(value)}")
        handle = self.call("Runtime.evaluate", session=True, expression="document.getElementById('file')")
        self.call("DOM.setFileInputFiles", session=True, files=[str(file_path)],
                  objectId=handle["result"]["objectId"])
        self.events.clear()
        self.evaluate("document.querySelector('form button[type=submit]').click()")
        self.wait_for_load()

    def screenshot(self, path: Path) -> None:
        height = self.evaluate("document.documentElement.scrollHeight") or 1400
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=1280, height=int(height),
                  deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.writer.close()
        self.reader.close()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_upload_page_works_in_a_headless_browser(lnob_server, tokens, units, warmed, tmp_path):
    accepted_file = tmp_path / "households-ok.csv"
    accepted_file.write_bytes(household_csv(units["commune"], tag="browser-ok"))
    rejected_file = tmp_path / "households-bad.csv"
    rejected_file.write_bytes(household_csv(units["commune"], tag="browser-bad", bad_size_on_line=3))
    browser = Chromium(CHROMIUM, Path(tempfile.mkdtemp(prefix="lnob-chromium-", dir=tmp_path)))
    try:
        browser.navigate(f"{lnob_server.base_url}/")
        assert "Nộp kết quả rà soát" in browser.evaluate("document.body.innerText")
        fields = {"token": tokens["commune"], "level": "commune", "unit": units["commune"], "year": str(YEAR),
                  "kind": "household"}
        browser.fill_and_submit(fields, accepted_file)
        assert browser.evaluate("document.getElementById('verdict').dataset.status") == "accepted", \
            browser.evaluate("document.body.innerText")

        # The token is now a cookie: the second upload leaves the field empty.
        browser.fill_and_submit({**fields, "token": ""}, rejected_file)
        assert browser.evaluate("document.getElementById('verdict').dataset.status") == "rejected"
        rows = browser.evaluate(
            "[...document.querySelectorAll('table.findings tbody tr')].map(r => [...r.cells].map(c => c.innerText))")
        assert any(row[2] == "3" and row[4] == "household_size" and row[5] == "0" for row in rows), rows
        screenshot = tmp_path / "upload-verdict.png"
        browser.screenshot(screenshot)
        assert screenshot.read_bytes().startswith(b"\x89PNG")
        if os.environ.get("LNOB_UPDATE_SCREENSHOT"):
            shutil.copyfile(screenshot, REPO / "docs" / "upload-screenshot.png")

        report = browser.evaluate("document.getElementById('report-link').href")
        browser.navigate(report)
        assert "household_size" in browser.evaluate("document.body.innerText")
    finally:
        browser.close()


# --- the front door under faults (in-process: the server's own failures are simulated) ---------------

@pytest.fixture
def door_client(tmp_path, monkeypatch):
    """The app on a test client, its ingest replaced by `door_client.ingest` (set by each test)."""
    import dataclasses

    from fastapi.testclient import TestClient

    from lnob.http import app as app_module
    from lnob.http.auth import issue_token
    from store.registry import Registry
    from store.settings import load_settings

    # shared_files: this test process's umask must stay as it is.
    settings = dataclasses.replace(load_settings(tmp_path / "home"), shared_files=True)
    registry = Registry(settings.database_url)
    token = issue_token(registry, "commune", "00688")[1]

    class Client:
        ingest = None

    client = Client()
    monkeypatch.setattr(app_module, "ingest_upload", lambda *a, **k: client.ingest())
    monkeypatch.setattr(app_module, "sniff_format", lambda path: "csv")
    client.http = TestClient(app_module.create_app(settings, warm=False), raise_server_exceptions=False)
    client.token = token
    return client


def _upload(client, *, base: str = "http://testserver", **headers):
    return client.http.post(f"{base}/api/submissions", headers={"Authorization": f"Bearer {client.token}", **headers},
                            files={"file": ("h.csv", b"a,b\n1,2\n", "text/csv")},
                            data={"level": "commune", "unit": "00688", "year": str(YEAR), "kind": "household"})


def test_a_full_disk_is_a_clear_507_never_a_generic_500(door_client):
    import errno

    def full():
        raise OSError(errno.ENOSPC, "No space left on device")

    door_client.ingest = full
    response = _upload(door_client)
    assert response.status_code == 507, response.text
    body = response.json()
    assert body["error"] == "insufficient_storage" and body["message_vi"] and body["message_en"]


def test_an_internal_error_shows_a_reference_never_the_exception_text(door_client):
    def broken():
        raise RuntimeError("secret internal detail: /srv/lnob/registry.db")

    door_client.ingest = broken
    response = _upload(door_client)
    assert response.status_code == 500
    assert "secret internal detail" not in response.text and "RuntimeError" not in response.text
    assert "reference" in response.json()["message_en"] and "mã tham chiếu" in response.json()["message_vi"]


def _page_upload(client, *, base: str = "http://testserver", token: str | None = None, **headers):
    fields = {"level": "commune", "unit": "00688", "year": str(YEAR), "kind": "household"}
    if token:
        fields["token"] = token
    return client.http.post(f"{base}/", headers=headers, data=fields,
                            files={"file": ("h.csv", b"a,b\n1,2\n", "text/csv")})


def test_the_page_cookie_holds_a_session_value_never_the_token_and_is_secure_over_tls(door_client):
    door_client.ingest = lambda: {"submission_id": "x", "status": "accepted", "findings": [], "level": "commune",
                                  "unit_code": "00688", "year": YEAR, "kind": "household"}
    plain = _page_upload(door_client, token=door_client.token)
    assert plain.status_code == 200, plain.text
    cookie = plain.headers["set-cookie"]
    assert door_client.token not in cookie and "lnob_token=" in cookie and "secure" not in cookie.lower()
    # The session cookie alone carries the next upload.
    again = _page_upload(door_client)
    assert again.status_code == 200, again.text
    over_tls = _page_upload(door_client, base="https://testserver", token=door_client.token)
    assert "secure" in over_tls.headers["set-cookie"].lower()
    # Presented as a bearer token, the cookie's value opens nothing.
    value = cookie.split("lnob_token=", 1)[1].split(";", 1)[0]
    door_client.http.cookies.clear()
    assert door_client.http.get("/api/submissions", headers={"Authorization": f"Bearer {value}"}).status_code == 401


def test_origin_null_fails_the_cross_site_check(door_client):
    door_client.ingest = lambda: {"submission_id": "x", "status": "accepted", "findings": [], "level": "commune",
                                  "unit_code": "00688", "year": YEAR, "kind": "household"}
    assert _page_upload(door_client, token=door_client.token).status_code == 200
    refused = _page_upload(door_client, Origin="null")
    assert refused.status_code == 403, refused.text


def test_what_lnob_serve_writes_is_readable_by_its_own_user_only(lnob_server, warmed):
    import stat

    assert stat.S_IMODE(lnob_server.home.stat().st_mode) == 0o700
    reports = list((lnob_server.home / "reports").rglob("*.json"))
    assert reports and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in reports)
