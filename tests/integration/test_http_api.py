"""The HTTP API served by the real application (aiohttp test server, real databases)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch_core.calls import TimelineKind
from gateway.app import create_app
from gateway.keys import INTAKE_KEY, TIMELINE_KEY
from gateway.services.intake import IntakeRequest
from gateway.services.timeline import TimelineUpdate
from gateway.settings import Settings

Client = TestClient[web.Request, web.Application]
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
async def client(
    database_url: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    settings = Settings(database_url=database_url, agi_port=0, ami_enabled=False)
    return await aiohttp_client(create_app(settings))


async def _seed(client: Client, count: int) -> list[str]:
    intake = client.app[INTAKE_KEY]
    ids = []
    for n in range(count):
        result = await intake.take_call(
            IntakeRequest(
                external_id=f"100.{n}",
                trunk="inwi",
                carrier="inwi",
                default_room="rabat",
                caller_raw="0612345678",
                received_at=T0 + timedelta(seconds=n),
            )
        )
        ids.append(result.call_id)
    return ids


def _error(body: dict[str, Any]) -> dict[str, Any]:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


async def test_calls_are_listed_newest_first_page_by_page(client: Client) -> None:
    ids = await _seed(client, 5)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/api/v1/calls", params=params)
        assert response.status == 200
        page = await response.json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


async def test_a_call_shows_its_caller_trunk_room_incident_and_timeline(client: Client) -> None:
    [call_id] = await _seed(client, 1)
    await client.app[TIMELINE_KEY].apply(
        TimelineUpdate(
            "100.0",
            TimelineKind.ANSWERED,
            T0 + timedelta(seconds=6),
            "ami",
            "answered",
            {"operator": "op-rabat-2"},
            {"operator": "op-rabat-2", "hold_time_s": 6.0},
        )
    )
    response = await client.get(f"/api/v1/calls/{call_id}")
    assert response.status == 200
    call = await response.json()
    assert call["caller"]["e164"] == "+212612345678"
    assert call["carrier"] == "inwi" and call["room"] == "rabat"
    assert call["incident_id"] and call["status"] == "answered"
    assert [e["kind"] for e in call["timeline"]] == ["received", "answered"]
    assert call["timeline"][1]["at"].startswith("2026-11-22T09:00:06")


async def test_an_unknown_call_is_a_json_404_with_a_stable_code(client: Client) -> None:
    response = await client.get("/api/v1/calls/nope")
    assert response.status == 404
    assert _error(await response.json())["code"] == "no-such-call"


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "x"}, {"cursor": "%%%"}, {"cursor": "eyJhIjoxfQ=="}]
)
async def test_bad_list_parameters_get_a_clear_400(client: Client, query: dict[str, str]) -> None:
    response = await client.get("/api/v1/calls", params=query)
    assert response.status == 400
    assert _error(await response.json())["code"] in {"invalid-query", "bad-cursor"}


async def test_an_unknown_route_answers_in_the_same_error_shape(client: Client) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status == 404
    assert _error(await response.json())["code"] == "no-such-route"


async def test_health_reports_the_database_and_that_ami_is_not_configured(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": True, "ami": None}
