"""AMI client: login, reconnect with backoff, events handed to the application in order.

The wire format is parsed by the pure `ami_protocol` module; this is the socket layer.
Every connect, disconnect and reconnect is logged with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from gateway.asterisk.ami_protocol import AmiMessage, AmiParser, format_action

logger = logging.getLogger(__name__)

EventHandler = Callable[[AmiMessage], Awaitable[None]]
ConnectedHandler = Callable[[], Coroutine[Any, Any, None]]


class AmiError(Exception):
    pass


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        secret: str,
        on_event: EventHandler,
        *,
        reconnect_max_s: float = 15.0,
        event_mask: str = "agent",
        backlog: int = 20000,
    ) -> None:
        self._host, self._port, self._user, self._secret = host, port, user, secret
        self._on_event = on_event
        self._reconnect_max = reconnect_max_s
        self._event_mask = event_mask
        self._events: asyncio.Queue[AmiMessage] = asyncio.Queue(maxsize=backlog)
        self._pending: dict[str, asyncio.Future[AmiMessage]] = {}
        # Actions answered by a list of events (QueueStatus): collected by ActionID.
        self._lists: dict[str, tuple[str, list[AmiMessage], asyncio.Future[None]]] = {}
        self._ids = itertools.count(1)
        self._writer: asyncio.StreamWriter | None = None
        self._connected = asyncio.Event()
        self.on_connected: list[ConnectedHandler] = []
        self._hooks: set[asyncio.Task[None]] = set()
        self.dropped_events = 0

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._connected.wait()
        return self.connected

    async def run(self) -> None:
        """Keep a session up for ever; cancel the task to stop."""
        consumer = asyncio.create_task(self._consume(), name="ami-events")
        delay = 0.5
        try:
            while True:
                try:
                    await self._session()
                    reason = "connection closed by Asterisk"
                    delay = 0.5
                except (OSError, asyncio.IncompleteReadError, AmiError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                finally:
                    self._disconnected()
                wait = min(delay, self._reconnect_max) * random.uniform(0.8, 1.2)
                logger.warning(
                    "AMI %s:%s down (%s); retry in %.1fs", self._host, self._port, reason, wait
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, self._reconnect_max)
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer

    async def send_action(
        self, name: str, fields: dict[str, str] | None = None, timeout_s: float = 5.0
    ) -> AmiMessage:
        if self._writer is None or not self.connected:
            raise AmiError("AMI is not connected")
        return await self._request(self._writer, name, fields or {}, timeout_s)

    async def send_list_action(
        self, name: str, fields: dict[str, str], complete_event: str, timeout_s: float = 10.0
    ) -> list[AmiMessage]:
        """An action whose answer is a list of events ending with `complete_event`
        (QueueStatus → QueueParams, QueueMember…, QueueStatusComplete): those events, in order.

        The events carry our ActionID, so they never mix with the live event stream."""
        if self._writer is None or not self.connected:
            raise AmiError("AMI is not connected")
        action_id = f"l19-{next(self._ids)}"
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        collected: list[AmiMessage] = []
        self._lists[action_id] = (complete_event.lower(), collected, done)
        try:
            self._writer.write(format_action(name, fields, action_id))
            await self._writer.drain()
            async with asyncio.timeout(timeout_s):
                await done
            return collected
        except TimeoutError as exc:
            raise AmiError(f"{name}: no {complete_event} within {timeout_s}s") from exc
        finally:
            self._lists.pop(action_id, None)

    async def _request(
        self, writer: asyncio.StreamWriter, name: str, fields: dict[str, str], timeout_s: float
    ) -> AmiMessage:
        action_id = f"l19-{next(self._ids)}"
        future: asyncio.Future[AmiMessage] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        try:
            writer.write(format_action(name, fields, action_id))
            await writer.drain()
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError as exc:
            raise AmiError(f"no answer to {name} within {timeout_s}s") from exc
        finally:
            self._pending.pop(action_id, None)

    async def _session(self) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self._host, self._port), timeout=5
        )
        self._writer = writer
        parser = AmiParser()
        reading = asyncio.create_task(self._read(reader, parser), name="ami-reader")
        try:
            login = await self._request(
                writer,
                "Login",
                {"Username": self._user, "Secret": self._secret, "Events": self._event_mask},
                timeout_s=5,
            )
            if (login.get("Response") or "").lower() != "success":
                raise AmiError(f"login refused: {login.get('Message')}")
            logger.info("AMI connected to %s:%s (%s)", self._host, self._port, parser.banner)
            self._connected.set()
            for hook in self.on_connected:
                task = asyncio.create_task(hook(), name="ami-on-connected")
                self._hooks.add(task)
                task.add_done_callback(self._hooks.discard)
            await reading
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader, parser: AmiParser) -> None:
        while chunk := await reader.read(65536):
            for message in parser.feed(chunk):
                self._dispatch(message)
            for error in parser.take_errors():
                logger.warning("AMI input dropped: %s", error)

    def _dispatch(self, message: AmiMessage) -> None:
        action_id = message.action_id
        if message.kind == "response" and action_id in self._pending:
            future = self._pending[action_id]
            if not future.done():
                future.set_result(message)
            return
        if action_id in self._lists:
            complete, collected, done = self._lists[action_id]
            if message.kind == "response":
                if (message.get("Response") or "").lower() == "error" and not done.done():
                    done.set_exception(AmiError(f"refused: {message.get('Message')}"))
                return
            if (message.name or "").lower() == complete:
                if not done.done():
                    done.set_result(None)
            else:
                collected.append(message)
            return
        if message.kind != "event":
            return
        try:
            self._events.put_nowait(message)
        except asyncio.QueueFull:
            # queue_log reconciliation records what the live path had to drop.
            self.dropped_events += 1
            if self.dropped_events % 1000 == 1:
                logger.error("AMI event backlog full: %d events dropped", self.dropped_events)

    def _disconnected(self) -> None:
        if self._connected.is_set():
            logger.warning("AMI disconnected from %s:%s", self._host, self._port)
        self._connected.clear()
        self._writer = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(AmiError("AMI connection lost"))
        for _, _, done in self._lists.values():
            if not done.done():
                done.set_exception(AmiError("AMI connection lost"))

    async def _consume(self) -> None:
        while True:
            message = await self._events.get()
            try:
                await self._on_event(message)
            except Exception:
                logger.exception("AMI event %s could not be handled", message.name)
