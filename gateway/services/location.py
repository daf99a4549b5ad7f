"""Recording the caller's location: every fix kept with its provenance, the best one chosen.

Each payload becomes one row of `locations`, whatever becomes of it: `accepted` (a valid
fix on a call), `rejected` (unparseable or failing `dispatch_core.location.check_fix`; the
reason is kept) or `unmatched` (an AML message for no recent call from its number). After
an accepted fix, the call's best fix is chosen again (`dispatch_core.location.best_fix`) and
a `BestFixChanged` event is published when it moved. See docs/location.md.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from dispatch_core.location import (
    BestFixChanged,
    Fix,
    FixSource,
    ServiceArea,
    best_fix,
    check_fix,
)
from gateway.location.parsed import ParsedFix
from gateway.persistence import call_store
from gateway.persistence import location_store as store
from gateway.persistence.db import Database
from gateway.services.domain_events import DomainEvents
from gateway.settings import Settings

logger = logging.getLogger(__name__)

MAX_RAW_CHARS = 65536
DEFAULT_RADIUS_M = 100.0


@dataclass(frozen=True)
class LocationInput:
    """One payload as it arrived: parsed, or with the reason it could not be."""

    source: FixSource
    raw: str
    received_at: datetime
    parsed: ParsedFix | None = None
    error: str | None = None  # "code: message" when parsing failed
    call_id: str | None = None
    number: str | None = None  # E.164: matches a late fix (AML) to its call
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    location_id: int | None  # None: this very payload was already recorded
    status: str  # accepted | rejected | unmatched
    reason: str | None
    call_id: str | None
    best_location_id: int | None = None


def area_of(settings: Settings) -> ServiceArea:
    return ServiceArea(
        settings.service_area_latitude,
        settings.service_area_longitude,
        settings.service_area_radius_km * 1000,
    )


def _fix(parsed: ParsedFix, source: FixSource, received_at: datetime) -> Fix | None:
    if parsed.latitude is None or parsed.longitude is None:
        return None
    radius = DEFAULT_RADIUS_M if parsed.radius_m is None else parsed.radius_m
    return Fix(source, parsed.latitude, parsed.longitude, radius, parsed.confidence_pct,
               parsed.fixed_at or received_at, received_at)  # fmt: skip


def _fix_of_row(row: Any) -> Fix:
    received = call_store.utc(row.received_at)
    fixed = call_store.utc(row.fixed_at) if row.fixed_at else received
    return Fix(FixSource(row.source), row.latitude, row.longitude, row.radius_m,
               row.confidence_pct, fixed, received)  # fmt: skip


class LocationService:
    def __init__(self, database: Database, settings: Settings, events: DomainEvents) -> None:
        self._db = database
        self._area = area_of(settings)
        self._window = timedelta(seconds=settings.aml_match_window_s)
        self._events = events

    async def record(self, item: LocationInput) -> Recorded:
        now = datetime.now(UTC)
        recorded, event = await self._db.write(lambda conn: self._record(conn, item, now))
        log = logger.info if recorded.status == "accepted" else logger.warning
        log("location %s %s for call %s (%s)", item.source.value, recorded.status,
            recorded.call_id, recorded.reason or "ok")  # fmt: skip
        if event is not None:
            self._events.publish(event)
        return recorded

    def _record(
        self, conn: Connection, item: LocationInput, now: datetime
    ) -> tuple[Recorded, BestFixChanged | None]:
        call_id = item.call_id
        if call_id is None and item.number is not None:
            match = store.call_for_number(conn, item.number, item.received_at - self._window)
            call_id = None if match is None else str(match.id)
        fix = None if item.parsed is None else _fix(item.parsed, item.source, item.received_at)
        reason = None if item.error is None else item.error.partition(":")[0]
        if reason is None and fix is None:
            reason = "no-coordinates"
        if reason is None and fix is not None:
            rejection = check_fix(fix, self._area)
            reason = None if rejection is None else rejection.value
        status = "unmatched" if call_id is None else "accepted" if reason is None else "rejected"
        location_id = store.insert_location(conn, self._values(item, call_id, status, reason))
        recorded = Recorded(location_id, status, reason, call_id)
        if location_id is None or status != "accepted" or call_id is None:
            return recorded, None
        return self._choose_best(conn, call_id, recorded, now)

    def _choose_best(
        self, conn: Connection, call_id: str, recorded: Recorded, now: datetime
    ) -> tuple[Recorded, BestFixChanged | None]:
        rows = store.accepted_fixes(conn, call_id)
        fixes = [_fix_of_row(row) for row in rows]
        index = best_fix(fixes, now)
        previous = store.best_of(conn, call_id)
        best_id = None if index is None else int(rows[index].id)
        recorded = Recorded(recorded.location_id, recorded.status, None, call_id, best_id)
        if best_id == previous or index is None or best_id is None:
            return recorded, None
        store.set_best(conn, call_id, best_id)
        incident = call_store.incident_of(conn, call_id)
        return recorded, BestFixChanged(call_id, incident, best_id, previous, fixes[index])

    @staticmethod
    def _values(
        item: LocationInput, call_id: str | None, status: str, reason: str | None
    ) -> dict[str, Any]:
        parsed = item.parsed
        raw = item.raw[:MAX_RAW_CHARS]
        # One payload may hold several fixes (a PIDF-LO document): the fix counts too.
        what = repr(parsed.to_json_dict()) if parsed else ""
        digest = hashlib.sha256(f"{raw}\x00{what}".encode("utf-8", "replace")).hexdigest()[:40]
        owner = call_id or item.number or "-"
        details = {**(parsed.details if parsed else {}), **item.details}
        return {
            "call_id": call_id, "source": item.source.value, "status": status,
            "reason": None if reason is None else reason[:64],
            "latitude": parsed.latitude if parsed else None,
            "longitude": parsed.longitude if parsed else None,
            "radius_m": (parsed.radius_m if parsed.radius_m is not None else DEFAULT_RADIUS_M)
            if parsed and parsed.latitude is not None else None,
            "confidence_pct": parsed.confidence_pct if parsed else None,
            "method": (parsed.method or None) if parsed else None,
            "civic": parsed.civic if parsed else None,
            "details": {**details, **({"error": item.error[:200]} if item.error else {})},
            "number": item.number, "fixed_at": parsed.fixed_at if parsed else None,
            "received_at": item.received_at, "raw": raw,
            "dedupe_key": f"{item.source.value}:{owner}:{digest}"[:160],
        }  # fmt: skip
