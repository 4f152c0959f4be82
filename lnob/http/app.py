"""lnob's HTTP front door: the submission API, its OpenAPI description, and the upload page.

    POST /api/submissions            multipart file + level, unit, year, kind → the verdict (as `lnob submit --json`)
    GET  /api/submissions/{id}       one submission, if the caller may see its unit
    GET  /api/submissions            the submissions the caller may see (filters: unit, year, kind, status, level;
                                     a unit and year outside the token's reach is 403, not an empty list)
    GET  /api/marts/current          the manifest of the live mart version
    GET  /healthz                    liveness, no token needed
    GET  /  and  POST /              the upload page (token typed into the form, then kept in a cookie)
    GET  /submissions/{id}/report    a submission's full HTML validation report

An upload is registered (landed, recorded) in a worker thread, never on the event loop; the registry makes
the same bytes for the same unit, year and kind one submission however many arrive at once. It is then
validated with the uploads that arrive beside it, as one batch in a warm, isolated validation process
(lnob/http/batching.py): a file that kills its reader gets a final verdict and the server carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import json
import logging
import re
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import Body, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from lnob.http import auth, pages
from lnob.http.refusals import Refusal, forbidden, invalid, not_found
from lnob.http.uploads import display_name, read_upload, sniff_format, unsupported_content
from schemas.vocabulary import FINAL_STATUSES, SUBMISSION_KINDS, SUBMISSION_LEVELS, SUBMISSION_STATUSES

log = logging.getLogger("lnob.http")

SUBMISSION_ID_PATTERN = r"^S[0-9a-f]{16}$"
UNIT_CODE_PATTERN = r"^([0-9]{2}|[0-9]{3}|[0-9]{5})$"   # province, district, commune
YEAR_RANGE = (2000, 2100)
TOKEN_COOKIE = "lnob_token"
DEFAULT_INGEST_THREADS = 4
DEFAULT_VALIDATION_WORKERS = 2
# An upload waits this long for its verdict, then is answered 202 "still being checked" (it goes on).
VERDICT_WAIT_SECONDS = 300.0
INCOMING_FOLDER = "incoming"   # under LNOB_HOME: uploads still being received, deleted when the request ends

bearer = HTTPBearer(auto_error=False, description="A token from `lnob tokens issue`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

REFUSAL_SCHEMA = {
    "type": "object",
    "required": ["status", "error", "message_vi", "message_en"],
    "properties": {"status": {"type": "integer"}, "error": {"type": "string"},
                   "message_vi": {"type": "string"}, "message_en": {"type": "string"}},
}
FINDING_SCHEMA = {
    "type": "object",
    "properties": {
        "severity": {"type": "string", "enum": ["error", "warning"]}, "rule": {"type": "string"},
        "file": {"type": ["string", "null"]}, "sheet": {"type": ["string", "null"]},
        "row": {"type": ["integer", "null"]}, "cell": {"type": ["string", "null"]},
        "column": {"type": ["string", "null"]}, "value": {"type": ["string", "null"]},
        "message_vi": {"type": "string"}, "message_en": {"type": "string"},
        "count": {"type": ["integer", "null"]},
    },
}
VERDICT_SCHEMA = {
    "type": "object",
    "required": ["submission_id", "status", "duplicate", "level", "unit_code", "year", "kind", "content_hash",
                 "findings", "findings_total"],
    "properties": {
        "submission_id": {"type": "string"}, "status": {"type": "string", "enum": list(SUBMISSION_STATUSES)},
        "supersedes": {"type": ["string", "null"]}, "duplicate": {"type": "boolean"},
        "level": {"type": "string"}, "unit_code": {"type": "string"}, "year": {"type": "integer"},
        "kind": {"type": "string"}, "standard": {"type": ["string", "null"]},
        "lists_every_household": {"type": ["boolean", "null"]},
        "content_hash": {"type": "string"}, "findings": {"type": "array", "items": FINDING_SCHEMA},
        "findings_total": {"type": "integer"}, "report_json": {"type": ["string", "null"]},
        "report_html": {"type": ["string", "null"]}, "report_url": {"type": ["string", "null"]},
    },
}
UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["file", "level", "unit", "year", "kind"],
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "The submission: CSV (UTF-8) or an Excel workbook, judged by its bytes."},
            "level": {"type": "string", "enum": list(SUBMISSION_LEVELS), "description": "Submitting level."},
            "unit": {"type": "string", "pattern": UNIT_CODE_PATTERN,
                     "description": "Submitting unit's code: province 2, district 3, commune 5 digits."},
            "year": {"type": "integer", "minimum": YEAR_RANGE[0], "maximum": YEAR_RANGE[1],
                     "description": "Review year."},
            "kind": {"type": "string", "enum": list(SUBMISSION_KINDS)},
            "standard": {"type": "string", "description": "Poverty standard id; default: the year's standard."},
            "submitter": {"type": "string", "maxLength": 200, "description": "Who sends it (a name)."},
            "complete": {"type": "boolean", "description": "A household list that holds every resident household "
                                                          "of the commune, not only the households reviewed "
                                                          "(default false: the resident total then comes from the "
                                                          "commune's area_summary)."},
        },
    }}},
}


def _refusal_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {400: "Malformed multipart body", 401: "No valid token (missing, unknown, revoked or expired)",
                 403: "The unit is outside the token's reach", 404: "Not found",
                 413: "The upload is larger than the limit", 415: "Not multipart, or the file is not CSV/XLSX/XLS",
                 409: "Not possible in the unit-year's approval state (e.g. units beneath not approved)",
                 422: "A field is missing or invalid"}
    return {code: {"description": described[code], "content": {"application/json": {"schema": REFUSAL_SCHEMA}}}
            for code in codes}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def verdict_status_code(verdict: dict) -> int:
    """201 for a new decided submission, 200 for bytes submitted before, 202 when validation did not finish."""
    if verdict.get("status") not in FINAL_STATUSES:
        return 202
    return 200 if verdict.get("duplicate") else 201


def report_url(submission_id: str) -> str:
    return f"/submissions/{submission_id}/report"


def record_view(record) -> dict[str, Any]:
    view = {key: _json_value(value) for key, value in dataclasses.asdict(record).items()}
    view["report_url"] = report_url(record.submission_id) if record.report_path else None
    return view


def _check_fields(fields: dict[str, str]) -> dict[str, Any]:
    """The submission's level, unit, year and kind from the form, or a 422 naming the bad one."""
    level = fields.get("level", "").strip()
    if level not in SUBMISSION_LEVELS:
        raise invalid("level", fields.get("level"), f"phải là một trong {', '.join(SUBMISSION_LEVELS)}.",
                      f"must be one of {', '.join(SUBMISSION_LEVELS)}.")
    unit = fields.get("unit", "").strip()
    width = auth.UNIT_CODE_WIDTH[level]
    if not (unit.isascii() and unit.isdigit() and len(unit) == width):
        raise invalid("unit", fields.get("unit"), f"mã {level} gồm đúng {width} chữ số (giữ các số 0 ở đầu).",
                      f"a {level} code has exactly {width} digits (keep leading zeros).")
    year_text = fields.get("year", "").strip()
    if not (year_text.isascii() and year_text.isdigit() and YEAR_RANGE[0] <= int(year_text) <= YEAR_RANGE[1]):
        raise invalid("year", fields.get("year"), f"năm rà soát là số từ {YEAR_RANGE[0]} đến {YEAR_RANGE[1]}.",
                      f"the review year is a number from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}.")
    kind = fields.get("kind", "").strip()
    if kind not in SUBMISSION_KINDS:
        raise invalid("kind", fields.get("kind"), f"phải là một trong {', '.join(SUBMISSION_KINDS)}.",
                      f"must be one of {', '.join(SUBMISSION_KINDS)}.")
    standard = fields.get("standard", "").strip() or None
    if standard is not None:
        from schemas.standards import available_standards

        known = available_standards()
        if standard not in known:
            raise invalid("standard", standard, f"chuẩn nghèo phải là một trong {', '.join(known)}.",
                          f"the standard must be one of {', '.join(known)}.")
    submitter = (fields.get("submitter") or "").strip()[:200] or None
    complete = (fields.get("complete") or "").strip().lower()
    if complete not in COMPLETE_ANSWERS:
        raise invalid("complete", fields.get("complete"), "phải là có hoặc không (true / false).",
                      "must be true or false.")
    return {"level": level, "unit_code": unit, "year": int(year_text), "kind": kind, "standard": standard,
            "submitter": submitter, "lists_every_household": COMPLETE_ANSWERS[complete]}


# The `complete` field as a form sends it: a checked box says "on"; an API client true/false.
COMPLETE_ANSWERS = {"": False, "false": False, "0": False, "no": False, "off": False, "không": False,
                    "true": True, "1": True, "yes": True, "on": True, "có": True}


class FrontDoor:
    """The state every request shares: settings, the registry, and the ingest worker limit."""

    def __init__(self, settings, ingest_threads: int) -> None:
        import os

        from store.registry import Registry

        self.settings = settings
        self.registry = Registry(settings.database_url)
        self.ingest_limiter = anyio.CapacityLimiter(max(1, ingest_threads))
        self.batcher = None   # started with the server (lifespan); without it uploads validate in-process
        # With a Prefect server, uploads are recorded and handed to `lnob worker` (flows/validation_task.py).
        self.orchestrated = bool(os.environ.get("PREFECT_API_URL"))
        self.verdict_seconds = float(os.environ.get("LNOB_HTTP_VERDICT_SECONDS") or VERDICT_WAIT_SECONDS)
        # Uploads are spooled beside the zones, on disk (the system temp folder may be a RAM disk).
        self.session_key = auth.session_key(settings.home)
        self.spool_dir = settings.home / INCOMING_FOLDER
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        # Left by a server that stopped mid-upload; a day old, so never another live server's upload.
        for stale in self.spool_dir.glob("lnob-upload-*"):
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > 24 * 3600:
                    stale.unlink()

    # -- who is calling --------------------------------------------------------------------------

    async def caller(self, token: str | None) -> auth.Caller:
        return await run_in_threadpool(auth.authenticate, self.registry, token)

    async def session_caller(self, value: str | None) -> auth.Caller:
        return await run_in_threadpool(auth.authenticate_session, self.registry, self.session_key, value)

    async def audit(self, request: Request, *, action: str, result: str, caller: auth.Caller | None = None,
                    unit_code: str | None = None, target: str | None = None, detail: str | None = None) -> None:
        client = request.client.host if request.client else None
        detail = " ".join(part for part in (detail, f"client={client}") if part)
        try:
            await run_in_threadpool(self.registry.audit, action=action, result=result,
                                    token_id=caller.token_id if caller else None, unit_code=unit_code,
                                    target=target, detail=detail)
        except Exception:  # an audit that cannot be written must not hide the answer; it is logged loudly
            log.exception("could not write the audit line for %s %s", action, result)

    # -- submitting ------------------------------------------------------------------------------

    async def submit(self, request: Request, token: str | None, *, token_from_form: bool) -> tuple[dict, str]:
        """Authenticate, read and check an upload, ingest it; returns (verdict, file label).

        Every outcome, refusals included, leaves one audit line; a refused upload leaves nothing else."""
        caller: auth.Caller | None = None
        facts: dict[str, Any] = {}
        upload = None
        try:
            if not token_from_form:
                caller = await self.caller(token)   # before a byte of the body is read
            upload = await read_upload(request, max_file_bytes=self.settings.max_upload_bytes,
                                       spool_dir=str(self.spool_dir))
            if token_from_form:
                typed = upload.fields.get("token", "").strip()
                if not typed:
                    refuse_cross_site(request)   # a cookie alone never authorises a post from another site
                caller = await (self.caller(typed) if typed else self.session_caller(token))
                if typed:
                    request.state.typed_token = typed   # the page keeps it in a cookie for the next upload
            facts = _check_fields(upload.fields)
            await run_in_threadpool(auth.require_reach, caller, facts["level"], facts["unit_code"], facts["year"])
            if upload.file_path is None or upload.file_field != "file":
                raise invalid("file", None, "chưa chọn tệp để nộp.", "no file was attached.")
            fmt = await run_in_threadpool(sniff_format, upload.file_path)
            if fmt == "binary":
                raise unsupported_content(upload.file_name)
            label = display_name(upload.file_name)
            submitter = caller.label + (f" / {facts['submitter']}" if facts["submitter"] else "")
            batcher = self.batcher
            async with self.ingest_limiter:
                verdict = await anyio.to_thread.run_sync(
                    lambda: ingest_upload(self.settings, self.registry, upload.file_path, file_label=label,
                                          level=facts["level"], unit_code=facts["unit_code"], year=facts["year"],
                                          kind=facts["kind"], standard=facts["standard"], submitter=submitter,
                                          lists_every_household=facts["lists_every_household"],
                                          validate=batcher is None and not self.orchestrated))
            if self.orchestrated and verdict.get("status") == "received":
                from flows.validation_task import hand_over

                verdict = {**verdict, **await run_in_threadpool(hand_over, verdict)}
            elif batcher is not None and verdict.get("submission_id") and verdict.get("status") not in FINAL_STATUSES:
                verdict = await self.batched_verdict(batcher, verdict["submission_id"])
        except ClientDisconnect:
            await self.audit(request, action="submission.create", result="client_disconnected", caller=caller,
                             unit_code=facts.get("unit_code"))
            raise Refusal(400, "client_disconnected", "Kết nối bị ngắt trước khi gửi xong tệp.",
                          "The connection closed before the whole file was sent.") from None
        except Refusal as refusal:
            await self.audit(request, action="submission.create", result=f"refused_{refusal.status}",
                             caller=caller, unit_code=facts.get("unit_code"),
                             detail=f"{refusal.error}: {refusal.message_en}"[:500])
            raise
        except Exception as exc:
            await self.audit(request, action="submission.create", result="error", caller=caller,
                             unit_code=facts.get("unit_code"), detail=f"{type(exc).__name__}: {exc}"[:500])
            if disk_full(exc):
                raise no_space() from exc
            raise
        finally:
            if upload is not None:
                upload.discard()
        verdict = dict(verdict)
        verdict["report_url"] = report_url(verdict["submission_id"]) if verdict.get("report_html") else None
        await self.audit(request, action="submission.create",
                         result=("duplicate_" if verdict.get("duplicate") else "") + str(verdict.get("status")),
                         caller=caller, unit_code=facts["unit_code"], target=verdict.get("submission_id"),
                         detail=(f"level={facts['level']} year={facts['year']} kind={facts['kind']} "
                                 f"sha256={upload.content_hash} bytes={upload.byte_size} "
                                 f"name={upload.file_name!r}")[:500])
        return verdict, label

    async def batched_verdict(self, batcher, submission_id: str) -> dict:
        """The verdict of a registered upload from the batch it joins; after `verdict_seconds` the
        submission as it stands (still being checked: 202), its batch going on."""
        future = asyncio.wrap_future(batcher.wait_for(submission_id))
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.verdict_seconds)
        except TimeoutError:
            from pipeline.ingest import stored_verdict

            record = await run_in_threadpool(self.registry.get, submission_id)
            return await run_in_threadpool(stored_verdict, self.settings, record, duplicate=False)

    # -- reading ---------------------------------------------------------------------------------

    async def visible_record(self, request: Request, caller: auth.Caller, submission_id: str):
        record = await run_in_threadpool(self.registry.get, submission_id)
        if record is None:
            raise not_found(f"Không có bản nộp {submission_id}.", f"No submission {submission_id}.")
        try:
            await run_in_threadpool(auth.require_reach, caller, record.level, record.unit_code, record.year)
        except Refusal as refusal:
            await self.audit(request, action="submission.read", result="refused_403", caller=caller,
                             unit_code=record.unit_code, target=submission_id, detail=refusal.message_en)
            # Answered exactly as an unknown id: another unit's submission ids are not the caller's to learn.
            raise not_found(f"Không có bản nộp {submission_id}.", f"No submission {submission_id}.") from None
        return record


def ingest_upload(settings, registry, path: Path, *, file_label: str, level: str, unit_code: str, year: int,
                  kind: str, standard: str | None, submitter: str, lists_every_household: bool = False,
                  validate: bool = True) -> dict:
    """Hand an upload that passed the door to the ingest step (the same one `lnob submit` runs);
    `validate=False` registers it only, for the batch it then joins."""
    from pipeline.intake import UsageError, submit

    try:
        return submit(settings, path, level=level, unit_code=unit_code, year=year, kind=kind, standard=standard,
                      submitter=submitter, original_name=file_label, registry=registry,
                      lists_every_household=lists_every_household, validate=validate)
    except UsageError as exc:
        raise Refusal(422, "invalid_field", f"Thông tin nộp không hợp lệ: {exc}",
                      f"The submission's fields are not valid: {exc}") from None


def refuse_cross_site(request: Request) -> None:
    """A form post that relies on the token cookie must come from this server's own page."""
    origin = request.headers.get("origin")
    if origin is None:
        return   # no Origin sent: SameSite=Strict already kept the cookie off cross-site requests
    # "null" is what sandboxed frames and data: pages send: never this server's own page.
    host = request.headers.get("host", "")
    if origin.split("://", 1)[-1] != host:
        raise forbidden("Biểu mẫu được gửi từ một trang khác; hãy nộp từ trang của lnob.",
                        "The form was sent from another site; submit from lnob's own page.")


def disk_full(exc: BaseException) -> bool:
    """Is this (or what caused it) a full disk or an exhausted quota?"""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def no_space() -> Refusal:
    return Refusal(507, "insufficient_storage",
                   "Máy chủ lnob hết chỗ lưu trữ nên chưa nhận được tệp; tệp không bị từ chối. Hãy gửi lại sau và "
                   "báo cho nhóm dữ liệu trung ương.",
                   "lnob's server is out of storage space, so the file could not be taken; it was not rejected. "
                   "Send it again later and tell the central data team.", headers={"Retry-After": "3600"})


def _token_of(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials is not None else None


def _warm_ingest() -> None:
    """Load the registering step once in the background, so the first upload is not the slow one (the
    validation workers warm Great Expectations and the suites in their own processes)."""
    try:
        import pipeline.ingest  # noqa: F401
    except Exception:
        log.exception("warming the ingest step failed; the first upload will show why")


def create_app(settings=None, *, ingest_threads: int = DEFAULT_INGEST_THREADS, warm: bool = True,
               validation_workers: int = DEFAULT_VALIDATION_WORKERS) -> FastAPI:
    from contextlib import asynccontextmanager

    from store.settings import keep_files_private, load_settings

    settings = settings or load_settings()
    keep_files_private(settings)
    door = FrontDoor(settings, ingest_threads)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from lnob.http.batching import UploadBatcher

        if warm:
            threading.Thread(target=_warm_ingest, name="lnob-warm-ingest", daemon=True).start()
        # The validation workers start with the server (warming while it begins to listen) and stop with it.
        if not door.orchestrated:   # with a Prefect server, `lnob worker` validates
            door.batcher = await run_in_threadpool(
                lambda: UploadBatcher(door.settings, door.registry, workers=validation_workers))
        try:
            yield
        finally:
            batcher, door.batcher = door.batcher, None
            if batcher is not None:
                await run_in_threadpool(batcher.close)

    app = FastAPI(
        title="lnob",
        version="0.1.0",
        summary="Nộp và kiểm tra kết quả rà soát hộ nghèo, hộ cận nghèo / Submit and validate the poverty review",
        description=("Submit a commune's, district's or province's review file and get back the verdict with "
                     "every finding located (file, sheet, row/cell, column, value, rule), in Vietnamese and "
                     "English. Every call but `/healthz` needs `Authorization: Bearer <token>`; a token reaches "
                     "its own unit and the units under it in the review year's geography."),
        lifespan=lifespan,
    )
    app.state.door = door

    @app.exception_handler(Refusal)
    async def refusal_handler(request: Request, refusal: Refusal) -> Response:
        if request.url.path in ("/",) and request.method == "POST":
            html = pages.refusal_page(refusal, has_cookie=TOKEN_COOKIE in request.cookies)
            return _html(html, status=refusal.status, headers=refusal.headers)
        return JSONResponse(refusal.body(), status_code=refusal.status, headers=refusal.headers)

    @app.exception_handler(Exception)
    async def unexpected_handler(request: Request, exc: Exception) -> Response:
        if disk_full(exc):
            log.error("out of storage on %s %s", request.method, request.url.path, exc_info=exc)
            return await refusal_handler(request, no_space())
        reference = secrets.token_hex(6)
        # The detail is for the operator's log, under the reference the submitter can quote.
        log.error("unexpected error %s on %s %s", reference, request.method, request.url.path, exc_info=exc)
        refusal = Refusal(500, "internal_error",
                          f"Lỗi của lnob, không phải của tệp; tệp chưa bị từ chối (mã tham chiếu {reference}). Hãy "
                          "thử lại sau hoặc báo cho nhóm dữ liệu trung ương kèm mã này.",
                          f"An error in lnob, not in the file; the file was not rejected (reference {reference}). "
                          "Try again later or tell the central data team, quoting the reference.")
        return await refusal_handler(request, refusal)

    async def read_caller(request: Request, credentials: HTTPAuthorizationCredentials | None,
                          action: str) -> auth.Caller:
        try:
            return await door.caller(_token_of(credentials))
        except Refusal as refusal:
            await door.audit(request, action=action, result="refused_401", detail=refusal.message_en)
            raise

    # -- API -------------------------------------------------------------------------------------

    @app.get("/healthz", tags=["service"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/submissions", tags=["submissions"], summary="Submit a file and get its verdict",
              openapi_extra={"requestBody": UPLOAD_BODY},
              responses={200: {"description": "The verdict (these bytes were submitted before: duplicate=true)",
                               "content": {"application/json": {"schema": VERDICT_SCHEMA}}},
                         201: {"description": "The verdict of a new submission",
                               "content": {"application/json": {"schema": VERDICT_SCHEMA}}},
                         202: {"description": "Received and kept, but validation did not finish (the verdict's "
                                              "findings say why); it will be validated again",
                               "content": {"application/json": {"schema": VERDICT_SCHEMA}}},
                         **_refusal_responses(400, 401, 403, 413, 415, 422)})
    async def create_submission(request: Request, credentials: Credentials) -> JSONResponse:
        verdict, _label = await door.submit(request, _token_of(credentials), token_from_form=False)
        return JSONResponse(verdict, status_code=verdict_status_code(verdict))

    @app.get("/api/submissions/{submission_id}", tags=["submissions"], summary="One submission",
             responses={200: {"description": "The submission's registry record and status history"},
                        **_refusal_responses(401, 403, 404)})
    async def get_submission(
        request: Request, credentials: Credentials,
        submission_id: Annotated[str, PathParam(pattern=SUBMISSION_ID_PATTERN)],
    ) -> dict[str, Any]:
        caller = await read_caller(request, credentials, "submission.read")
        record = await door.visible_record(request, caller, submission_id)
        history = await run_in_threadpool(door.registry.history, submission_id)
        view = record_view(record)
        view["history"] = [{key: _json_value(value) for key, value in dataclasses.asdict(change).items()}
                           for change in history]
        view["findings"] = await run_in_threadpool(_report_findings, record)
        return view

    @app.get("/api/submissions", tags=["submissions"], summary="The submissions the caller may see",
             responses={200: {"description": "Registry records, oldest first"}, **_refusal_responses(401, 403)})
    async def list_submissions(
        request: Request, credentials: Credentials,
        unit: Annotated[str | None, Query(pattern=UNIT_CODE_PATTERN, description="Submitting unit code")] = None,
        year: Annotated[int | None, Query(ge=YEAR_RANGE[0], le=YEAR_RANGE[1])] = None,
        kind: Annotated[str | None, Query(pattern="^(" + "|".join(SUBMISSION_KINDS) + ")$")] = None,
        status: Annotated[str | None, Query(pattern="^(" + "|".join(SUBMISSION_STATUSES) + ")$")] = None,
        level: Annotated[str | None, Query(pattern="^(" + "|".join(SUBMISSION_LEVELS) + ")$")] = None,
    ) -> list[dict[str, Any]]:
        caller = await read_caller(request, credentials, "submission.list")
        if unit is not None and year is not None:
            # Asking for one unit's year outside the token's reach is refused outright, not answered empty.
            unit_level = {2: "province", 3: "district", 5: "commune"}[len(unit)]
            try:
                await run_in_threadpool(auth.require_reach, caller, unit_level, unit, year)
            except Refusal as refusal:
                await door.audit(request, action="submission.list", result="refused_403", caller=caller,
                                 unit_code=unit, detail=refusal.message_en)
                raise
        records = await run_in_threadpool(door.registry.list_submissions, level=level, unit_code=unit, year=year,
                                          kind=kind, status=status)
        visible = await run_in_threadpool(
            lambda: [r for r in records if auth.reaches(caller, r.level, r.unit_code, r.year)])
        return [record_view(record) for record in visible]

    @app.post("/api/approvals/{action}", tags=["approvals"], summary="Approve, return or reopen one unit-year",
              responses={200: {"description": "The approval states changed"},
                         **_refusal_responses(401, 403, 404, 409, 422)})
    async def act_on_approval(
        request: Request, credentials: Credentials,
        action: Annotated[str, PathParam(pattern="^(approve|return|reopen)$")],
        unit: Annotated[str, Body(pattern=UNIT_CODE_PATTERN)],
        year: Annotated[int, Body(ge=YEAR_RANGE[0], le=YEAR_RANGE[1])],
        reason: Annotated[str | None, Body(max_length=2000)] = None,
        by: Annotated[str | None, Body(max_length=200)] = None,
    ) -> list[dict[str, Any]]:
        """A district token approves, returns or reopens its communes; a province token its districts (its
        communes after the 2025 reform) and reopens anything beneath it; the operator token anything."""
        from pipeline import approval

        caller = await read_caller(request, credentials, f"approval.{action}")
        level = {2: "province", 3: "district", 5: "commune"}[len(unit)]
        actor = approval.Actor(caller.level, None if caller.level == "operator" else caller.unit_code,
                               by or caller.label)
        try:
            if action == "approve":
                records = [await run_in_threadpool(approval.approve, door.registry, level, unit, year, actor=actor)]
            elif action == "return":
                records = [await run_in_threadpool(lambda: approval.return_for_correction(
                    door.registry, level, unit, year, actor=actor, reason=reason or ""))]
            else:
                records = await run_in_threadpool(lambda: approval.reopen(
                    door.registry, level, unit, year, actor=actor, reason=reason or "", token_id=caller.token_id))
        except approval.NotAllowed as error:
            await door.audit(request, action=f"approval.{action}", result="refused_403", caller=caller,
                             unit_code=unit, detail=str(error))
            vi, _, en = str(error).partition(" / ")
            raise Refusal(403, "forbidden", vi, en) from None
        except approval.UnknownUnit as error:
            vi, _, en = str(error).partition(" / ")
            raise Refusal(404, "not_found", vi, en) from None
        except approval.ApprovalConflict as error:
            vi, _, en = str(error).partition(" / ")
            raise Refusal(409, "approval_conflict", vi, en) from None
        except ValueError as error:
            raise Refusal(422, "invalid_field", "Cần ghi lý do.", str(error)) from None
        await door.audit(request, action=f"approval.{action}", result=records[0].state, caller=caller,
                         unit_code=unit, target=f"{level} {unit} {year}")
        if door.orchestrated:       # a Prefect server is configured
            try:
                from flows.events import approval_event, emit_and_wait

                for record in records:
                    await run_in_threadpool(emit_and_wait, *approval_event(record))
            except Exception:  # the approval is recorded; a lost event must not undo it
                log.exception("approval recorded, but its event was not sent")
        return [{"level": r.level, "unit_code": r.unit_code, "year": r.year, "state": r.state, "by": r.by,
                 "at": r.at.isoformat(), "reason": r.reason} for r in records]

    @app.get("/api/marts/current", tags=["marts"], summary="The manifest of the live mart version",
             responses={200: {"description": "manifest.json of marts/current"}, **_refusal_responses(401, 404)})
    async def current_manifest(request: Request, credentials: Credentials) -> dict[str, Any]:
        await read_caller(request, credentials, "marts.read")
        manifest = await run_in_threadpool(_current_manifest, door.settings)
        if manifest is None:
            raise not_found("Chưa có phiên bản dữ liệu tổng hợp nào được công bố (`lnob build`, `lnob publish`).",
                            "No mart version has been published yet (`lnob build`, `lnob publish`).")
        return manifest

    # -- pages -----------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def upload_page(request: Request) -> Response:
        return _html(pages.upload_page(has_cookie=TOKEN_COOKIE in request.cookies))

    @app.post("/", include_in_schema=False)
    async def upload_from_page(request: Request) -> Response:
        verdict, label = await door.submit(request, request.cookies.get(TOKEN_COOKIE), token_from_form=True)
        response = _html(pages.verdict_page(verdict, file_label=label, report_url=verdict.get("report_url")))
        typed = getattr(request.state, "typed_token", None)
        if typed:
            _set_token_cookie(request, response, typed)
        return response

    @app.get("/submissions/{submission_id}/report", include_in_schema=False)
    async def report_page(request: Request, submission_id: str) -> Response:
        if not re.fullmatch(SUBMISSION_ID_PATTERN, submission_id):
            raise not_found(f"Không có bản nộp {submission_id}.", f"No submission {submission_id}.")
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE)
        try:
            caller = await (door.caller(token) if header.lower().startswith("bearer ")
                            else door.session_caller(request.cookies.get(TOKEN_COOKIE)))
        except Refusal as refusal:
            await door.audit(request, action="report.read", result="refused_401", target=submission_id,
                             detail=refusal.message_en)
            raise
        record = await door.visible_record(request, caller, submission_id)
        html_path = await run_in_threadpool(_report_html_path, door.settings, record)
        if html_path is None:
            raise not_found(f"Bản nộp {submission_id} chưa có báo cáo.", f"Submission {submission_id} has no report yet.")
        return FileResponse(html_path, media_type="text/html; charset=utf-8",
                            headers={"Content-Security-Policy": pages.CONTENT_SECURITY_POLICY})

    return app


def _html(text: str, *, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    response = HTMLResponse(text, status_code=status, headers=headers)
    response.headers["Content-Security-Policy"] = pages.CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    # same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with the page's own form
    # posts, which the cross-site check must refuse; the address still never leaves for another site.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _set_token_cookie(request: Request, response: Response, token: str) -> None:
    door = request.app.state.door
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    over_tls = request.url.scheme == "https" or (door.settings.trust_forwarded_proto and forwarded == "https")
    response.set_cookie(TOKEN_COOKIE, auth.session_value(door.session_key, token), httponly=True,
                        samesite="strict", path="/", secure=over_tls, max_age=12 * 3600)


def _current_manifest(settings) -> dict | None:
    from store.publish import current_path

    folder = current_path(settings)
    if folder is None or not (folder / "manifest.json").is_file():
        return None
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _report_html_path(settings, record) -> Path | None:
    from store.zones import fetch_shared, report_paths

    candidates = [Path(record.report_path)] if record.report_path else []
    # With an object store the report may have been written on another machine: fetched from the store.
    candidates.append(fetch_shared(settings, report_paths(settings, record.submission_id)[1]))
    return next((path for path in candidates if path.suffix == ".html" and path.is_file()), None)


def _report_findings(record) -> list[dict] | None:
    """The findings listed in the submission's JSON report, when there is one."""
    if not record.report_path:
        return None
    json_path = Path(record.report_path).with_suffix(".json")
    try:
        report = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    findings = report.get("findings") if isinstance(report, dict) else None
    return findings if isinstance(findings, list) else None

