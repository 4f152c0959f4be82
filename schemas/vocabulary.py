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
OPERATOR = "operator"
TOKEN_LEVELS: tuple[str, ...] = (*SUBMISSION_LEVELS, OPERATOR)

# Kinds of data a submission carries (one contract each, schemas/contracts.py).
SUBMISSION_KINDS: tuple[str, ...] = ("household", "area_summary", "area_attributes")

# The life of a submission in the registry.
RECEIVED, VALIDATING = "received", "validating"
ACCEPTED, REJECTED, SUPERSEDED = "accepted", "rejected", "superseded"
# Passed every check, but its unit-year was approved (locked) before its verdict: kept, never current, until
# the lock is reopened (then it is checked again).
HELD = "held"
SUBMISSION_STATUSES: tuple[str, ...] = (RECEIVED, VALIDATING, ACCEPTED, REJECTED, SUPERSEDED, HELD)
FINAL_STATUSES: tuple[str, ...] = (ACCEPTED, REJECTED, SUPERSEDED, HELD)

# What a submitter is told of each status: one wording in the command line, the HTTP front door and the
# findings report (Vietnamese, English).
STATUS_WORDS: dict[str, tuple[str, str]] = {
    RECEIVED: ("CHƯA KIỂM TRA XONG", "not checked yet"),
    VALIDATING: ("ĐANG KIỂM TRA", "being checked"),
    ACCEPTED: ("ĐƯỢC CHẤP NHẬN", "accepted"),
    REJECTED: ("BỊ TỪ CHỐI", "rejected"),
    SUPERSEDED: ("ĐÃ ĐƯỢC THAY BẰNG BẢN MỚI HƠN", "superseded by a newer version"),
    HELD: ("ĐẠT KIỂM TRA NHƯNG CHƯA ĐƯỢC DÙNG: SỐ LIỆU ĐÃ CHỐT", "passed its checks but not used: the figures are locked"),
}

# Approval of a unit-year by the level above (schemas/approval_chains.json): approved locks it (chốt số
# liệu); returned sends it back to its submitter with a reason; reopened unlocks it, on the record.
APPROVED, RETURNED, REOPENED = "approved", "returned", "reopened"
APPROVAL_STATES: tuple[str, ...] = (APPROVED, RETURNED, REOPENED)
APPROVAL_WORDS: dict[str, tuple[str, str]] = {
    APPROVED: ("ĐÃ PHÊ DUYỆT, SỐ LIỆU ĐÃ CHỐT", "approved, figures locked"),
    RETURNED: ("BỊ TRẢ LẠI ĐỂ SỬA", "returned for correction"),
    REOPENED: ("ĐÃ MỞ LẠI, CẦN PHÊ DUYỆT LẠI", "reopened, needs approval again"),
}
# A mart row's figures: official when its unit and every unit beneath it is approved.
OFFICIAL, PRELIMINARY = "official", "preliminary"
FIGURES_STATUSES: tuple[str, ...] = (OFFICIAL, PRELIMINARY)

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
