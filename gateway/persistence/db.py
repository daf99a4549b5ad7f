"""Engine and session factory, and the migrations run at start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

T = TypeVar("T")


@dataclass
class Database:
    """The async engine (reads, PostgreSQL writes) and the write path of the call.

    `write(unit)` runs `unit(connection)` in one transaction. On PostgreSQL it runs on the
    async engine (asyncpg) through `run_sync`. On SQLite it runs on a synchronous pysqlite
    engine in one dedicated writer thread: aiosqlite hops threads for every statement,
    which cost 3.1 ms of CPU per intake against 1.25 ms for one hop per transaction
    (measured here; docs/decisions.md D6). SQLite has one writer at a time anyway.
    """

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    sync_engine: Engine | None = None
    _writer: ThreadPoolExecutor | None = field(default=None, repr=False)

    async def write(self, unit: Callable[[Connection], T]) -> T:
        if self.sync_engine is None:
            async with self.engine.begin() as conn:
                return await conn.run_sync(unit)
        assert self._writer is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._write_sync, unit)

    def _write_sync(self, unit: Callable[[Connection], T]) -> T:
        assert self.sync_engine is not None
        with self.sync_engine.begin() as conn:
            return unit(conn)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "down" for the health check
            logger.warning("database ping failed: %s", exc)
            return False
        return True

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.to_thread(self._writer.shutdown, wait=True)
        if self.sync_engine is not None:
            self.sync_engine.dispose()
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE (below) instead of the driver's
    # lazy BEGIN, so that a transaction that reads and then writes cannot fail to upgrade its
    # lock: concurrent intakes of one call queue on the lock instead of erroring.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def open_database(url: str) -> Database:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    if engine.dialect.name != "sqlite":
        return Database(engine=engine, sessions=sessions)
    sync_engine = create_engine(parsed.set(drivername="sqlite+pysqlite"))
    for target in (engine.sync_engine, sync_engine):
        event.listen(target, "connect", _sqlite_pragmas)
        event.listen(target, "begin", _sqlite_begin)
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
    return Database(engine, sessions, sync_engine, writer)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def migrate(url: str) -> None:
    """Run the migrations to head (Alembic is synchronous: off the event loop)."""
    await asyncio.to_thread(upgrade, url)
