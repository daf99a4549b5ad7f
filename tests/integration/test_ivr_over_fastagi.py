"""The IVR script over the FastAGI socket layer, with recorded call data in the database.

A scripted peer speaks Asterisk's side of AGI; the real Asterisk with RFC 2833 DTMF from
sipp proves the feature in tests/e2e/test_ivr.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from gateway.asterisk import dialplan
from gateway.asterisk.fastagi import AgiRoute, FastAgiServer
from gateway.asterisk.ivr_script import IvrScript
from gateway.persistence.db import Database
from gateway.persistence.models import CallRow, IncidentRow
from gateway.services.intake import IntakeRequest, IntakeService
from gateway.services.ivr import IvrService
from gateway.settings import Settings
from ivr.flow import IntakeFlow
from tests.integration.test_fastagi_server import environment


@pytest.fixture
async def server(database: Database) -> AsyncIterator[FastAgiServer]:
    script = IvrScript(IvrService(database), IntakeFlow())
    agi = FastAgiServer({dialplan.IVR_SCRIPT: AgiRoute(script, 5.0)}, "127.0.0.1", 0)
    await agi.start()
    yield agi
    await agi.close()


async def run_ivr(server: FastAgiServer, uniqueid: str, keys: list[str]) -> list[str]:
    """Play Asterisk's side: every command succeeds; each Read() gets the next key."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(environment(uniqueid, script="ivr"))
    commands: list[str] = []
    pending = list(keys)
    while line := await reader.readline():
        command = line.decode().rstrip("\n")
        commands.append(command)
        if command == f'GET VARIABLE "{dialplan.KEY}"':
            key = pending.pop(0) if pending else ""
            writer.write(f"200 result=1 ({key})\n".encode() if key else b"200 result=0\n")
        else:
            writer.write(b"200 result=1\n")
        await writer.drain()
    writer.close()
    return commands


async def take_call(database: Database, uniqueid: str) -> None:
    await IntakeService(database, Settings()).take_call(
        IntakeRequest(external_id=uniqueid, caller_raw="0612345678", default_room="rabat")
    )


async def _call(database: Database) -> CallRow:
    async with database.sessions() as session:
        return (await session.execute(select(CallRow))).scalar_one()


async def test_a_caller_who_presses_2_is_queued_in_french_and_the_call_says_so(
    server: FastAgiServer, database: Database
) -> None:
    await take_call(database, "1795313145.7")
    commands = await run_ivr(server, "1795313145.7", ["2"])
    assert any(c.startswith('EXEC "Read" "L19_KEY,ar/line19-welcome&') for c in commands)
    assert 'SET VARIABLE "CHANNEL(language)" "fr"' in commands
    assert commands[-4:] == [
        'SET VARIABLE "L19_LANG" "fr"',
        'SET VARIABLE "L19_SILENT" "0"',
        'SET VARIABLE "L19_PRIO" "1"',
        'SET VARIABLE "L19_IVR_DONE" "1"',
    ]
    call = await _call(database)
    assert (call.language, call.silent, call.no_input, call.priority) == ("fr", False, False, 1)


async def test_a_caller_who_presses_5_is_marked_silent_and_moves_ahead(
    server: FastAgiServer, database: Database
) -> None:
    await take_call(database, "1795313145.8")
    commands = await run_ivr(server, "1795313145.8", ["5"])
    call = await _call(database)
    assert call.silent and call.priority == 10 and "silent-caller" in call.priority_reasons
    assert 'SET VARIABLE "L19_PRIO" "10"' in commands
    async with database.sessions() as session:
        incident = (await session.execute(select(IncidentRow))).scalar_one()
    assert incident.priority == 10


async def test_a_caller_who_presses_nothing_is_queued_in_the_default_language_as_no_input(
    server: FastAgiServer, database: Database
) -> None:
    await take_call(database, "1795313145.9")
    commands = await run_ivr(server, "1795313145.9", [])
    reads = [c for c in commands if c.startswith('EXEC "Read"')]
    assert len(reads) == 2 and "line19-silent_check" in reads[1]  # menu, then "press 5"
    call = await _call(database)
    assert (call.language, call.no_input, call.silent) == ("ar", True, False)
    assert "no-input" in call.priority_reasons


async def test_an_ivr_for_a_call_never_taken_in_sets_nothing_and_leaves_it_to_the_dialplan(
    server: FastAgiServer, database: Database
) -> None:
    commands = await run_ivr(server, "1795313145.10", ["2"])
    assert 'SET VARIABLE "L19_IVR_DONE" "1"' not in commands


async def test_a_caller_who_hangs_up_during_the_ivr_is_recorded_as_abandoned_there(
    server: FastAgiServer, database: Database
) -> None:
    await take_call(database, "1795313145.11")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(environment("1795313145.11", script="ivr"))
    await reader.readline()  # the first command: the caller hangs up instead
    writer.write(b"HANGUP\n")
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    call = await _call(database)
    assert call.status == "abandoned" and call.ended_at is not None
