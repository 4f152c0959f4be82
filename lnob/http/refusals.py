"""Why the front door says no: one exception that carries an HTTP status and a bilingual message.

Every refusal names itself (a stable `error` code) and explains in Vietnamese first, then English,
what to do next; the API answers it as JSON and the upload page shows the same two sentences.
"""

from __future__ import annotations


class Refusal(Exception):
    """A request lnob will not carry out; nothing of it is stored beyond an audit line."""

    def __init__(self, status: int, error: str, message_vi: str, message_en: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message_en)
        self.status = status
        self.error = error
        self.message_vi = message_vi
        self.message_en = message_en
        self.headers = headers or {}

    def body(self) -> dict[str, str | int]:
        return {"status": self.status, "error": self.error,
                "message_vi": self.message_vi, "message_en": self.message_en}


def unauthorized(message_vi: str, message_en: str) -> Refusal:
    return Refusal(401, "unauthorized", message_vi, message_en, headers={"WWW-Authenticate": "Bearer"})


def forbidden(message_vi: str, message_en: str) -> Refusal:
    return Refusal(403, "forbidden", message_vi, message_en)


def invalid(field: str, value: object, message_vi: str, message_en: str) -> Refusal:
    shown = repr(value) if value is not None else "(trống / empty)"
    return Refusal(422, "invalid_field", f"Trường `{field}` = {shown}: {message_vi}",
                   f"Field `{field}` = {shown}: {message_en}")


def not_found(message_vi: str, message_en: str) -> Refusal:
    return Refusal(404, "not_found", message_vi, message_en)
