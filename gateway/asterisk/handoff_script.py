"""The FastAGI `handoff` script: a call Twilio hands back to Asterisk after its IVR.

The dialplan ([from-twilio]) put the X-L19-Call header, filtered, in L19_TWILIO_CALL. When
it names a call the Twilio webhooks recorded, the channel is linked to that call and the
dialplan gets the call's room, priority and incident, exactly as from the intake. When it
names nothing we know, the call is taken in like any other (a new record): never dropped.
"""

from __future__ import annotations

import logging
import secrets

from gateway.asterisk import dialplan
from gateway.asterisk.agi_protocol import AgiProtocolError
from gateway.asterisk.fastagi import AgiSession
from gateway.asterisk.intake import IntakeScript, checked_id
from gateway.services.handoff import HandoffService

logger = logging.getLogger(__name__)


class HandoffScript:
    def __init__(self, handoff: HandoffService, intake: IntakeScript) -> None:
        self._handoff = handoff
        self._intake = intake

    async def __call__(self, session: AgiSession) -> None:
        uniqueid = checked_id(session.env.uniqueid, "agi_uniqueid")
        token = secrets.token_hex(8)
        answer = await session.get_full_variable(f"{token}|${{{dialplan.TWILIO_CALL}}}")
        fields = (answer or "").split("|")
        if fields[0] != token or len(fields) != 2:
            raise AgiProtocolError("the Twilio call id did not come back with our token")
        call_id = fields[1]
        result = await self._handoff.link(call_id, uniqueid, session.env.channel)
        if result is None:
            logger.warning(
                "call %s: Twilio hand-off names no Twilio call we know (%r): taken in anew",
                uniqueid, call_id[:64],
            )  # fmt: skip
            await self._intake(session)
            return
        answer = f"{result.room}:{result.priority}:{result.incident_id}"
        await session.set_variable(dialplan.INTAKE_RESULT, answer)
