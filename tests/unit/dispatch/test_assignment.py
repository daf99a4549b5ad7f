"""An incident is offered to one unit at a time; silence or a no moves on to the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch_core.incidents import IncidentState, IncidentStatus
from dispatch_core.recommend import recommend
from dispatch_core.spatial import M_PER_DEGREE_LAT, GridIndex
from dispatch_core.units import (
    AssignmentError,
    IllegalUnitTransition,
    Unit,
    UnitEvent,
    UnitFix,
    UnitState,
    VehicleClass,
    acknowledge,
    decline,
    on_ack_timeout,
    propose,
    unit_transition,
)

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
INCIDENT = IncidentState("inc-1", IncidentStatus.CONFIRMED)


def unit(uid: str, state: UnitState = UnitState.AVAILABLE, north_m: float = 0.0) -> Unit:
    fix = UnitFix(34.0209 + north_m / M_PER_DEGREE_LAT, -6.8416, NOW, 5.0)
    return Unit(uid, uid, VehicleClass.CAR, "rabat", frozenset(), state, fix)


def test_a_proposal_gives_the_crew_30_seconds_by_default() -> None:
    proposal = propose(unit("u1"), INCIDENT, NOW, remaining=["u2", "u3"])
    assert (proposal.unit_id, proposal.incident_id) == ("u1", "inc-1")
    assert proposal.deadline == NOW + timedelta(seconds=30)
    assert proposal.remaining == ("u2", "u3") and proposal.tried == {"u1"}


def test_silence_until_the_deadline_releases_the_unit_and_names_the_next_candidate() -> None:
    units = {u.id: u for u in (unit("near", north_m=200), unit("mid", north_m=900),
                               unit("far", north_m=3000))}  # fmt: skip
    index = GridIndex()
    for u in units.values():
        assert u.position is not None
        index.upsert(u.id, u.position.lat, u.position.lon)
    ranked = [c.unit_id for c in recommend(34.0209, -6.8416, units, index, now=NOW)]
    proposal = propose(units[ranked[0]], INCIDENT, NOW, remaining=ranked[1:])
    release = on_ack_timeout(proposal, NOW + timedelta(seconds=30))
    assert (release.unit_id, release.event, release.next) == ("near", UnitEvent.TIMEOUT, "mid")
    assert release.reason == "no acknowledgement within 30 s"
    assert unit_transition(UnitState.PROPOSED, release.event) is UnitState.AVAILABLE
    second = propose(units["mid"], INCIDENT, NOW, remaining=release.remaining,
                     tried=release.tried)  # fmt: skip
    third = on_ack_timeout(second, second.deadline)
    assert (third.next, third.tried) == ("far", frozenset({"near", "mid"}))


def test_a_timeout_before_the_deadline_is_refused() -> None:
    proposal = propose(unit("u1"), INCIDENT, NOW, ack_deadline_s=45)
    with pytest.raises(AssignmentError, match="runs until"):
        on_ack_timeout(proposal, NOW + timedelta(seconds=44.9))


def test_an_acknowledgement_in_time_dispatches_and_a_late_one_is_refused() -> None:
    proposal = propose(unit("u1"), INCIDENT, NOW)
    assert acknowledge(proposal, NOW + timedelta(seconds=29)) is UnitState.DISPATCHED
    with pytest.raises(AssignmentError, match="too late"):
        acknowledge(proposal, NOW + timedelta(seconds=30))


def test_a_decline_needs_a_reason_and_moves_on_to_the_next_candidate() -> None:
    proposal = propose(unit("u1"), INCIDENT, NOW, remaining=["u2"])
    with pytest.raises(AssignmentError, match="needs a reason"):
        decline(proposal, " ")
    release = decline(proposal, "flat tyre")
    assert (release.event, release.reason, release.next) == (
        UnitEvent.DECLINE, "declined: flat tyre", "u2"
    )  # fmt: skip


def test_units_asked_before_are_skipped_and_an_empty_list_names_nobody() -> None:
    proposal = propose(unit("u3"), INCIDENT, NOW, remaining=["u1", "u3", "u2", "u2"],
                       tried=frozenset({"u1"}))  # fmt: skip
    assert proposal.remaining == ("u2",)
    last = propose(unit("u2"), INCIDENT, NOW, remaining=decline(proposal, "busy").remaining,
                   tried=proposal.tried)  # fmt: skip
    release = on_ack_timeout(last, last.deadline)
    assert (release.next, release.remaining) == (None, ())
    assert release.tried == {"u1", "u2", "u3"}


@pytest.mark.parametrize("status", [IncidentStatus.DRAFT, IncidentStatus.CLOSED])
def test_an_unconfirmed_or_closed_incident_is_not_proposed(status: IncidentStatus) -> None:
    with pytest.raises(AssignmentError, match=f"is {status}"):
        propose(unit("u1"), IncidentState("inc-2", status), NOW)


@pytest.mark.parametrize(
    "state", [UnitState.PROPOSED, UnitState.EN_ROUTE, UnitState.OUT_OF_SERVICE]
)
def test_a_unit_that_is_not_available_is_not_proposed(state: UnitState) -> None:
    with pytest.raises(IllegalUnitTransition, match=f"no propose when {state}"):
        propose(unit("u1", state), INCIDENT, NOW)


def test_a_deadline_that_is_not_positive_is_refused() -> None:
    with pytest.raises(AssignmentError, match="deadline must be a positive"):
        propose(unit("u1"), INCIDENT, NOW, ack_deadline_s=0)
