"""Ingest's part in keeping personal data in landing (transforms/personal_data.py holds the rules):
columns outside the contract are named, never carried on, and national ID numbers in a contract column
are replaced by their keyed hash before the rows are typed, checked, reported on or staged."""

from __future__ import annotations

from documents.findings_report import PERSONAL_DATA_WORDS
from pipeline.batch import Work
from store.settings import Settings
from store.zones import id_hash_key
from transforms.normalize import header_key
from transforms.personal_data import kind_by_header, kind_by_values, pseudonymise_ids

ID_COLUMNS = ("household_id",)


def report_unknown_columns(work: Work, header_cells: dict[int, str | None]) -> None:
    """One warning per column outside the contract: that lnob ignores it or, when it looks like personal
    data (by header, else by its values' shape), that lnob keeps it nowhere but in the raw file."""
    parsed, match = work.parsed, work.match
    for position in match.unknown:
        header = match.headers[position]
        kind = kind_by_header(header_key(header))
        if kind is None and f"c{position}" in parsed.frame.columns:
            kind = kind_by_values(parsed.frame.get_column(f"c{position}"))
        if kind is None:
            work.add("file.unknown_column", row=parsed.header_row, cell=header_cells[position], column=header)
            continue
        words_vi, words_en = PERSONAL_DATA_WORDS[kind]
        work.add("file.personal_data_column", row=parsed.header_row, cell=header_cells[position], column=header,
                 personal_vi=words_vi, personal_en=words_en)


def pseudonymise(work: Work, settings: Settings) -> None:
    """National ID numbers in an ID column of the contract replaced by their keyed hash, with a warning
    that counts them (and shows none)."""
    if work.raw is None:
        return
    for column in ID_COLUMNS:
        if column not in work.raw.columns:
            continue
        work.raw, replaced = pseudonymise_ids(work.raw, column, id_hash_key(settings))
        if replaced:
            work.add("value.national_id_pseudonymised", column=work.header_of(column), count=replaced)
