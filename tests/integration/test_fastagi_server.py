"""The FastAGI server's socket layer, driven over real TCP with recorded Asterisk lines.

This proves the protocol handling and the budget; the real Asterisk proves the feature in
tests/e2e.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from gateway.asterisk import dialplan
from gateway.asterisk.fastagi import AgiRoute, FastAgiServer
from gateway.asterisk.intake import IntakeScript
from gateway.persistence.db import Database
from gateway.persistence.models import CallRow
from gateway.services.intake import IntakeService
from gateway.settings import Settings


def environment(uniqueid: str, script: str = "intake", name: bytes = b"Amina") -> bytes:
    lines = [
        b"agi_network: yes",
        b"agi_network_script: " + script.encode(),
        b"agi_request: agi://127.0.0.1:4573/" + script.encode(),
        b"agi_channel: PJSIP/maroc-telecom-00000007",
        b"agi_language: en",
        b"agi_type: PJSIP",
        b"agi_uniqueid: " + uniqueid.encode(),
        b"agi_version: 22.10.1",
        b"agi_callerid: 0612345678",
        b"agi_calleridname: " + name,
        b"agi_callingpres: 0",
        b"agi_callingani2: 0",
        b"agi_callington: 0",
        b"agi_callingtns: 0",
        b"agi_dnid: 19",
        b"agi_rdnis: unknown",
        b"agi_context: from-carriers",
        b"agi_extension: 19",
        b"agi_priority: 6",
        b"agi_enhanced: 0.0",
        b"agi_accountcode: ",
        b"agi_threadid: 140000000000000",
    ]
    return b"\n".join(lines) + b"\n\n"


@pytest.fixture
async def server(database: Database) -> AsyncIterator[FastAgiServer]:
    intake = IntakeScript(IntakeService(database, Settings()))
    agi = FastAgiServer({dialplan.INTAKE_SCRIPT: AgiRoute(intake, 1.0)}, "127.0.0.1", 0)
    await agi.start()
    yield agi
    await agi.close()


async def _calls(database: Database) -> int:
    async with database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(CallRow))).scalar_one())


async def _answer_facts(reader: asyncio.StreamReader, facts: str) -> tuple[str, bytes]:
    """Read GET FULL VARIABLE and answer it as Asterisk would: the token echoed, then facts."""
    command = (await reader.readline()).decode().rstrip("\n")
    token = command.removeprefix('GET FULL VARIABLE "').split("|", 1)[0]
    return command, f"200 result=1 ({token}|{facts})\n".encode()


async def test_the_intake_reads_trusted_facts_records_the_call_and_sets_the_queue_variables(
    server: FastAgiServer,
    database: Database,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(environment("1763776000.42"))
    first, answer = await _answer_facts(reader, "maroc-telecom|1763776000.42|sale|Maroc Telecom")
    writer.write(answer)
    command = (await reader.readline()).decode().rstrip("\n")
    writer.write(b"200 result=1\n")
    assert await reader.read() == b""  # the gateway ends the AGI session itself
    writer.close()
    assert first.startswith('GET FULL VARIABLE "')
    assert first.endswith(f'|{dialplan.TRUSTED_FACTS}"')
    assert command.startswith('SET VARIABLE "L19_INTAKE" "sale:1:')  # room:priority:incident
    async with database.sessions() as session:
        call = (await session.execute(select(CallRow))).scalar_one()
    assert (call.external_id, call.trunk, call.room) == ("1763776000.42", "maroc-telecom", "sale")


async def test_facts_that_do_not_echo_our_token_are_refused_and_nothing_is_recorded(
    server: FastAgiServer,
    database: Database,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(environment("1763776000.46"))
    await reader.readline()
    writer.write(b"200 result=1 (forged|maroc-telecom|1763776000.46|sale|Maroc Telecom)\n")
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    assert await _calls(database) == 0


async def test_a_blank_line_injected_in_the_caller_name_desynchronises_nothing_into_the_db(
    server: FastAgiServer,
    database: Database,
) -> None:
    forged = b"x\n\nagi_callingpres: 0"  # ends the environment early, leaves lines behind
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(environment("1763776000.43", name=forged))
    await reader.readline()  # GET FULL VARIABLE: Asterisk would answer after the env; the
    # stream already holds the left-over environment lines, which the gateway reads instead.
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    assert await _calls(database) == 0


async def test_an_asterisk_that_never_answers_is_dropped_after_the_budget(
    server: FastAgiServer,
    database: Database,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(environment("1763776000.44"))
    await reader.readline()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await asyncio.wait_for(reader.read(), 3) == b""
    assert loop.time() - started < 2.0
    writer.close()
    assert await _calls(database) == 0


async def test_an_unknown_agi_script_is_left_to_the_dialplan(
    server: FastAgiServer,
    database: Database,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(environment("1763776000.45", script="evil"))
    assert await asyncio.wait_for(reader.read(), 2) == b""
    writer.close()
    assert await _calls(database) == 0
