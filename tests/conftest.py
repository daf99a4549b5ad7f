"""Shared fixtures: a fresh database per test, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from gateway.persistence.db import Database, migrate, open_database

PG_ADMIN_URL = os.environ.get(
    "LINE19_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    try:
        conn = await asyncpg.connect(_dsn(PG_ADMIN_URL), timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:  # fail loudly: never skip
        pytest.fail(f"PostgreSQL is required at {PG_ADMIN_URL} and did not answer: {exc}")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database() -> str:
    name = f"line19_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'line19.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await migrate(database_url)
    db = open_database(database_url)
    try:
        yield db
    finally:
        await db.close()
