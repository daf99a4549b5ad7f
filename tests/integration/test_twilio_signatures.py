"""Only requests Twilio signed for the public URL get through; garbage gets a clear 4xx.

Signatures come from the twilio library's own `RequestValidator.compute_signature`; the
application is the real one, on both databases.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from twilio.request_validator import RequestValidator

from gateway.twilio.routes import ROUTES
from ivr.prompt_audio import generate
from tests.integration.test_twilio_webhooks import (
    BASE,
    Caller,
    MakeClient,
    TwilioSim,
    call_sid,
    twilio_client,
    twilio_settings,
)

Make = Callable[..., Awaitable[TwilioSim]]

# One concrete URL per route, with what Twilio would send it.
CONCRETE = {
    "/twilio/ivr": "/twilio/ivr?s=x.y",
    "/twilio/dial": "/twilio/dial?s=x.y",
    "/twilio/wait": "/twilio/wait?lang=fr",
    "/twilio/prompts/{lang}/{name}.wav": "/twilio/prompts/fr/welcome.wav",
}
ROUTE_URLS = [(method, CONCRETE.get(path, path)) for method, path, _ in ROUTES]


@pytest.fixture(scope="session")
def prompts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prompts")
    generate(out)
    return out


@pytest.fixture
async def make_twilio(database_url: str, prompts_dir: Path, aiohttp_client: MakeClient) -> Make:
    async def make(**overrides: Any) -> TwilioSim:
        settings = twilio_settings(database_url, prompts_dir, **overrides)
        return TwilioSim(await twilio_client(aiohttp_client, settings), prompts_dir)

    return make


def params(n: int = 1, **extra: str) -> dict[str, str]:
    return {"CallSid": call_sid(n), "From": "+212612345678", "CallStatus": "ringing"} | extra


async def refused(response: ClientResponse, code: str = "twilio-signature-invalid") -> None:
    assert response.status == 403
    body = await response.json()
    assert body["error"]["code"] == code, body
    assert set(body["error"]) == {"code", "message", "details"}


async def send(
    twilio: TwilioSim, method: str, path: str, data: dict[str, str], signature: str | None
) -> ClientResponse:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    if method == "GET":
        return await twilio.client.get(path, headers=headers)
    return await twilio.client.post(path, data=data, headers=headers)


@pytest.mark.parametrize(("method", "path"), ROUTE_URLS)
async def test_every_twilio_route_refuses_a_request_without_a_signature(
    make_twilio: Make, method: str, path: str
) -> None:
    twilio = await make_twilio()
    await refused(await send(twilio, method, path, params(), None))


@pytest.mark.parametrize(("method", "path"), ROUTE_URLS)
async def test_without_an_auth_token_every_route_refuses_even_a_well_signed_request(
    make_twilio: Make, method: str, path: str
) -> None:
    twilio = await make_twilio(twilio_auth_token=None)
    data = {} if method == "GET" else params()
    signature = twilio.signature(BASE + path, data)
    await refused(await send(twilio, method, path, data, signature), "twilio-not-configured")


async def test_a_tampered_body_is_refused(make_twilio: Make) -> None:
    twilio = await make_twilio()
    signature = twilio.signature(f"{BASE}/twilio/voice", params())
    tampered = params(From="+212699999999")
    await refused(await send(twilio, "POST", "/twilio/voice", tampered, signature))


async def test_a_request_signed_with_another_token_is_refused(make_twilio: Make) -> None:
    twilio = await make_twilio()
    other = RequestValidator("f" * 32).compute_signature(f"{BASE}/twilio/voice", params())
    await refused(await send(twilio, "POST", "/twilio/voice", params(), other))


@pytest.mark.parametrize(
    "signed_for",
    [
        f"{BASE}/twilio/status",  # another route of ours
        "https://evil.example.com/twilio/voice",  # another host
        f"{BASE}/twilio/voice?x=1",  # another query
    ],
)
async def test_a_request_replayed_against_another_url_is_refused(
    make_twilio: Make, signed_for: str
) -> None:
    twilio = await make_twilio()
    signature = twilio.signature(signed_for, params())
    await refused(await send(twilio, "POST", "/twilio/voice", params(), signature))


async def test_the_url_checked_is_the_public_one_not_the_one_behind_the_proxy(
    make_twilio: Make,
) -> None:
    twilio = await make_twilio()
    internal = str(twilio.client.make_url("/twilio/voice"))
    signature = twilio.signature(internal, params())
    await refused(await send(twilio, "POST", "/twilio/voice", params(), signature))
    public = twilio.signature(f"{BASE}/twilio/voice", params())
    assert (await send(twilio, "POST", "/twilio/voice", params(), public)).status == 200


async def _gather_action(twilio: TwilioSim, n: int) -> tuple[Caller, str]:
    caller = Caller(twilio, call_sid(n))
    await caller.dial()
    return caller, caller.gather.attrib["action"]


async def test_a_tampered_ivr_state_is_refused_even_when_twilio_signed_the_url(
    make_twilio: Make,
) -> None:
    twilio = await make_twilio()
    caller, action = await _gather_action(twilio, 1)
    flipped = action[:-50] + ("A" if action[-50] != "A" else "B") + action[-49:]
    response = await twilio.post(flipped, caller.params | {"Digits": "5"})
    await refused(response, "twilio-state-invalid")


async def test_an_ivr_state_cannot_be_moved_to_another_call(make_twilio: Make) -> None:
    twilio = await make_twilio()
    _, action = await _gather_action(twilio, 1)
    other, _ = await _gather_action(twilio, 2)
    response = await twilio.post(action, other.params | {"Digits": "5"})
    await refused(response, "twilio-state-invalid")


@pytest.mark.parametrize(
    ("path", "data", "status", "code"),
    [
        ("/twilio/voice", {"From": "+212612345678"}, 400, "invalid-twilio-request"),
        ("/twilio/voice", params() | {"CallSid": "CA123"}, 400, "invalid-twilio-request"),
        ("/twilio/voice", params() | {"From": "1" * 129}, 400, "invalid-twilio-request"),
        ("/twilio/status", params() | {"CallStatus": "exploded"}, 400, "invalid-twilio-request"),
        ("/twilio/status", params() | {"CallDuration": "-1"}, 400, "invalid-twilio-request"),
        ("/twilio/status", params(CallDuration="soon"), 400, "invalid-twilio-request"),
        ("/twilio/ivr", params(Digits="1"), 400, "invalid-twilio-request"),  # no state
        ("/twilio/ivr?s=%25%25%25", params(Digits="1"), 403, "twilio-state-invalid"),
        ("/twilio/ivr?s=" + "A" * 5000, params(Digits="1"), 403, "twilio-state-invalid"),
        ("/twilio/dial?s=x.y", params(DialCallStatus="maybe"), 400, "invalid-twilio-request"),
        ("/twilio/wait?lang=xx", params(), 400, "invalid-twilio-request"),
    ],
)
async def test_garbage_parameters_get_a_clear_4xx(
    make_twilio: Make, path: str, data: dict[str, str], status: int, code: str
) -> None:
    twilio = await make_twilio()
    response = await twilio.post(BASE + path, data)
    assert response.status == status
    assert (await response.json())["error"]["code"] == code


@pytest.mark.parametrize("digits", ["12x", "5 ", "①", "1" * 33])
async def test_keys_that_are_not_dtmf_get_a_400(make_twilio: Make, digits: str) -> None:
    twilio = await make_twilio()
    caller, action = await _gather_action(twilio, 1)
    response = await twilio.post(action, caller.params | {"Digits": digits})
    assert response.status == 400
    errors = (await response.json())["error"]["details"]["errors"]
    assert [error["parameter"] for error in errors] == ["Digits"]


async def test_a_repeated_parameter_gets_a_400(make_twilio: Make) -> None:
    twilio = await make_twilio()
    body = f"CallSid={call_sid(1)}&CallSid={call_sid(2)}"
    url = f"{BASE}/twilio/voice"
    signature = twilio.validator.compute_signature(
        url, _Multi({"CallSid": [call_sid(1), call_sid(2)]})
    )
    response = await twilio.client.post(
        "/twilio/voice",
        data=body,
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status == 400
    assert (await response.json())["error"]["details"] == {"parameters": ["CallSid"]}


class _Multi(dict[str, list[str]]):
    """A multi-valued form, as the validator reads one (`getall`)."""

    def getall(self, key: str) -> list[str]:
        return self[key]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"CallSid=\xff\xfe", "application/x-www-form-urlencoded"), (b"hello", "text/plain")],
)
async def test_a_body_that_cannot_be_checked_is_refused(
    make_twilio: Make, body: bytes, content_type: str
) -> None:
    twilio = await make_twilio()
    signature = twilio.signature(f"{BASE}/twilio/voice", {})
    response = await twilio.client.post(
        "/twilio/voice",
        data=body,
        headers={"X-Twilio-Signature": signature, "Content-Type": content_type},
    )
    await refused(response)


async def _post_json(
    twilio: TwilioSim, document: object, *, hashed: bytes | None = None, with_hash: bool = True
) -> ClientResponse:
    body = json.dumps(document).encode()
    digest = hashlib.sha256(body if hashed is None else hashed).hexdigest()
    path = f"/twilio/status?bodySHA256={digest}" if with_hash else "/twilio/status"
    signature = twilio.signature(BASE + path, {})
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/json"}
    return await twilio.client.post(path, data=body, headers=headers)


async def test_a_json_body_is_accepted_when_its_bodysha256_matches(make_twilio: Make) -> None:
    twilio = await make_twilio()
    caller = Caller(twilio, call_sid(1))
    await caller.dial()
    document = caller.params | {"CallStatus": "completed", "CallDuration": 12}
    response = await _post_json(twilio, document)
    assert response.status == 204


async def test_a_json_body_whose_hash_does_not_match_is_refused(make_twilio: Make) -> None:
    twilio = await make_twilio()
    document = params(CallStatus="completed")
    await refused(await _post_json(twilio, document, hashed=b"{}"))


async def test_a_json_body_without_bodysha256_is_refused(make_twilio: Make) -> None:
    twilio = await make_twilio()
    await refused(await _post_json(twilio, params(CallStatus="completed"), with_hash=False))


async def test_a_signed_json_body_that_is_not_an_object_gets_a_400(make_twilio: Make) -> None:
    twilio = await make_twilio()
    response = await _post_json(twilio, ["CallSid"])
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid-twilio-request"
