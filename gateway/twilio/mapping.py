"""The IVR's actions as TwiML, built with the twilio library's `VoiceResponse`.

- `Gather(prompts, max_digits, timeout_s)`: `<Gather input="dtmf" numDigits timeout action
  actionOnEmptyResult finishOnKey="">` around one `<Play>` (or `<Say>`) per prompt, then a
  `<Redirect>` to the same action URL;
- `Play(prompt)`: `<Play>` (or `<Say>`);
- `SetLanguage(language)`: nothing of its own, the language goes with the hand-off;
- `Queue(outcome)`: `<Dial><Sip>` to Asterisk with the call in SIP headers, or `<Enqueue>`.

Twilio's `<Gather timeout>` takes whole seconds: the flow's tenths are floored, at least 1.
`finishOnKey=""` makes `#` a key like the others (the flow calls it invalid), and
`actionOnEmptyResult` sends a timed-out Gather to the action URL too, as `NoInput`; the
`<Redirect>` is the same request should a Gather ever fall through. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from twilio.twiml.voice_response import VoiceResponse

from ivr.catalog import Language, Prompt, PromptName
from ivr.flow import Action, Gather, Play, Queue, SetLanguage

# `<Say>` for a prompt whose audio file is missing: (Twilio language, voice). Amazon Polly
# voices at Twilio; none speaks Tamazight, so its respelling goes to the French voice, as
# with espeak-ng (docs/ivr.md). Check them against Twilio's list of voices when changing.
SAY: Mapping[Language, tuple[str, str]] = MappingProxyType(
    {
        Language.AR: ("arb", "Polly.Zeina"),
        Language.FR: ("fr-FR", "Polly.Lea"),
        Language.ZGH: ("fr-FR", "Polly.Lea"),
        Language.EN: ("en-US", "Polly.Joanna"),
    }
)

# While waiting in a Twilio queue: the announcement, then this much silence, over again.
WAIT_PAUSE_S = 8

# The SIP headers of the hand-off (Twilio passes `X-` headers given in the SIP URI on).
HEADER_CALL = "X-L19-Call"
HEADER_LANGUAGE = "X-L19-Lang"
HEADER_PRIORITY = "X-L19-Prio"
HEADER_ROOM = "X-L19-Room"
MAX_SIP_HEADERS_CHARS = 1023  # Twilio: the headers part of a SIP URI under 1024 characters


def twilio_timeout(timeout_s: float) -> int:
    """The flow's wait in whole seconds for `<Gather timeout>`: floored, at least 1."""
    return max(1, math.floor(timeout_s + 1e-9))


@dataclass(frozen=True)
class Links:
    """The absolute URLs the TwiML sends Twilio to (under the public base URL, which is also
    what Twilio's signatures are checked against)."""

    base_url: str

    def prompt(self, prompt: Prompt) -> str:
        return f"{self.base_url}/twilio/prompts/{prompt.language.value}/{prompt.name.value}.wav"

    def ivr(self, state_token: str) -> str:
        return f"{self.base_url}/twilio/ivr?s={state_token}"

    def dial_result(self, state_token: str) -> str:
        return f"{self.base_url}/twilio/dial?s={state_token}"

    def wait(self, language: Language) -> str:
        return f"{self.base_url}/twilio/wait?lang={language.value}"


@dataclass(frozen=True)
class Voice:
    """How a prompt is heard: `audio_url(prompt)` when its file is there, else `<Say>` of
    `text(prompt)`."""

    audio_url: Callable[[Prompt], str | None]
    text: Callable[[Prompt], str]

    def add(self, verb: Any, prompt: Prompt) -> None:
        url = self.audio_url(prompt)
        if url is not None:
            verb.play(url)
            return
        language, voice = SAY[prompt.language]
        verb.say(self.text(prompt), language=language, voice=voice)


def ivr_step(actions: Iterable[Action], action_url: str, voice: Voice) -> str:
    """TwiML for a step that waits for the caller (it ends with a Gather)."""
    response = VoiceResponse()
    for action in actions:
        match action:
            case Play(prompt=prompt):
                voice.add(response, prompt)
            case Gather(prompts=prompts, max_digits=max_digits, timeout_s=timeout_s):
                gather = response.gather(
                    input="dtmf",
                    num_digits=max_digits,
                    timeout=twilio_timeout(timeout_s),
                    action=action_url,
                    method="POST",
                    action_on_empty_result=True,
                    finish_on_key="",
                )
                for prompt in prompts:
                    voice.add(gather, prompt)
                response.redirect(action_url, method="POST")
            case SetLanguage() | Queue():
                raise ValueError(f"{action} belongs to the hand-off, not to an IVR step")
    return str(response)


@dataclass(frozen=True)
class HandOff:
    """Where the call goes once the IVR is over, and what goes with it."""

    language: Language
    priority: int
    room: str
    call_id: str | None  # None when the intake could not record the call


def sip_target(sip_uri: str, hand_off: HandOff) -> str:
    """The Asterisk entry with the call's facts as `X-` headers in the SIP URI."""
    headers = {
        HEADER_CALL: hand_off.call_id,
        HEADER_LANGUAGE: hand_off.language.value,
        HEADER_PRIORITY: str(hand_off.priority),
        HEADER_ROOM: hand_off.room,
    }
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in headers.items() if value)
    if len(query) > MAX_SIP_HEADERS_CHARS:
        raise ValueError("the SIP headers are longer than Twilio accepts")
    return f"{sip_uri}?{query}"


def hand_off(target: HandOff, *, sip_uri: str | None, links: Links, dial_result_url: str) -> str:
    """TwiML handing the call to the operators: to Asterisk over SIP when it is configured
    (a failed dial comes back to `dial_result_url`), otherwise to a Twilio queue."""
    if sip_uri is None:
        return enqueue(target, links)
    response = VoiceResponse()
    dial = response.dial(action=dial_result_url, method="POST")
    dial.sip(sip_target(sip_uri, target))
    return str(response)


def enqueue(target: HandOff, links: Links) -> str:
    """`<Enqueue>` in the room's Twilio queue, announcements in the caller's language."""
    response = VoiceResponse()
    response.enqueue(target.room, wait_url=links.wait(target.language), wait_url_method="POST")
    return str(response)


def waiting(language: Language, voice: Voice) -> str:
    """The Enqueue's wait URL: "stay on the line" in the caller's language, never silence
    alone and never a busy tone. Twilio requests it again when it ends."""
    response = VoiceResponse()
    voice.add(response, Prompt(PromptName.STAY_ON_LINE, language))
    response.pause(length=WAIT_PAUSE_S)
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
