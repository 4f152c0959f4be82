"""lnob's events, named as docs/architecture.md#names names them, each about one submission or one mart
version.

Inside a flow run, `emit_event` queues the event on Prefect's events worker, which the engine
drains when the run ends. A short-lived command (`lnob submit`) must not exit before the event
is out, so it sends through an events client and waits for the send.
"""

from __future__ import annotations

import asyncio
from typing import Any

SUBMISSION_RECEIVED = "lnob.submission.received"
SUBMISSION_ACCEPTED = "lnob.submission.accepted"
SUBMISSION_REJECTED = "lnob.submission.rejected"
MARTS_PUBLISHED = "lnob.marts.published"
APPROVAL_APPROVED = "lnob.approval.approved"
APPROVAL_RETURNED = "lnob.approval.returned"
APPROVAL_REOPENED = "lnob.approval.reopened"
APPROVAL_EVENTS = {"approved": APPROVAL_APPROVED, "returned": APPROVAL_RETURNED, "reopened": APPROVAL_REOPENED}


def submission_resource(submission_id: str, level: str, unit_code: str, year: int) -> dict[str, str]:
    return {
        "prefect.resource.id": f"lnob.submission.{submission_id}",
        "prefect.resource.name": f"{level} {unit_code} {year}",
        "lnob.submission_id": submission_id,
        "lnob.level": level,
        "lnob.unit_code": unit_code,
        "lnob.year": str(year),
    }


def approval_resource(level: str, unit_code: str, year: int) -> dict[str, str]:
    """An approval event is about one unit-year."""
    return {
        "prefect.resource.id": f"lnob.unit-year.{level}.{unit_code}.{year}",
        "prefect.resource.name": f"{level} {unit_code} {year}",
        "lnob.level": level,
        "lnob.unit_code": unit_code,
        "lnob.year": str(year),
    }


def approval_event(record: Any) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The event that announces one approval change (a registry ApprovalRecord)."""
    return (APPROVAL_EVENTS[record.state], approval_resource(record.level, record.unit_code, record.year),
            {"by": record.by, "at": record.at.isoformat(), "reason": record.reason})


def marts_resource(version: str) -> dict[str, str]:
    return {"prefect.resource.id": f"lnob.marts.{version}", "lnob.version": version}


def emit_in_run(event: str, resource: dict[str, str], payload: dict[str, Any] | None = None) -> None:
    """Emit from inside a flow or task run (queued; the engine flushes it at the end of the run)."""
    from prefect.events import emit_event

    emit_event(event=event, resource=resource, payload=payload or {})


def emit_and_wait(event: str, resource: dict[str, str], payload: dict[str, Any] | None = None) -> str:
    """Send one event to the configured Prefect server and return its id once it is sent."""
    from prefect.events import Event
    from prefect.events.clients import get_events_client

    message = Event(event=event, resource=resource, payload=payload or {})

    async def send() -> None:
        async with get_events_client() as client:
            await client.emit(message)

    asyncio.run(send())
    return str(message.id)


def verdict_event(verdict: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The event that announces a validation verdict (accepted or rejected)."""
    name = SUBMISSION_ACCEPTED if verdict["status"] == "accepted" else SUBMISSION_REJECTED
    resource = submission_resource(verdict["submission_id"], verdict["level"], verdict["unit_code"],
                                   verdict["year"])
    payload = {
        "kind": verdict.get("kind"),
        "status": verdict["status"],
        "supersedes": verdict.get("supersedes"),
        "findings_total": verdict.get("findings_total", 0),
        "report_json": verdict.get("report_json"),
    }
    return name, resource, payload
