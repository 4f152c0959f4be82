"""Who is calling and what they may reach.

A bearer token is `secrets.token_urlsafe(32)`, shown once when issued; the registry keeps only its
SHA-256. A token belongs to one unit at one level:

    commune   its own commune
    district  itself and its communes
    province  itself, its districts and their communes
    operator  everything (unit "*")

"Its communes" are read from the geography in force at the review's reference date
(`hierarchy_at(review_date(year))`), because a commune's district is a fact of a period: the
2025 reform removed districts, so a district token reaches no commune from review year 2025 on.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from lnob.http.refusals import forbidden, unauthorized
from schemas.vocabulary import LEVEL_RANK, SUBMISSION_LEVELS, TOKEN_LEVELS

OPERATOR_UNIT = "*"
# Official code widths of the unit a level's token names.
UNIT_CODE_WIDTH: dict[str, int] = {"commune": 5, "district": 3, "province": 2}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_token_unit(level: str, unit_code: str | None) -> str:
    """The unit code a token of `level` is issued for, or ValueError saying what is wrong."""
    if level not in TOKEN_LEVELS:
        raise ValueError(f"level must be one of {', '.join(TOKEN_LEVELS)}, not {level!r}")
    if level == "operator":
        if unit_code not in (None, "", OPERATOR_UNIT):
            raise ValueError(f"an operator token covers every unit; give no --unit (or '*'), not {unit_code!r}")
        return OPERATOR_UNIT
    width = UNIT_CODE_WIDTH[level]
    if not unit_code or not unit_code.isascii() or not unit_code.isdigit() or len(unit_code) != width:
        raise ValueError(f"a {level} code has {width} digits (zero-padded, e.g. {'0' * (width - 1)}1), "
                         f"not {unit_code!r}")
    return unit_code


def issue_token(registry, level: str, unit_code: str | None, *, expires_days: float | None = None,
                note: str | None = None) -> tuple[int, str]:
    """Create a token; returns (id, the token itself). The token is never stored, only its hash."""
    unit = check_token_unit(level, unit_code)
    if expires_days is not None and expires_days <= 0:
        raise ValueError(f"--expires is a number of days greater than 0, not {expires_days}")
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(days=expires_days) if expires_days is not None else None
    token_id = registry.issue_token(level, unit, hash_token(token), expires_at, note)
    registry.audit(action="token.issue", result="issued", token_id=token_id, unit_code=unit,
                   target=f"token:{token_id}", detail=f"level={level} expires_at={expires_at} note={note!r}")
    return token_id, token


@dataclass(frozen=True)
class Caller:
    """The holder of a valid token."""

    token_id: int
    level: str
    unit_code: str

    @property
    def label(self) -> str:
        return f"token:{self.token_id} ({self.level} {self.unit_code})"


def authenticate(registry, token: str | None) -> Caller:
    """The caller a presented token stands for; a Refusal (401) when there is none or it is not valid."""
    if not token:
        raise unauthorized("Thiếu mã truy cập: gửi tiêu đề `Authorization: Bearer <mã>` (hoặc nhập mã vào ô "
                           "“Mã truy cập” của trang tải lên). Xin mã bằng `lnob tokens issue`.",
                           "No access token: send `Authorization: Bearer <token>` (or type it into the "
                           "“Access token” field of the upload page). Tokens are issued with `lnob tokens issue`.")
    record = registry.find_token(hash_token(token.strip()))
    if record is None:
        raise unauthorized("Mã truy cập không đúng: không có mã nào như vậy.",
                           "Unknown access token: no token matches the one sent.")
    return _caller_of(record)


def _caller_of(record) -> Caller:
    if record.revoked_at is not None:
        raise unauthorized(f"Mã truy cập số {record.token_id} đã bị thu hồi lúc {record.revoked_at:%Y-%m-%d %H:%M} "
                           "UTC; xin mã mới.",
                           f"Access token {record.token_id} was revoked at {record.revoked_at:%Y-%m-%d %H:%M} UTC; "
                           "ask for a new one.")
    if not record.is_active():
        raise unauthorized(f"Mã truy cập số {record.token_id} đã hết hạn lúc {record.expires_at:%Y-%m-%d %H:%M} UTC; "
                           "xin mã mới.",
                           f"Access token {record.token_id} expired at {record.expires_at:%Y-%m-%d %H:%M} UTC; "
                           "ask for a new one.")
    return Caller(record.token_id, record.level, record.unit_code)


# --- the upload page's session ---------------------------------------------------------------------
# The page's cookie never holds the bearer token: it holds the token's number and a keyed hash of the
# token's stored hash, which only this server can make. A stolen cookie is not a token for the API, and
# revoking the token ends the session with it.

def session_key(home) -> bytes:
    """This server's session key, kept beside the registry (made once, readable by lnob's user only)."""
    path = Path(home) / "session.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            with open(path, "xb", opener=lambda name, flags: os.open(name, flags, 0o600)) as file:
                file.write(key)
            return key
        except FileExistsError:   # another process made it first
            return path.read_bytes()


def _session_mac(key: bytes, token_hash: str) -> str:
    return hmac.new(key, token_hash.encode("ascii"), hashlib.sha256).hexdigest()


def session_value(key: bytes, token: str) -> str:
    """The cookie value standing for a token typed into the page."""
    return _session_mac(key, hash_token(token.strip()))


def authenticate_session(registry, key: bytes, value: str | None) -> Caller:
    """The caller a session cookie stands for; a Refusal (401) when there is none or it is not valid."""
    if not value:
        return authenticate(registry, None)     # no token and no session: the same answer as a missing token
    for record in registry.list_tokens():
        if hmac.compare_digest(_session_mac(key, record.token_hash), value):
            return _caller_of(record)
    raise unauthorized("Phiên làm việc đã hết hoặc không hợp lệ: hãy nhập lại mã truy cập.",
                       "The session has ended or is not valid: type the access token again.")


# Reading the geography costs tens of milliseconds; each review year's hierarchy is read once per process.
_hierarchy_lock = threading.Lock()


@lru_cache(maxsize=16)
def _units_under(level: str, unit_code: str, year: int) -> frozenset[tuple[str, str]]:
    """Every (level, unit_code) below a district or province in review year `year`."""
    import polars as pl

    from schemas.geography import hierarchy_at, review_date

    with _hierarchy_lock:
        hierarchy = hierarchy_at(review_date(year))
    column = "district_code" if level == "district" else "province_code"
    below = hierarchy.filter(pl.col(column) == unit_code)
    reachable: set[tuple[str, str]] = set()
    for commune in below.get_column("commune_code").drop_nulls().unique().to_list():
        reachable.add(("commune", commune))
    if level == "province":
        for district in below.get_column("district_code").drop_nulls().unique().to_list():
            reachable.add(("district", district))
    return frozenset(reachable)


def reaches(caller: Caller, level: str, unit_code: str, year: int) -> bool:
    """May this caller submit or read data of (level, unit_code) for review year `year`?"""
    if caller.level == "operator":
        return True
    if (caller.level, caller.unit_code) == (level, unit_code):
        return True
    if caller.level == "commune":
        return False
    if level not in SUBMISSION_LEVELS or LEVEL_RANK[level] >= LEVEL_RANK[caller.level]:
        return False
    try:
        return (level, unit_code) in _units_under(caller.level, caller.unit_code, int(year))
    except (ValueError, KeyError, LookupError):
        return False  # a year the geography does not cover reaches nothing below the caller's own unit


def require_reach(caller: Caller, level: str, unit_code: str, year: int) -> None:
    if not reaches(caller, level, unit_code, year):
        raise forbidden(
            f"Mã truy cập số {caller.token_id} thuộc {_LEVEL_VI.get(caller.level, caller.level)} {caller.unit_code}; "
            f"không được nộp hay xem dữ liệu của {_LEVEL_VI.get(level, level)} {unit_code} năm {year}.",
            f"Access token {caller.token_id} belongs to {caller.level} {caller.unit_code}; it may not submit or "
            f"read data of {level} {unit_code} for {year}.")


_LEVEL_VI = {"commune": "xã", "district": "huyện", "province": "tỉnh", "operator": "điều hành"}
