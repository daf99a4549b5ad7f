"""Rows to wire shapes, and the opaque pagination cursor."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from gateway.http.errors import ApiError
from gateway.http.schemas import CallerOut, CallOut, LocationOut, TimelineEntryOut
from gateway.persistence.calls import utc
from gateway.persistence.models import CallEventRow, CallRow, LocationRow


def _time(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def call_out(
    row: CallRow, incident_id: str | None, events: list[CallEventRow] | None = None
) -> CallOut:
    return CallOut(
        id=row.id,
        source=row.source,
        external_id=row.external_id,
        linkedid=row.linkedid,
        channel=row.channel,
        trunk=row.trunk,
        carrier=row.carrier,
        caller=CallerOut(
            raw=row.caller_raw,
            name=row.caller_name,
            status=row.caller_status,
            e164=row.caller_e164,
            number_type=row.caller_type,
            carrier=row.caller_carrier,
            region=row.caller_region,
            country=row.caller_country,
            foreign=row.caller_foreign,
            repeat_count_24h=row.repeat_count_24h,
        ),
        room=row.room,
        language=row.language,
        silent=row.silent,
        no_input=row.no_input,
        priority=row.priority,
        priority_reasons=list(row.priority_reasons or []),
        status=row.status,
        intake=row.intake,
        operator=row.operator,
        hold_time_s=row.hold_time_s,
        talk_time_s=row.talk_time_s,
        wait_time_s=row.wait_time_s,
        incident_id=incident_id,
        received_at=utc(row.received_at),
        answered_at=_time(row.answered_at),
        ended_at=_time(row.ended_at),
        timeline=None
        if events is None
        else [
            TimelineEntryOut(kind=e.kind, at=utc(e.at), source=e.source, details=e.details)
            for e in events
        ],
    )


def location_out(row: LocationRow) -> LocationOut:
    return LocationOut(
        id=row.id, source=row.source, status=row.status, reason=row.reason,
        latitude=row.latitude, longitude=row.longitude, radius_m=row.radius_m,
        confidence_pct=row.confidence_pct, method=row.method, civic=row.civic,
        details=row.details or {}, fixed_at=_time(row.fixed_at),
        received_at=utc(row.received_at), raw=row.raw,
    )  # fmt: skip


def locations_out(
    rows: list[LocationRow], best_id: int | None
) -> tuple[list[LocationOut], LocationOut | None]:
    """Every fix, and the best one (by the call's best_location_id)."""
    out = [location_out(row) for row in rows]
    best = next((fix for fix in out if fix.id == best_id), None)
    return out, best


def encode_cursor(row: CallRow) -> str:
    raw = json.dumps([utc(row.received_at).isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, call_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(call_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ApiError("cursor is not one this API handed out", code="bad-cursor") from exc
