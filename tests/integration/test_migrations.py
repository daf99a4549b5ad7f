"""Migration stairway: every revision upgrades, downgrades and upgrades again (both databases)."""

from __future__ import annotations

import asyncio

from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.persistence.db import alembic_config, downgrade, upgrade


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_every_migration_upgrades_downgrades_and_upgrades_again(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    revisions = list(reversed(list(script.walk_revisions())))
    for revision in revisions:
        upgrade(database_url, revision.revision)
        downgrade(database_url, revision.down_revision or "base")
        upgrade(database_url, revision.revision)
    tables = asyncio.run(_tables(database_url))
    assert {"calls", "call_events", "incidents", "cursors"} <= tables
    downgrade(database_url, "base")
    assert asyncio.run(_tables(database_url)) <= {"alembic_version"}
