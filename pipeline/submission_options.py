"""Options of a submission that are not registry columns (the XLSX sheet, whether the kind was given or
inferred, whether a household list holds every resident household), kept beside its reports as
`reports/<id>.request.json`, so that a worker on any machine reads the file the way it was submitted."""

from __future__ import annotations

import json

from documents import findings_report
from store.settings import Settings
from store.zones import fetch_shared, share


def read_request(settings: Settings, submission_id: str) -> dict:
    path = fetch_shared(settings, settings.reports / f"{submission_id}.request.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_request(settings: Settings, submission_id: str, options: dict) -> None:
    settings.reports.mkdir(parents=True, exist_ok=True)
    path = settings.reports / f"{submission_id}.request.json"
    if not path.exists():
        findings_report._write_atomically(path, json.dumps(options, ensure_ascii=False, indent=2) + "\n")
        share(settings, [path])     # the worker that validates it may be another machine
