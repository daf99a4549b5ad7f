"""The flow's state survives a trip through JSON, and anything else coming back is refused."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import pytest

from ivr.catalog import Language
from ivr.flow import (
    Digits,
    Event,
    Gather,
    IntakeFlow,
    NoInput,
    Queue,
    Started,
    State,
    Step,
    Transition,
    advance,
)


def every_reachable_state(flow: IntakeFlow) -> list[State]:
    """Walk the flow with every answer (nothing, a language, 5, an invalid key) at each wait."""
    seen: list[State] = []
    for answers in itertools.product((None, "1", "5", "9"), repeat=3):
        now = 1_732_240_123.456789  # an epoch clock, as Twilio's adapter would use
        transition: Transition = advance(flow, State(), Started(at=now))
        for answer in answers:
            if transition.state not in seen:
                seen.append(transition.state)
            if any(isinstance(action, Queue) for action in transition.actions):
                break
            gather = transition.actions[-1]
            assert isinstance(gather, Gather)
            now += 2.0
            event: Event = NoInput(at=now) if answer is None else Digits(answer, at=now)
            transition = advance(flow, transition.state, event)
        if transition.state not in seen:
            seen.append(transition.state)
    return seen


STATES = [*every_reachable_state(IntakeFlow(bound_s=30.0)), State()]


def test_the_walk_reaches_every_step() -> None:
    assert {state.step for state in STATES} == set(Step)


@pytest.mark.parametrize("state", STATES, ids=lambda s: f"{s.step.value}-{s.keys or 'none'}")
def test_every_reachable_state_round_trips_through_json(state: State) -> None:
    wire = json.dumps(state.to_dict(), separators=(",", ":"))
    assert len(wire) < 120  # compact: it rides in a Twilio action URL or a signed field
    assert State.from_dict(json.loads(wire)) == state


def test_a_state_read_back_goes_on_where_it_stopped() -> None:
    flow = IntakeFlow()
    menu = advance(flow, State(), Started(at=5.0)).state
    back = State.from_dict(json.loads(json.dumps(menu.to_dict())))
    queued = advance(flow, back, Digits("2", at=7.0))
    assert queued.state.outcome().language is Language.FR
    assert queued.state.outcome().elapsed_s == 2.0


GOOD: dict[str, Any] = {
    "v": 1,
    "step": "queued",
    "t0": 10.0,
    "keys": "92",
    "lang": "fr",
    "silent": False,
    "after": 4.5,
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def test_the_reference_state_is_valid() -> None:
    assert State.from_dict(GOOD).outcome().language is Language.FR


GARBAGE: list[tuple[str, Any]] = [
    ("not an object", None),
    ("a list", [1, "queued"]),
    ("a string", json.dumps(GOOD)),
    ("empty", {}),
    ("a missing key", {k: v for k, v in GOOD.items() if k != "after"}),
    ("an extra key", with_(priority=10)),
    ("another version", with_(v=2)),
    ("a boolean version", with_(v=True)),
    ("a float version", with_(v=1.0)),
    ("an unknown step", with_(step="done")),
    ("a step in capitals", with_(step="QUEUED")),
    ("a step number", with_(step=4)),
    ("a start time as text", with_(t0="10")),
    ("a boolean start time", with_(t0=True)),
    ("an infinite start time", with_(t0=math.inf)),
    ("a NaN start time", with_(t0=math.nan)),
    ("a negative start time", with_(t0=-1.0)),
    ("a negative queue time", with_(after=-0.1)),
    ("keys that are not DTMF", with_(keys="9x")),
    ("too many keys", with_(keys="992")),
    ("keys as a number", with_(keys=92)),
    ("an unknown language", with_(lang="de")),
    ("a language number", with_(lang=2)),
    ("silent as text", with_(silent="false")),
    ("silent as a number", with_(silent=0)),
    # combinations advance never produces
    ("a language that does not match the key", with_(lang="ar")),
    ("a valid key before the last", with_(keys="12", lang="fr")),
    ("silent without a 5", with_(silent=True)),
    ("a 5 that is not silent", with_(keys="5", lang="ar")),
    ("queued without a language", with_(lang=None)),
    ("queued without a queue time", with_(after=None)),
    ("queued without a start", with_(t0=None)),
    ("a start state with a start time", with_(step="start", lang=None, after=None, keys="")),
    (
        "a start state with keys",
        with_(step="start", t0=None, lang=None, after=None, keys="9"),
    ),
    ("a waiting state with a language", with_(step="menu", keys="", after=None)),
    (
        "a waiting state marked silent",
        with_(step="menu", keys="", lang=None, after=None, silent=True),
    ),
    ("a menu with a key already", with_(step="menu", keys="9", lang=None, after=None)),
    ("a repeated menu with two keys", with_(step="menu_again", keys="99", lang=None, after=None)),
    (
        "a repeated menu after a valid key",
        with_(step="menu_again", keys="1", lang=None, after=None),
    ),
    ("a silent check after a key", with_(step="silent_check", keys="9", lang=None, after=None)),
    (
        "a waiting state without a start",
        with_(step="menu", t0=None, keys="", lang=None, after=None),
    ),
]


@pytest.mark.parametrize(("what", "data"), GARBAGE, ids=[what for what, _ in GARBAGE])
def test_a_state_that_did_not_come_from_to_dict_is_refused(what: str, data: Any) -> None:
    with pytest.raises(ValueError):
        State.from_dict(data)
