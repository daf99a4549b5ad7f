"""Incidents: what the operator works on. A draft exists before anyone picks up.

The lifecycle (docs/dispatch.md): draft -> confirmed (the operator confirms what the caller
reports) -> dispatched (a unit accepted) -> on_scene -> closed with an outcome. Before a unit
is on the scene the only way out is a cancel (with a reason), which closes the incident with
the outcome `cancelled`. `transition` is the one place that decides; it never mutates, and
every move it allows comes with a `TransitionRecord` (who, when, from, to).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime


class IncidentStatus(enum.StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    CLOSED = "closed"


class IncidentCategory(enum.StrEnum):
    """What the caller reports, as the operator classifies it on the incident form."""

    ASSAULT = "assault"
    DOMESTIC_VIOLENCE = "domestic_violence"
    THEFT = "theft"
    BURGLARY = "burglary"
    TRAFFIC_ACCIDENT = "traffic_accident"
    DISTURBANCE = "disturbance"
    SUSPICIOUS = "suspicious"
    MISSING_PERSON = "missing_person"
    OTHER = "other"


class IncidentOutcome(enum.StrEnum):
    """How a closed incident ended."""

    FOUNDED = "founded"  # the facts were there
    UNFOUNDED = "unfounded"  # nothing that called for the police
    HOAX = "hoax"  # a false report
    DUPLICATE = "duplicate"  # another incident covers it
    NO_TRACE = "no_trace"  # nobody and nothing found on the scene
    OTHER = "other"  # needs a reason
    CANCELLED = "cancelled"  # only by the cancel action, never by close


class IncidentAction(enum.StrEnum):
    CONFIRM = "confirm"
    DISPATCH = "dispatch"
    ARRIVE = "arrive"
    CLOSE = "close"
    CANCEL = "cancel"


_S, _A = IncidentStatus, IncidentAction
# The whole lifecycle: (from, action) -> to. Anything missing is illegal.
MOVES: dict[tuple[IncidentStatus, IncidentAction], IncidentStatus] = {
    (_S.DRAFT, _A.CONFIRM): _S.CONFIRMED,
    (_S.CONFIRMED, _A.DISPATCH): _S.DISPATCHED,
    (_S.DISPATCHED, _A.ARRIVE): _S.ON_SCENE,
    (_S.ON_SCENE, _A.CLOSE): _S.CLOSED,
    (_S.DRAFT, _A.CANCEL): _S.CLOSED,
    (_S.CONFIRMED, _A.CANCEL): _S.CLOSED,
    (_S.DISPATCHED, _A.CANCEL): _S.CLOSED,
}


class IllegalTransition(ValueError):
    """The action is not allowed from the incident's status, or lacks what it needs."""


@dataclass(frozen=True)
class IncidentState:
    id: str
    status: IncidentStatus = IncidentStatus.DRAFT
    outcome: IncidentOutcome | None = None  # set when closed
    reason: str | None = None  # why it was cancelled, or what "other" means
    changed_by: str | None = None  # who made the last transition
    changed_at: datetime | None = None


@dataclass(frozen=True)
class TransitionRecord:
    """One step of an incident's history, for its timeline and the audit."""

    incident_id: str
    action: IncidentAction
    from_status: IncidentStatus
    to_status: IncidentStatus
    by: str
    at: datetime
    outcome: IncidentOutcome | None = None
    reason: str | None = None


def allowed_actions(status: IncidentStatus) -> tuple[IncidentAction, ...]:
    return tuple(action for (origin, action) in MOVES if origin is status)


def transition(
    incident: IncidentState,
    action: IncidentAction,
    *,
    by: str,
    at: datetime,
    outcome: IncidentOutcome | None = None,
    reason: str | None = None,
) -> tuple[IncidentState, TransitionRecord]:
    """The incident after `action`, and the record of it; `IllegalTransition` if not allowed.

    `by` is who acted (an operator's id, or a unit's for arrive), `at` an aware time. Closing
    needs an outcome (not `cancelled`; `other` needs a reason); cancelling needs a reason.
    """
    target = MOVES.get((incident.status, action))
    if target is None:
        allowed = ", ".join(allowed_actions(incident.status)) or "none: it is closed"
        raise IllegalTransition(
            f"incident {incident.id}: cannot {action} when {incident.status} (allowed: {allowed})"
        )
    if not by.strip():
        raise IllegalTransition(f"incident {incident.id}: {action} needs who made it (by)")
    if at.tzinfo is None:
        raise IllegalTransition(f"incident {incident.id}: {action} needs an aware time (at)")
    reason = reason.strip() if reason and reason.strip() else None
    outcome = _check_outcome(incident.id, action, outcome, reason)
    state = replace(
        incident, status=target, outcome=outcome, reason=reason, changed_by=by, changed_at=at
    )
    record = TransitionRecord(incident.id, action, incident.status, target, by, at, outcome, reason)
    return state, record


def _check_outcome(
    incident_id: str,
    action: IncidentAction,
    outcome: IncidentOutcome | None,
    reason: str | None,
) -> IncidentOutcome | None:
    if action is IncidentAction.CANCEL:
        if outcome not in (None, IncidentOutcome.CANCELLED):
            raise IllegalTransition(
                f"incident {incident_id}: a cancel has the outcome cancelled, not {outcome}"
            )
        if reason is None:
            raise IllegalTransition(f"incident {incident_id}: a cancel needs a reason")
        return IncidentOutcome.CANCELLED
    if action is IncidentAction.CLOSE:
        if outcome is None or outcome is IncidentOutcome.CANCELLED:
            choices = ", ".join(o for o in IncidentOutcome if o is not IncidentOutcome.CANCELLED)
            raise IllegalTransition(
                f"incident {incident_id}: close needs an outcome ({choices}); "
                "use cancel to call it off"
            )
        if outcome is IncidentOutcome.OTHER and reason is None:
            raise IllegalTransition(f"incident {incident_id}: the outcome other needs a reason")
        return outcome
    if outcome is not None:
        raise IllegalTransition(f"incident {incident_id}: {action} takes no outcome")
    return None
