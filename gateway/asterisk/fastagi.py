"""FastAGI server: a thin asyncio socket layer around the pure parsers.

Every connection is bounded by the intake budget; whatever happens (timeout, protocol
error, crash in a handler) the socket is closed and the dialplan's fail-open path queues
the caller. Nothing here can strand a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gateway.asterisk.agi_env import AgiEnvironment, AgiEnvironmentError, AgiEnvironmentReader
from gateway.asterisk.agi_protocol import (
    AgiProtocolError,
    AgiResponse,
    format_command,
    is_usage_end,
    parse_response,
)

logger = logging.getLogger(__name__)

STREAM_LIMIT = 8192
# Asterisk sends the environment at once; a peer that does not is not Asterisk.
ENVIRONMENT_BUDGET_S = 1.0


class ChannelHungUp(Exception):
    """Asterisk told us the channel is gone."""


class AgiSession:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, env: AgiEnvironment
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.env = env

    async def command(self, name: str, *args: str) -> AgiResponse:
        self._writer.write(format_command(name, *args))
        await self._writer.drain()
        line = (await self._reader.readuntil(b"\n")).rstrip(b"\r\n")
        response = parse_response(line)
        if response.dead:
            raise ChannelHungUp(self.env.uniqueid)
        if response.usage_follows:  # 520 with usage text, ends with "520 End of proper usage."
            while not is_usage_end(await self._reader.readuntil(b"\n")):
                pass
        if response.code != 200:
            raise AgiProtocolError(f"{name} refused: {line[:120]!r}")
        return response

    async def get_full_variable(self, expression: str) -> str | None:
        return (await self.command("GET FULL VARIABLE", expression)).value

    async def get_variable(self, name: str) -> str | None:
        return (await self.command("GET VARIABLE", name)).value

    async def set_variable(self, name: str, value: str) -> None:
        await self.command("SET VARIABLE", name, value)

    async def execute(self, application: str, options: str) -> AgiResponse:
        return await self.command("EXEC", application, options)


AgiHandler = Callable[[AgiSession], Awaitable[None]]


@dataclass(frozen=True)
class AgiRoute:
    """A FastAGI script and how long one run of it may take (the environment read included)."""

    handler: AgiHandler
    budget_s: float


async def read_environment(reader: asyncio.StreamReader) -> AgiEnvironment:
    """Asterisk sends the whole environment at once: read it to its blank line in one go."""
    env_reader = AgiEnvironmentReader()
    block = await reader.readuntil(b"\n\n")
    for line in block[:-1].split(b"\n"):
        if env_reader.feed_line(line):
            break
    return env_reader.result()


class FastAgiServer:
    def __init__(self, routes: Mapping[str, AgiRoute], host: str, port: int) -> None:
        self._routes = dict(routes)
        self._host = host
        self._port = port
        self._longest = max((route.budget_s for route in routes.values()), default=1.0)
        self._server: asyncio.Server | None = None
        self._active: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self._host, self._port, limit=STREAM_LIMIT, reuse_address=True
        )
        logger.info("FastAGI listening on %s:%s", self._host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._active:  # let calls in progress finish within their budget
            await asyncio.wait(self._active, timeout=self._longest)
        logger.info("FastAGI stopped")

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._active.add(task)
        uniqueid, script, budget = "?", "?", ENVIRONMENT_BUDGET_S
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(budget) as deadline:
                env = await read_environment(reader)
                uniqueid, script = env.uniqueid or "?", env.network_script or ""
                route = self._routes.get(script)
                if route is None:
                    logger.warning(
                        "AGI script %r unknown (call %s): left to the dialplan", script, uniqueid
                    )
                    return
                budget = route.budget_s
                deadline.reschedule(loop.time() + budget)
                await route.handler(AgiSession(reader, writer, env))
        except TimeoutError:
            logger.error("AGI %s of call %s over its %.1fs budget: the dialplan goes on",
                         script, uniqueid, budget)  # fmt: skip
        except ChannelHungUp:
            logger.info("AGI %s of call %s: the caller hung up", script, uniqueid)
        except (AgiProtocolError, AgiEnvironmentError, ValueError) as exc:
            logger.warning("AGI %s of call %s: bad protocol input (%s)", script, uniqueid, exc)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            logger.warning("AGI %s of call %s: connection lost (%r)", script, uniqueid, exc)
        except Exception:
            logger.exception("AGI %s of call %s crashed: the dialplan goes on", script, uniqueid)
        finally:
            self._active.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
