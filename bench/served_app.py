"""The real application served on a local port for the in-process benchmarks."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

from aiohttp import web

from gateway.app import create_app
from gateway.asterisk.ami_protocol import AmiMessage
from gateway.auth.http import USERS_KEY
from gateway.keys import OPERATORS_KEY
from gateway.services.operators import facts_of
from gateway.settings import Settings

PASSWORD = "Bench-password-2026"


@dataclass
class Served:
    app: web.Application
    base: str
    settings: Settings
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


async def serve(settings: Settings | None = None) -> Served:
    """`create_app` on 127.0.0.1 (a free port), a fresh SQLite file unless settings say."""
    if settings is None:
        folder = tempfile.mkdtemp(prefix="l19-bench-")
        settings = Settings(database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
                            agi_port=0, http_port=0, ami_enabled=False)  # fmt: skip
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return Served(app, f"http://127.0.0.1:{port}", settings, runner)


async def ready_operators(app: web.Application, count: int, room: str = "rabat") -> None:
    """`count` operator accounts op0… on endpoints op-0…, each a ready member of `room`."""
    for n in range(count):
        await app[USERS_KEY].add(f"op{n}", role="operator", password=PASSWORD,
                                 endpoint=f"op-{n}", room=room)  # fmt: skip
        member = AmiMessage((("Event", "QueueMember"), ("Queue", room),
                             ("Location", f"PJSIP/op-{n}"), ("Status", "1")))  # fmt: skip
        app[OPERATORS_KEY]._set(f"op-{n}", facts_of(member))
