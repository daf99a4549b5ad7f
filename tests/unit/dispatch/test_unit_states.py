"""A unit's state moves only along its table (dispatch_core.units.unit_transition)."""

from __future__ import annotations

import itertools

import pytest

from dispatch_core.units import (
    IllegalUnitTransition,
    Unit,
    UnitEvent,
    UnitState,
    VehicleClass,
    unit_transition,
)

U, E = UnitState, UnitEvent
LEGAL = {
    (U.OUT_OF_SERVICE, E.ON_DUTY): U.AVAILABLE,
    (U.AVAILABLE, E.OFF_DUTY): U.OUT_OF_SERVICE,
    (U.AVAILABLE, E.PROPOSE): U.PROPOSED,
    (U.PROPOSED, E.ACCEPT): U.DISPATCHED,
    (U.PROPOSED, E.DECLINE): U.AVAILABLE,
    (U.PROPOSED, E.TIMEOUT): U.AVAILABLE,
    (U.DISPATCHED, E.EN_ROUTE): U.EN_ROUTE,
    (U.DISPATCHED, E.ON_SCENE): U.ON_SCENE,
    (U.EN_ROUTE, E.ON_SCENE): U.ON_SCENE,
    (U.DISPATCHED, E.STAND_DOWN): U.AVAILABLE,
    (U.EN_ROUTE, E.STAND_DOWN): U.AVAILABLE,
    (U.ON_SCENE, E.CLEAR): U.RETURNING,
    (U.RETURNING, E.CLEAR): U.AVAILABLE,
    (U.RETURNING, E.OFF_DUTY): U.OUT_OF_SERVICE,
}
ILLEGAL = [pair for pair in itertools.product(UnitState, UnitEvent) if pair not in LEGAL]


@pytest.mark.parametrize(("state", "event"), list(LEGAL))
def test_a_legal_event_moves_the_unit(state: UnitState, event: UnitEvent) -> None:
    assert unit_transition(state, event) is LEGAL[(state, event)]


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_an_illegal_event_raises_and_names_the_event_and_the_state(
    state: UnitState, event: UnitEvent
) -> None:
    with pytest.raises(IllegalUnitTransition, match=f"no {event} when {state}"):
        unit_transition(state, event)


def test_only_an_available_unit_can_be_proposed_and_only_a_proposed_one_accept() -> None:
    proposable = {s for s in UnitState if (s, E.PROPOSE) in LEGAL}
    accepting = {s for s in UnitState if (s, E.ACCEPT) in LEGAL}
    assert (proposable, accepting) == ({U.AVAILABLE}, {U.PROPOSED})
    with pytest.raises(IllegalUnitTransition, match="allowed: accept, decline, timeout"):
        unit_transition(U.PROPOSED, E.PROPOSE)


def test_a_new_unit_is_out_of_service_with_no_position_until_it_signs_on() -> None:
    unit = Unit("u1", "Rabat-M12", VehicleClass.MOTORBIKE, "rabat")
    assert (unit.state, unit.position, unit.capabilities) == (U.OUT_OF_SERVICE, None, frozenset())
    assert unit_transition(unit.state, E.ON_DUTY) is U.AVAILABLE
