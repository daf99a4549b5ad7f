"""The FastAGI `intake` script: what Asterisk runs for every call to 19."""

from __future__ import annotations

import logging
import re
import secrets

from gateway.asterisk import dialplan
from gateway.asterisk.agi_protocol import AgiProtocolError
from gateway.asterisk.fastagi import AgiSession
from gateway.location.asterisk_geo import decode_handover, parse_geo_profile
from gateway.location.parsed import LocationParseError
from gateway.services.intake import IntakeRequest, IntakeService
from gateway.services.invite_location import InviteLocator

logger = logging.getLogger(__name__)

_ASTERISK_ID = re.compile(r"^[0-9A-Za-z._-]{1,64}$")


def checked_id(value: str | None, what: str) -> str:
    if value is None or not _ASTERISK_ID.match(value):
        raise AgiProtocolError(f"{what} is not an Asterisk id: {value!r}")
    return value


def invite_position(handover: str) -> tuple[float, float] | None:
    """The (lat, lon) of a PIDF-LO by value on the INVITE, to choose the room at once; the
    full record of every fix is made after the intake (services/invite_location.py)."""
    if not handover:
        return None
    try:
        fix = parse_geo_profile(decode_handover(handover))
    except LocationParseError:
        return None
    if fix is None or fix.latitude is None or fix.longitude is None:
        return None
    return fix.latitude, fix.longitude


class IntakeScript:
    def __init__(self, intake: IntakeService, locator: InviteLocator | None = None) -> None:
        self._intake = intake
        self._locator = locator

    async def __call__(self, session: AgiSession) -> None:
        env = session.env
        uniqueid = checked_id(env.uniqueid, "agi_uniqueid")
        if not env.complete:
            raise AgiProtocolError(f"incomplete AGI environment: {env.anomalies}")
        if env.tampered or env.anomalies:
            logger.warning("call %s: AGI environment anomalies: %s", uniqueid, env.anomalies)
        # The random token proves the answer comes from Asterisk, not from lines a caller
        # managed to inject into the environment (see docs/decisions.md, D2).
        token = secrets.token_hex(8)
        answer = await session.get_full_variable(f"{token}|{dialplan.TRUSTED_FACTS}")
        # The location (last) is base64 fields joined by "|": everything after the 5th "|".
        fields = (answer or "").split("|", 5)
        if fields[0] != token or len(fields) not in (5, 6):
            raise AgiProtocolError("the channel facts did not come back with our token")
        trunk, linkedid, default_room, carrier = fields[1:5]
        location = fields[5] if len(fields) == 6 else ""
        name = env.calleridname
        result = await self._intake.take_call(
            IntakeRequest(
                external_id=uniqueid,
                linkedid=checked_id(linkedid, "linkedid") if linkedid else None,
                channel=env.channel,
                trunk=trunk or None,
                carrier=carrier or None,
                default_room=default_room or None,
                caller_raw=env.callerid,
                caller_name=None if name in (None, "unknown") else name,
                location=invite_position(location),
            )
        )
        answer = f"{result.room}:{result.priority}:{result.incident_id}"
        await session.set_variable(dialplan.INTAKE_RESULT, answer)
        caller = result.caller
        fixed_line = caller is not None and caller.number_type == "fixed_line"
        if self._locator is not None and result.created and (location or fixed_line):
            self._locator.schedule(result.call_id, location, caller)
