"""Migration stairway: every revision upgrades, downgrades and upgrades again (both databases)."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.persistence.db import alembic_config, downgrade, upgrade
from gateway.persistence.models import Base


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _drift(url: str) -> list[object]:
    """What the models declare and the migrated schema lacks (or the other way round)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
    finally:
        await engine.dispose()


def test_migrations_go_up_down_and_up_again_and_match_the_models(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    revisions = list(reversed(list(script.walk_revisions())))
    for revision in revisions:
        upgrade(database_url, revision.revision)
        downgrade(database_url, revision.down_revision or "base")
        upgrade(database_url, revision.revision)
    tables = asyncio.run(_tables(database_url))
    expected = {"calls", "call_events", "incidents", "cursors", "locations", "cells", "places",
                "call_links", "users", "sessions", "operator_events"}  # fmt: skip
    assert expected <= tables
    assert asyncio.run(_drift(database_url)) == []
    downgrade(database_url, "base")
    assert asyncio.run(_tables(database_url)) <= {"alembic_version"}
