"""The operator's incident form saved on the draft incident (both databases)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.auth.http import USERS_KEY
from gateway.keys import INTAKE_KEY
from gateway.services.intake import IntakeRequest
from gateway.settings import Settings

Client = TestClient[web.Request, web.Application]
PASSWORD = "Rabat-2026-shift"


@pytest.fixture
async def client(
    database_url: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    settings = Settings(database_url=database_url, agi_port=0, ami_enabled=False)
    return await aiohttp_client(create_app(settings))


async def _signed_in(client: Client) -> dict[str, str]:
    await client.app[USERS_KEY].add("amina", role="operator", password=PASSWORD,
                                    endpoint="op-rabat-1", room="rabat")  # fmt: skip
    response = await client.post("/api/v1/login", json={"username": "amina", "password": PASSWORD})
    assert response.status == 200
    return {"Authorization": f"Bearer {response.cookies['l19_session'].value}"}


async def test_the_form_is_saved_on_the_incident_with_who_saved_it(client: Client) -> None:
    headers = await _signed_in(client)
    call = await client.app[INTAKE_KEY].take_call(
        IntakeRequest(external_id="7.1", trunk="inwi", caller_raw="0612345678")
    )
    form = {"category": "traffic_accident", "priority": 8, "address": "Avenue Hassan II, Rabat",
            "description": "two cars, one person hurt"}  # fmt: skip
    response = await client.put(f"/api/v1/incidents/{call.incident_id}", json=form,
                                headers=headers)  # fmt: skip
    assert response.status == 200, await response.text()
    saved = await (await client.get(f"/api/v1/incidents/{call.incident_id}")).json()
    assert {key: saved[key] for key in form} == form
    assert saved["updated_by"] == "amina" and saved["status"] == "draft"
    partial = await client.put(f"/api/v1/incidents/{call.incident_id}",
                               json={"description": "one car"}, headers=headers)  # fmt: skip
    assert (await partial.json())["category"] == "traffic_accident"


async def test_a_bad_form_an_unknown_incident_or_no_session_get_clear_errors(
    client: Client,
) -> None:
    headers = await _signed_in(client)
    bad = await client.put("/api/v1/incidents/x", json={"category": "alien"}, headers=headers)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid-body"
    missing = await client.put("/api/v1/incidents/x", json={"priority": 3}, headers=headers)
    assert missing.status == 404
    client.session.cookie_jar.clear()  # signed out: no cookie, no bearer
    anonymous = await client.put("/api/v1/incidents/x", json={"priority": 3})
    assert anonymous.status == 401
