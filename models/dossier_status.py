"""The dossier status table: who may move a dossier from which status to which.

A table, not nested if/else, so the rules can be read (and tested) at a glance.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Actor = Literal["agency", "citizen", "postal"]


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


S = DossierStatus

# from → allowed next, per actor. Statuses absent as keys are final.
TRANSITIONS: dict[Actor, dict[DossierStatus, frozenset[DossierStatus]]] = {
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

# Moves the citizen must be told the reason for (and what to do next).
NOTE_REQUIRED: frozenset[DossierStatus] = frozenset({S.REJECTED, S.SUPPLEMENT_REQUIRED})

FINAL: frozenset[DossierStatus] = frozenset({S.REJECTED, S.COMPLETED, S.WITHDRAWN})

# The legal processing time runs from receipt until the agency has a result or a refusal.
CLOCK_STOPS: frozenset[DossierStatus] = frozenset({S.RESULT_READY, S.REJECTED, S.COMPLETED, S.WITHDRAWN})

# Moves that process the dossier: not allowed while a fee due before processing is unpaid.
PROCESSING_MOVES: frozenset[DossierStatus] = frozenset({S.PROCESSING, S.APPROVED, S.RESULT_READY})


def allowed_next(actor: Actor, current: DossierStatus) -> frozenset[DossierStatus]:
    return TRANSITIONS[actor].get(current, frozenset())


def can_move(actor: Actor, current: DossierStatus, target: DossierStatus) -> bool:
    return target in allowed_next(actor, current)
