"""An operator's typed address becomes the call's best fix (gazetteer, both databases)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.keys import DATABASE_KEY, INTAKE_KEY
from gateway.location.gazetteer import import_places
from gateway.services.intake import IntakeRequest
from gateway.settings import Settings

Client = TestClient[web.Request, web.Application]
PLACES = Path(__file__).parents[1] / "fixtures" / "location" / "places_rabat.csv"


@pytest.fixture
async def client(
    database_url: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    settings = Settings(database_url=database_url, agi_port=0, ami_enabled=False)
    client = await aiohttp_client(create_app(settings))
    await import_places(client.app[DATABASE_KEY], PLACES)
    return client


async def _call(client: Client) -> str:
    request = IntakeRequest(external_id="5.1", trunk="inwi", caller_raw="0612345678")
    return (await client.app[INTAKE_KEY].take_call(request)).call_id


async def test_a_typed_address_is_found_in_its_city_and_becomes_the_best_fix(
    client: Client,
) -> None:
    call_id = await _call(client)
    body = {"address": "12 av Mohammed 5", "city": "Salé"}
    response = await client.post(f"/api/v1/calls/{call_id}/locations", json=body)
    assert response.status == 201, await response.text()
    answer = await response.json()
    assert answer["status"] == "accepted" and answer["place"]["city"] == "Salé"
    assert answer["place"]["house_number"] == "12"
    detail = await (await client.get(f"/api/v1/calls/{call_id}")).json()
    best = detail["best_location"]
    assert best["source"] == "operator" and best["raw"] == "12 av Mohammed 5, Salé"
    assert (best["latitude"], best["longitude"]) == (34.0420, -6.8100)


async def test_an_unknown_address_is_refused_and_kept(client: Client) -> None:
    call_id = await _call(client)
    response = await client.post(
        f"/api/v1/calls/{call_id}/locations", json={"address": "rue qui n'existe pas"}
    )
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "address-not-found"
    detail = await (await client.get(f"/api/v1/calls/{call_id}")).json()
    assert [(f["source"], f["status"]) for f in detail["locations"]] == [("operator", "rejected")]


async def test_a_malformed_body_or_an_unknown_call_gets_a_clear_error(client: Client) -> None:
    call_id = await _call(client)
    bad = await client.post(f"/api/v1/calls/{call_id}/locations", json={"addr": 1})
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid-body"
    missing = await client.post("/api/v1/calls/nope/locations", json={"address": "Bab el Had"})
    assert missing.status == 404
