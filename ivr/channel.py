"""The `CallChannel` port and the driver that runs a flow over it step by step (FastAGI).

Twilio does not use `run_flow`: it calls `ivr.flow.advance` once per webhook and renders the
actions as TwiML. Both run the same transitions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from ivr.catalog import DTMF_DIGITS, Prompt
from ivr.flow import (
    Digits,
    Event,
    FlowError,
    Gather,
    IntakeFlow,
    NoInput,
    Outcome,
    Play,
    Queue,
    SetLanguage,
    Started,
    State,
    advance,
)

logger = logging.getLogger(__name__)

# The variable `SetLanguage` sets: Asterisk then finds the caller's prompts and queue
# announcements under sounds/<lang>/. An adapter for another platform maps it.
LANGUAGE_VARIABLE = "CHANNEL(language)"

# More steps than the flow can take (menu, invalid + menu again, silent check, queue):
# a safety net against a flow that would never queue the call.
MAX_STEPS = 8


class CallChannel(Protocol):
    """One call, as the IVR sees it."""

    async def answer(self) -> None: ...

    async def play(self, prompt: Prompt) -> None: ...

    async def gather(
        self, prompts: tuple[Prompt, ...], max_digits: int, timeout_s: float
    ) -> str | None:
        """Play the prompts (a key interrupts them), wait up to `timeout_s` after them for
        up to `max_digits` keys; the keys pressed, or None (or "") when there were none."""
        ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def hand_to_queue(self, outcome: Outcome) -> None: ...


Clock = Callable[[], float]


def _answer_event(digits: str | None, at: float) -> Event:
    keys = "".join(key for key in (digits or "") if key in DTMF_DIGITS)
    if keys != (digits or ""):
        # A channel adapter's bug, not the caller's: keep the caller going on what is usable.
        logger.warning("gather returned %r: keeping the DTMF keys %r", digits, keys)
    return Digits(keys, at=at) if keys else NoInput(at=at)


async def run_flow(flow: IntakeFlow, channel: CallChannel, clock: Clock) -> Outcome:
    """Run the flow to its end on `channel` and return what it learnt.

    `clock` gives seconds (for example `time.monotonic`); the flow's bound is measured on it.
    The last thing done on the channel is always `hand_to_queue`. Exceptions from the
    channel (the caller hung up, the AGI link broke) propagate to the caller of run_flow,
    whose own guard queues the call.
    """
    await channel.answer()
    transition = advance(flow, State(), Started(at=clock()))
    for _ in range(MAX_STEPS):
        event: Event | None = None
        for action in transition.actions:
            if event is not None:
                raise FlowError(f"{action} follows a Gather in one step")
            match action:
                case Play(prompt=prompt):
                    await channel.play(prompt)
                case Gather(prompts=prompts, max_digits=max_digits, timeout_s=timeout_s):
                    digits = await channel.gather(prompts, max_digits, timeout_s)
                    event = _answer_event(digits, clock())
                case SetLanguage(language=language):
                    await channel.set_variable(LANGUAGE_VARIABLE, language.value)
                case Queue(outcome=outcome):
                    await channel.hand_to_queue(outcome)
                    logger.info(
                        "IVR done in %.2f s: language %s%s, keys %r, reasons %s",
                        outcome.elapsed_s,
                        outcome.language.value,
                        "" if outcome.language_chosen else " (default)",
                        outcome.keys,
                        ",".join(outcome.priority_reasons) or "-",
                    )
                    return outcome
        if event is None:
            raise FlowError("a step ended with neither a Gather nor a Queue")
        logger.debug("IVR %s: %s", transition.state.step.value, event)
        transition = advance(flow, transition.state, event)
    raise FlowError(f"the flow did not queue the call within {MAX_STEPS} steps")
