"""Calls recorded from Asterisk's queue_log: fail-open calls and the queue timeline."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gateway.asterisk.queue_log_follower import QueueLogFollower
from gateway.persistence import calls as repo
from gateway.persistence.db import Database
from gateway.persistence.models import CallRow, IncidentRow
from gateway.services.intake import IntakeService
from gateway.services.timeline import TimelineService
from gateway.settings import Settings

FAILOPEN_CALL = [
    "1763776000|1763775999.7|sale|NONE|L19FAILOPEN|orange|1763775999.7|Orange|0661234567|Amina",
    "1763776000|1763775999.7|sale|NONE|ENTERQUEUE||0661234567|1",
    "1763776004|1763775999.7|sale|PJSIP/op-sale-1|CONNECT|4|1763776000.9|3",
    "1763776034|1763775999.7|sale|PJSIP/op-sale-1|COMPLETECALLER|4|30|1",
]


def _follower(database: Database, path: Path) -> QueueLogFollower:
    settings = Settings()
    return QueueLogFollower(
        path,
        database,
        IntakeService(database, settings),
        TimelineService(database, "MA"),
        poll_s=0.05,
    )


async def _call(database: Database, uniqueid: str) -> CallRow:
    async with database.sessions() as session:
        call = await repo.find_call(session, "asterisk", uniqueid)
    assert call is not None
    return call


async def test_a_call_queued_while_the_gateway_was_down_is_recorded_with_its_timeline(
    database: Database,
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue_log"
    path.write_text("\n".join(FAILOPEN_CALL) + "\n")
    assert await _follower(database, path).poll_once() == 4
    call = await _call(database, "1763775999.7")
    assert call.intake == "failed_open" and call.status == "completed"
    assert (call.trunk, call.carrier, call.room) == ("orange", "Orange", "sale")
    assert call.caller_e164 == "+212661234567" and call.caller_name == "Amina"
    assert (call.operator, call.hold_time_s, call.talk_time_s) == ("PJSIP/op-sale-1", 4.0, 30.0)
    async with database.sessions() as session:
        kinds = [e.kind for e in await repo.timeline(session, call.id)]
        incidents = (await session.execute(select(IncidentRow))).scalars().all()
    assert kinds == ["failed_open", "queued", "answered", "completed"]
    assert len(incidents) == 1


async def test_the_follower_resumes_where_it_stopped_and_replays_nothing_twice(
    database: Database,
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue_log"
    path.write_text("\n".join(FAILOPEN_CALL[:2]) + "\n" + FAILOPEN_CALL[2][:20])  # partial line
    assert await _follower(database, path).poll_once() == 2
    with path.open("a") as handle:
        handle.write(FAILOPEN_CALL[2][20:] + "\n" + FAILOPEN_CALL[3] + "\n")
    restarted = _follower(database, path)  # a new process: the position comes from the database
    assert await restarted.poll_once() == 2
    assert await restarted.poll_once() == 0
    call = await _call(database, "1763775999.7")
    async with database.sessions() as session:
        kinds = [e.kind for e in await repo.timeline(session, call.id)]
    assert kinds == ["failed_open", "queued", "answered", "completed"]


async def test_a_rotated_queue_log_is_read_from_its_start(
    database: Database,
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue_log"
    path.write_text("\n".join(FAILOPEN_CALL) + "\n")
    follower = _follower(database, path)
    await follower.poll_once()
    path.rename(tmp_path / "queue_log.1")
    path.write_text(
        "1763777000|1763776999.1|rabat|NONE|L19FAILOPEN|inwi|1763776999.1|inwi|anonymous|\n"
    )
    assert await follower.poll_once() == 1
    assert (await _call(database, "1763776999.1")).caller_status == "withheld"


async def test_garbage_lines_are_skipped_and_the_rest_is_applied(
    database: Database,
    tmp_path: Path,
) -> None:
    path = tmp_path / "queue_log"
    path.write_text("not a queue_log line\n\x00\x01|||\n" + "\n".join(FAILOPEN_CALL) + "\n")
    await _follower(database, path).poll_once()
    assert (await _call(database, "1763775999.7")).status == "completed"
