"""Units and dispatch over HTTP, on both databases: positions, recommendations, answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from dispatch_core.units import VehicleClass
from gateway.app import create_app
from gateway.auth.http import USERS_KEY
from gateway.keys import DATABASE_KEY, INTAKE_KEY
from gateway.persistence import unit_store
from gateway.persistence.unit_store import UnitIn
from gateway.services.intake import IntakeRequest
from gateway.settings import Settings

Client = TestClient[web.Request, web.Application]
PASSWORD = "Rabat-2026-shift"
RABAT = (34.0209, -6.8416)


@pytest.fixture
async def client(
    database_url: str, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    settings = Settings(database_url=database_url, agi_port=0, ami_enabled=False)
    return await aiohttp_client(create_app(settings))


async def _headers(client: Client, username: str, role: str) -> dict[str, str]:
    await client.app[USERS_KEY].add(username, role=role, password=PASSWORD, room="rabat")
    response = await client.post("/api/v1/login", json={"username": username,
                                                        "password": PASSWORD})  # fmt: skip
    assert response.status == 200
    client.session.cookie_jar.clear()
    return {"Authorization": f"Bearer {response.cookies['l19_session'].value}"}


async def _units(client: Client, *signs_and_offsets: tuple[str, float]) -> dict[str, str]:
    database = client.app[DATABASE_KEY]
    now = datetime.now(UTC)
    items = [UnitIn(sign, VehicleClass.CAR, "rabat", frozenset(), RABAT[0],
                    RABAT[1] + offset / 92_000) for sign, offset in signs_and_offsets]  # fmt: skip
    await database.write(lambda conn: unit_store.upsert_units(conn, items, now, on_duty=True))
    ids = {}
    for sign, _ in signs_and_offsets:
        async with database.engine.connect() as conn:
            ids[sign] = await conn.run_sync(unit_store.unit_id_of, sign)
    return ids


def _report(lat: float, at: datetime, **extra: object) -> dict[str, object]:
    return {"lat": lat, "lon": -6.84, "at": at.isoformat(), "accuracy_m": 10.0, **extra}


async def test_positions_are_accepted_202_and_bad_ones_refused_422_with_the_reason(
    client: Client,
) -> None:
    headers = await _headers(client, "avl", "supervisor")
    unit = (await _units(client, ("Rabat-C1", 100)))["Rabat-C1"]
    url = f"/api/v1/units/{unit}/position"
    now = datetime.now(UTC)
    ok = await client.post(url, json=_report(34.03, now), headers=headers)
    assert ok.status == 202, await ok.text()
    assert (await ok.json())["accepted"] is True
    cases = {
        "not-newer-than-current": _report(34.04, now - timedelta(seconds=5)),
        "time-in-future": _report(34.04, now + timedelta(minutes=5)),
    }
    for code, body in cases.items():
        refused = await client.post(url, json=body, headers=headers)
        assert refused.status == 422 and (await refused.json())["error"]["code"] == code
    nan = await client.post(url, headers={**headers, "Content-Type": "application/json"},
                            data=f'{{"lat": NaN, "lon": -6.84, "at": "{now.isoformat()}", '
                                 '"accuracy_m": 5}')  # fmt: skip
    assert nan.status == 422
    assert (await nan.json())["error"]["code"] == "coordinates-not-finite"
    naive = await client.post(url, json=_report(34.05, now.replace(tzinfo=None)), headers=headers)
    assert naive.status == 400
    unknown = await client.post("/api/v1/units/nope/position", json=_report(34.05, now),
                                headers=headers)  # fmt: skip
    assert unknown.status == 404
    operator = await _headers(client, "amina", "operator")
    forbidden = await client.post(url, json=_report(34.05, now), headers=operator)
    assert forbidden.status == 403


async def test_a_batch_of_positions_answers_each_report(client: Client) -> None:
    headers = await _headers(client, "avl", "admin")
    unit = (await _units(client, ("Rabat-C1", 100)))["Rabat-C1"]
    now = datetime.now(UTC)
    batch = [_report(34.03, now, unit_id=unit), _report(34.02, now - timedelta(seconds=3),
             unit_id=unit), _report(34.02, now, unit_id="nope"), {"unit_id": unit}]  # fmt: skip
    response = await client.post("/api/v1/units/positions", json=batch, headers=headers)
    assert response.status == 202
    reasons = [(r["accepted"], r["reason"]) for r in (await response.json())["results"]]
    assert reasons == [(True, None), (False, "not-newer-than-current"),
                       (False, "no-such-unit"), (False, "invalid-report")]  # fmt: skip


async def test_an_operator_sees_the_ranking_dispatches_the_nearest_and_records_the_answer(
    client: Client,
) -> None:
    headers = await _headers(client, "amina", "operator")
    ids = await _units(client, ("Rabat-C1", 300), ("Rabat-C2", 3000))
    call = await client.app[INTAKE_KEY].take_call(
        IntakeRequest(external_id="9.1", trunk="inwi", caller_raw="0612345678")
    )
    base = f"/api/v1/incidents/{call.incident_id}"
    place = {"lat": RABAT[0], "lon": RABAT[1]}
    ranked = await client.get(f"{base}/recommendations", params=place, headers=headers)
    assert ranked.status == 200, await ranked.text()
    candidates = (await ranked.json())["candidates"]
    assert [c["call_sign"] for c in candidates] == ["Rabat-C1", "Rabat-C2"]
    assert candidates[0]["reason"].startswith("car, 0.3 km")
    no_place = await client.post(f"{base}/dispatch", headers=headers)
    assert no_place.status == 422  # the call has no location and none was sent
    draft = await client.post(f"{base}/dispatch", json=place, headers=headers)
    assert draft.status == 409
    assert (await draft.json())["error"]["code"] == "incident-not-confirmed"
    confirmed = await client.post(f"{base}/confirm", headers=headers)
    assert (await confirmed.json())["status"] == "confirmed"
    first = await client.post(f"{base}/dispatch", json=place, headers=headers)
    assert first.status == 201, await first.text()
    proposal = await first.json()
    assert (proposal["unit_id"], proposal["state"]) == (ids["Rabat-C1"], "proposed")
    declined = await client.post(f"/api/v1/assignments/{proposal['assignment_id']}/decline",
                                 json={"reason": "already on a stop"}, headers=headers)  # fmt: skip
    assert declined.status == 200
    assert (await declined.json())["assignment"]["state"] == "declined"
    second = await (await client.post(f"{base}/dispatch", json=place, headers=headers)).json()
    assert second["call_sign"] == "Rabat-C2"
    ack = f"/api/v1/assignments/{second['assignment_id']}/acknowledge"
    acknowledged = await client.post(ack, headers=headers)
    assert acknowledged.status == 200
    assert (await acknowledged.json())["assignment"]["by"] == "amina"
    twice = await client.post(ack, headers=headers)
    assert twice.status == 409 and (await twice.json())["error"]["code"] == (
        "assignment-not-proposed"
    )
    none_left = await client.post(f"{base}/dispatch", json=place, headers=headers)
    assert none_left.status == 409
    assert (await none_left.json())["error"]["code"] == "no-unit-available"
    unit = f"/api/v1/units/{second['unit_id']}/status"
    for event, state in (("en_route", "en_route"), ("on_scene", "on_scene")):
        moved = await client.post(unit, json={"event": event, "incident_id": call.incident_id},
                                  headers=headers)  # fmt: skip
        assert (await moved.json())["state"] == state
    closed = await client.post(f"{base}/close", json={"outcome": "founded"}, headers=headers)
    assert (await closed.json())["status"] == "closed"
    detail = await (await client.get(f"/api/v1/calls/{call.call_id}")).json()
    steps = [e["kind"] for e in detail["timeline"] if e["kind"].startswith("incident_")]
    assert steps == ["incident_confirmed", "incident_dispatched", "incident_on_scene",
                     "incident_closed"]  # fmt: skip
    again = await client.post(f"{base}/confirm", headers=headers)
    assert again.status == 409 and (await again.json())["error"]["code"] == "illegal-transition"


async def test_bad_answers_and_unknown_ids_get_clear_errors(client: Client) -> None:
    headers = await _headers(client, "amina", "operator")
    no_reason = await client.post("/api/v1/assignments/x/decline", json={"reason": " "},
                                  headers=headers)  # fmt: skip
    assert no_reason.status == 400
    unknown = await client.post("/api/v1/assignments/x/acknowledge", headers=headers)
    assert unknown.status == 404
    incident = await client.post("/api/v1/incidents/x/dispatch", json={"lat": 34, "lon": -6.8},
                                 headers=headers)  # fmt: skip
    assert incident.status == 404
    anonymous = await client.post("/api/v1/incidents/x/dispatch")
    assert anonymous.status == 401


async def test_a_units_feed_gets_its_assignment_and_answers_on_the_same_channel(
    client: Client,
) -> None:
    headers = await _headers(client, "amina", "operator")
    ids = await _units(client, ("Rabat-C9", 300))
    call = await client.app[INTAKE_KEY].take_call(
        IntakeRequest(external_id="u.9", trunk="inwi", caller_raw="0612349999")
    )
    base = f"/api/v1/incidents/{call.incident_id}"
    await client.post(f"{base}/confirm", headers=headers)
    async with client.ws_connect(f"/api/v1/units/{ids['Rabat-C9']}/feed",
                                 headers=headers) as feed:  # fmt: skip
        dispatched = await client.post(f"{base}/dispatch", json={"lat": RABAT[0],
                                                                 "lon": RABAT[1]},
                                       headers=headers)  # fmt: skip
        assert dispatched.status == 201
        pushed = await feed.receive_json(timeout=5)
        assert pushed["type"] == "assignment" and pushed["incident_id"] == call.incident_id
        await feed.send_str("not json")
        assert (await feed.receive_json(timeout=5))["ok"] is False
        await feed.send_json({"type": "ack", "assignment_id": pushed["assignment_id"]})
        assert (await feed.receive_json(timeout=5)) == {
            "type": "result",
            "ok": True,
            "error": None,
            "for": "ack",
        }
        await feed.send_json({"type": "status", "event": "en_route"})
        assert (await feed.receive_json(timeout=5))["state"] == "en_route"
    incident = await (await client.get(base)).json()
    assert incident["status"] == "dispatched"


async def test_the_intervention_time_report_has_each_stage_per_room_and_day(client: Client) -> None:
    headers = await _headers(client, "amina", "operator")
    chef = await _headers(client, "chef", "supervisor")
    ids = await _units(client, ("Rabat-C8", 200))
    call = await client.app[INTAKE_KEY].take_call(
        IntakeRequest(external_id="r.1", trunk="inwi", caller_raw="0612348888")
    )
    base = f"/api/v1/incidents/{call.incident_id}"
    await client.post(f"{base}/confirm", headers=headers)
    proposal = await (await client.post(f"{base}/dispatch", json={"lat": RABAT[0],
                                                                  "lon": RABAT[1]},
                                        headers=headers)).json()  # fmt: skip
    await client.post(f"/api/v1/assignments/{proposal['assignment_id']}/acknowledge",
                      headers=headers)  # fmt: skip
    await client.post(f"/api/v1/units/{ids['Rabat-C8']}/status", headers=headers,
                      json={"event": "on_scene", "incident_id": call.incident_id})  # fmt: skip
    report = await (await client.get("/api/v1/reports/intervention-times?days=1",
                                     headers=chef)).json()  # fmt: skip
    (row,) = report["items"]
    assert row["room"] == "rabat" and row["calls"] == 1
    assert row["answer_s_median"] is None  # nobody answered this call on the phone
    assert row["on_scene_s_median"] is not None and row["on_scene_s_median"] >= 0
    chart = await client.get("/api/v1/reports/intervention-times?days=1&format=svg",
                             headers=chef)  # fmt: skip
    assert chart.content_type == "image/svg+xml" and "<svg" in await chart.text()
    forbidden = await client.get("/api/v1/reports/intervention-times", headers=headers)
    assert forbidden.status == 403
