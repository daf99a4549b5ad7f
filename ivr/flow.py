"""The emergency intake flow as an explicit, pure state machine.

`advance(flow, state, event)` is the whole flow: it takes what the channel reported (the call
started, the caller pressed digits, or pressed nothing) and returns the next state and the
actions the channel must carry out. FastAGI runs it step by step inside one session
(`ivr.channel.run_flow`); Twilio runs it once per webhook, carrying `State.to_dict()` between
requests. Nothing here does I/O or reads a clock: times come in with the events.

The flow never delays a call past its bound: a wait (a `Gather`) is started only when its
prompts, a minimum wait and, for a caller who has pressed nothing yet, the silent-caller
check still fit before `bound_s`; otherwise the call goes straight to the queue. Order of
what is kept when time is short: the first menu, then the silent-caller check, then the
repeat of the menu. See docs/ivr.md for the diagram and the timings.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from dispatch_core.calls import PriorityDecision, decide_priority
from ivr.catalog import (
    DTMF_DIGITS,
    MENU,
    SILENT_DIGIT,
    Language,
    Prompt,
    PromptDurations,
    PromptName,
)

REASON_SILENT = "silent-caller"
REASON_NO_INPUT = "no-input"

STATE_VERSION = 1
# Keys that count: one per Gather answered with a key. A key on the first menu either ends
# the flow or leads to the repeated menu, whose key always ends it: two at most.
MAX_KEYS = 2
MAX_DIGITS_TEXT = 32
_KEYS = re.compile(rf"[0-9*#A-D]{{0,{MAX_KEYS}}}")


class FlowError(ValueError):
    """An event that cannot happen in this state (a channel adapter's mistake)."""


# --- events: what the channel reports. `at` is the channel's clock, in seconds.


def _check_time(at: float) -> None:
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        raise ValueError(f"event time must be a finite number of seconds, not {at!r}")


@dataclass(frozen=True)
class Started:
    at: float

    def __post_init__(self) -> None:
        _check_time(self.at)


@dataclass(frozen=True)
class Digits:
    """The caller pressed keys during a Gather. Only the first key counts (one per Gather)."""

    text: str
    at: float

    def __post_init__(self) -> None:
        _check_time(self.at)
        if not isinstance(self.text, str) or not 0 < len(self.text) <= MAX_DIGITS_TEXT:
            raise ValueError("digits: expected 1 to 32 DTMF keys (no keys at all is NoInput)")
        if not set(self.text) <= DTMF_DIGITS:
            raise ValueError(f"digits: {self.text!r} holds a character that is not a DTMF key")

    @property
    def key(self) -> str:
        return self.text[0]


@dataclass(frozen=True)
class NoInput:
    """The Gather timed out with no key pressed."""

    at: float

    def __post_init__(self) -> None:
        _check_time(self.at)


Event = Started | Digits | NoInput


# --- the result handed to the queue


@dataclass(frozen=True)
class Outcome:
    """What the IVR learnt. The gateway turns `silent` into a queue priority (`priority`)."""

    language: Language
    language_chosen: bool  # False: the trunk's default language was used
    silent: bool  # the caller pressed 5: they cannot speak
    no_input: bool  # the caller never pressed anything
    priority_reasons: tuple[str, ...]
    keys: str  # the keys that counted, one per Gather, in order
    elapsed_s: float  # from the start of the IVR to the hand-over to the queue

    def priority(self, *, recent_calls_from_number: int) -> PriorityDecision:
        """The queue priority by `dispatch_core.calls.decide_priority`, with the IVR's reasons."""
        decision = decide_priority(
            recent_calls_from_number=recent_calls_from_number, silent=self.silent
        )
        reasons = decision.reasons + tuple(
            reason for reason in self.priority_reasons if reason not in decision.reasons
        )
        return PriorityDecision(priority=decision.priority, reasons=reasons)


# --- actions: what the channel must do


@dataclass(frozen=True)
class Play:
    """Play a prompt; keys pressed meanwhile are not collected."""

    prompt: Prompt


@dataclass(frozen=True)
class Gather:
    """Play the prompts (a key interrupts them), then wait up to `timeout_s` for a key.

    The channel answers with `Digits` or `NoInput`. `timeout_s` counts from the end of the
    prompts, in tenths of a second (Twilio's `<Gather timeout>` takes whole seconds: floor it).
    """

    prompts: tuple[Prompt, ...]
    max_digits: int
    timeout_s: float


@dataclass(frozen=True)
class SetLanguage:
    """The caller's language from now on (prompts, queue announcements)."""

    language: Language


@dataclass(frozen=True)
class Queue:
    """Hand the call to the operator queue. Always the last action: the flow is over."""

    outcome: Outcome


Action = Play | Gather | SetLanguage | Queue


# --- the state carried between steps


class Step(enum.StrEnum):
    START = "start"  # before the call entered the IVR
    MENU = "menu"  # waiting on the first language menu
    MENU_AGAIN = "menu_again"  # waiting on the repeated menu
    SILENT_CHECK = "silent_check"  # waiting on "press 5 if you cannot speak"
    QUEUED = "queued"  # final


_STATE_KEYS = frozenset({"v", "step", "t0", "keys", "lang", "silent", "after"})


def _time_field(data: dict[str, Any], key: str) -> float | None:
    value = data[key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"state: {key} must be a number or null")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"state: {key} must be finite and not negative")
    return float(value)


@dataclass(frozen=True)
class State:
    step: Step = Step.START
    started_at: float | None = None  # the channel's clock when the IVR started
    keys: str = ""  # the keys that counted so far, one per Gather
    language: Language | None = None  # set when queued
    silent: bool = False
    queued_after_s: float | None = None  # elapsed time when queued

    def to_dict(self) -> dict[str, Any]:
        """A compact JSON-able form (Twilio carries it between webhook requests)."""
        return {
            "v": STATE_VERSION,
            "step": self.step.value,
            "t0": self.started_at,
            "keys": self.keys,
            "lang": None if self.language is None else self.language.value,
            "silent": self.silent,
            "after": self.queued_after_s,
        }

    @classmethod
    def from_dict(cls, data: Any) -> State:
        """Parse a state that came from outside. Anything but a state `to_dict` could have
        written raises ValueError."""
        if not isinstance(data, dict) or set(data) != _STATE_KEYS:
            raise ValueError("state: expected an object with exactly the state's keys")
        if type(data["v"]) is not int or data["v"] != STATE_VERSION:
            raise ValueError(f"state: version {data['v']!r} is not supported")
        step, lang, keys, silent = data["step"], data["lang"], data["keys"], data["silent"]
        if not isinstance(step, str) or step not in Step._value2member_map_:
            raise ValueError(f"state: unknown step {step!r}")
        if lang is not None and (
            not isinstance(lang, str) or lang not in Language._value2member_map_
        ):
            raise ValueError(f"state: unknown language {lang!r}")
        if not isinstance(keys, str) or not _KEYS.fullmatch(keys):
            raise ValueError(f"state: keys must be at most {MAX_KEYS} DTMF keys")
        if not isinstance(silent, bool):
            raise ValueError("state: silent must be true or false")
        state = cls(
            step=Step(step),
            started_at=_time_field(data, "t0"),
            keys=keys,
            language=None if lang is None else Language(lang),
            silent=silent,
            queued_after_s=_time_field(data, "after"),
        )
        state._check_consistent()
        return state

    def _check_consistent(self) -> None:
        """The combinations `advance` can produce, and no other."""
        final = self.step is Step.QUEUED
        started = self.step is not Step.START
        if (self.started_at is not None) != started:
            raise ValueError("state: a start time goes with a started flow, and only then")
        if (self.language is not None) != final or (self.queued_after_s is not None) != final:
            raise ValueError("state: language and queue time go with the queued step only")
        if self.silent and not final:
            raise ValueError("state: only a queued call is marked silent")
        # Any valid key ends the flow: every key before the last one of a queued call, and
        # every key of a flow still waiting, was an invalid one.
        waiting_keys = self.keys[:-1] if final else self.keys
        if any(key in MENU or key == SILENT_DIGIT for key in waiting_keys):
            raise ValueError("state: a valid key would have queued the call")
        if not final:
            allowed = 1 if self.step is Step.MENU_AGAIN else 0
            if len(self.keys) > allowed:
                raise ValueError(f"state: too many keys for step {self.step.value}")
            return
        last = self.keys[-1:]
        if (last == SILENT_DIGIT) != self.silent:
            raise ValueError("state: silent goes with a last key 5, and only with it")
        if last in MENU and self.language is not MENU[last]:
            raise ValueError("state: the language does not match the key pressed")

    def outcome(self) -> Outcome:
        if self.step is not Step.QUEUED or self.language is None or self.queued_after_s is None:
            raise FlowError("the flow has no outcome before it queues the call")
        no_input = not self.keys
        reasons = (REASON_SILENT,) if self.silent else (REASON_NO_INPUT,) if no_input else ()
        return Outcome(
            language=self.language,
            language_chosen=self.keys[-1:] in MENU,
            silent=self.silent,
            no_input=no_input,
            priority_reasons=reasons,
            keys=self.keys,
            elapsed_s=self.queued_after_s,
        )


# --- the flow definition


def _positive(value: float, name: str) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of seconds")


@dataclass(frozen=True)
class IntakeFlow:
    """The emergency intake flow of one trunk.

    `bound_s` is the longest the IVR may hold a caller before the queue. A wait after a
    prompt lasts its timeout, shortened to what is left of the bound; a wait that would be
    shorter than `min_wait_s` is not started. The one exception is the wait after the first
    menu, which may shrink to `short_wait_s` to leave room for the silent check (which still
    takes the menu's keys). `step_overhead_s` is the estimated channel round trip per step
    (FastAGI: milliseconds; Twilio: a webhook).
    """

    default_language: Language = Language.AR
    bound_s: float = 10.0
    menu_timeout_s: float = 1.0
    silent_timeout_s: float = 3.0
    min_wait_s: float = 1.0
    short_wait_s: float = 0.5
    step_overhead_s: float = 0.1
    durations: PromptDurations = field(default_factory=PromptDurations)

    def __post_init__(self) -> None:
        names = ("bound_s", "menu_timeout_s", "silent_timeout_s", "min_wait_s", "short_wait_s")
        for name in names:
            _positive(getattr(self, name), name)
        if not math.isfinite(self.step_overhead_s) or self.step_overhead_s < 0:
            raise ValueError("step_overhead_s must be a finite number of seconds, at least 0")
        if (
            not self.short_wait_s
            <= self.min_wait_s
            <= min(self.menu_timeout_s, self.silent_timeout_s)
        ):
            raise ValueError("expected short_wait_s <= min_wait_s <= the timeouts")

    def menu_prompts(self, *, welcome: bool) -> tuple[Prompt, ...]:
        options = tuple(Prompt(PromptName.LANGUAGE_MENU, lang) for lang in MENU.values())
        if welcome:
            return (Prompt(PromptName.WELCOME, self.default_language), *options)
        return options

    def prompt(self, name: PromptName) -> Prompt:
        """A prompt in the trunk's default language."""
        return Prompt(name, self.default_language)

    def silent_reserve_s(self) -> float:
        """What a caller who has pressed nothing is owed: the silent check with a minimal wait
        (and one more step overhead, so that a late channel does not cost the check)."""
        silent = self.durations.of(self.prompt(PromptName.SILENT_CHECK))
        return silent + 2 * self.step_overhead_s + self.min_wait_s


@dataclass(frozen=True)
class Transition:
    state: State
    actions: tuple[Action, ...]


# --- the transitions


def advance(flow: IntakeFlow, state: State, event: Event) -> Transition:
    """The next state and what the channel must do. Pure and deterministic.

    Any key at any time leads on to the queue; a final state answers every event with the
    same hand-over again, so a replayed request gets the same answer.
    """
    if state.step is Step.QUEUED:
        return _queued_actions(state)
    if state.step is Step.START:
        if not isinstance(event, Started):
            raise FlowError(f"the flow has not started: {type(event).__name__} is unexpected")
        started = replace(state, started_at=event.at)
        return _first_menu(flow, started)
    if isinstance(event, Started) or state.started_at is None:
        raise FlowError("the flow has already started")
    elapsed = max(0.0, event.at - state.started_at)
    if isinstance(event, Digits):
        return _on_key(flow, replace(state, keys=state.keys + event.key), elapsed)
    return _on_no_input(flow, state, elapsed)


def _on_key(flow: IntakeFlow, state: State, elapsed: float) -> Transition:
    key = state.keys[-1]
    if key in MENU:
        return _queue(state, elapsed, MENU[key])
    if key == SILENT_DIGIT:
        return _queue(state, elapsed, flow.default_language, silent=True)
    if state.step is Step.MENU:  # an invalid key on the first menu: say so, then once more
        invalid = Play(flow.prompt(PromptName.INVALID))
        play_s = flow.durations.of(invalid.prompt) + flow.step_overhead_s
        again = flow.menu_prompts(welcome=False)
        menu = _gather(flow, again, flow.menu_timeout_s, elapsed + play_s)
        if menu is not None:
            return Transition(replace(state, step=Step.MENU_AGAIN), (invalid, menu))
    return _queue(state, elapsed, flow.default_language)


def _on_no_input(flow: IntakeFlow, state: State, elapsed: float) -> Transition:
    if state.step is Step.MENU:
        menu = _gather(
            flow,
            flow.menu_prompts(welcome=False),
            flow.menu_timeout_s,
            elapsed,
            reserve_s=flow.silent_reserve_s(),
        )
        if menu is not None:
            return Transition(replace(state, step=Step.MENU_AGAIN), (menu,))
    if state.step in (Step.MENU, Step.MENU_AGAIN) and not state.keys:
        return _silent_check_or_queue(flow, state, elapsed)
    return _queue(state, elapsed, flow.default_language)


def _silent_check_or_queue(flow: IntakeFlow, state: State, elapsed: float) -> Transition:
    """A caller who has pressed nothing at all is asked to press 5 if they cannot speak."""
    check = _gather(flow, (flow.prompt(PromptName.SILENT_CHECK),), flow.silent_timeout_s, elapsed)
    if check is not None:
        return Transition(replace(state, step=Step.SILENT_CHECK), (check,))
    return _queue(state, elapsed, flow.default_language)


def _first_menu(flow: IntakeFlow, state: State) -> Transition:
    # The first menu keeps room for the silent check, shortening its own wait down to
    # short_wait_s if it must; when both cannot fit, the menu goes first.
    prompts = flow.menu_prompts(welcome=True)
    reserve = flow.silent_reserve_s()
    timeout = flow.menu_timeout_s
    menu = _gather(flow, prompts, timeout, 0.0, reserve_s=reserve, floor_s=flow.short_wait_s)
    menu = menu or _gather(flow, prompts, timeout, 0.0)
    if menu is not None:
        return Transition(replace(state, step=Step.MENU), (menu,))
    # A bound too short for the menu: the silent check alone, or straight to the queue.
    return _silent_check_or_queue(flow, state, 0.0)


def _gather(
    flow: IntakeFlow,
    prompts: tuple[Prompt, ...],
    timeout_s: float,
    elapsed: float,
    *,
    reserve_s: float = 0.0,
    floor_s: float | None = None,
) -> Gather | None:
    """A Gather whose wait fits before the bound with `reserve_s` left over, or None when
    that wait would be shorter than `floor_s` (default `min_wait_s`)."""
    left = flow.bound_s - elapsed - flow.durations.total(prompts) - flow.step_overhead_s
    wait = min(timeout_s, left - reserve_s)
    if wait < (flow.min_wait_s if floor_s is None else floor_s):
        return None
    return Gather(prompts=prompts, max_digits=1, timeout_s=math.floor(wait * 10 + 1e-9) / 10)


def _queue(state: State, elapsed: float, language: Language, *, silent: bool = False) -> Transition:
    queued = replace(
        state,
        step=Step.QUEUED,
        language=language,
        silent=silent,
        queued_after_s=round(elapsed, 3),
    )
    return _queued_actions(queued)


def _queued_actions(state: State) -> Transition:
    outcome = state.outcome()
    return Transition(state, (SetLanguage(outcome.language), Queue(outcome)))
