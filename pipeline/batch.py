"""The files of one batch on their way through ingest: what is known of each (`Work`), and how their rows
are stacked into one frame and handed back (`stack`, BATCH_KEY)."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from documents import findings_report
from pipeline.parse import ParsedTable
from transforms.normalize import HeaderMatch
from transforms.personal_data import looks_personal

BATCH_KEY = "__submission__"   # which file of a batch a row came from: its position in the batch (0, 1, …)
SUBMITTING_UNIT = "__submitting_unit__"   # and the unit that submitted it
PERSONAL_VALUE_WITHHELD = "(ẩn / withheld)"


@dataclass
class Work:
    record: object                      # store.registry.SubmissionRecord
    options: dict
    findings: list[dict] = field(default_factory=list)
    parsed: ParsedTable | None = None
    match: HeaderMatch | None = None
    raw: pl.DataFrame | None = None      # the file's rows as text under contract names, before typing
    machine: frozenset[str] = frozenset()
    normalized: pl.DataFrame | None = None
    absent: set[str] = field(default_factory=set)
    failed: str | None = None           # an internal error: the check did not finish

    @property
    def file_name(self) -> str:
        return self.record.original_name or self.record.content_hash[:12]

    def header_of(self, name: str | None) -> str | None:
        if name is None or self.match is None:
            return name
        position = self.match.position_of(name)
        return self.match.headers.get(position, name) if position is not None else name

    def cell_of(self, name: str | None, row: int | None) -> str | None:
        if name is None or self.match is None or self.parsed is None:
            return None
        position = self.match.position_of(name)
        return self.parsed.cell(position, row) if position is not None else None

    def add(self, rule: str, *, severity: str | None = None, row: int | None = None, cell: str | None = None,
            column: str | None = None, value: str | None = None, count: int = 1, message_vi: str | None = None,
            message_en: str | None = None, **params) -> None:
        """Add a finding; `column` is as written in the file. A value shaped like an ID or phone number is
        never echoed back (transforms/personal_data.py): the finding names its place only."""
        if looks_personal(value):
            value = PERSONAL_VALUE_WITHHELD
        record = self.record
        context = {"column": column, "value": value, "row": row, "cell": cell, "count": count,
                   "kind": record.kind, "level": record.level, "unit_code": record.unit_code, "year": record.year,
                   "geography": safe_geography_version(record.year), **params}
        default_severity, template_vi, template_en = findings_report.MESSAGES.get(rule, ("error", "{detail}", "{detail}"))
        self.findings.append({
            "severity": severity or default_severity, "rule": rule, "file": self.file_name,
            "sheet": self.parsed.sheet if self.parsed else None, "row": row, "cell": cell, "column": column,
            "value": value, "message_vi": findings_report.render(message_vi or template_vi, **context),
            "message_en": findings_report.render(message_en or template_en, **context), "count": count,
        })

    def add_parse_issue(self, found: dict) -> None:
        self.add(found["rule"], severity=found["severity"], row=found["row"], cell=found["cell"],
                 column=found["column"], value=found["value"], count=found["count"], **found["params"])


def safe_geography_version(year: int) -> str:
    try:
        return geography_version_of(year)
    except Exception:  # noqa: BLE001 — an implausible year still gets its message
        return ""



def geography_version_of(year: int) -> str:
    from schemas.geography import geography_version, review_date

    return geography_version(review_date(year))


def has_error(work: Work) -> bool:
    return any(finding["severity"] == "error" for finding in work.findings)


def stack(frames: list[pl.DataFrame], **per_frame: tuple[list, pl.DataType]) -> pl.DataFrame:
    """Frames one under the other, with BATCH_KEY (the position of the frame each row came from) and
    columns holding one value per frame (e.g. the submitting unit): `name=(values, dtype)`, in order."""
    stacked = pl.concat(frames, how="vertical")
    filled = [(position, frame.height) for position, frame in enumerate(frames) if frame.height]
    frame_of_row = (pl.DataFrame(filled, schema={BATCH_KEY: pl.UInt32, "rows": pl.UInt32}, orient="row")
                    .select(pl.col(BATCH_KEY).repeat_by("rows").explode()).to_series())
    return stacked.hstack([frame_of_row, *[pl.Series(name, values, dtype=dtype).gather(frame_of_row)
                                           for name, (values, dtype) in per_frame.items()]])
