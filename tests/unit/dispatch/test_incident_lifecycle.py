"""The incident lifecycle (dispatch_core.incidents.transition): every move, legal or not."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime

import pytest

from dispatch_core.incidents import (
    IllegalTransition,
    IncidentAction,
    IncidentOutcome,
    IncidentState,
    IncidentStatus,
    TransitionRecord,
    transition,
)

S, A, Out = IncidentStatus, IncidentAction, IncidentOutcome
AT = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
# Written out here rather than read from the module: the test states the lifecycle itself.
LEGAL = {
    (S.DRAFT, A.CONFIRM): S.CONFIRMED,
    (S.CONFIRMED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.ARRIVE): S.ON_SCENE,
    (S.ON_SCENE, A.CLOSE): S.CLOSED,
    (S.DRAFT, A.CANCEL): S.CLOSED,
    (S.CONFIRMED, A.CANCEL): S.CLOSED,
    (S.DISPATCHED, A.CANCEL): S.CLOSED,
}
ALL_PAIRS = list(itertools.product(IncidentStatus, IncidentAction))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def move(
    state: IncidentState, action: IncidentAction, by: str = "op-rabat-1"
) -> tuple[IncidentState, TransitionRecord]:
    """`transition` with what a legal call of `action` has to carry (an outcome, a reason)."""
    outcome = Out.FOUNDED if action is A.CLOSE else None
    reason = "caller rang back: all is well" if action is A.CANCEL else None
    return transition(state, action, by=by, at=AT, outcome=outcome, reason=reason)


@pytest.mark.parametrize(("status", "action"), list(LEGAL))
def test_a_legal_move_changes_the_status_and_records_who_and_when(
    status: IncidentStatus, action: IncidentAction
) -> None:
    before = IncidentState("inc-1", status)
    after, record = move(before, action)
    assert after.status is LEGAL[(status, action)]
    assert (after.changed_by, after.changed_at) == ("op-rabat-1", AT)
    assert record == TransitionRecord(
        "inc-1", action, status, after.status, "op-rabat-1", AT, after.outcome, after.reason
    )
    assert before.status is status  # the input is never changed


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_an_illegal_move_raises_and_names_the_action_and_the_status(
    status: IncidentStatus, action: IncidentAction
) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot {action} when {status}"):
        move(IncidentState("inc-1", status), action)


def test_the_tables_cover_every_pair_of_status_and_action() -> None:
    assert len(LEGAL) + len(ILLEGAL) == len(IncidentStatus) * len(IncidentAction) == 25


def test_a_closed_incident_says_nothing_more_is_allowed() -> None:
    with pytest.raises(IllegalTransition, match="allowed: none: it is closed"):
        transition(IncidentState("inc-1", S.CLOSED), A.CONFIRM, by="op", at=AT)


def test_the_whole_life_of_a_founded_incident_leaves_four_records() -> None:
    state = IncidentState("inc-7")
    records = []
    for action, by in [(A.CONFIRM, "op-1"), (A.DISPATCH, "op-1"), (A.ARRIVE, "unit-m12")]:
        state, record = transition(state, action, by=by, at=AT)
        records.append(record)
    state, record = transition(state, A.CLOSE, by="op-2", at=AT, outcome=Out.NO_TRACE)
    records.append(record)
    assert [r.to_status for r in records] == [S.CONFIRMED, S.DISPATCHED, S.ON_SCENE, S.CLOSED]
    assert [r.by for r in records] == ["op-1", "op-1", "unit-m12", "op-2"]
    assert (state.status, state.outcome) == (S.CLOSED, Out.NO_TRACE)


@pytest.mark.parametrize("outcome", [o for o in IncidentOutcome if o is not Out.CANCELLED])
def test_close_accepts_every_outcome_but_cancelled(outcome: IncidentOutcome) -> None:
    after, record = transition(IncidentState("i", S.ON_SCENE), A.CLOSE, by="op", at=AT,
                               outcome=outcome, reason="see report 12")  # fmt: skip
    assert after.outcome is record.outcome is outcome


@pytest.mark.parametrize("outcome", [None, Out.CANCELLED])
def test_close_without_a_real_outcome_is_refused(outcome: IncidentOutcome | None) -> None:
    with pytest.raises(IllegalTransition, match="close needs an outcome"):
        transition(IncidentState("i", S.ON_SCENE), A.CLOSE, by="op", at=AT, outcome=outcome)


def test_the_outcome_other_needs_a_reason() -> None:
    with pytest.raises(IllegalTransition, match="other needs a reason"):
        transition(IncidentState("i", S.ON_SCENE), A.CLOSE, by="op", at=AT, outcome=Out.OTHER,
                   reason="  ")  # fmt: skip


@pytest.mark.parametrize("status", [S.DRAFT, S.CONFIRMED, S.DISPATCHED])
def test_a_cancel_closes_with_the_outcome_cancelled_and_keeps_the_reason(
    status: IncidentStatus,
) -> None:
    after, record = transition(IncidentState("i", status), A.CANCEL, by="op", at=AT,
                               reason=" duplicate of inc-3 ")  # fmt: skip
    assert (after.status, after.outcome) == (S.CLOSED, Out.CANCELLED)
    assert after.reason == record.reason == "duplicate of inc-3"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_cancel_without_a_reason_is_refused(reason: str | None) -> None:
    with pytest.raises(IllegalTransition, match="cancel needs a reason"):
        transition(IncidentState("i", S.CONFIRMED), A.CANCEL, by="op", at=AT, reason=reason)


def test_a_cancel_cannot_carry_another_outcome() -> None:
    with pytest.raises(IllegalTransition, match="outcome cancelled, not founded"):
        transition(IncidentState("i", S.DRAFT), A.CANCEL, by="op", at=AT, outcome=Out.FOUNDED,
                   reason="x")  # fmt: skip


def test_an_outcome_on_a_move_that_does_not_close_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="confirm takes no outcome"):
        transition(IncidentState("i"), A.CONFIRM, by="op", at=AT, outcome=Out.FOUNDED)


def test_a_move_needs_who_made_it_and_an_aware_time() -> None:
    with pytest.raises(IllegalTransition, match="needs who made it"):
        transition(IncidentState("i"), A.CONFIRM, by=" ", at=AT)
    with pytest.raises(IllegalTransition, match="needs an aware time"):
        transition(IncidentState("i"), A.CONFIRM, by="op", at=AT.replace(tzinfo=None))


def test_states_and_records_are_frozen() -> None:
    state, record = transition(IncidentState("i"), A.CONFIRM, by="op", at=AT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.status = S.DRAFT  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.by = "someone else"  # type: ignore[misc]


def test_the_existing_values_are_unchanged() -> None:
    assert S.DRAFT.value == "draft"
    assert [s.value for s in S] == ["draft", "confirmed", "dispatched", "on_scene", "closed"]
