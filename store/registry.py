"""The registry: every submission, its status history, supersession, every publish, and the
tokens and audit trail of the HTTP front door.

One SQL schema that runs on SQLite (the default, a file under LNOB_HOME shared by several
processes) and on PostgreSQL (LNOB_DATABASE_URL, for many concurrent workers). The tables are
created on first use.

A submission's life:
    received ──claim_pending──▶ validating ──▶ accepted ──(a later version is accepted)──▶ superseded
        └──────────────────────────────────────▶ rejected (never changes what is current)

A claim is a lease: `claimed_by` holds it until `lease_until`, and the holder renews it while it works
(`renew_leases`). A claim whose lease ran out, or whose holder is a process of this host that no longer
exists, is claimable again by the next drain, sweeper, nightly build or resend; `attempts` counts the
claims, so a file whose validation keeps killing its process is seen (MAX_ATTEMPTS) and given a final
verdict instead of being tried for ever. Registries created before leases existed gain the columns on
first use (ALTER TABLE ... ADD COLUMN).

Approval (chốt số liệu): `approvals` holds one current state per level, unit and year (approved, returned,
reopened) and `approval_history` every change, who and when. An approved unit-year is locked: a submission
of it whose verdict comes after the lock is recorded `held` (it passed its checks, it is kept, it is never
current); reopening (an audited action) makes the held ones wait for a check again. Who may approve whom is
decided above the store (pipeline/approval.py); what must hold at that moment (no submission of the unit
still waiting for a verdict, every unit it approves approved) is checked here, in the approving transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    func,
    inspect,
    make_url,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

RECEIVED = "received"
VALIDATING = "validating"
ACCEPTED = "accepted"
REJECTED = "rejected"
SUPERSEDED = "superseded"
HELD = "held"
STATUSES = (RECEIVED, VALIDATING, ACCEPTED, REJECTED, SUPERSEDED, HELD)

# Approval of a unit-year (schemas/vocabulary.py APPROVAL_STATES): "approved" is the lock.
APPROVED, RETURNED, REOPENED = "approved", "returned", "reopened"

PUBLISH_ACTIONS = ("publish", "rollback")

# How long a claim lasts without renewal, and how often its holder renews it.
DEFAULT_LEASE = timedelta(minutes=5)
# Claims after which a file that never got a verdict is given up as unreadable (its validation died each time).
MAX_ATTEMPTS = 3

_SHA256 = re.compile(r"[0-9a-f]{64}")

# How long a SQLite writer waits for another process's write lock before giving up.
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def utc_now() -> datetime:
    return datetime.now(UTC)


def submission_id_for(content_hash: str, level: str, unit_code: str, year: int, kind: str) -> str:
    """The id of one file version for one unit and period: the same inputs always give the same id."""
    key = "\x1f".join([content_hash.lower(), level, unit_code, str(int(year)), kind])
    return "S" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Records handed to callers (plain frozen values, never live ORM objects)


@dataclass(frozen=True)
class SubmissionRecord:
    submission_id: str
    level: str
    unit_code: str
    year: int
    kind: str
    standard: str | None
    submitter: str | None
    content_hash: str
    byte_size: int
    original_name: str | None
    received_at: datetime
    status: str
    supersedes: str | None
    superseded_by: str | None
    staging_path: str | None
    report_path: str | None
    findings_count: int | None
    warnings_count: int | None
    claimed_by: str | None = None
    lease_until: datetime | None = None
    attempts: int = 0


@dataclass(frozen=True)
class Outcome:
    """The verdict on one validated submission, for `Registry.record_outcomes`."""

    submission_id: str
    accepted: bool
    report_path: str | Path | None
    findings_count: int
    staging_path: str | Path | None = None     # accepted only
    warnings_count: int = 0                    # accepted only


@dataclass(frozen=True)
class StatusChange:
    submission_id: str
    status: str
    at: datetime
    detail: str | None


@dataclass(frozen=True)
class PublishRecord:
    version: str
    action: str
    at: datetime
    manifest_path: str | None
    submission_ids: list[str]


@dataclass(frozen=True)
class TokenRecord:
    token_id: int
    token_hash: str
    level: str
    unit_code: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    note: str | None

    def is_active(self, at: datetime | None = None) -> bool:
        moment = at or utc_now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or moment < self.expires_at


@dataclass(frozen=True)
class ApprovalRecord:
    level: str
    unit_code: str
    year: int
    state: str
    by: str
    at: datetime
    reason: str | None


class ApprovalConflict(ValueError):
    """An approval that cannot be recorded now: submissions still waiting for a verdict, units beneath not
    approved, or a state that does not allow the action (e.g. returning an approved unit)."""

    def __init__(self, message: str, *, pending: Sequence[str] = (),
                 unapproved: Sequence[tuple[str, str]] = (), current: ApprovalRecord | None = None) -> None:
        super().__init__(message)
        self.pending = list(pending)
        self.unapproved = list(unapproved)
        self.current = current


@dataclass(frozen=True)
class AuditEntry:
    entry_id: int
    at: datetime
    token_id: int | None
    unit_code: str | None
    action: str
    target: str | None
    result: str
    detail: str | None


# ---------------------------------------------------------------------------------------------
# Schema


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps go in and come out timezone-aware in UTC on every engine.

    SQLite keeps no zone, so values are stored as UTC and the zone is put back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp without a time zone: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Submission(Base):
    """One row per submitted file version for one unit, period and kind."""

    __tablename__ = "submissions"

    # An integer that grows with every arrival: the one order of arrival all engines agree on.
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(String(17), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    byte_size: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    standard: Mapped[str | None] = mapped_column(String(64))
    submitter: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    status_at: Mapped[datetime] = mapped_column(UtcDateTime)
    supersedes: Mapped[str | None] = mapped_column(String(17))
    superseded_by: Mapped[str | None] = mapped_column(String(17))
    staging_path: Mapped[str | None] = mapped_column(Text)
    report_path: Mapped[str | None] = mapped_column(Text)
    findings_count: Mapped[int | None] = mapped_column(Integer)
    warnings_count: Mapped[int | None] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    __table_args__ = (
        UniqueConstraint(
            "content_hash", "level", "unit_code", "year", "kind", name="uq_submission_bytes_per_unit"
        ),
        Index("ix_submissions_unit_period", "level", "unit_code", "year", "kind"),
        Index("ix_submissions_status", "status"),
        # The database itself guarantees at most one current accepted version per unit and period.
        Index(
            "uq_submissions_one_current",
            "level",
            "unit_code",
            "year",
            "kind",
            unique=True,
            postgresql_where=text("status = 'accepted'"),
            sqlite_where=text("status = 'accepted'"),
        ),
    )

    def to_record(self) -> SubmissionRecord:
        return SubmissionRecord(
            submission_id=self.submission_id,
            level=self.level,
            unit_code=self.unit_code,
            year=self.year,
            kind=self.kind,
            standard=self.standard,
            submitter=self.submitter,
            content_hash=self.content_hash,
            byte_size=self.byte_size,
            original_name=self.original_name,
            received_at=self.received_at,
            status=self.status,
            supersedes=self.supersedes,
            superseded_by=self.superseded_by,
            staging_path=self.staging_path,
            report_path=self.report_path,
            findings_count=self.findings_count,
            warnings_count=self.warnings_count,
            claimed_by=self.claimed_by,
            lease_until=self.lease_until,
            attempts=self.attempts or 0,
        )


class SubmissionStatusChange(Base):
    __tablename__ = "submission_status_history"

    change_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.submission_id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str | None] = mapped_column(Text)


class Publish(Base):
    __tablename__ = "publishes"

    publish_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    manifest_path: Mapped[str | None] = mapped_column(Text)
    submission_ids_json: Mapped[str] = mapped_column(Text)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    level: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)

    def to_record(self) -> TokenRecord:
        return TokenRecord(
            token_id=self.id,
            token_hash=self.token_hash,
            level=self.level,
            unit_code=self.unit_code,
            created_at=self.created_at,
            expires_at=self.expires_at,
            revoked_at=self.revoked_at,
            note=self.note,
        )


class AuditLogEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    token_id: Mapped[int | None] = mapped_column(Integer)
    unit_code: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class _ApprovalFields:
    """What an approval says: which unit-year, in which state, by whom, when and why (both tables below)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    level: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)

    def to_record(self) -> ApprovalRecord:
        return ApprovalRecord(self.level, self.unit_code, self.year, self.state, self.by, self.at, self.reason)


class Approval(_ApprovalFields, Base):
    """The current approval state of one unit-year (none: never approved nor returned)."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("level", "unit_code", "year", name="uq_approval_unit_year"),
                      Index("ix_approvals_year_state", "year", "state"))


class ApprovalChange(_ApprovalFields, Base):
    """Every approval, return and reopening, append-only."""

    __tablename__ = "approval_history"
    __table_args__ = (Index("ix_approval_history_unit", "level", "unit_code", "year"),)


metadata = Base.metadata


# ---------------------------------------------------------------------------------------------
# Engines: one per URL per process, created once, shared by every Registry on that URL

_engines: dict[str, Engine] = {}
_schema_ready: set[str] = set()
_engines_lock = threading.Lock()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins, so that
        # reads are repeatable and writers can take the write lock up front (BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        # WAL lets readers go on while one process writes; it is a property of the file.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # A writer that began as a reader cannot upgrade while another process writes (SQLite
        # answers "database is locked" without waiting), so write transactions lock first.
        if connection.get_execution_options().get("lnob_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def engine_for(database_url: str) -> Engine:
    """The engine for a URL, created once per process."""
    with _engines_lock:
        engine = _engines.get(database_url)
        if engine is not None:
            return engine
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            in_memory = url.database in (None, "", ":memory:")
            if not in_memory:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                **({"poolclass": StaticPool} if in_memory else {}),
            )
            _configure_sqlite(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        _engines[database_url] = engine
        return engine


def _forget_engines_after_fork() -> None:
    # A forked worker must not share its parent's pooled connections; it opens its own.
    for engine in list(_engines.values()):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_engines_after_fork)


def dispose_engine(database_url: str) -> None:
    """Close the pooled connections of a URL (tests that drop a schema call this)."""
    with _engines_lock:
        engine = _engines.pop(database_url, None)
        _schema_ready.discard(database_url)
    if engine is not None:
        engine.dispose()


def _advisory_key(*parts: object) -> int:
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _add_missing_columns(connection) -> None:
    """Upgrade a registry created by an older lnob in place: every column the tables now have and the
    database lacks is added (nullable or with its default, so existing rows stay valid)."""
    inspector = inspect(connection)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=connection.dialect)
            default = f" DEFAULT {column.server_default.arg.text}" if column.server_default is not None else ""
            connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}{default}"))


def _ensure_schema(database_url: str, engine: Engine) -> None:
    if database_url in _schema_ready:
        return
    with engine.connect() as connection:
        connection.execution_options(lnob_write=True)
        with connection.begin():
            if engine.dialect.name == "postgresql":
                # Two processes starting at once must not both create the tables.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _advisory_key("lnob-registry-schema")}
                )
            metadata.create_all(connection)
            _add_missing_columns(connection)
    with _engines_lock:
        _schema_ready.add(database_url)


# ---------------------------------------------------------------------------------------------


def _unit_key(row: Submission) -> tuple[str, str, int, str]:
    """What one current version is kept per: unit, period and kind."""
    return (row.level, row.unit_code, row.year, row.kind)


def _json_list(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _held_by(worker: str, submission_ids: Sequence[str]) -> tuple:
    """The conditions on submissions that `worker` holds a claim on, among `submission_ids`."""
    return (Submission.submission_id.in_(list(submission_ids)), Submission.status == VALIDATING,
            Submission.claimed_by == worker)


class Registry:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.engine = engine_for(database_url)
        _ensure_schema(database_url, self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[Session]:
        with self.engine.connect() as connection:
            if write:
                connection.execution_options(lnob_write=True)
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session

    @staticmethod
    def _add_status(
        session: Session, submission_id: str, status: str, at: datetime, detail: str | None
    ) -> None:
        session.add(SubmissionStatusChange(submission_id=submission_id, status=status, at=at, detail=detail))

    @staticmethod
    def _locked_submission(session: Session, submission_id: str) -> Submission:
        row = session.scalars(
            select(Submission).where(Submission.submission_id == submission_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise KeyError(f"no submission {submission_id!r} in the registry")
        return row

    # -- submissions ----------------------------------------------------------------------------

    def record_received(
        self,
        *,
        content_hash: str,
        byte_size: int,
        original_name: str | None,
        level: str,
        unit_code: str,
        year: int,
        kind: str,
        standard: str | None,
        submitter: str | None,
    ) -> tuple[SubmissionRecord, bool]:
        """Record a file version; the same bytes for the same unit, period and kind are one
        submission, so the second call returns the first record and False."""
        # Imported here: the contracts bring Polars, which reading the registry does not need.
        from schemas.contracts import KINDS, LEVELS

        if level not in LEVELS:
            raise ValueError(f"submitting level must be one of {LEVELS}, not {level!r}")
        if kind not in KINDS:
            raise ValueError(f"kind of data must be one of {KINDS}, not {kind!r}")
        if not _SHA256.fullmatch(content_hash.lower()):
            raise ValueError(f"content_hash must be a hex sha256, not {content_hash!r}")
        submission_id = submission_id_for(content_hash, level, unit_code, year, kind)
        existing = self.get(submission_id)
        if existing is not None:
            return existing, False
        now = utc_now()
        try:
            with self._transaction(write=True) as session:
                row = Submission(
                    submission_id=submission_id,
                    content_hash=content_hash.lower(),
                    byte_size=byte_size,
                    original_name=original_name,
                    level=level,
                    unit_code=unit_code,
                    year=int(year),
                    kind=kind,
                    standard=standard,
                    submitter=submitter,
                    received_at=now,
                    status=RECEIVED,
                    status_at=now,
                )
                session.add(row)
                session.flush()
                self._add_status(session, submission_id, RECEIVED, now, original_name)
                record = row.to_record()
        except IntegrityError:
            # Another process recorded the same bytes between our look-up and our insert.
            existing = self.get(submission_id)
            if existing is None:
                raise
            return existing, False
        return record, True

    def get(self, submission_id: str) -> SubmissionRecord | None:
        with self._transaction() as session:
            row = session.scalars(
                select(Submission).where(Submission.submission_id == submission_id)
            ).one_or_none()
            return row.to_record() if row is not None else None

    def mark_accepted(
        self,
        submission_id: str,
        *,
        staging_path: str | Path | None,
        report_path: str | Path | None,
        findings_count: int,
        warnings_count: int,
    ) -> str | None:
        """Accept a submission and make it current for its unit, period and kind, in one
        transaction. Returns the id of the version it supersedes, if any.

        Calling it again for an already accepted submission changes nothing (safe to retry).
        If a version received later is already current, this one is kept as accepted history,
        marked superseded by that later version, and None is returned: arrival order decides.
        """
        [(_status, superseded_id)] = self.record_outcomes([Outcome(
            submission_id, accepted=True, staging_path=staging_path, report_path=report_path,
            findings_count=findings_count, warnings_count=warnings_count)])
        return superseded_id

    def mark_rejected(
        self, submission_id: str, *, report_path: str | Path | None, findings_count: int
    ) -> None:
        """Reject a submission. What is current for its unit and period does not change."""
        self.record_outcomes([Outcome(submission_id, accepted=False, report_path=report_path,
                                      findings_count=findings_count)])

    def record_outcomes(self, outcomes: Sequence[Outcome]) -> list[tuple[str, str | None]]:
        """Accept or reject several submissions in ONE transaction, one after the other in the order
        given, each exactly as `mark_accepted` / `mark_rejected` would (a later one of the same unit and
        period supersedes an earlier one of the same call when it arrived later).

        Returns, per outcome, (its status just after its own step, the id it superseded or None).
        Raises (and records nothing) when one of them cannot be: an unknown submission (KeyError), a
        rejected one to accept or an accepted one to reject (ValueError).
        """
        if not outcomes:
            return []
        now = utc_now()
        ids = [outcome.submission_id for outcome in outcomes]
        with self._transaction(write=True) as session:
            # Locked in arrival order, and the unit locks below in key order: two workers recording
            # batches at once always wait for each other in the same order (no deadlock).
            rows = {row.submission_id: row for row in session.scalars(
                select(Submission).where(Submission.submission_id.in_(ids))
                .order_by(Submission.sequence).with_for_update())}
            for submission_id in ids:
                if submission_id not in rows:
                    raise KeyError(f"no submission {submission_id!r} in the registry")
            accepting = [rows[o.submission_id] for o in outcomes
                         if o.accepted and rows[o.submission_id].status not in (ACCEPTED, SUPERSEDED, HELD)]
            units = sorted({_unit_key(row) for row in accepting})
            if self.dialect == "postgresql":
                # Serialise acceptances for one unit and period, so two workers cannot both see
                # the same "current" and both become current.
                for unit in units:
                    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _advisory_key(*unit)})
            locked = self._locks(session, {(level, unit_code, year) for level, unit_code, year, _kind in units})
            current: dict[tuple, Submission] = {}
            if units:
                unit = tuple_(Submission.level, Submission.unit_code, Submission.year, Submission.kind)
                for row in session.scalars(select(Submission).where(
                        Submission.status == ACCEPTED, unit.in_(units)).with_for_update()):
                    current[_unit_key(row)] = row
            results = []
            for outcome in outcomes:
                row = rows[outcome.submission_id]
                if outcome.accepted:
                    superseded_id = self._accept(session, row, outcome, current, now,
                                                 locked.get((row.level, row.unit_code, row.year)))
                else:
                    self._reject(session, row, outcome, now)
                    superseded_id = None
                results.append((row.status, superseded_id))
            return results

    def _accept(self, session: Session, row: Submission, outcome: Outcome, current: dict[tuple, Submission],
                now: datetime, lock: Approval | None = None) -> str | None:
        """One acceptance (see `mark_accepted`); `current` holds the accepted row of each unit and period
        the transaction has seen, kept up to date here. `lock`: the unit-year's approval when it is approved:
        the submission is then held, never current."""
        if row.status in (ACCEPTED, SUPERSEDED, HELD):
            return row.supersedes
        if row.status == REJECTED:
            raise ValueError(
                f"submission {row.submission_id} was rejected; a rejected submission is never accepted"
            )
        unit = _unit_key(row)
        now_current = current.get(unit)

        row.staging_path = str(outcome.staging_path) if outcome.staging_path is not None else None
        row.report_path = str(outcome.report_path) if outcome.report_path is not None else None
        row.findings_count = outcome.findings_count
        row.warnings_count = outcome.warnings_count
        row.claimed_by = None
        row.claimed_at = None
        row.lease_until = None
        if lock is not None:
            row.status = HELD
            row.status_at = now
            self._add_status(session, row.submission_id, HELD, now,
                             f"locked: approved by {lock.by} at {lock.at.isoformat(timespec='seconds')}")
            return None
        self._add_status(session, row.submission_id, ACCEPTED, now, None)

        if now_current is not None and now_current.sequence > row.sequence:
            row.status = SUPERSEDED
            row.status_at = now
            row.superseded_by = now_current.submission_id
            self._add_status(
                session,
                row.submission_id,
                SUPERSEDED,
                now,
                f"a later version {now_current.submission_id} is current",
            )
            return None

        superseded_id = None
        if now_current is not None:
            superseded_id = now_current.submission_id
            now_current.status = SUPERSEDED
            now_current.status_at = now
            now_current.superseded_by = row.submission_id
            self._add_status(
                session, now_current.submission_id, SUPERSEDED, now, f"superseded by {row.submission_id}"
            )
            # The old version must stop being current before the new one starts (one-current index).
            session.flush()
        row.status = ACCEPTED
        row.status_at = now
        row.supersedes = superseded_id
        current[unit] = row
        return superseded_id

    def _reject(self, session: Session, row: Submission, outcome: Outcome, now: datetime) -> None:
        """One rejection (see `mark_rejected`)."""
        if row.status == REJECTED:
            return
        if row.status in (ACCEPTED, SUPERSEDED, HELD):
            raise ValueError(
                f"submission {row.submission_id} is already {row.status}; it cannot be rejected now"
            )
        row.status = REJECTED
        row.status_at = now
        row.report_path = str(outcome.report_path) if outcome.report_path is not None else None
        row.findings_count = outcome.findings_count
        row.claimed_by = None
        row.claimed_at = None
        row.lease_until = None
        self._add_status(session, row.submission_id, REJECTED, now, f"{outcome.findings_count} findings")

    def history(self, submission_id: str) -> list[StatusChange]:
        with self._transaction() as session:
            rows = session.scalars(
                select(SubmissionStatusChange)
                .where(SubmissionStatusChange.submission_id == submission_id)
                .order_by(SubmissionStatusChange.change_id)
            ).all()
            return [StatusChange(row.submission_id, row.status, row.at, row.detail) for row in rows]

    def list_submissions(
        self,
        level: str | None = None,
        unit_code: str | None = None,
        year: int | None = None,
        kind: str | None = None,
        status: str | None = None,
    ) -> list[SubmissionRecord]:
        """Submissions matching every filter given, oldest first."""
        query = select(Submission).order_by(Submission.sequence)
        if level is not None:
            query = query.where(Submission.level == level)
        if unit_code is not None:
            query = query.where(Submission.unit_code == unit_code)
        if year is not None:
            query = query.where(Submission.year == int(year))
        if kind is not None:
            query = query.where(Submission.kind == kind)
        if status is not None:
            query = query.where(Submission.status == status)
        with self._transaction() as session:
            return [row.to_record() for row in session.scalars(query)]

    def current_accepted(self, year: int | None = None, kind: str | None = None) -> list[SubmissionRecord]:
        """The live set: one accepted version per unit, period and kind."""
        return self.list_submissions(year=year, kind=kind, status=ACCEPTED)

    def pending(self, limit: int | None = None) -> list[SubmissionRecord]:
        """Submissions waiting for validation, oldest first."""
        query = select(Submission).where(Submission.status == RECEIVED).order_by(Submission.sequence)
        if limit is not None:
            query = query.limit(limit)
        with self._transaction() as session:
            return [row.to_record() for row in session.scalars(query)]

    @staticmethod
    def _claimable(now: datetime):
        """Received, or claimed by someone whose lease ran out (claims from before leases: by claimed_at)."""
        expired = or_(Submission.lease_until < now,
                      (Submission.lease_until.is_(None)) & (Submission.claimed_at < now - DEFAULT_LEASE))
        return or_(Submission.status == RECEIVED, (Submission.status == VALIDATING) & expired)

    def _claim(self, session: Session, chosen, worker: str, lease: timedelta, now: datetime) -> list[Submission]:
        claim = (
            update(Submission)
            .where(chosen, self._claimable(now))
            .values(status=VALIDATING, status_at=now, claimed_by=worker, claimed_at=now, lease_until=now + lease,
                    attempts=func.coalesce(Submission.attempts, 0) + 1)
            .returning(Submission)
            .execution_options(synchronize_session=False)
        )
        rows = sorted(session.scalars(claim), key=lambda row: row.sequence)
        for row in rows:
            detail = f"claimed by {worker}"
            if row.attempts > 1:
                detail += f" (attempt {row.attempts}: the earlier claim ended without a verdict)"
            self._add_status(session, row.submission_id, VALIDATING, now, detail)
        return rows

    def claim_pending(self, limit: int, worker: str, *, lease: timedelta = DEFAULT_LEASE) -> list[SubmissionRecord]:
        """Claim up to `limit` submissions waiting for a verdict, oldest first, for one worker, until
        `lease` from now: received ones and those whose earlier claim's lease ran out.

        Two workers claiming at once never get the same submission: PostgreSQL skips rows that
        another transaction has locked; SQLite runs the claim as one write-locked UPDATE.
        """
        if limit <= 0:
            return []
        now = utc_now()
        oldest_waiting = (
            select(Submission.sequence)
            .where(self._claimable(now))
            .order_by(Submission.sequence)
            .limit(limit)
        )
        with self._transaction(write=True) as session:
            if self.dialect == "postgresql":
                # Lock first, then update: inside an UPDATE's IN (...) PostgreSQL may re-run a
                # SKIP LOCKED subquery and hand out more rows than the limit.
                sequences = list(session.scalars(oldest_waiting.with_for_update(skip_locked=True)))
                chosen = Submission.sequence.in_(sequences)
            else:
                chosen = Submission.sequence.in_(oldest_waiting.scalar_subquery())
            return [row.to_record() for row in self._claim(session, chosen, worker, lease, now)]

    def claim(self, submission_id: str, worker: str, *, lease: timedelta = DEFAULT_LEASE) -> SubmissionRecord | None:
        """Claim one submission if it waits for a verdict (see `claim_pending`); None when it is decided or
        another worker holds a live claim on it."""
        now = utc_now()
        with self._transaction(write=True) as session:
            rows = self._claim(session, Submission.submission_id == submission_id, worker, lease, now)
            return rows[0].to_record() if rows else None

    def renew_leases(self, worker: str, submission_ids: Sequence[str], *,
                     lease: timedelta = DEFAULT_LEASE) -> int:
        """Extend this worker's claims on these submissions (those still its own); returns how many."""
        if not submission_ids:
            return 0
        with self._transaction(write=True) as session:
            result = session.execute(
                update(Submission)
                .where(*_held_by(worker, submission_ids))
                .values(lease_until=utc_now() + lease)
                .execution_options(synchronize_session=False))
            return result.rowcount

    def give_back(self, worker: str, submission_ids: Sequence[str], *, retry_after: timedelta) -> int:
        """End this worker's claims on submissions whose check did not finish for a reason of lnob's own
        (not the file's): the attempt is not counted, and they are claimable again after `retry_after`."""
        if not submission_ids:
            return 0
        with self._transaction(write=True) as session:
            result = session.execute(
                update(Submission)
                .where(*_held_by(worker, submission_ids))
                .values(lease_until=utc_now() + retry_after,
                        attempts=func.greatest(func.coalesce(Submission.attempts, 1) - 1, 0)
                        if self.dialect == "postgresql"
                        else func.max(func.coalesce(Submission.attempts, 1) - 1, 0))
                .execution_options(synchronize_session=False))
            return result.rowcount

    def release_claims(self, worker: str, submission_ids: Sequence[str], detail: str) -> list[str]:
        """Give this worker's claims back to `received` (its check stopped with an error of lnob's or the
        machine's, not the file's): the attempt is not counted. Returns the ids released."""
        if not submission_ids:
            return []
        now = utc_now()
        with self._transaction(write=True) as session:
            rows = session.scalars(
                select(Submission)
                .where(*_held_by(worker, submission_ids))
                .order_by(Submission.sequence).with_for_update()).all()
            for row in rows:
                row.status = RECEIVED
                row.status_at = now
                row.claimed_by = row.claimed_at = row.lease_until = None
                row.attempts = max((row.attempts or 1) - 1, 0)
                self._add_status(session, row.submission_id, RECEIVED, now, detail)
            return [row.submission_id for row in rows]

    def end_dead_claims(self, host: str, is_alive) -> list[str]:
        """End at once the claims held by processes of `host` (claimed_by "host:pid...") that no longer
        exist (`is_alive(pid)` is False): their lease is set to have run out. Returns their ids."""
        now = utc_now()
        with self._transaction(write=True) as session:
            rows = session.scalars(
                select(Submission)
                .where(Submission.status == VALIDATING, Submission.claimed_by.like(f"{host}:%"))
                .with_for_update(skip_locked=True)
            ).all()
            ended = []
            for row in rows:
                pid = row.claimed_by.removeprefix(f"{host}:").split(":")[0]
                if pid.isdigit() and not is_alive(int(pid)) and (row.lease_until is None or row.lease_until > now):
                    row.lease_until = now - timedelta(microseconds=1)
                    ended.append(row.submission_id)
            return ended

    def release_stale(self, older_than: timedelta) -> list[str]:
        """Give back to `received` the claims older than `older_than` (their worker died)."""
        now = utc_now()
        cutoff = now - older_than
        with self._transaction(write=True) as session:
            rows = session.scalars(
                select(Submission)
                .where(Submission.status == VALIDATING, Submission.claimed_at < cutoff)
                .order_by(Submission.sequence)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                detail = f"claim by {row.claimed_by} released after {older_than}"
                row.status = RECEIVED
                row.status_at = now
                row.claimed_by = None
                row.claimed_at = None
                row.lease_until = None
                self._add_status(session, row.submission_id, RECEIVED, now, detail)
            return [row.submission_id for row in rows]

    # -- approvals (chốt số liệu) ---------------------------------------------------------------

    @staticmethod
    def _locks(session: Session, unit_years: set[tuple[str, str, int]]) -> dict[tuple[str, str, int], Approval]:
        """The approved (locked) ones among these (level, unit, year), with their approval."""
        if not unit_years:
            return {}
        key = tuple_(Approval.level, Approval.unit_code, Approval.year)
        rows = session.scalars(select(Approval).where(key.in_(sorted(unit_years)), Approval.state == APPROVED))
        return {(row.level, row.unit_code, row.year): row for row in rows}

    def _serialise_unit_year(self, session: Session, level: str, unit_code: str, year: int) -> None:
        # PostgreSQL: the same advisory locks an acceptance of the unit-year takes, so a verdict recorded
        # at the same moment as the lock sees it, or is seen by it (SQLite writers are serialised anyway).
        if self.dialect == "postgresql":
            from schemas.vocabulary import SUBMISSION_KINDS

            for kind in SUBMISSION_KINDS:
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                {"key": _advisory_key(level, unit_code, int(year), kind)})

    def approval(self, level: str, unit_code: str, year: int) -> ApprovalRecord | None:
        """The current approval state of one unit-year; None when it was never approved nor returned."""
        with self._transaction() as session:
            row = session.scalars(select(Approval).where(
                Approval.level == level, Approval.unit_code == unit_code, Approval.year == int(year))).one_or_none()
            return row.to_record() if row is not None else None

    def approvals(self, year: int, *, level: str | None = None, state: str | None = None) -> list[ApprovalRecord]:
        """The current approval states of a year, by level and unit."""
        query = select(Approval).where(Approval.year == int(year)).order_by(Approval.level, Approval.unit_code)
        if level is not None:
            query = query.where(Approval.level == level)
        if state is not None:
            query = query.where(Approval.state == state)
        with self._transaction() as session:
            return [row.to_record() for row in session.scalars(query)]

    def approval_history(self, level: str, unit_code: str, year: int) -> list[ApprovalRecord]:
        """Every approval, return and reopening of one unit-year, oldest first."""
        with self._transaction() as session:
            rows = session.scalars(select(ApprovalChange).where(
                ApprovalChange.level == level, ApprovalChange.unit_code == unit_code,
                ApprovalChange.year == int(year)).order_by(ApprovalChange.id))
            return [row.to_record() for row in rows]

    def _set_approval(self, session: Session, level: str, unit_code: str, year: int, state: str, by: str,
                      reason: str | None, now: datetime) -> ApprovalRecord:
        row = session.scalars(select(Approval).where(
            Approval.level == level, Approval.unit_code == unit_code, Approval.year == int(year))
            .with_for_update()).one_or_none()
        if row is None:
            row = Approval(level=level, unit_code=unit_code, year=int(year))
            session.add(row)
        row.state, row.by, row.at, row.reason = state, by, now, reason
        session.add(ApprovalChange(level=level, unit_code=unit_code, year=int(year), state=state, by=by, at=now,
                                   reason=reason))
        session.flush()
        return row.to_record()

    def approve(self, level: str, unit_code: str, year: int, *, by: str,
                beneath: Sequence[tuple[str, str]] = ()) -> ApprovalRecord:
        """Approve (lock) one unit-year. Refused (ApprovalConflict) while a submission of it waits for a
        verdict, or while one of the units it approves (`beneath`: (level, unit)) is not approved.
        Approving an approved unit-year again changes nothing."""
        now = utc_now()
        with self._transaction(write=True) as session:
            self._serialise_unit_year(session, level, unit_code, year)
            current = session.scalars(select(Approval).where(
                Approval.level == level, Approval.unit_code == unit_code, Approval.year == int(year))
                .with_for_update()).one_or_none()
            if current is not None and current.state == APPROVED:
                return current.to_record()
            pending = list(session.scalars(select(Submission.submission_id).where(
                Submission.level == level, Submission.unit_code == unit_code, Submission.year == int(year),
                Submission.status.in_((RECEIVED, VALIDATING))).order_by(Submission.sequence)))
            approved_beneath = set(self._locks(session, {(lv, code, int(year)) for lv, code in beneath}))
            unapproved = [(lv, code) for lv, code in beneath if (lv, code, int(year)) not in approved_beneath]
            if pending or unapproved:
                raise ApprovalConflict(
                    f"{level} {unit_code} {year} cannot be approved yet: "
                    f"{len(pending)} submissions waiting for a verdict, {len(unapproved)} units beneath not approved",
                    pending=pending, unapproved=unapproved)
            return self._set_approval(session, level, unit_code, year, APPROVED, by, None, now)

    def return_for_correction(self, level: str, unit_code: str, year: int, *, by: str,
                              reason: str) -> ApprovalRecord:
        """Send one unit-year back to its submitter with a reason. An approved one must be reopened first
        (ApprovalConflict)."""
        if not reason or not reason.strip():
            raise ValueError("a return needs a reason the submitter can act on")
        now = utc_now()
        with self._transaction(write=True) as session:
            current = session.scalars(select(Approval).where(
                Approval.level == level, Approval.unit_code == unit_code, Approval.year == int(year))
                .with_for_update()).one_or_none()
            if current is not None and current.state == APPROVED:
                raise ApprovalConflict(f"{level} {unit_code} {year} is approved: reopen it before returning it",
                                       current=current.to_record())
            return self._set_approval(session, level, unit_code, year, RETURNED, by, reason.strip(), now)

    def reopen(self, level: str, unit_code: str, year: int, *, by: str, reason: str,
               above: Sequence[tuple[str, str]] = (), token_id: int | None = None) -> list[ApprovalRecord]:
        """Unlock one approved unit-year and every approved unit above it (`above`: (level, unit)), each
        needing approval again; their held submissions wait for a check again. One audit line. Returns the
        approvals reopened (the unit first); ApprovalConflict when the unit is not approved."""
        if not reason or not reason.strip():
            raise ValueError("reopening locked figures needs a reason, for the record")
        now = utc_now()
        with self._transaction(write=True) as session:
            self._serialise_unit_year(session, level, unit_code, year)
            locks = self._locks(session, {(level, unit_code, int(year))}
                                | {(lv, code, int(year)) for lv, code in above})
            if (level, unit_code, int(year)) not in locks:
                raise ApprovalConflict(f"{level} {unit_code} {year} is not approved: there is no lock to reopen")
            reopened = []
            for lv, code in [(level, unit_code), *above]:
                if (lv, code, int(year)) not in locks:
                    continue
                reopened.append(self._set_approval(session, lv, code, year, REOPENED, by, reason.strip(), now))
                for held in session.scalars(select(Submission).where(
                        Submission.level == lv, Submission.unit_code == code, Submission.year == int(year),
                        Submission.status == HELD).with_for_update()):
                    held.status, held.status_at, held.attempts = RECEIVED, now, 0
                    self._add_status(session, held.submission_id, RECEIVED, now,
                                     "the lock was reopened: checked again before it can become current")
            session.add(AuditLogEntry(
                at=now, token_id=token_id, unit_code=unit_code, action="approval.reopen",
                target=f"{level} {unit_code} {year}", result="reopened",
                detail=json.dumps({"by": by, "reason": reason.strip(),
                                   "reopened": [f"{r.level} {r.unit_code}" for r in reopened]}, ensure_ascii=False)))
            return reopened

    # -- publishes ------------------------------------------------------------------------------

    def record_publish(
        self, version: str, *, manifest_path: str | Path | None, action: str, submission_ids: Sequence[str]
    ) -> None:
        if action not in PUBLISH_ACTIONS:
            raise ValueError(f"publish action must be one of {PUBLISH_ACTIONS}, not {action!r}")
        with self._transaction(write=True) as session:
            session.add(
                Publish(
                    version=version,
                    action=action,
                    at=utc_now(),
                    manifest_path=str(manifest_path) if manifest_path is not None else None,
                    submission_ids_json=_json_list(submission_ids),
                )
            )

    def publishes(self) -> list[PublishRecord]:
        """Every publish and rollback, oldest first."""
        with self._transaction() as session:
            rows = session.scalars(select(Publish).order_by(Publish.publish_id)).all()
            return [
                PublishRecord(
                    row.version, row.action, row.at, row.manifest_path, json.loads(row.submission_ids_json)
                )
                for row in rows
            ]

    # -- tokens and audit -----------------------------------------------------------------------

    def issue_token(
        self,
        level: str,
        unit_code: str,
        token_hash: str,
        expires_at: datetime | None = None,
        note: str | None = None,
    ) -> int:
        """Store a token (only its hash) that lets one unit submit; returns its id."""
        with self._transaction(write=True) as session:
            row = ApiToken(
                token_hash=token_hash,
                level=level,
                unit_code=unit_code,
                created_at=utc_now(),
                expires_at=expires_at,
                note=note,
            )
            session.add(row)
            session.flush()
            return row.id

    def revoke_token(self, token_id: int) -> bool:
        """Revoke a token; False when it does not exist or was already revoked."""
        with self._transaction(write=True) as session:
            row = session.get(ApiToken, token_id, with_for_update=True)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = utc_now()
            return True

    def find_token(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, whether active or not (check `is_active()`)."""
        with self._transaction() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).one_or_none()
            return row.to_record() if row is not None else None

    def list_tokens(self) -> list[TokenRecord]:
        with self._transaction() as session:
            return [row.to_record() for row in session.scalars(select(ApiToken).order_by(ApiToken.id))]

    def audit(
        self,
        *,
        action: str,
        result: str,
        token_id: int | None = None,
        unit_code: str | None = None,
        target: str | None = None,
        detail: str | None = None,
    ) -> int:
        with self._transaction(write=True) as session:
            row = AuditLogEntry(
                at=utc_now(),
                token_id=token_id,
                unit_code=unit_code,
                action=action,
                target=target,
                result=result,
                detail=detail,
            )
            session.add(row)
            session.flush()
            return row.id

    def audit_entries(self) -> list[AuditEntry]:
        """The audit trail, oldest first."""
        with self._transaction() as session:
            rows = session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id)).all()
            return [
                AuditEntry(
                    row.id,
                    row.at,
                    row.token_id,
                    row.unit_code,
                    row.action,
                    row.target,
                    row.result,
                    row.detail,
                )
                for row in rows
            ]
