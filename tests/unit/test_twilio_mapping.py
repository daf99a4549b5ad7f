"""IVR actions to TwiML, the hand-off's SIP headers, and the Twilio flow's time bound."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gateway.settings import Settings
from gateway.twilio import mapping
from gateway.twilio.mapping import HandOff, Links, Voice
from ivr.catalog import Language, Prompt, PromptName
from ivr.flow import Gather, IntakeFlow, Play, SetLanguage, Started, State, advance
from ivr.rehearsal import worst_case

LINKS = Links("https://line19.example.org")
ACTION = "https://line19.example.org/twilio/ivr?s=abc.def"
WELCOME_AR = Prompt(PromptName.WELCOME, Language.AR)
MENU_FR = Prompt(PromptName.LANGUAGE_MENU, Language.FR)


def _voice(missing: frozenset[Prompt] = frozenset()) -> Voice:
    return Voice(
        audio_url=lambda prompt: None if prompt in missing else LINKS.prompt(prompt),
        text=lambda prompt: f"text of {prompt.asterisk_name}",
    )


def _xml(document: str) -> ET.Element:
    return ET.fromstring(document)


@pytest.mark.parametrize(
    ("flow_s", "twilio_s"), [(0.5, 1), (0.9, 1), (1.0, 1), (1.7, 1), (2.0, 2), (3.0, 3)]
)
def test_gather_timeouts_are_whole_seconds_floored_and_at_least_one(
    flow_s: float, twilio_s: int
) -> None:
    assert mapping.twilio_timeout(flow_s) == twilio_s
    gather = Gather((WELCOME_AR,), max_digits=1, timeout_s=flow_s)
    rendered = _xml(mapping.ivr_step([gather], ACTION, _voice())).find("Gather")
    assert rendered is not None and rendered.attrib["timeout"] == str(twilio_s)


def test_a_gather_plays_its_prompts_then_redirects_to_its_own_action() -> None:
    gather = Gather((WELCOME_AR, MENU_FR), max_digits=1, timeout_s=1.0)
    response = _xml(mapping.ivr_step([gather], ACTION, _voice()))
    assert [verb.tag for verb in response] == ["Gather", "Redirect"]
    rendered = response[0]
    assert rendered.attrib == {
        "input": "dtmf",
        "numDigits": "1",
        "timeout": "1",
        "action": ACTION,
        "method": "POST",
        "actionOnEmptyResult": "true",
        "finishOnKey": "",
    }
    assert [play.text for play in rendered] == [
        "https://line19.example.org/twilio/prompts/ar/welcome.wav",
        "https://line19.example.org/twilio/prompts/fr/language_menu.wav",
    ]
    assert response[1].text == ACTION and response[1].attrib["method"] == "POST"


def test_a_play_comes_before_the_gather_it_precedes() -> None:
    invalid = Play(Prompt(PromptName.INVALID, Language.AR))
    gather = Gather((MENU_FR,), max_digits=1, timeout_s=1.0)
    response = _xml(mapping.ivr_step([invalid, gather], ACTION, _voice()))
    assert [verb.tag for verb in response] == ["Play", "Gather", "Redirect"]
    assert (response[0].text or "").endswith("/ar/invalid.wav")


@pytest.mark.parametrize(
    ("language", "say_language", "say_voice"),
    [("ar", "arb", "Polly.Zeina"), ("zgh", "fr-FR", "Polly.Lea"), ("en", "en-US", "Polly.Joanna")],
)
def test_a_prompt_without_audio_is_said_in_its_language(
    language: str, say_language: str, say_voice: str
) -> None:
    prompt = Prompt(PromptName.SILENT_CHECK, Language(language))
    gather = Gather((prompt,), max_digits=1, timeout_s=2.0)
    rendered = _xml(mapping.ivr_step([gather], ACTION, _voice(frozenset({prompt}))))
    say = rendered.find("Gather/Say")
    assert say is not None and say.text == f"text of {language}/line19-silent_check"
    assert say.attrib == {"language": say_language, "voice": say_voice}


def test_every_language_has_a_say_fallback() -> None:
    assert set(mapping.SAY) == set(Language)


def test_the_hand_off_is_not_an_ivr_step() -> None:
    with pytest.raises(ValueError, match="hand-off"):
        mapping.ivr_step([SetLanguage(Language.AR)], ACTION, _voice())


def test_the_sip_hand_off_carries_the_call_language_priority_and_room_as_x_headers() -> None:
    target = HandOff(Language.ZGH, 10, "sale", "8f0c6a52-0d5e-4f4b-9a8e-2b1f3c4d5e6f")
    response = _xml(
        mapping.hand_off(
            target,
            sip_uri="sip:19@pbx.example.org;transport=tls",
            links=LINKS,
            dial_result_url="https://line19.example.org/twilio/dial?s=a.b",
        )
    )
    dial = response.find("Dial")
    assert dial is not None and dial.attrib["action"].endswith("/twilio/dial?s=a.b")
    sip = response.find("Dial/Sip")
    assert sip is not None
    assert sip.text == (
        "sip:19@pbx.example.org;transport=tls?X-L19-Call=8f0c6a52-0d5e-4f4b-9a8e-2b1f3c4d5e6f"
        "&X-L19-Lang=zgh&X-L19-Prio=10&X-L19-Room=sale"
    )


def test_a_call_the_intake_could_not_record_is_handed_over_without_a_call_header() -> None:
    target = HandOff(Language.AR, 1, "rabat", None)
    assert mapping.sip_target("sip:19@pbx", target) == (
        "sip:19@pbx?X-L19-Lang=ar&X-L19-Prio=1&X-L19-Room=rabat"
    )


def test_header_values_are_escaped_and_kept_under_twilios_limit() -> None:
    odd = HandOff(Language.AR, 1, "room a&b", None)
    assert mapping.sip_target("sip:19@pbx", odd).endswith("X-L19-Room=room%20a%26b")
    with pytest.raises(ValueError, match="longer"):
        mapping.sip_target("sip:19@pbx", HandOff(Language.AR, 1, "r" * 1100, None))


def test_without_a_sip_uri_the_call_is_enqueued_in_its_rooms_queue() -> None:
    target = HandOff(Language.FR, 10, "sale", "id")
    response = _xml(mapping.hand_off(target, sip_uri=None, links=LINKS, dial_result_url="x"))
    queue = response.find("Enqueue")
    assert queue is not None and queue.text == "sale"
    assert queue.attrib == {
        "waitUrl": "https://line19.example.org/twilio/wait?lang=fr",
        "waitUrlMethod": "POST",
    }


def test_the_wait_url_announces_in_the_callers_language_then_pauses() -> None:
    response = _xml(mapping.waiting(Language.EN, _voice()))
    assert [verb.tag for verb in response] == ["Play", "Pause"]
    assert (response[0].text or "").endswith("/twilio/prompts/en/stay_on_line.wav")
    assert response[1].attrib == {"length": str(mapping.WAIT_PAUSE_S)}


def _twilio_flow(language: Language) -> IntakeFlow:
    settings = Settings(twilio_default_language=language)
    return IntakeFlow(
        default_language=settings.twilio_default_language,
        bound_s=settings.twilio_ivr_bound_s,
        step_overhead_s=settings.twilio_step_overhead_s,
    )


@pytest.mark.parametrize("language", list(Language))
def test_the_twilio_flow_counts_a_webhook_round_trip_per_step_and_keeps_its_bound(
    language: Language,
) -> None:
    flow = _twilio_flow(language)
    assert flow.step_overhead_s == 0.5
    assert worst_case(flow).outcome.elapsed_s <= flow.bound_s
    first = advance(flow, State(), Started(at=0.0)).actions[0]
    assert isinstance(first, Gather) and mapping.twilio_timeout(first.timeout_s) >= 1
