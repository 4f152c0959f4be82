"""The words lnob uses everywhere, said once: levels, kinds, statuses, list kinds, outcomes, verdicts.

Standard library only (no Polars), so the `lnob` command can offer its choices in `--help` without
loading anything heavy, and every room (contracts, mart layouts, rules, the registry, the command line,
the HTTP front door, the documents) takes the same spelling from here. docs/architecture.md#names is the source.
"""

from __future__ import annotations

# Levels of the administrative hierarchy. Units submit at the first three; marts also roll up to
# regions and the nation. Their rank orders "most detailed first" (the most detailed accepted data wins).
SUBMISSION_LEVELS: tuple[str, ...] = ("commune", "district", "province")
MART_LEVELS: tuple[str, ...] = (*SUBMISSION_LEVELS, "region", "national")
LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(MART_LEVELS)}
# Whom an access token speaks for: a submitting unit at its level, or the central data team.
TOKEN_LEVELS: tuple[str, ...] = (*SUBMISSION_LEVELS, "operator")

# Kinds of data a submission carries (one contract each, schemas/contracts.py).
SUBMISSION_KINDS: tuple[str, ...] = ("household", "area_summary", "area_attributes")

# The life of a submission in the registry.
RECEIVED, VALIDATING = "received", "validating"
ACCEPTED, REJECTED, SUPERSEDED = "accepted", "rejected", "superseded"
SUBMISSION_STATUSES: tuple[str, ...] = (RECEIVED, VALIDATING, ACCEPTED, REJECTED, SUPERSEDED)
FINAL_STATUSES: tuple[str, ...] = (ACCEPTED, REJECTED, SUPERSEDED)

# What a submitter is told of each status: one wording in the command line, the HTTP front door and the
# findings report (Vietnamese, English).
STATUS_WORDS: dict[str, tuple[str, str]] = {
    RECEIVED: ("CHƯA KIỂM TRA XONG", "not checked yet"),
    VALIDATING: ("ĐANG KIỂM TRA", "being checked"),
    ACCEPTED: ("ĐƯỢC CHẤP NHẬN", "accepted"),
    REJECTED: ("BỊ TỪ CHỐI", "rejected"),
    SUPERSEDED: ("ĐÃ ĐƯỢC THAY BẰNG BẢN MỚI HƠN", "superseded by a newer version"),
}

# The kinds of status list (docs/architecture.md#names); other rule files (region_i_commune, region_ii_commune)
# are classifications shown beside a Region III evaluation, not lists.
LIST_KINDS: tuple[str, ...] = ("poor_district", "ed_commune_coastal", "region_iii_commune", "ed_village")

# Comparisons a criterion or a target may use, with the sign printed for people.
COMPARISONS: dict[str, str] = {">=": "≥", ">": ">", "<": "<", "<=": "≤", "==": "="}

# Outcomes of one criterion.
MET, NOT_MET, INSUFFICIENT = "met", "not_met", "insufficient_data"
REPORTED = "reported"          # an indicator (no threshold) whose value is known
NOT_APPLICABLE = "not_applicable"
OUTCOMES: tuple[str, ...] = (MET, NOT_MET, INSUFFICIENT, REPORTED, NOT_APPLICABLE)

# Verdicts of one unit on one list.
EXIT_CANDIDATE, REMAINS = "exit_candidate", "remains"
ENTRY_CANDIDATE = "entry_candidate"
# A list whose criteria have no confirmed legal rule to judge them by: the values are shown, no verdict.
NO_CONFIRMED_RULE = "no_confirmed_rule"
EXIT_VERDICTS: tuple[str, ...] = (EXIT_CANDIDATE, REMAINS, INSUFFICIENT, NO_CONFIRMED_RULE)
