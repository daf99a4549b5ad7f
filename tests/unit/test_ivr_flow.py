"""The emergency intake flow: every transition, driven through a fake channel and a fake clock."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import pytest

from dispatch_core.calls import BASE_PRIORITY, REPEAT_CALL_PRIORITY, SILENT_CALL_PRIORITY
from ivr.catalog import Language, Prompt, PromptDurations, PromptName
from ivr.channel import LANGUAGE_VARIABLE, run_flow
from ivr.flow import (
    REASON_NO_INPUT,
    REASON_SILENT,
    Digits,
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
    Step,
    advance,
)
from ivr.rehearsal import rehearse, worst_case

# Close to what espeak-ng renders (python -m ivr.prompt_audio prints the real ones).
SECONDS = {
    "welcome": 0.6,
    "language_menu": 1.1,
    "invalid": 1.0,
    "silent_check": 2.0,
    "stay_on_line": 2.5,
}
DURATIONS = PromptDurations.from_dict(
    {"version": 1, "durations": {lang.value: dict(SECONDS) for lang in Language}}
)
# welcome + 4 options = 5.0 s of prompts before the first wait.
MENU_S = SECONDS["welcome"] + 4 * SECONDS["language_menu"]


def make_flow(**changes: object) -> IntakeFlow:
    return dataclasses.replace(IntakeFlow(durations=DURATIONS), **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Press:
    """The caller presses `keys` `after_s` seconds into a Gather (None: once its prompts end)."""

    keys: str
    after_s: float | None = None


@dataclass
class FakeChannel:
    """A call: prompts take their duration on the clock, waits take their timeout, and the
    caller answers the n-th Gather with script[n] (None or past the end: nothing)."""

    flow: IntakeFlow
    script: list[Press | None] = field(default_factory=list)
    gather_returns: str | None = None  # overrides what gather reports (a buggy adapter)
    now: float = 100.0
    calls: list[tuple[str, object]] = field(default_factory=list)
    gathers: list[Gather] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def answer(self) -> None:
        self.calls.append(("answer", None))

    async def play(self, prompt: Prompt) -> None:
        self.calls.append(("play", prompt))
        self.now += self.flow.durations.of(prompt)

    async def gather(
        self, prompts: tuple[Prompt, ...], max_digits: int, timeout_s: float
    ) -> str | None:
        self.gathers.append(Gather(prompts, max_digits, timeout_s))
        self.calls.append(("gather", prompts))
        press = (
            self.script[len(self.gathers) - 1] if len(self.gathers) <= len(self.script) else None
        )
        spoken = self.flow.durations.total(prompts)
        if press is None:
            self.now += spoken + timeout_s
            return self.gather_returns
        after = spoken if press.after_s is None else press.after_s
        assert after <= spoken + timeout_s, "the script presses after the wait is over"
        self.now += after
        return press.keys if self.gather_returns is None else self.gather_returns

    async def set_variable(self, name: str, value: str) -> None:
        self.calls.append(("set", (name, value)))

    async def hand_to_queue(self, outcome: Outcome) -> None:
        self.calls.append(("queue", outcome))


async def call(flow: IntakeFlow, *script: Press | None) -> tuple[Outcome, FakeChannel]:
    channel = FakeChannel(flow, list(script))
    outcome = await run_flow(flow, channel, channel.clock)
    return outcome, channel


def menu(*, welcome: bool, default: Language = Language.AR) -> tuple[Prompt, ...]:
    options = tuple(Prompt(PromptName.LANGUAGE_MENU, lang) for lang in Language)
    head = (Prompt(PromptName.WELCOME, default),) if welcome else ()
    return head + options


def silent_check(lang: Language = Language.AR) -> tuple[Prompt, ...]:
    return (Prompt(PromptName.SILENT_CHECK, lang),)


# --- the first menu


async def test_the_call_is_answered_then_hears_the_welcome_and_each_language_in_its_own() -> None:
    _, channel = await call(make_flow(), Press("2"))
    assert channel.calls[0] == ("answer", None)
    assert channel.gathers[0].prompts == menu(welcome=True)
    assert [p.language for p in channel.gathers[0].prompts] == [
        Language.AR,  # the welcome, in the trunk's default language
        Language.AR,
        Language.FR,
        Language.ZGH,
        Language.EN,
    ]
    assert channel.gathers[0].max_digits == 1


async def test_the_welcome_is_in_the_trunks_default_language() -> None:
    _, channel = await call(make_flow(default_language=Language.FR), Press("1"))
    assert channel.gathers[0].prompts == menu(welcome=True, default=Language.FR)


@pytest.mark.parametrize(
    ("key", "language"),
    [("1", Language.AR), ("2", Language.FR), ("3", Language.ZGH), ("4", Language.EN)],
)
async def test_each_menu_key_queues_the_call_in_that_language(key: str, language: Language) -> None:
    outcome, channel = await call(make_flow(default_language=Language.FR), Press(key))
    assert outcome.language is language and outcome.language_chosen
    assert not outcome.silent and not outcome.no_input
    assert outcome.priority_reasons == ()
    assert outcome.keys == key
    assert channel.calls[-2:] == [("set", (LANGUAGE_VARIABLE, language.value)), ("queue", outcome)]


async def test_a_key_pressed_during_the_welcome_is_taken_at_once() -> None:
    outcome, channel = await call(make_flow(), Press("4", after_s=0.3))
    assert outcome.language is Language.EN
    assert outcome.elapsed_s == pytest.approx(0.3)
    assert len(channel.gathers) == 1


async def test_repeated_digits_count_once_as_the_first_key() -> None:
    outcome, _ = await call(make_flow(), Press("22"))
    assert (outcome.language, outcome.keys) == (Language.FR, "2")


async def test_hand_to_queue_is_the_last_thing_done_on_the_channel() -> None:
    outcome, channel = await call(make_flow(), None, Press("5"))
    assert channel.calls[-1] == ("queue", outcome)
    assert sum(1 for name, _ in channel.calls if name == "queue") == 1


# --- invalid keys


async def test_an_invalid_key_says_so_then_repeats_the_menu_without_the_welcome() -> None:
    _, channel = await call(make_flow(), Press("9", after_s=1.0), Press("2"))
    assert channel.calls[2] == ("play", Prompt(PromptName.INVALID, Language.AR))
    assert channel.gathers[1].prompts == menu(welcome=False)


async def test_a_valid_key_on_the_repeated_menu_chooses_the_language() -> None:
    outcome, _ = await call(make_flow(), Press("9", after_s=1.0), Press("3"))
    assert (outcome.language, outcome.language_chosen, outcome.keys) == (Language.ZGH, True, "93")
    assert not outcome.no_input and outcome.priority_reasons == ()


@pytest.mark.parametrize("second", ["9", "0", "*", "#", "A", "6"])
async def test_a_second_invalid_key_queues_in_the_default_language_without_the_silent_check(
    second: str,
) -> None:
    outcome, channel = await call(make_flow(), Press("9", after_s=1.0), Press(second))
    assert len(channel.gathers) == 2
    assert outcome.language is Language.AR and not outcome.language_chosen
    assert not outcome.silent and not outcome.no_input  # the caller did press keys
    assert outcome.keys == "9" + second


async def test_the_same_invalid_key_twice_is_not_a_loop() -> None:
    outcome, channel = await call(make_flow(), Press("99", after_s=1.0), Press("99"))
    assert outcome.keys == "99" and len(channel.gathers) == 2


async def test_an_invalid_key_then_nothing_queues_in_the_default_language_not_as_no_input() -> None:
    outcome, channel = await call(make_flow(), Press("8", after_s=1.0), None)
    assert len(channel.gathers) == 2  # no silent check: this caller can press keys
    assert outcome.language is Language.AR
    assert not outcome.no_input and not outcome.silent


async def test_an_invalid_key_too_late_for_a_repeat_queues_in_the_default_language() -> None:
    flow = make_flow()
    outcome, channel = await call(flow, Press("9", after_s=MENU_S + 0.9))
    assert len(channel.gathers) == 1
    assert not any(name == "play" for name, _ in channel.calls)
    assert outcome.language is Language.AR and outcome.keys == "9"
    assert outcome.elapsed_s < flow.bound_s


# --- the silent-caller path


async def test_a_caller_who_presses_nothing_is_asked_to_press_5_then_queued_as_no_input() -> None:
    flow = make_flow()
    outcome, channel = await call(flow)
    assert [g.prompts for g in channel.gathers] == [menu(welcome=True), silent_check()]
    assert outcome.no_input and not outcome.silent
    assert outcome.priority_reasons == (REASON_NO_INPUT,)
    assert outcome.language is Language.AR and not outcome.language_chosen
    assert outcome.elapsed_s <= flow.bound_s
    assert channel.calls[-1] == ("queue", outcome)


async def test_the_silent_check_is_asked_in_the_trunks_default_language() -> None:
    _, channel = await call(make_flow(default_language=Language.EN))
    assert channel.gathers[-1].prompts == silent_check(Language.EN)


async def test_pressing_5_at_the_silent_check_marks_the_call_silent_and_raises_its_priority() -> (
    None
):
    outcome, _ = await call(make_flow(), None, Press("5"))
    assert outcome.silent and not outcome.no_input
    assert outcome.language is Language.AR
    assert outcome.priority_reasons == (REASON_SILENT,)
    decision = outcome.priority(recent_calls_from_number=0)
    assert decision.priority == SILENT_CALL_PRIORITY
    assert decision.reasons == (REASON_SILENT,)


async def test_pressing_5_on_the_menu_marks_the_call_silent_at_once() -> None:
    outcome, channel = await call(make_flow(), Press("5", after_s=2.0))
    assert outcome.silent and len(channel.gathers) == 1
    assert outcome.elapsed_s == pytest.approx(2.0)


async def test_a_language_key_at_the_silent_check_still_chooses_the_language() -> None:
    outcome, _ = await call(make_flow(), None, Press("4"))
    assert outcome.language is Language.EN and outcome.language_chosen
    assert not outcome.silent and not outcome.no_input


async def test_another_key_at_the_silent_check_queues_neither_silent_nor_no_input() -> None:
    outcome, _ = await call(make_flow(), None, Press("#"))
    assert outcome.language is Language.AR
    assert not outcome.silent and not outcome.no_input and outcome.priority_reasons == ()


def test_a_no_input_call_keeps_its_reason_next_to_the_repeat_caller_priority() -> None:
    outcome = advance(make_flow(), State(), Started(at=0.0))
    state = advance(make_flow(), outcome.state, NoInput(at=6.0)).state
    final = advance(make_flow(), state, NoInput(at=9.9))
    queued = final.actions[-1]
    assert isinstance(queued, Queue)
    decision = queued.outcome.priority(recent_calls_from_number=2)
    assert decision.priority == REPEAT_CALL_PRIORITY
    assert decision.reasons == ("repeat-caller:2", REASON_NO_INPUT)
    assert queued.outcome.priority(recent_calls_from_number=0).priority == BASE_PRIORITY


# --- the bound


async def test_with_the_default_bound_the_repeat_is_skipped_to_keep_the_silent_check() -> None:
    flow = make_flow()
    _, channel = await call(flow)
    assert len(channel.gathers) == 2
    # the first menu leaves the room the silent check needs
    assert channel.gathers[0].timeout_s == flow.menu_timeout_s
    assert channel.gathers[1].timeout_s >= flow.min_wait_s


async def test_with_a_longer_bound_a_caller_who_presses_nothing_hears_the_menu_twice_first() -> (
    None
):
    flow = make_flow(bound_s=20.0)
    outcome, channel = await call(flow)
    assert [g.prompts for g in channel.gathers] == [
        menu(welcome=True),
        menu(welcome=False),
        silent_check(),
    ]
    assert channel.gathers[2].timeout_s == flow.silent_timeout_s
    assert outcome.no_input and outcome.elapsed_s <= 20.0


async def test_the_first_menu_shortens_its_wait_to_leave_room_for_the_silent_check() -> None:
    # 1.1 s more of welcome: the wait after the menu shrinks instead of losing the check.
    table = {lang.value: dict(SECONDS) for lang in Language}
    table["ar"]["welcome"] = 1.7
    flow = make_flow(durations=PromptDurations.from_dict({"version": 1, "durations": table}))
    _, channel = await call(flow)
    assert flow.short_wait_s <= channel.gathers[0].timeout_s < flow.menu_timeout_s
    assert channel.gathers[1].prompts == silent_check()


async def test_when_menu_and_silent_check_cannot_both_fit_the_menu_goes_first() -> None:
    flow = make_flow(bound_s=7.0)
    outcome, channel = await call(flow)
    assert [g.prompts for g in channel.gathers] == [menu(welcome=True)]
    assert outcome.no_input and outcome.elapsed_s <= 7.0


async def test_a_bound_too_short_for_the_menu_asks_the_silent_check_alone() -> None:
    outcome, channel = await call(make_flow(bound_s=4.0), Press("5"))
    assert [g.prompts for g in channel.gathers] == [silent_check()]
    assert outcome.silent


async def test_a_bound_too_short_for_anything_queues_at_once_as_no_input() -> None:
    outcome, channel = await call(make_flow(bound_s=1.0))
    assert channel.gathers == []
    assert outcome.no_input and outcome.elapsed_s == 0.0
    assert channel.calls == [
        ("answer", None),
        ("set", (LANGUAGE_VARIABLE, "ar")),
        ("queue", outcome),
    ]


def test_a_channel_that_reports_late_is_queued_as_soon_as_the_bound_is_passed() -> None:
    flow = make_flow()
    started = advance(flow, State(), Started(at=50.0)).state
    late = advance(flow, started, NoInput(at=50.0 + flow.bound_s + 3))
    assert isinstance(late.actions[-1], Queue)
    assert late.actions[-1].outcome.no_input
    assert late.actions[-1].outcome.elapsed_s == pytest.approx(flow.bound_s + 3)


def test_a_key_that_arrives_after_the_bound_still_chooses_the_language() -> None:
    flow = make_flow()
    started = advance(flow, State(), Started(at=0.0)).state
    late = advance(flow, started, Digits("2", at=30.0))
    assert late.actions == (SetLanguage(Language.FR), Queue(late.state.outcome()))


def test_a_clock_that_goes_backwards_counts_as_no_time() -> None:
    flow = make_flow()
    started = advance(flow, State(), Started(at=10.0)).state
    queued = advance(flow, started, Digits("1", at=9.0))
    assert queued.state.outcome().elapsed_s == 0.0


@pytest.mark.parametrize("bound", [1.0, 3.0, 5.0, 6.5, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0])
@pytest.mark.parametrize("default", list(Language))
def test_no_way_of_answering_keeps_a_caller_past_the_bound(bound: float, default: Language) -> None:
    flow = make_flow(bound_s=bound, default_language=default)
    assert worst_case(flow).outcome.elapsed_s <= bound


@pytest.mark.parametrize("bound", [10.0, 12.0, 20.0])
def test_whenever_the_menu_fits_with_the_check_a_caller_who_presses_nothing_gets_both(
    bound: float,
) -> None:
    run = rehearse(make_flow(bound_s=bound))
    assert Step.MENU in run.steps and Step.SILENT_CHECK in run.steps


# --- the state machine itself


def test_the_first_transition_starts_the_clock_and_waits_on_the_menu() -> None:
    transition = advance(make_flow(), State(), Started(at=12.5))
    assert transition.state == State(step=Step.MENU, started_at=12.5)
    (gather,) = transition.actions
    assert isinstance(gather, Gather) and gather.prompts == menu(welcome=True)


def test_an_invalid_key_on_the_first_menu_plays_then_gathers_in_one_step() -> None:
    flow = make_flow()
    menu_state = advance(flow, State(), Started(at=0.0)).state
    transition = advance(flow, menu_state, Digits("7", at=1.0))
    assert transition.state.step is Step.MENU_AGAIN and transition.state.keys == "7"
    play, gather = transition.actions
    assert play == Play(Prompt(PromptName.INVALID, Language.AR))
    assert isinstance(gather, Gather) and gather.prompts == menu(welcome=False)


def test_a_queued_flow_answers_any_replayed_event_with_the_same_hand_over() -> None:
    flow = make_flow()
    menu_state = advance(flow, State(), Started(at=0.0)).state
    first = advance(flow, menu_state, Digits("2", at=3.0))
    for event in (Digits("1", at=4.0), NoInput(at=5.0), Started(at=6.0)):
        again = advance(flow, first.state, event)
        assert again == first


def test_digits_or_no_input_before_the_start_are_refused() -> None:
    with pytest.raises(FlowError):
        advance(make_flow(), State(), Digits("1", at=0.0))
    with pytest.raises(FlowError):
        advance(make_flow(), State(), NoInput(at=0.0))


def test_a_second_start_is_refused() -> None:
    menu_state = advance(make_flow(), State(), Started(at=0.0)).state
    with pytest.raises(FlowError):
        advance(make_flow(), menu_state, Started(at=1.0))


def test_there_is_no_outcome_before_the_call_is_queued() -> None:
    with pytest.raises(FlowError):
        State().outcome()


@pytest.mark.parametrize("text", ["", "x", "1x", " 1", "١", "1" * 33])
def test_digits_must_be_dtmf_keys(text: str) -> None:
    with pytest.raises(ValueError):
        Digits(text, at=0.0)


@pytest.mark.parametrize("at", [math.nan, math.inf, -math.inf, True, "1"])
def test_event_times_must_be_finite_numbers(at: object) -> None:
    for event in (Started, NoInput):
        with pytest.raises(ValueError):
            event(at=at)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Digits("1", at=at)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"bound_s": 0.0},
        {"bound_s": -1.0},
        {"bound_s": math.inf},
        {"menu_timeout_s": 0.0},
        {"silent_timeout_s": math.nan},
        {"min_wait_s": 5.0},  # more than the menu's timeout
        {"short_wait_s": 2.0},  # more than min_wait_s
        {"step_overhead_s": -0.1},
    ],
)
def test_flow_parameters_are_checked(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        make_flow(**changes)


def test_a_prompt_without_a_measured_duration_counts_as_its_nominal_one() -> None:
    flow = IntakeFlow()  # no durations.json at all
    run = rehearse(flow)
    assert run.steps[0] is Step.MENU
    assert run.outcome.elapsed_s <= flow.bound_s


# --- the driver


async def test_the_driver_keeps_only_the_dtmf_keys_a_channel_reports() -> None:
    flow = make_flow()
    channel = FakeChannel(flow, [Press("1")], gather_returns="x2")
    outcome = await run_flow(flow, channel, channel.clock)
    assert outcome.language is Language.FR


@pytest.mark.parametrize("nothing", ["", "?!"])
async def test_the_driver_takes_an_empty_answer_as_no_input(nothing: str) -> None:
    flow = make_flow()
    channel = FakeChannel(flow, [], gather_returns=nothing)
    outcome = await run_flow(flow, channel, channel.clock)
    assert outcome.no_input and len(channel.gathers) == 2


async def test_the_driver_measures_the_bound_on_the_clock_it_is_given() -> None:
    flow = make_flow()

    class SlowChannel(FakeChannel):
        async def gather(
            self, prompts: tuple[Prompt, ...], max_digits: int, timeout_s: float
        ) -> str | None:
            await super().gather(prompts, max_digits, timeout_s)
            self.now += 30.0  # the platform stalls
            return None

    channel = SlowChannel(flow)
    outcome = await run_flow(flow, channel, channel.clock)
    assert len(channel.gathers) == 1
    assert outcome.no_input and outcome.elapsed_s > flow.bound_s
