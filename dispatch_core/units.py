"""Units of the mobile rescue police (motorbikes and cars): states, positions, proposals.

A unit's state moves only along `UNIT_MOVES` (`unit_transition`); a position report from a
unit's tracker is accepted or rejected with a reason by `accept_position`; an incident is
offered to one unit at a time (`propose`), which acknowledges before a deadline or is
released (`on_ack_timeout`, `decline`) and the next candidate is asked (docs/dispatch.md).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch_core.incidents import IncidentState, IncidentStatus

FUTURE_TOLERANCE_S = 60.0  # a tracker's clock may run a little ahead of ours
ACK_DEADLINE_S = 30.0  # a crew has this long to acknowledge a proposal


class VehicleClass(enum.StrEnum):
    MOTORBIKE = "motorbike"
    CAR = "car"


class UnitState(enum.StrEnum):
    OUT_OF_SERVICE = "out_of_service"
    AVAILABLE = "available"
    PROPOSED = "proposed"  # offered an incident, waiting for the crew's acknowledgement
    DISPATCHED = "dispatched"  # the crew accepted
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RETURNING = "returning"  # cleared from the scene, not yet ready again


class UnitEvent(enum.StrEnum):
    ON_DUTY = "on_duty"
    OFF_DUTY = "off_duty"
    PROPOSE = "propose"
    ACCEPT = "accept"  # the crew acknowledges the proposal
    DECLINE = "decline"
    TIMEOUT = "timeout"  # no acknowledgement before the deadline
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    STAND_DOWN = "stand_down"  # the incident was cancelled before the unit got there
    CLEAR = "clear"  # done on the scene (-> returning), then ready again (-> available)


_U, _E = UnitState, UnitEvent
# (state, event) -> state. Anything missing is illegal.
UNIT_MOVES: dict[tuple[UnitState, UnitEvent], UnitState] = {
    (_U.OUT_OF_SERVICE, _E.ON_DUTY): _U.AVAILABLE,
    (_U.AVAILABLE, _E.OFF_DUTY): _U.OUT_OF_SERVICE,
    (_U.AVAILABLE, _E.PROPOSE): _U.PROPOSED,
    (_U.PROPOSED, _E.ACCEPT): _U.DISPATCHED,
    (_U.PROPOSED, _E.DECLINE): _U.AVAILABLE,
    (_U.PROPOSED, _E.TIMEOUT): _U.AVAILABLE,
    (_U.DISPATCHED, _E.EN_ROUTE): _U.EN_ROUTE,
    (_U.DISPATCHED, _E.ON_SCENE): _U.ON_SCENE,  # it was already next to the incident
    (_U.EN_ROUTE, _E.ON_SCENE): _U.ON_SCENE,
    (_U.DISPATCHED, _E.STAND_DOWN): _U.AVAILABLE,
    (_U.EN_ROUTE, _E.STAND_DOWN): _U.AVAILABLE,
    (_U.ON_SCENE, _E.CLEAR): _U.RETURNING,
    (_U.RETURNING, _E.CLEAR): _U.AVAILABLE,
    (_U.RETURNING, _E.OFF_DUTY): _U.OUT_OF_SERVICE,
}


class IllegalUnitTransition(ValueError):
    """The event is not allowed in the unit's state."""


def unit_transition(state: UnitState, event: UnitEvent) -> UnitState:
    """The unit's state after `event`; `IllegalUnitTransition` if the table does not allow it."""
    target = UNIT_MOVES.get((state, event))
    if target is None:
        allowed = ", ".join(e for (s, e) in UNIT_MOVES if s is state)
        raise IllegalUnitTransition(f"unit: no {event} when {state} (allowed: {allowed})")
    return target


@dataclass(frozen=True)
class UnitFix:
    """Where a unit's tracker says it was, at `at` (aware), within `accuracy_m`."""

    lat: float
    lon: float
    at: datetime
    accuracy_m: float


@dataclass(frozen=True)
class Unit:
    id: str
    call_sign: str  # what the radio calls it, e.g. "Rabat-M12"
    vehicle: VehicleClass
    home_room: str  # the command room it belongs to (rabat)
    capabilities: frozenset[str] = frozenset()  # e.g. {"first_aid", "breathalyser"}
    state: UnitState = UnitState.OUT_OF_SERVICE  # a new unit is not sent before it signs on
    position: UnitFix | None = None


class Rejection(enum.StrEnum):
    """Why a position report was not accepted (the codes of dispatch_core.location, plus two)."""

    NOT_FINITE = "coordinates-not-finite"
    OUT_OF_RANGE = "coordinates-out-of-range"
    NULL_ISLAND = "coordinates-zero-zero"
    BAD_ACCURACY = "accuracy-invalid"
    IN_FUTURE = "time-in-future"
    OUT_OF_ORDER = "not-newer-than-current"


def accept_position(current: UnitFix | None, new: UnitFix, now: datetime) -> UnitFix | Rejection:
    """`new` if it may replace `current` as the unit's position, else why not.

    Trackers report over mobile data: reports arrive late, twice, out of order. A report not
    newer than the current one is ignored (OUT_OF_ORDER), so a late packet never moves a unit
    back to where it was.
    """
    if not (math.isfinite(new.lat) and math.isfinite(new.lon)):
        return Rejection.NOT_FINITE
    if not (-90 <= new.lat <= 90 and -180 <= new.lon <= 180):
        return Rejection.OUT_OF_RANGE
    if new.lat == 0 and new.lon == 0:
        return Rejection.NULL_ISLAND
    if not (math.isfinite(new.accuracy_m) and new.accuracy_m >= 0):
        return Rejection.BAD_ACCURACY
    if (new.at - now).total_seconds() > FUTURE_TOLERANCE_S:
        return Rejection.IN_FUTURE
    if current is not None and new.at <= current.at:
        return Rejection.OUT_OF_ORDER
    return new


# --- Proposals: an incident is offered to one unit at a time ---------------------------------


class AssignmentError(ValueError):
    """A proposal rule was broken (incident not confirmed, too early, too late ...)."""


PROPOSABLE = frozenset({IncidentStatus.CONFIRMED, IncidentStatus.DISPATCHED,
                        IncidentStatus.ON_SCENE})  # fmt: skip


@dataclass(frozen=True)
class Proposal:
    incident_id: str
    unit_id: str
    proposed_at: datetime
    deadline: datetime  # no acknowledgement by then: released, the next one is asked
    remaining: tuple[str, ...] = ()  # the unit ids to ask next, best first
    tried: frozenset[str] = frozenset()  # asked for this incident already, this unit included


@dataclass(frozen=True)
class Release:
    """A proposal that ended without the unit: it goes back to available; ask `next`."""

    incident_id: str
    unit_id: str
    event: UnitEvent  # TIMEOUT or DECLINE: the released unit's move (`unit_transition`)
    reason: str
    next: str | None  # None: nobody left on the list, recommend again excluding `tried`
    remaining: tuple[str, ...]  # after `next`
    tried: frozenset[str]


def propose(
    unit: Unit,
    incident: IncidentState,
    now: datetime,
    ack_deadline_s: float = ACK_DEADLINE_S,
    *,
    remaining: Iterable[str] = (),
    tried: frozenset[str] = frozenset(),
) -> Proposal:
    """Offer `incident` to `unit`, which moves available -> proposed.

    `remaining` are the next candidates' ids, best first; `tried` the units asked before for
    this incident (never asked again from the list)."""
    if incident.status not in PROPOSABLE:
        raise AssignmentError(f"incident {incident.id} is {incident.status}: no unit to propose")
    unit_transition(unit.state, UnitEvent.PROPOSE)  # raises unless the unit is available
    if not (math.isfinite(ack_deadline_s) and ack_deadline_s > 0):
        raise AssignmentError("the acknowledgement deadline must be a positive number of s")
    tried = tried | {unit.id}
    rest = tuple(dict.fromkeys(u for u in remaining if u not in tried))
    deadline = now + timedelta(seconds=ack_deadline_s)
    return Proposal(incident.id, unit.id, now, deadline, rest, tried)


def acknowledge(proposal: Proposal, now: datetime) -> UnitState:
    """The crew accepted before the deadline: the unit's new state (dispatched)."""
    if now >= proposal.deadline:
        raise AssignmentError(
            f"unit {proposal.unit_id}: too late for incident {proposal.incident_id}, "
            f"the proposal expired at {proposal.deadline.isoformat()}"
        )
    return unit_transition(UnitState.PROPOSED, UnitEvent.ACCEPT)


def on_ack_timeout(proposal: Proposal, now: datetime) -> Release:
    """No acknowledgement by the deadline: release the unit and name the next candidate."""
    if now < proposal.deadline:
        raise AssignmentError(
            f"unit {proposal.unit_id}: the proposal runs until {proposal.deadline.isoformat()}"
        )
    waited = (proposal.deadline - proposal.proposed_at).total_seconds()
    return _release(proposal, UnitEvent.TIMEOUT, f"no acknowledgement within {waited:.0f} s")


def decline(proposal: Proposal, reason: str) -> Release:
    """The crew said no, with a reason: release the unit and name the next candidate."""
    if not reason.strip():
        raise AssignmentError(f"unit {proposal.unit_id}: a decline needs a reason")
    return _release(proposal, UnitEvent.DECLINE, f"declined: {reason.strip()}")


def _release(proposal: Proposal, event: UnitEvent, reason: str) -> Release:
    pending = [u for u in proposal.remaining if u not in proposal.tried]
    following = pending[0] if pending else None
    return Release(proposal.incident_id, proposal.unit_id, event, reason, following,
                   tuple(pending[1:]), proposal.tried)  # fmt: skip
