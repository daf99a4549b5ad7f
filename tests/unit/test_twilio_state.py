"""The IVR state token Twilio carries between requests: signed for one call, tamper-evident."""

from __future__ import annotations

import pytest

from gateway.twilio.state import MAX_TOKEN_CHARS, StateError, StateSigner, derive_key
from ivr.catalog import Language
from ivr.flow import Digits, IntakeFlow, NoInput, Started, State, Step, advance

CALL = "CA" + "1" * 32
OTHER_CALL = "CA" + "2" * 32
SIGNER = StateSigner(derive_key(state_secret=None, auth_token="0123456789abcdef" * 2))


def _states() -> list[State]:
    flow = IntakeFlow()
    menu = advance(flow, State(), Started(at=1_790_000_000.0)).state
    again = advance(flow, menu, Digits("9", at=1_790_000_000.1)).state
    silent_check = advance(flow, menu, NoInput(at=1_790_000_006.5)).state
    silent = advance(flow, silent_check, Digits("5", at=1_790_000_009.0)).state
    return [menu, again, silent_check, silent]


@pytest.mark.parametrize("state", _states(), ids=lambda state: state.step.value)
def test_a_state_comes_back_as_it_was_signed(state: State) -> None:
    assert SIGNER.verify(CALL, SIGNER.sign(CALL, state)) == state


def test_the_states_under_test_cover_every_waiting_step_and_a_queued_one() -> None:
    steps = {state.step for state in _states()}
    assert steps == {Step.MENU, Step.MENU_AGAIN, Step.SILENT_CHECK, Step.QUEUED}
    assert _states()[-1].silent and _states()[-1].language is Language.AR


def test_a_token_is_refused_for_another_call() -> None:
    token = SIGNER.sign(CALL, _states()[0])
    with pytest.raises(StateError, match="not signed for this call"):
        SIGNER.verify(OTHER_CALL, token)


def test_any_changed_character_of_a_token_is_refused() -> None:
    token = SIGNER.sign(CALL, _states()[0])
    for index, char in enumerate(token):
        if char == ".":
            continue
        changed = token[:index] + ("A" if char != "A" else "B") + token[index + 1 :]
        with pytest.raises(StateError):
            SIGNER.verify(CALL, changed)


def test_a_token_signed_with_another_key_is_refused() -> None:
    other = StateSigner(derive_key(state_secret="another secret", auth_token="x" * 32))
    with pytest.raises(StateError):
        SIGNER.verify(CALL, other.sign(CALL, _states()[0]))


@pytest.mark.parametrize(
    "token",
    ["", "no-dot", ".", "a.b", "%%%.%%%", "A" * (MAX_TOKEN_CHARS + 1) + "." + "A" * 43],
)
def test_malformed_tokens_are_refused_before_any_parsing(token: str) -> None:
    with pytest.raises(StateError, match="malformed"):
        SIGNER.verify(CALL, token)


def test_a_configured_secret_and_the_auth_token_give_different_keys() -> None:
    token = "0123456789abcdef" * 2
    from_token = derive_key(state_secret=None, auth_token=token)
    from_secret = derive_key(state_secret="s3cret", auth_token=token)
    assert from_token != from_secret and len(from_token) == len(from_secret) == 32
    assert derive_key(state_secret="", auth_token=token) == from_token


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        StateSigner(b"short")


def test_a_token_stays_short_enough_for_a_url() -> None:
    assert max(len(SIGNER.sign(CALL, state)) for state in _states()) < 250
