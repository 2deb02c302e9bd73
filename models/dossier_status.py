"""Dossier statuses and the default status table: who may move a dossier from which status to which.

A table, not nested if/else, so the rules can be read (and tested) at a glance. The table a
dossier follows is its procedure's (`Service.status_table`, data in the catalogue file); a
procedure without its own follows `DEFAULT_TABLE`, the one the public contract names. The
only code that applies a move is `app/dossiers/transitions.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

Actor = Literal["agency", "citizen", "postal"]
ACTORS: tuple[Actor, ...] = ("agency", "citizen", "postal")


class DossierStatus(StrEnum):
    SUBMITTED = "submitted"
    RECEIVED = "received"
    PROCESSING = "processing"
    SUPPLEMENT_REQUIRED = "supplement_required"
    APPROVED = "approved"
    REJECTED = "rejected"
    RESULT_READY = "result_ready"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    # Steps of their own that some procedures take instead of a single `processing`
    # (land procedures: the file is appraised, the site inspected, the levy assessed).
    APPRAISAL = "appraisal"
    SITE_INSPECTION = "site_inspection"
    FEE_ASSESSMENT = "fee_assessment"


S = DossierStatus

# from → allowed next, per actor. Statuses absent as keys are final.
StatusTable = Mapping[Actor, Mapping[DossierStatus, frozenset[DossierStatus]]]

# The contract's table: submitted → received → processing ⇄ supplement_required →
# approved | rejected; approved → result_ready → completed; withdrawn before received.
DEFAULT_TABLE: StatusTable = {
    "agency": {
        S.SUBMITTED: frozenset({S.RECEIVED, S.REJECTED}),
        S.RECEIVED: frozenset({S.PROCESSING, S.SUPPLEMENT_REQUIRED, S.REJECTED}),
        S.PROCESSING: frozenset({S.SUPPLEMENT_REQUIRED, S.APPROVED, S.REJECTED}),
        S.SUPPLEMENT_REQUIRED: frozenset({S.PROCESSING, S.REJECTED}),
        S.APPROVED: frozenset({S.RESULT_READY}),
        S.RESULT_READY: frozenset({S.COMPLETED}),
    },
    "citizen": {
        S.SUBMITTED: frozenset({S.WITHDRAWN}),
        # Answering the last item of the supplement checklist sends the dossier back.
        S.SUPPLEMENT_REQUIRED: frozenset({S.PROCESSING}),
    },
    "postal": {
        # The post delivered the result to the citizen's door.
        S.RESULT_READY: frozenset({S.COMPLETED}),
    },
}
# Kept under its old name for readers of the default table.
TRANSITIONS = DEFAULT_TABLE

# Moves the citizen must be told the reason for (and what to do next).
NOTE_REQUIRED: frozenset[DossierStatus] = frozenset({S.REJECTED, S.SUPPLEMENT_REQUIRED})

FINAL: frozenset[DossierStatus] = frozenset({S.REJECTED, S.COMPLETED, S.WITHDRAWN})

# The legal processing time runs from receipt until the agency has a result or a refusal.
CLOCK_STOPS: frozenset[DossierStatus] = frozenset({S.RESULT_READY, S.REJECTED, S.COMPLETED, S.WITHDRAWN})

# Moves that process the dossier: not allowed while a fee due before processing is unpaid.
PROCESSING_MOVES: frozenset[DossierStatus] = frozenset(
    {S.PROCESSING, S.APPROVED, S.RESULT_READY, S.APPRAISAL, S.SITE_INSPECTION, S.FEE_ASSESSMENT}
)


def allowed_next(actor: Actor, current: DossierStatus, table: StatusTable = DEFAULT_TABLE) -> frozenset[DossierStatus]:
    return table.get(actor, {}).get(current, frozenset())


def can_move(actor: Actor, current: DossierStatus, target: DossierStatus, table: StatusTable = DEFAULT_TABLE) -> bool:
    return target in allowed_next(actor, current, table)


def table_problems(table: StatusTable) -> list[str]:
    """What makes a status table unusable: a status nothing leads to, a dossier that can never
    leave `submitted`, a status the agency can reach but never leave that is not final."""
    problems: list[str] = []
    reachable = {S.SUBMITTED}
    for moves in table.values():
        for targets in moves.values():
            reachable |= targets
    agency = table.get("agency", {})
    if not agency.get(S.SUBMITTED):
        problems.append("the agency cannot move a dossier out of 'submitted'")
    for status in sorted(reachable - FINAL - {S.SUBMITTED}):
        if not any(moves.get(status) for moves in table.values()):
            problems.append(f"'{status}' is reachable but no one can move a dossier out of it")
    if S.COMPLETED not in reachable:
        problems.append("no path ends in 'completed'")
    return problems
