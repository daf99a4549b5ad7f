"""AML messages posted by a carrier, on the real application and both databases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch_core.location import BestFixChanged
from gateway.app import create_app
from gateway.keys import EVENTS_KEY, INTAKE_KEY
from gateway.services.intake import IntakeRequest
from gateway.settings import Settings

Client = TestClient[web.Request, web.Application]
TOKEN = "token-of-inwi"


def sms(lat: float, radius: int, *, ml: int | None = None) -> str:
    top = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    body = f'A"ML=1;lt=+{lat:.5f};lg=-006.84971;rd={radius};top={top};lc=68;pm=G;ml='
    if ml is not None:
        return f"{body}{ml}"
    digits = 2 if len(body) + 2 < 100 else 3
    return f"{body}{len(body) + digits}"


@pytest.fixture
async def client(
    database_url: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    settings = Settings(database_url=database_url, agi_port=0, ami_enabled=False,
                        aml_tokens={"inwi": TOKEN})  # fmt: skip
    return await aiohttp_client(create_app(settings))


async def post(client: Client, text: str, sender: str = "0612345678", token: str = TOKEN,
               content_type: str = "text/plain") -> tuple[int, dict[str, object]]:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type,
               "X-AML-Sender": sender}  # fmt: skip
    response = await client.post("/api/v1/location/aml", data=text, headers=headers)
    return response.status, await response.json()


async def test_an_aml_during_a_call_becomes_its_best_fix_and_is_published(client: Client) -> None:
    seen: list[object] = []
    client.app[EVENTS_KEY].subscribe(seen.append)
    call = await client.app[INTAKE_KEY].take_call(
        IntakeRequest(
            external_id="1.1", trunk="inwi", default_room="rabat", caller_raw="0612345678"
        )
    )
    status, body = await post(client, sms(33.97421, 12))
    assert status == 202 and body["status"] == "accepted" and body["call_id"] == call.call_id
    assert body["best_location_id"] == body["location_id"]
    assert [type(event) for event in seen] == [BestFixChanged]
    detail = await (await client.get(f"/api/v1/calls/{call.call_id}")).json()
    assert detail["best_location"]["source"] == "aml" and detail["best_location"]["radius_m"] == 12


async def test_an_aml_for_no_recent_call_is_kept_unmatched(client: Client) -> None:
    status, body = await post(client, sms(33.97421, 12), sender="0699999999")
    assert status == 202 and body["status"] == "unmatched" and body["call_id"] is None
    assert body["location_id"] is not None


async def test_a_garbled_aml_is_kept_and_refused_with_its_reason(client: Client) -> None:
    status, body = await post(client, sms(33.97421, 12, ml=999))
    assert status == 422
    error = body["error"]
    assert isinstance(error, dict) and error["code"] == "aml-length-mismatch"
    assert error["details"]["location_id"] is not None


async def test_an_aml_outside_the_service_area_is_rejected(client: Client) -> None:
    await client.app[INTAKE_KEY].take_call(
        IntakeRequest(
            external_id="1.2", trunk="inwi", default_room="rabat", caller_raw="0612345679"
        )
    )
    status, body = await post(client, sms(48.85, 12), sender="0612345679")
    assert status == 202 and body["status"] == "rejected"
    assert body["reason"] == "outside-service-area"


async def test_an_aml_without_a_carriers_token_or_in_another_type_is_refused(
    client: Client,
) -> None:
    status, body = await post(client, sms(33.97421, 12), token="wrong")
    assert status == 401 and body["error"]["code"] == "aml-unauthorized"  # type: ignore[index]
    status, body = await post(client, "{}", content_type="application/json")
    assert status == 415
