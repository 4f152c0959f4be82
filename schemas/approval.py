"""Who approves whom: the effective-dated approval chains of `schemas/approval_chains.json`.

A chain is valid over a range of review dates (31 December of the review year, `geography.review_date`) and
lists its steps bottom-up: the level that approves each submitting level. The chain after the 2025 reform is
UNCONFIRMED (the procedure without districts was not found) and says so wherever it is shown.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from schemas.vocabulary import OPERATOR, SUBMISSION_LEVELS

CHAINS_FILE = Path(__file__).resolve().parent / "approval_chains.json"


@dataclass(frozen=True)
class ApprovalChain:
    valid_from: date
    valid_to: date | None
    geography_version: str
    confirmed: bool
    source: str
    approver_of: dict[str, str]        # approved level → approving level ("operator" at the top)

    def approves(self, approver_level: str) -> str | None:
        """The level `approver_level` approves (None when it approves no level)."""
        for approved, approver in self.approver_of.items():
            if approver == approver_level:
                return approved
        return None

    @property
    def levels(self) -> tuple[str, ...]:
        """The approved levels, bottom-up."""
        return tuple(self.approver_of)


@functools.cache
def _chains() -> tuple[ApprovalChain, ...]:
    document = json.loads(CHAINS_FILE.read_text(encoding="utf-8"))
    chains = []
    for entry in document["chains"]:
        if entry["status"] not in ("CONFIRMED", "UNCONFIRMED"):
            raise ValueError(f"{CHAINS_FILE.name}: status must be CONFIRMED or UNCONFIRMED, not {entry['status']!r}")
        steps = {step["approves"]: step["approver"] for step in entry["steps"]}
        for approved, approver in steps.items():
            if approved not in SUBMISSION_LEVELS or approver not in (*SUBMISSION_LEVELS, OPERATOR):
                raise ValueError(f"{CHAINS_FILE.name}: unknown level in step {approver} → {approved}")
        chains.append(ApprovalChain(
            valid_from=date.fromisoformat(entry["valid_from"]),
            valid_to=date.fromisoformat(entry["valid_to"]) if entry["valid_to"] else None,
            geography_version=entry["geography_version"], confirmed=entry["status"] == "CONFIRMED",
            source=entry["source"], approver_of=steps))
    return tuple(chains)


def chain_on(on: date) -> ApprovalChain:
    """The chain valid on a review date; ValueError when none is."""
    for chain in _chains():
        if chain.valid_from <= on and (chain.valid_to is None or on <= chain.valid_to):
            return chain
    raise ValueError(f"no approval chain is valid on {on.isoformat()} ({CHAINS_FILE.name})")


def chain_for_year(year: int) -> ApprovalChain:
    from schemas.geography import review_date

    return chain_on(review_date(year))
