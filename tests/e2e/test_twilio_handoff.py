"""A call that ran the IVR on Twilio reaches an operator through the real Asterisk queue.

The test plays Twilio twice: over HTTP (webhooks signed with the twilio library's own
`RequestValidator`, against the running gateway) and over SIP (sipp from Twilio's address
in the sandbox, dialling the `<Sip>` URI of the TwiML with its `X-L19-*` headers).
"""

from __future__ import annotations

import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twilio.request_validator import RequestValidator

from gateway.asterisk.sandbox import Sandbox
from tests.e2e.harness import TWILIO, Gateway, Sipp, caller_with, wait_for

TOKEN = "0123456789abcdef0123456789abcdef"


class Twilio:
    """Twilio's webhooks against the running gateway, signed for the URL they go to."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.validator = RequestValidator(TOKEN)

    def post(self, url: str, params: dict[str, str]) -> ET.Element:
        signature = self.validator.compute_signature(url, params)
        request = urllib.request.Request(
            url, data=urllib.parse.urlencode(params).encode(), method="POST",
            headers={"X-Twilio-Signature": signature},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            return ET.fromstring(response.read())


def twilio_gateway(make_gateway: Callable[..., Gateway], sandbox: Sandbox) -> Gateway:
    gateway = make_gateway("sqlite", start=False)
    gateway.extra_env.update({
        "LINE19_PUBLIC_BASE_URL": gateway.base_url,
        "LINE19_TWILIO_AUTH_TOKEN": TOKEN,
        "LINE19_TWILIO_SIP_URI": "sip:19@127.0.0.1:5060",
        "LINE19_TWILIO_DEFAULT_ROOM": "sale",
        "LINE19_PROMPTS_DIR": str(sandbox.prompts_dir),
    })  # fmt: skip
    gateway.start()
    return gateway


def sip_headers_of(twiml: ET.Element) -> dict[str, str]:
    sip = twiml.find("Dial/Sip")
    assert sip is not None and sip.text, ET.tostring(twiml)
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(sip.text).query))


def run_ivr_on_twilio(gateway: Gateway, sid: str, number: str, key: str) -> dict[str, str]:
    """The webhooks of one call up to the hand-off; the hand-off's SIP headers."""
    twilio = Twilio(gateway)
    params = {
        "AccountSid": "AC" + "f" * 32, "ApiVersion": "2010-04-01", "CallSid": sid,
        "CallStatus": "ringing", "Direction": "inbound", "From": number,
        "To": "+212520000019",
    }  # fmt: skip
    first = twilio.post(f"{gateway.base_url}/twilio/voice", params)
    gather = first.find("Gather")
    assert gather is not None, ET.tostring(first)
    handed = twilio.post(gather.attrib["action"], params | {"Digits": key})
    return sip_headers_of(handed)


def test_a_twilio_call_is_handed_to_the_asterisk_queue_answered_and_kept_as_one_call(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = twilio_gateway(make_gateway, sandbox)
    (operator,) = operators(["op-sale-1"], hold_ms=2000)
    headers = run_ivr_on_twilio(gateway, "CA" + "1" * 32, "+212612340501", key="2")
    assert headers["X-L19-Lang"] == "fr" and headers["X-L19-Room"] == "sale", headers
    call_id = headers["X-L19-Call"]

    lines = [f"{name}: {value}" for name, value in headers.items()]
    peer = caller_with(TWILIO, "twilio", 8000, log_dir, "twilio-leg", headers=lines)
    assert peer.wait(60) == 0, peer.errors()

    def completed() -> dict[str, Any] | None:
        call = gateway.get(f"/api/v1/calls/{call_id}")
        return call if call.get("status") == "completed" else None

    call = wait_for(completed, 30, 0.5, "the Twilio call to be completed through Asterisk")
    kinds = [event["kind"] for event in call["timeline"]]
    for kind in ("received", "ivr_completed", "handed_off", "queued", "answered", "completed"):
        assert kind in kinds, kinds
    assert call["operator"] == "op-sale-1" and call["room"] == "sale"
    assert call["language"] == "fr"
    assert len(gateway.calls()) == 1  # one record, one incident: not a second intake
    operator.stop()


def test_a_hand_off_naming_an_unknown_call_is_still_taken_in_and_answered(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = twilio_gateway(make_gateway, sandbox)
    operators(["op-rabat-1"], hold_ms=2000)
    lines = ["X-L19-Call: 00000000-0000-0000-0000-000000000000", "X-L19-Room: rabat"]
    peer = caller_with(TWILIO, "0612340502", 6000, log_dir, "unknown-leg", headers=lines)
    assert peer.wait(60) == 0, peer.errors()

    def answered() -> list[dict[str, Any]] | None:
        calls = gateway.call_from("+212612340502")
        return calls if calls and calls[0]["status"] == "completed" else None

    (call,) = wait_for(answered, 30, 0.5, "the unknown hand-off to be recorded and answered")
    assert call["intake"] == "completed" and call["carrier"] == "Twilio"
    assert call["operator"] == "op-rabat-1"
