"""The FastAGI `ivr` script: the IVR flow (ivr/) run step by step on the caller's channel.

Prompts are played and keys collected with Asterisk's Read() (one app run plays several
prompts, a key interrupts them, RFC 2833 DTMF included); what the flow learnt is recorded
on the call, then handed to the dialplan (language, silent flag, priority). Any failure
leaves the dialplan to queue the caller with the intake's priority.
"""

from __future__ import annotations

import logging
import time

from gateway.asterisk import dialplan
from gateway.asterisk.fastagi import AgiSession, ChannelHungUp
from gateway.asterisk.intake import checked_id
from gateway.services.ivr import IvrService
from ivr.catalog import Prompt
from ivr.channel import run_flow
from ivr.flow import IntakeFlow, Outcome

logger = logging.getLogger(__name__)

MIN_READ_TIMEOUT_S = 0.1  # Read() takes 0 as "the default" (several seconds): never send it


class AgiCallChannel:
    """`ivr.channel.CallChannel` over one FastAGI session."""

    def __init__(self, session: AgiSession, ivr: IvrService, uniqueid: str) -> None:
        self._session = session
        self._ivr = ivr
        self._uniqueid = uniqueid

    async def answer(self) -> None:
        """The dialplan answered before the intake."""

    async def play(self, prompt: Prompt) -> None:
        await self._session.execute("Playback", prompt.asterisk_name)

    async def gather(
        self, prompts: tuple[Prompt, ...], max_digits: int, timeout_s: float
    ) -> str | None:
        files = "&".join(prompt.asterisk_name for prompt in prompts)
        timeout = max(MIN_READ_TIMEOUT_S, timeout_s)
        await self._session.set_variable(dialplan.KEY, "")
        # Option e: "#" comes back as a key (by default Read() takes it as the terminator
        # and the flow would see no key instead of an invalid one).
        options = f"{dialplan.KEY},{files},{max_digits},e,1,{timeout:.1f}"
        await self._session.execute("Read", options)
        return await self._session.get_variable(dialplan.KEY) or None

    async def set_variable(self, name: str, value: str) -> None:
        await self._session.set_variable(name, value)

    async def hand_to_queue(self, outcome: Outcome) -> None:
        result = await self._ivr.record_outcome("asterisk", self._uniqueid, outcome)
        await self._session.set_variable(dialplan.LANGUAGE, outcome.language.value)
        await self._session.set_variable(dialplan.SILENT, "1" if outcome.silent else "0")
        await self._session.set_variable(dialplan.PRIORITY, str(result.priority))
        await self._session.set_variable(dialplan.IVR_DONE, "1")


class IvrScript:
    def __init__(self, ivr: IvrService, flow: IntakeFlow) -> None:
        self._ivr = ivr
        self._flow = flow

    async def __call__(self, session: AgiSession) -> None:
        uniqueid = checked_id(session.env.uniqueid, "agi_uniqueid")
        channel = AgiCallChannel(session, self._ivr, uniqueid)
        try:
            await run_flow(self._flow, channel, time.monotonic)
        except ChannelHungUp:
            # The caller gave up before the queue: no queue fact will ever close this call.
            await self._ivr.record_hangup("asterisk", uniqueid)
            raise
