"""The Twilio channel in the real application (aiohttp test server, both real databases).

`TwilioSim` plays Twilio: it signs every request with the twilio library's own
`RequestValidator.compute_signature` against the public URL, follows the action URLs of the
TwiML it gets back, and keeps the flow's clock as a caller would: each prompt heard for its
measured duration, each wait for its whole seconds, plus a webhook round trip.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from gateway.app import create_app
from gateway.keys import DATABASE_KEY, INTAKE_KEY
from gateway.persistence.models import CallEventRow, CallRow, IncidentRow
from gateway.settings import Settings
from gateway.twilio import setup_twilio
from gateway.twilio.routes import TWILIO_KEY
from ivr.prompt_audio import generate

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[[web.Application], Awaitable[Client]]

TOKEN = "0123456789abcdef0123456789abcdef"
BASE = "https://line19.example.org"
SIP = "sip:19@pbx.example.org"
CALLER = "+212612345678"
ROUND_TRIP_S = 0.3


def call_sid(n: int) -> str:
    return f"CA{n:032x}"


@pytest.fixture(scope="session")
def prompts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prompts")
    generate(out)
    return out


def twilio_settings(database_url: str, prompts_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "agi_port": 0,
        "ami_enabled": False,
        "public_base_url": BASE,
        "twilio_auth_token": TOKEN,
        "prompts_dir": prompts_dir,
    }
    return Settings(**(values | overrides))


async def twilio_client(make_client: MakeClient, settings: Settings) -> Client:
    app = create_app(settings)
    setup_twilio(app)
    return await make_client(app)


class TwilioSim:
    """Twilio, as far as the gateway can tell: signed requests, TwiML followed."""

    def __init__(self, client: Client, prompts_dir: Path, token: str = TOKEN) -> None:
        self.client = client
        self.validator = RequestValidator(token)
        self.now = 1_790_000_000.0
        client.app[TWILIO_KEY].clock = lambda: self.now
        durations = json.loads((prompts_dir / "durations.json").read_text())["durations"]
        self.durations: dict[str, dict[str, float]] = durations

    def signature(self, url: str, params: dict[str, str]) -> str:
        return str(self.validator.compute_signature(url, params))

    async def post(self, url: str, params: dict[str, str]) -> ClientResponse:
        """POST `params` as a form to `url` (absolute, under BASE), signed for that URL."""
        assert url.startswith(BASE), url
        headers = {"X-Twilio-Signature": self.signature(url, params)}
        return await self.client.post(url[len(BASE) :], data=params, headers=headers)

    async def get(self, url: str) -> ClientResponse:
        headers = {"X-Twilio-Signature": self.signature(url, {})}
        return await self.client.get(url[len(BASE) :], headers=headers)

    async def twiml(self, url: str, params: dict[str, str]) -> ET.Element:
        response = await self.post(url, params)
        assert response.status == 200, await response.text()
        assert response.content_type == "text/xml"
        return ET.fromstring(await response.text())

    def heard_s(self, verbs: list[ET.Element]) -> float:
        total = 0.0
        for verb in verbs:
            match = re.search(r"/twilio/prompts/(\w+)/(\w+)\.wav$", verb.text or "")
            if verb.tag == "Play" and match:
                total += self.durations[match[1]][match[2]]
        return total


class Caller:
    """One call through the IVR, as Twilio runs it."""

    def __init__(self, twilio: TwilioSim, sid: str, caller: str = CALLER) -> None:
        self.twilio = twilio
        self.params = {
            "AccountSid": "AC" + "f" * 32,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "From": caller,
            "To": "+212520000019",
        }
        self.twiml: ET.Element | None = None

    @property
    def gather(self) -> ET.Element:
        assert self.twiml is not None
        gather = self.twiml.find("Gather")
        assert gather is not None, ET.tostring(self.twiml)
        return gather

    def prompts(self) -> list[str]:
        """lang/name of each prompt the Gather plays."""
        urls = [play.text or "" for play in self.gather.iter("Play")]
        return ["/".join(url.rsplit("/", 2)[1:]).removesuffix(".wav") for url in urls]

    async def dial(self) -> ET.Element:
        self.twiml = await self.twilio.twiml(f"{BASE}/twilio/voice", self.params)
        return self.twiml

    async def answer(
        self, key: str | None, *, after_s: float | None = None, field: bool = True
    ) -> ET.Element:
        """The caller presses `key` right after the prompts (or `after_s` into them), or
        nothing (None) until the Gather times out; Twilio then posts to the action URL
        (Digits empty, or absent when it follows the <Redirect>: `field=False`)."""
        gather = self.gather
        heard = self.twilio.heard_s(list(self.twiml or [])) + self.twilio.heard_s(list(gather))
        waited = 0 if key is not None else int(gather.attrib["timeout"])
        self.twilio.now += (heard + waited if after_s is None else after_s) + ROUND_TRIP_S
        params = self.params | {"CallStatus": "in-progress"}
        if key is not None or field:
            params["Digits"] = key or ""
        self.twiml = await self.twilio.twiml(gather.attrib["action"], params)
        return self.twiml


@pytest.fixture
async def make_twilio(
    database_url: str, prompts_dir: Path, aiohttp_client: MakeClient
) -> Callable[..., Awaitable[TwilioSim]]:
    async def make(**overrides: Any) -> TwilioSim:
        folder = overrides.pop("prompts_dir", prompts_dir)
        settings = twilio_settings(database_url, folder, **overrides)
        return TwilioSim(await twilio_client(aiohttp_client, settings), prompts_dir)

    return make


async def call_record(client: Client, sid: str) -> dict[str, Any]:
    async with client.app[DATABASE_KEY].sessions() as session:
        call_id = (
            await session.execute(select(CallRow.id).where(CallRow.external_id == sid))
        ).scalar_one()
    response = await client.get(f"/api/v1/calls/{call_id}")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


def timeline(call: dict[str, Any], kind: str) -> dict[str, Any]:
    entries = [e for e in call["timeline"] if e["kind"] == kind]
    assert len(entries) == 1, call["timeline"]
    return dict(entries[0])


def sip_headers(twiml: ET.Element) -> dict[str, str]:
    sip = twiml.find("Dial/Sip")
    assert sip is not None and sip.text, ET.tostring(twiml)
    uri, _, query = sip.text.partition("?")
    assert uri == SIP
    return dict(pair.split("=", 1) for pair in query.split("&"))


async def test_a_caller_pressing_2_is_handed_to_asterisk_in_french_with_the_call_in_headers(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio(twilio_sip_uri=SIP)
    caller = Caller(twilio, call_sid(1))
    await caller.dial()
    gather = caller.gather
    assert gather.attrib["input"] == "dtmf" and gather.attrib["numDigits"] == "1"
    assert gather.attrib["finishOnKey"] == "" and gather.attrib["actionOnEmptyResult"] == "true"
    assert int(gather.attrib["timeout"]) >= 1
    assert gather.attrib["action"].startswith(f"{BASE}/twilio/ivr?s=")
    assert caller.prompts() == [
        "ar/welcome",
        "ar/language_menu",
        "fr/language_menu",
        "zgh/language_menu",
        "en/language_menu",
    ]
    redirect = caller.twiml.find("Redirect") if caller.twiml is not None else None
    assert redirect is not None and redirect.text == gather.attrib["action"]

    handed = await caller.answer("2")
    headers = sip_headers(handed)
    assert headers["X-L19-Lang"] == "fr" and headers["X-L19-Prio"] == "1"
    assert headers["X-L19-Room"] == "rabat"
    dial = handed.find("Dial")
    assert dial is not None and dial.attrib["action"].startswith(f"{BASE}/twilio/dial?s=")

    call = await call_record(twilio.client, call_sid(1))
    assert call["id"] == headers["X-L19-Call"] and call["source"] == "twilio"
    assert call["trunk"] == "twilio" and call["carrier"] == "Twilio"
    assert call["caller"]["e164"] == CALLER and call["status"] == "queued"
    assert [e["kind"] for e in call["timeline"]] == ["received", "ivr_completed", "queued"]
    ivr = timeline(call, "ivr_completed")["details"]
    assert ivr["language"] == "fr" and ivr["language_chosen"] and ivr["keys"] == "2"
    assert (call["language"], call["silent"], call["no_input"]) == ("fr", False, False)
    assert timeline(call, "queued")["details"] == {"via": "sip", "room": "rabat", "priority": 1}


async def test_a_caller_pressing_nothing_gets_the_silent_check_then_is_enqueued_as_no_input(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    # 11 s: with Twilio's round trips, a 10 s bound leaves no room for the silent check on
    # an Arabic trunk (docs/twilio.md, "The time bound").
    twilio = await make_twilio(twilio_ivr_bound_s=11.0)
    caller = Caller(twilio, call_sid(2))
    started = twilio.now
    await caller.dial()
    await caller.answer(None)
    assert caller.prompts() == ["ar/silent_check"]
    enqueued = await caller.answer(None, field=False)  # Twilio following the <Redirect>
    assert twilio.now - started <= 11.0

    queue = enqueued.find("Enqueue")
    assert queue is not None and queue.text == "rabat"
    assert queue.attrib["waitUrl"] == f"{BASE}/twilio/wait?lang=ar"
    call = await call_record(twilio.client, call_sid(2))
    assert call["priority"] == 1 and call["priority_reasons"] == ["no-input"]
    ivr = timeline(call, "ivr_completed")["details"]
    assert ivr["no_input"] and not ivr["silent"] and ivr["language"] == "ar"
    assert call["no_input"] and not call["silent"] and call["language"] == "ar"
    assert timeline(call, "queued")["details"]["via"] == "enqueue"


async def test_pressing_5_at_the_silent_check_marks_the_call_silent_and_raises_its_priority(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio(twilio_sip_uri=SIP, twilio_ivr_bound_s=11.0)
    caller = Caller(twilio, call_sid(3))
    await caller.dial()
    await caller.answer(None)
    assert caller.prompts() == ["ar/silent_check"]
    headers = sip_headers(await caller.answer("5"))
    assert headers["X-L19-Prio"] == "10" and headers["X-L19-Lang"] == "ar"

    call = await call_record(twilio.client, call_sid(3))
    assert call["priority"] == 10 and call["priority_reasons"] == ["silent-caller"]
    assert timeline(call, "ivr_completed")["details"]["silent"] is True
    async with twilio.client.app[DATABASE_KEY].sessions() as session:
        incident = (await session.execute(select(IncidentRow))).scalar_one()
    assert incident.priority == 10


async def test_an_invalid_key_gets_the_menu_once_more_then_the_trunk_language(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio(twilio_default_language="fr")
    caller = Caller(twilio, call_sid(4))
    await caller.dial()
    await caller.answer("#", after_s=1.0)  # a key like any other: finishOnKey is off
    assert caller.twiml is not None
    [played] = [verb for verb in caller.twiml if verb.tag == "Play"]
    assert (played.text or "").endswith("/fr/invalid.wav")
    assert caller.prompts() == [f"{lang}/language_menu" for lang in ("ar", "fr", "zgh", "en")]
    await caller.answer("9")
    call = await call_record(twilio.client, call_sid(4))
    ivr = timeline(call, "ivr_completed")["details"]
    assert ivr["language"] == "fr" and not ivr["language_chosen"] and ivr["keys"] == "#9"


async def test_a_replayed_first_request_creates_no_second_call_and_gets_the_same_menu(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio()
    first, again = Caller(twilio, call_sid(5)), Caller(twilio, call_sid(5))
    await first.dial()
    await again.dial()
    assert again.prompts() == first.prompts()
    async with twilio.client.app[DATABASE_KEY].sessions() as session:
        calls = (await session.execute(select(func.count()).select_from(CallRow))).scalar_one()
        incidents = (
            await session.execute(select(func.count()).select_from(IncidentRow))
        ).scalar_one()
    assert (calls, incidents) == (1, 1)


async def test_a_replayed_key_gets_the_same_hand_over_and_is_recorded_once(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio(twilio_sip_uri=SIP)
    caller = Caller(twilio, call_sid(6))
    await caller.dial()
    action = caller.gather.attrib["action"]
    params = caller.params | {"Digits": "4"}
    first = await twilio.twiml(action, params)
    again = await twilio.twiml(action, params)
    assert sip_headers(first) == sip_headers(again)
    call = await call_record(twilio.client, call_sid(6))
    assert [e["kind"] for e in call["timeline"]] == ["received", "ivr_completed", "queued"]


async def test_a_repeat_caller_keeps_the_priority_of_the_intake_through_the_ivr(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio(twilio_sip_uri=SIP)
    earlier = Caller(twilio, call_sid(7))
    await earlier.dial()
    again = Caller(twilio, call_sid(8))
    await again.dial()
    headers = sip_headers(await again.answer("3"))
    assert headers["X-L19-Prio"] == "5" and headers["X-L19-Lang"] == "zgh"
    call = await call_record(twilio.client, call_sid(8))
    assert call["priority"] == 5 and call["priority_reasons"] == ["repeat-caller:1"]


async def test_an_answer_after_the_bound_queues_the_call_at_once(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio()
    caller = Caller(twilio, call_sid(9))
    await caller.dial()
    twilio.now += 30  # Twilio came back late
    enqueued = await caller.answer(None)
    assert enqueued.find("Enqueue") is not None
    call = await call_record(twilio.client, call_sid(9))
    assert timeline(call, "ivr_completed")["details"]["no_input"] is True


async def test_the_caller_is_handed_over_when_the_intake_crashes(
    make_twilio: Callable[..., Awaitable[TwilioSim]], monkeypatch: pytest.MonkeyPatch
) -> None:
    twilio = await make_twilio(twilio_sip_uri=SIP)

    async def broken(*_: object) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(twilio.client.app[INTAKE_KEY], "take_call", broken)
    caller = Caller(twilio, call_sid(10))
    await caller.dial()
    headers = sip_headers(await caller.answer("1"))
    assert headers == {"X-L19-Lang": "ar", "X-L19-Prio": "1", "X-L19-Room": "rabat"}


async def test_prompts_are_served_to_twilio_as_the_generated_wav_files(
    make_twilio: Callable[..., Awaitable[TwilioSim]], prompts_dir: Path
) -> None:
    twilio = await make_twilio()
    response = await twilio.get(f"{BASE}/twilio/prompts/fr/silent_check.wav")
    assert response.status == 200 and response.content_type == "audio/wav"
    assert await response.read() == (prompts_dir / "fr/line19-silent_check.wav").read_bytes()
    missing = await twilio.get(f"{BASE}/twilio/prompts/fr/nonsense.wav")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "no-such-prompt"


async def test_a_prompt_without_its_audio_file_is_spoken_with_say_in_its_language(
    make_twilio: Callable[..., Awaitable[TwilioSim]], tmp_path: Path, prompts_dir: Path
) -> None:
    partial = tmp_path / "prompts"
    (partial / "fr").mkdir(parents=True)
    for name in ("welcome", "language_menu"):
        source = prompts_dir / f"fr/line19-{name}.wav"
        (partial / f"fr/line19-{name}.wav").write_bytes(source.read_bytes())
    twilio = await make_twilio(prompts_dir=partial, twilio_default_language="fr")
    twiml = await Caller(twilio, call_sid(11)).dial()
    gather = twiml.find("Gather")
    assert gather is not None
    spoken = [(verb.tag, verb.attrib.get("language"), verb.text) for verb in gather]
    assert spoken[0][0] == spoken[2][0] == "Play"
    assert spoken[1] == ("Say", "arb", "بالعربية، واحد.")
    assert spoken[4] == ("Say", "en-US", "In English, four.")


async def test_the_queue_announcement_plays_in_the_callers_language(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio()
    params = Caller(twilio, call_sid(12)).params | {"QueuePosition": "1", "QueueTime": "4"}
    twiml = await twilio.twiml(f"{BASE}/twilio/wait?lang=zgh", params)
    assert [verb.tag for verb in twiml] == ["Play", "Pause"]
    assert (twiml[0].text or "").endswith("/twilio/prompts/zgh/stay_on_line.wav")


async def test_a_failed_sip_hand_off_goes_to_the_twilio_queue_and_a_finished_one_hangs_up(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio(twilio_sip_uri=SIP)
    caller = Caller(twilio, call_sid(13))
    await caller.dial()
    dial = (await caller.answer("2")).find("Dial")
    assert dial is not None
    failed = await twilio.twiml(dial.attrib["action"], caller.params | {"DialCallStatus": "failed"})
    queue = failed.find("Enqueue")
    assert queue is not None and queue.text == "rabat"
    assert queue.attrib["waitUrl"].endswith("/twilio/wait?lang=fr")
    done = await twilio.twiml(
        dial.attrib["action"], caller.params | {"DialCallStatus": "completed"}
    )
    assert [verb.tag for verb in done] == ["Hangup"]
    call = await call_record(twilio.client, call_sid(13))
    assert timeline(call, "twilio_sip_failed")["details"]["dial_status"] == "failed"


async def test_status_callbacks_go_into_the_call_timeline_and_end_the_call(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio()
    caller = Caller(twilio, call_sid(14))
    await caller.dial()
    for status, duration in (("in-progress", None), ("completed", "42"), ("completed", "42")):
        params = caller.params | {"CallStatus": status}
        if duration:
            params["CallDuration"] = duration
        response = await twilio.post(f"{BASE}/twilio/status", params)
        assert response.status == 204
    call = await call_record(twilio.client, call_sid(14))
    assert [e["kind"] for e in call["timeline"]] == ["received", "twilio_in_progress", "completed"]
    assert timeline(call, "completed")["source"] == "twilio"
    assert timeline(call, "completed")["details"] == {"status": "completed", "duration_s": 42}
    assert call["status"] == "completed" and call["ended_at"] is not None


async def test_the_end_of_a_call_never_taken_in_is_recorded_as_failed_open(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
) -> None:
    twilio = await make_twilio()
    params = Caller(twilio, call_sid(15)).params
    early = await twilio.post(f"{BASE}/twilio/status", params | {"CallStatus": "ringing"})
    assert early.status == 204
    async with twilio.client.app[DATABASE_KEY].sessions() as session:
        assert (await session.execute(select(func.count()).select_from(CallEventRow))).scalar() == 0
    ended = params | {"CallStatus": "no-answer", "CallDuration": "0"}
    assert (await twilio.post(f"{BASE}/twilio/status", ended)).status == 204
    call = await call_record(twilio.client, call_sid(15))
    assert call["intake"] == "failed_open" and call["status"] == "abandoned"
    assert call["incident_id"] is not None


async def test_the_caller_is_handed_over_when_an_ivr_step_cannot_be_rendered(
    make_twilio: Callable[..., Awaitable[TwilioSim]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    twilio = await make_twilio(twilio_sip_uri=SIP, prompts_dir=tmp_path)  # no audio: <Say>

    def unreadable(*_: object) -> str:
        raise OSError("texts.toml unreadable")

    monkeypatch.setattr(twilio.client.app[TWILIO_KEY].library, "text", unreadable)
    handed = await Caller(twilio, call_sid(16)).dial()
    assert sip_headers(handed) == {"X-L19-Lang": "ar", "X-L19-Prio": "1", "X-L19-Room": "rabat"}
    dial = handed.find("Dial")
    assert dial is not None
    params = Caller(twilio, call_sid(16)).params | {"DialCallStatus": "no-answer"}
    queue = (await twilio.twiml(dial.attrib["action"], params)).find("Enqueue")
    assert queue is not None and queue.text == "rabat"
