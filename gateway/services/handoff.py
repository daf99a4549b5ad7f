"""A call Twilio took in (and ran through its IVR) handed over to Asterisk's queue.

The Twilio webhooks recorded the call and decided its room and priority. When Twilio dials
Asterisk with the call's id in a header, the FastAGI `handoff` script links the new
Asterisk channel to that record: the queue events of the channel then land on the same call
and no second call or incident is created. The room and priority come from the record, not
from the headers (which only serve when the gateway cannot answer: the dialplan's fail-open).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from sqlalchemy import Connection

from dispatch_core.calls import TimelineKind
from gateway.persistence import call_store as store
from gateway.persistence.db import Database
from gateway.services.intake import IntakeResult

logger = logging.getLogger(__name__)

_CALL_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class HandoffService:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def link(self, call_id: str, uniqueid: str, channel: str | None) -> IntakeResult | None:
        """The call's room and priority, with `uniqueid` now leading to it; None when
        `call_id` is not a call Twilio took in (the caller then gets a fresh intake)."""
        if not _CALL_ID.match(call_id):
            return None
        at = datetime.now(UTC)
        return await self._db.write(lambda conn: self._link(conn, call_id, uniqueid, channel, at))

    @staticmethod
    def _link(
        conn: Connection, call_id: str, uniqueid: str, channel: str | None, at: datetime
    ) -> IntakeResult | None:
        call = store.call_by_id(conn, call_id)
        if call is None or call.source != "twilio":
            return None
        new = store.link_call(conn, call.id, "asterisk", uniqueid)
        store.add_event(conn, {
            "call_id": call.id, "kind": TimelineKind.HANDED_OFF.value, "at": at,
            "source": "agi", "dedupe_key": f"handoff:{uniqueid}",
            "details": {"uniqueid": uniqueid, "channel": channel, "room": call.room},
        })  # fmt: skip
        if new:
            logger.info("call %s: handed to Asterisk as %s (%s)", call.id, uniqueid, call.room)
        incident = store.incident_of(conn, call.id)
        reasons = tuple(call.priority_reasons or ())
        return IntakeResult(call.id, incident, call.room, call.priority, reasons, created=new)
