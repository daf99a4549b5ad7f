"""Rehearse a flow on a virtual clock: how long each step takes and the worst case.

The channel is modelled as playing each prompt for its measured duration, plus the flow's
per-step overhead, and a caller who answers every wait at its very last moment. This is
what docs/ivr.md quotes and what `python -m ivr.prompt_audio` prints after measuring.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.flow import (
    Digits,
    Event,
    Gather,
    IntakeFlow,
    NoInput,
    Outcome,
    Play,
    Queue,
    Started,
    State,
    Step,
    advance,
)


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    what: str


@dataclass(frozen=True)
class Rehearsal:
    outcome: Outcome
    segments: tuple[Segment, ...]
    steps: tuple[Step, ...]  # the states the flow went through, START excluded

    def describe(self) -> str:
        lines = [f"{s.start_s:5.2f}-{s.end_s:5.2f} s  {s.what}" for s in self.segments]
        outcome = self.outcome
        lines.append(
            f"queued at {outcome.elapsed_s:.2f} s: language {outcome.language.value}, "
            f"silent={outcome.silent}, no_input={outcome.no_input}"
        )
        return "\n".join(lines)


def rehearse(flow: IntakeFlow, answers: Sequence[str | None] = ()) -> Rehearsal:
    """Run `flow` with a caller who answers the n-th wait with `answers[n]` (None, or past
    the end of `answers`: nothing) at the last moment of that wait."""
    now = 0.0
    segments: list[Segment] = []
    transition = advance(flow, State(), Started(at=now))
    steps = [transition.state.step]
    waits = 0
    while True:
        event: Event | None = None
        for action in transition.actions:
            if isinstance(action, Queue):
                return Rehearsal(action.outcome, tuple(segments), tuple(steps))
            if isinstance(action, Play):
                end = now + flow.durations.of(action.prompt) + flow.step_overhead_s
                segments.append(Segment(now, end, f"play {action.prompt.asterisk_name}"))
                now = end
            elif isinstance(action, Gather):
                end = now + flow.durations.total(action.prompts) + flow.step_overhead_s
                end += action.timeout_s
                answer = answers[waits] if waits < len(answers) else None
                waits += 1
                names = " + ".join(prompt.asterisk_name for prompt in action.prompts)
                heard = "nothing" if answer is None else f"key {answer}"
                segments.append(
                    Segment(now, end, f"gather {names} (wait {action.timeout_s} s) -> {heard}")
                )
                now = end
                event = NoInput(at=now) if answer is None else Digits(answer, at=now)
        if event is None:  # pragma: no cover - advance always ends a step with one of them
            raise AssertionError("a step without a Gather or a Queue")
        transition = advance(flow, transition.state, event)
        steps.append(transition.state.step)


def worst_case(flow: IntakeFlow) -> Rehearsal:
    """The longest rehearsal over every way a caller can answer the waits (nothing, a valid
    language key, 5, an invalid key), each at the last moment."""
    choices: tuple[str | None, ...] = (None, "1", "5", "9")
    runs = (rehearse(flow, answers) for answers in itertools.product(choices, repeat=3))
    return max(runs, key=lambda run: run.outcome.elapsed_s)
