"""Status-list membership as effective-dated data, with its decision as provenance.

Poor districts, extremely disadvantaged coastal communes, Region III communes and extremely disadvantaged
villages are lists published by decision (docs/legal-basis.md#how-lnob-treats-legal-rules). Each loaded
decision is one `load`: the decision number, whether it adds members or removes them, the date from which it
takes effect, the file it came from (its SHA-256), whether the list is partial, and every listed name with the
code it matched (or why it matched none). A unit is a member on a date when the latest decision naming it on
or before that date added it: Decisions 576/QĐ-TTg and 1535/QĐ-TTg of 2024 remove communes that Decision
353/QĐ-TTg listed.

The tables live in the registry database (`settings.database_url`) beside the registry's own, with their own
declarative base; they are created on first use, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from store.registry import _advisory_key, engine_for

ADD, REMOVE = "add", "remove"
NO_VILLAGE = ""


class Base(DeclarativeBase):
    pass


class StatusListLoad(Base):
    __tablename__ = "status_list_loads"
    __table_args__ = (UniqueConstraint("status_kind", "decision", "action", name="uq_status_list_load"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status_kind: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(10))
    decision_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    effective_from: Mapped[date] = mapped_column(Date)
    source_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partial: Mapped[bool] = mapped_column(Boolean, default=False)
    completeness: Mapped[str | None] = mapped_column(Text, nullable=True)
    names_listed: Mapped[int] = mapped_column(Integer)
    names_matched: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StatusListEntry(Base):
    __tablename__ = "status_list_entries"
    __table_args__ = (
        UniqueConstraint("load_id", "row_number", name="uq_status_list_entry_row"),
        Index("ix_status_list_entry_unit", "status_kind", "unit_code", "village"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("status_list_loads.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    status_kind: Mapped[str] = mapped_column(String(40))
    unit_level: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str | None] = mapped_column(String(10), nullable=True)   # null: the name matched no unit
    village: Mapped[str] = mapped_column(String(200), default=NO_VILLAGE)
    province_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    district_code: Mapped[str | None] = mapped_column(String(3), nullable=True)
    commune_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    province_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    district_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    commune_name: Mapped[str | None] = mapped_column(Text, nullable=True)
    match_status: Mapped[str] = mapped_column(String(20))
    match_stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    candidates: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


@dataclass(frozen=True)
class ListEntry:
    """One name of a decision's list and what it matched."""

    row_number: int
    unit_level: str
    unit_code: str | None
    match_status: str
    village: str = NO_VILLAGE
    province_code: str | None = None
    district_code: str | None = None
    commune_code: str | None = None
    province_name: str | None = None
    district_name: str | None = None
    commune_name: str | None = None
    match_stage: str | None = None
    candidates: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class LoadRecord:
    load_id: int
    status_kind: str
    decision: str
    action: str
    decision_date: date | None
    effective_from: date
    source_name: str | None
    content_hash: str | None
    partial: bool
    completeness: str | None
    names_listed: int
    names_matched: int
    loaded_at: datetime


@dataclass(frozen=True)
class Membership:
    """A unit on a list on some date, and the decision that put it there."""

    status_kind: str
    unit_code: str
    village: str
    unit_level: str
    province_code: str | None
    since: date
    decision: str
    partial: bool


@dataclass(frozen=True)
class StatusChange:
    """One decision naming a unit: added or removed from a date."""

    status_kind: str
    unit_code: str
    village: str
    action: str
    effective_from: date
    decision: str
    decision_date: date | None
    partial: bool


class ListLoadConflict(ValueError):
    """The decision was loaded before from a different file."""


def _load_record(row: StatusListLoad) -> LoadRecord:
    return LoadRecord(row.id, row.status_kind, row.decision, row.action, row.decision_date, row.effective_from,
                      row.source_name, row.content_hash, bool(row.partial), row.completeness, row.names_listed,
                      row.names_matched, row.loaded_at)


def _entry(row: StatusListEntry) -> ListEntry:
    return ListEntry(row.row_number, row.unit_level, row.unit_code, row.match_status, row.village,
                     row.province_code, row.district_code, row.commune_code, row.province_name, row.district_name,
                     row.commune_name, row.match_stage, row.candidates, row.note)


_schema_ready: set[str] = set()


class StatusLists:
    """The status lists of one registry database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.engine = engine_for(database_url)
        if database_url not in _schema_ready:
            with self.engine.connect() as connection:
                connection.execution_options(lnob_write=True)
                with connection.begin():
                    if self.engine.dialect.name == "postgresql":
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                           {"key": _advisory_key("lnob-status-lists-schema")})
                    Base.metadata.create_all(connection)
            _schema_ready.add(database_url)

    @contextmanager
    def _session(self, *, write: bool = False) -> Iterator[Session]:
        with self.engine.connect() as connection:
            if write:
                connection.execution_options(lnob_write=True)
            with Session(bind=connection) as session, connection.begin():
                yield session

    def record_load(self, *, status_kind: str, decision: str, action: str, effective_from: date,
                    entries: Sequence[ListEntry], decision_date: date | None = None, source_name: str | None = None,
                    content_hash: str | None = None, partial: bool = False, completeness: str | None = None,
                    replace: bool = False) -> tuple[LoadRecord, bool]:
        """Store one decision's list. Returns the load and whether it is new.

        Loading the same decision (kind, number, add/remove) from the same file again changes nothing; from a
        different file it is refused unless `replace`, which swaps the old entries for the new in one step.
        """
        if action not in (ADD, REMOVE):
            raise ValueError(f"action must be {ADD!r} or {REMOVE!r}, not {action!r}")
        with self._session(write=True) as session:
            existing = session.scalars(select(StatusListLoad).where(
                StatusListLoad.status_kind == status_kind, StatusListLoad.decision == decision,
                StatusListLoad.action == action)).one_or_none()
            if existing is not None:
                if existing.content_hash == content_hash and existing.effective_from == effective_from \
                        and not replace:
                    return _load_record(existing), False
                if not replace:
                    raise ListLoadConflict(
                        f"Quyết định {decision} ({status_kind}, {action}) đã được nạp từ tệp khác "
                        f"({existing.source_name}); dùng --replace để thay. / Decision {decision} "
                        f"({status_kind}, {action}) was loaded before from another file ({existing.source_name}); "
                        f"use --replace to swap it.")
                session.execute(delete(StatusListEntry).where(StatusListEntry.load_id == existing.id))
                session.delete(existing)
                session.flush()
            load = StatusListLoad(
                status_kind=status_kind, decision=decision, action=action, decision_date=decision_date,
                effective_from=effective_from, source_name=source_name, content_hash=content_hash,
                partial=partial, completeness=completeness, names_listed=len(entries),
                names_matched=sum(1 for e in entries if e.unit_code is not None),
                loaded_at=datetime.now(UTC))
            session.add(load)
            session.flush()
            session.add_all(StatusListEntry(
                load_id=load.id, row_number=e.row_number, status_kind=status_kind, unit_level=e.unit_level,
                unit_code=e.unit_code, village=e.village or NO_VILLAGE, province_code=e.province_code,
                district_code=e.district_code, commune_code=e.commune_code, province_name=e.province_name,
                district_name=e.district_name, commune_name=e.commune_name, match_status=e.match_status,
                match_stage=e.match_stage, candidates=e.candidates, note=e.note) for e in entries)
            session.flush()
            return _load_record(load), True

    def loads(self, status_kind: str | None = None) -> list[LoadRecord]:
        """Every loaded decision, in effective order."""
        with self._session() as session:
            query = select(StatusListLoad).order_by(StatusListLoad.effective_from, StatusListLoad.id)
            if status_kind:
                query = query.where(StatusListLoad.status_kind == status_kind)
            return [_load_record(row) for row in session.scalars(query)]

    def entries(self, load_id: int) -> list[ListEntry]:
        with self._session() as session:
            rows = session.scalars(select(StatusListEntry).where(StatusListEntry.load_id == load_id)
                                   .order_by(StatusListEntry.row_number))
            return [_entry(row) for row in rows]

    def changes(self, status_kind: str | None = None, unit_code: str | None = None,
                until: date | None = None) -> list[StatusChange]:
        """Every matched add or remove, oldest first (on one date, an addition comes before a removal)."""
        with self._session() as session:
            query = (select(StatusListEntry, StatusListLoad)
                     .join(StatusListLoad, StatusListEntry.load_id == StatusListLoad.id)
                     .where(StatusListEntry.unit_code.is_not(None)))
            if status_kind:
                query = query.where(StatusListLoad.status_kind == status_kind)
            if unit_code:
                query = query.where(StatusListEntry.unit_code == unit_code)
            if until:
                query = query.where(StatusListLoad.effective_from <= until)
            rows = session.execute(query).all()
        changes = [StatusChange(load.status_kind, entry.unit_code, entry.village, load.action, load.effective_from,
                                load.decision, load.decision_date, bool(load.partial))
                   for entry, load in rows]
        return sorted(changes, key=lambda c: (c.effective_from, c.action != ADD, c.decision, c.status_kind,
                                              c.unit_code, c.village))

    def members_on(self, on: date, status_kind: str | None = None) -> list[Membership]:
        """The units on the lists on a date: the latest decision naming each unit by then added it."""
        latest: dict[tuple[str, str, str], StatusChange] = {}
        since: dict[tuple[str, str, str], StatusChange] = {}
        for change in self.changes(status_kind, until=on):
            key = (change.status_kind, change.unit_code, change.village)
            if change.action == ADD and (key not in latest or latest[key].action == REMOVE):
                since[key] = change
            latest[key] = change
        levels = self._levels(status_kind)
        members = [
            Membership(key[0], key[1], key[2], levels.get(key, ""), self._province(key), since[key].effective_from,
                       since[key].decision, since[key].partial)
            for key, change in latest.items() if change.action == ADD
        ]
        return sorted(members, key=lambda m: (m.status_kind, m.unit_code, m.village))

    def _levels(self, status_kind: str | None) -> dict[tuple[str, str, str], str]:
        with self._session() as session:
            query = select(StatusListEntry.status_kind, StatusListEntry.unit_code, StatusListEntry.village,
                           StatusListEntry.unit_level, StatusListEntry.province_code).where(
                StatusListEntry.unit_code.is_not(None))
            if status_kind:
                query = query.where(StatusListEntry.status_kind == status_kind)
            rows = session.execute(query).all()
        self._provinces = {(k, u, v): p for k, u, v, _, p in rows}
        return {(k, u, v): level for k, u, v, level, _ in rows}

    def _province(self, key: tuple[str, str, str]) -> str | None:
        return getattr(self, "_provinces", {}).get(key)
