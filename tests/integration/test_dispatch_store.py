"""Units and assignments on both databases: the race for units, the answers, the import."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Connection, select, update

from dispatch_core.units import UnitFix, VehicleClass
from gateway.persistence import unit_store
from gateway.persistence.call_store import calls, incidents
from gateway.persistence.db import Database, open_database
from gateway.persistence.unit_store import UnitIn, locations, units
from gateway.services.dispatch import DispatchService
from gateway.units_cli import units as units_group

SAMPLE = Path(__file__).parents[1] / "fixtures" / "units_sample.csv"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
RABAT = (34.0209, -6.8416)


def _incident(conn: Connection, place: tuple[float, float] | None = None) -> str:
    call_id, incident_id = str(uuid.uuid4()), str(uuid.uuid4())
    conn.execute(calls.insert().values(
        id=call_id, source="asterisk", external_id=call_id, caller_status="valid",
        status="answered", intake="ivr", received_at=NOW, updated_at=NOW,
    ))  # fmt: skip
    conn.execute(incidents.insert().values(id=incident_id, call_id=call_id, status="confirmed",
                                           priority=5, created_at=NOW, updated_at=NOW))  # fmt: skip
    if place is not None:
        location = conn.execute(locations.insert().values(
            call_id=call_id, source="aml", status="accepted", latitude=place[0],
            longitude=place[1], radius_m=20.0, received_at=NOW, raw="test", dedupe_key=call_id,
        )).inserted_primary_key[0]  # fmt: skip
        conn.execute(update(calls).where(calls.c.id == call_id).values(best_location_id=location))
    return incident_id


async def _fleet(database: Database, *offsets_m: float) -> list[str]:
    """Available units east of Rabat's centre, `offset` metres away each (about)."""
    items = [
        UnitIn(f"Rabat-M{i}", VehicleClass.MOTORBIKE, "rabat", frozenset(), RABAT[0],
               RABAT[1] + offset / 92_000)
        for i, offset in enumerate(offsets_m)
    ]  # fmt: skip
    await database.write(lambda conn: unit_store.upsert_units(conn, items, NOW, on_duty=True))
    async with database.engine.connect() as conn:
        rows = (await conn.execute(select(units.c.id, units.c.call_sign))).all()
    by_sign = {row.call_sign: row.id for row in rows}
    return [by_sign[item.call_sign] for item in items]


async def _states(database: Database) -> dict[str, str]:
    async with database.engine.connect() as conn:
        return {row.id: row.state for row in await conn.execute(select(units.c.id, units.c.state))}


async def test_twelve_incidents_racing_for_three_units_get_each_unit_exactly_once(
    database: Database,
) -> None:
    fleet = await _fleet(database, 100, 400, 900)
    incident_ids = [await database.write(_incident) for _ in range(12)]
    service = DispatchService(database)
    results = await asyncio.gather(
        *(service.propose_nearest(i, RABAT[0], RABAT[1], NOW) for i in incident_ids)
    )
    won = [r for r in results if r is not None]
    assert len(won) == 3 and results.count(None) == 9
    assert sorted(r.candidate.unit_id for r in won) == sorted(fleet)
    async with database.engine.connect() as conn:
        live = await conn.run_sync(unit_store.live_assignments)
    assert len(live) == 3
    assert max(Counter(a["unit_id"] for a in live).values()) == 1
    assert len({a["incident_id"] for a in live}) == 3
    assert set((await _states(database)).values()) == {"proposed"}


async def test_an_acknowledgement_dispatches_the_unit_and_a_second_answer_is_refused(
    database: Database,
) -> None:
    (unit,) = await _fleet(database, 200)
    incident = await database.write(_incident)
    service = DispatchService(database)
    proposed = await service.propose_nearest(incident, *RABAT, NOW)
    assert proposed is not None and proposed.deadline == NOW + timedelta(seconds=30)
    answer = await service.acknowledge(proposed.assignment_id, "amina", NOW + timedelta(seconds=5))
    assert answer.ok and answer.assignment is not None
    assert (answer.assignment["state"], answer.assignment["by"]) == ("acknowledged", "amina")
    assert (await _states(database))[unit] == "dispatched"
    again = await service.decline(proposed.assignment_id, "amina", "busy", NOW)
    assert (again.ok, again.code) == (False, "assignment-not-proposed")
    missing = await service.acknowledge("nope", "amina", NOW)
    assert missing.code == "no-such-assignment"


async def test_a_decline_frees_the_unit_and_the_next_proposal_skips_it(
    database: Database,
) -> None:
    near, far = await _fleet(database, 100, 2000)
    incident = await database.write(_incident)
    service = DispatchService(database)
    first = await service.propose_nearest(incident, *RABAT, NOW)
    assert first is not None and first.candidate.unit_id == near
    answer = await service.decline(first.assignment_id, "amina", " flat tyre ", NOW)
    assert answer.ok and answer.assignment is not None
    assert (answer.assignment["state"], answer.assignment["reason"]) == ("declined", "flat tyre")
    assert (await _states(database))[near] == "available"
    second = await service.propose_nearest(incident, *RABAT, NOW)
    assert second is not None and second.candidate.unit_id == far
    assert await service.propose_nearest(incident, *RABAT, NOW) is None  # both asked


async def test_an_expired_proposal_frees_the_unit_refuses_the_late_ack_and_asks_the_next(
    database: Database,
) -> None:
    near, far = await _fleet(database, 100, 2000)
    incident = await database.write(lambda conn: _incident(conn, RABAT))
    service = DispatchService(database)
    first = await service.propose_nearest(incident, *RABAT, NOW)
    assert first is not None and first.candidate.unit_id == near
    assert await service.expire_and_repropose(NOW + timedelta(seconds=29)) == []
    later = NOW + timedelta(seconds=30)
    (outcome,) = await service.expire_and_repropose(later)
    assert (outcome.released.assignment_id, outcome.released.unit_id) == (first.assignment_id, near)
    assert outcome.proposed is not None and outcome.proposed.candidate.unit_id == far
    late = await service.acknowledge(first.assignment_id, "amina", later)
    assert (late.ok, late.code) == (False, "assignment-expired")
    assert await _states(database) == {near: "available", far: "proposed"}


async def test_a_position_is_stored_only_when_valid_and_newer_than_the_stored_one(
    database: Database,
) -> None:
    (unit,) = await _fleet(database, 100)

    async def report(lat: float, at: datetime) -> unit_store.PositionResult:
        fix = UnitFix(lat, -6.84, at, 8.0)
        return await database.write(lambda conn: unit_store.record_position(conn, unit, fix, NOW))

    assert (await report(34.03, NOW + timedelta(seconds=10))).stored
    assert (await report(34.04, NOW + timedelta(seconds=5))).reason == "not-newer-than-current"
    assert (await report(34.04, NOW + timedelta(seconds=120))).reason == "time-in-future"
    assert (await report(float("nan"), NOW + timedelta(seconds=20))).reason == (
        "coordinates-not-finite"
    )
    async with database.engine.connect() as conn:
        stored = await conn.run_sync(unit_store.get_unit, unit)
    assert stored is not None and stored.position is not None
    assert (stored.position.lat, stored.position.at) == (34.03, NOW + timedelta(seconds=10))


async def _imported(url: str) -> dict[str, tuple[str, str, list[str], float | None]]:
    database = open_database(url)
    try:
        async with database.engine.connect() as conn:
            rows = await conn.execute(select(units))
            return {r.call_sign: (r.vehicle, r.state, r.capabilities, r.latitude) for r in rows}
    finally:
        await database.close()


def test_the_cli_imports_valid_units_reports_bad_rows_and_a_reimport_updates(
    database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(units_group, ["import", str(SAMPLE), "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "read 7, new 4, updated 0, skipped 3 (call_sign 1, position 1, vehicle 1)" in (
        result.output
    )
    found = asyncio.run(_imported(database_url))
    assert found["Rabat-C03"] == ("car", "out_of_service", ["breathalyser", "first_aid"], 34.0)
    assert found["Sale-C07"][3] is None
    changed = tmp_path / "units.json"
    changed.write_text('[{"call_sign": "Rabat-C03", "vehicle": "motorbike", "home_room": "rabat",'
                       ' "capabilities": ["first_aid"], "lat": 35.0, "lon": -6.0}]')  # fmt: skip
    again = runner.invoke(units_group, ["import", str(changed), "--on-duty",
                                        "--database-url", database_url])  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "new 0, updated 1" in again.output
    after = asyncio.run(_imported(database_url))
    assert after["Rabat-C03"] == ("motorbike", "available", ["first_aid"], 34.0)  # fix kept
    assert len(after) == 4
    empty = tmp_path / "empty.csv"
    empty.write_text("call_sign,vehicle,home_room,capabilities,lat,lon\n")
    failed = runner.invoke(units_group, ["import", str(empty), "--database-url", database_url])
    assert failed.exit_code == 2
