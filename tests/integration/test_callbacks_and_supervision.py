"""The callback list and the supervisor's overview on the real application (both databases)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch_core.calls import TimelineKind
from gateway.app import create_app
from gateway.auth.http import USERS_KEY
from gateway.keys import INTAKE_KEY, TIMELINE_KEY
from gateway.services.intake import IntakeRequest
from gateway.services.timeline import TimelineUpdate
from gateway.settings import Settings

Client = TestClient[web.Request, web.Application]
PASSWORD = "Rabat-2026-shift"


@pytest.fixture
async def client(
    database_url: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    settings = Settings(database_url=database_url, agi_port=0, ami_enabled=False)
    return await aiohttp_client(create_app(settings))


async def _sign_in(client: Client, username: str, role: str) -> dict[str, str]:
    await client.app[USERS_KEY].add(username, role=role, password=PASSWORD,
                                    endpoint="op-rabat-1", room="rabat")  # fmt: skip
    response = await client.post("/api/v1/login", json={"username": username,
                                                         "password": PASSWORD})  # fmt: skip
    token = response.cookies["l19_session"].value
    client.session.cookie_jar.clear()
    return {"Authorization": f"Bearer {token}"}


async def _call(client: Client, uniqueid: str, number: str, at: datetime) -> str:
    request = IntakeRequest(external_id=uniqueid, trunk="inwi", carrier="inwi",
                            default_room="rabat", caller_raw=number, received_at=at)  # fmt: skip
    return (await client.app[INTAKE_KEY].take_call(request)).call_id


async def _ended(client: Client, uniqueid: str, kind: TimelineKind, at: datetime,
                 **fields: object) -> None:  # fmt: skip
    await client.app[TIMELINE_KEY].apply(
        TimelineUpdate(uniqueid, kind, at, "ami", kind.value, {}, dict(fields))
    )


async def test_an_abandoned_call_is_on_the_list_until_the_number_calls_again(
    client: Client,
) -> None:
    headers = await _sign_in(client, "amina", "operator")
    now = datetime.now(UTC)
    await _call(client, "3.1", "0612345678", now - timedelta(minutes=5))
    await _ended(client, "3.1", TimelineKind.ABANDONED, now - timedelta(minutes=4))
    listed = await (await client.get("/api/v1/callbacks?room=rabat", headers=headers)).json()
    (item,) = listed["items"]
    assert (item["number"], item["reason"]) == ("+212612345678", "abandoned")
    attempt = await client.post(f"/api/v1/callbacks/{item['id']}/attempts",
                                json={"outcome": "no_answer"}, headers=headers)  # fmt: skip
    assert attempt.status == 201
    assert [a["outcome"] for a in (await attempt.json())["attempts"]] == ["no_answer"]
    await _call(client, "3.2", "0612345678", now)  # the caller calls again
    after = await (await client.get("/api/v1/callbacks", headers=headers)).json()
    assert after["items"] == []


async def test_a_callback_that_reached_the_caller_leaves_the_list(client: Client) -> None:
    headers = await _sign_in(client, "amina", "operator")
    await _call(client, "3.3", "0661234567", datetime.now(UTC))
    await _ended(client, "3.3", TimelineKind.ABANDONED, datetime.now(UTC))
    (item,) = (await (await client.get("/api/v1/callbacks", headers=headers)).json())["items"]
    bad = await client.post(f"/api/v1/callbacks/{item['id']}/attempts",
                            json={"outcome": "maybe"}, headers=headers)  # fmt: skip
    assert bad.status == 400
    await client.post(f"/api/v1/callbacks/{item['id']}/attempts",
                      json={"outcome": "reached"}, headers=headers)  # fmt: skip
    assert (await (await client.get("/api/v1/callbacks", headers=headers)).json())["items"] == []


async def test_the_overview_counts_the_service_level_with_abandoned_calls_against_it(
    client: Client,
) -> None:
    headers = await _sign_in(client, "chef", "supervisor")
    now = datetime.now(UTC)
    for n, (answer_after, abandoned) in enumerate([(5, False), (18, False), (30, False),
                                                   (None, True)]):  # fmt: skip
        start = now - timedelta(minutes=10 + n)
        await _call(client, f"4.{n}", f"06123400{n:02d}", start)
        if abandoned:
            await _ended(client, f"4.{n}", TimelineKind.ABANDONED, start + timedelta(seconds=9))
        else:
            answered = start + timedelta(seconds=answer_after or 0)
            await _ended(client, f"4.{n}", TimelineKind.ANSWERED, answered, operator="op-1")
    response = await client.get("/api/v1/supervisor/overview", headers=headers)
    assert response.status == 200
    data = await response.json()
    level = data["service_level"]
    assert (level["answered_15s_pct"], level["answered_20s_pct"]) == (25.0, 50.0)
    assert level["abandoned"] == 1 and level["calls"] == 4
    (carrier,) = data["carriers"]
    assert carrier["carrier"] == "inwi" and carrier["with_caller_id_pct"] == 100.0
    assert [room["id"] for room in data["rooms"]][:2] == ["rabat", "sale"]


async def test_an_operator_cannot_read_the_supervisors_overview(client: Client) -> None:
    headers = await _sign_in(client, "amina", "operator")
    response = await client.get("/api/v1/supervisor/overview", headers=headers)
    assert response.status == 403


async def test_a_rooms_overview_holds_that_room_only_and_an_unknown_room_is_404(
    client: Client,
) -> None:
    headers = await _sign_in(client, "chef", "supervisor")
    await _call(client, "5.1", "0612345601", datetime.now(UTC))  # inwi -> rabat
    rabat = await (await client.get("/api/v1/supervisor/overview?room=rabat",
                                    headers=headers)).json()  # fmt: skip
    sale = await (await client.get("/api/v1/supervisor/overview?room=sale",
                                   headers=headers)).json()  # fmt: skip
    assert [room["id"] for room in rabat["rooms"]] == ["rabat"]
    assert rabat["service_level"]["calls"] == 1 and sale["service_level"]["calls"] == 0
    missing = await client.get("/api/v1/supervisor/overview?room=casablanca", headers=headers)
    assert missing.status == 404
