"""What a supervisor watches: rooms, waiting calls, operators and their figures, the service
level of the last hour against NENA's targets, and each carrier's health.

Service level: of the calls that arrived in the window and were answered or abandoned,
the share answered within 15 s and within 20 s of arrival (NENA-STA-020: 90 % and 95 %;
abandoned calls count against it). Operator figures over the same window: calls taken and
talk time from the calls, pause and wrap-up time from the state changes recorded in
`operator_events`.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from dispatch_core.operators import OperatorState
from gateway.persistence.call_store import calls, utc
from gateway.persistence.location_store import locations
from gateway.persistence.models import OperatorEventRow
from gateway.services.operators import OperatorService
from gateway.services.overflow import OverflowMonitor
from gateway.settings import Settings

WINDOW = timedelta(hours=1)
TARGETS = {"target_15s_pct": 90, "target_20s_pct": 95}


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def service_level(rows: list[Any]) -> dict[str, Any]:
    closed = [r for r in rows if r.answered_at is not None or r.status == "abandoned"]
    waits = [(utc(r.answered_at) - utc(r.received_at)).total_seconds()
             for r in closed if r.answered_at is not None]  # fmt: skip
    return {
        "window_s": int(WINDOW.total_seconds()), "calls": len(rows),
        "answered_15s_pct": _pct(sum(w <= 15 for w in waits), len(closed)),
        "answered_20s_pct": _pct(sum(w <= 20 for w in waits), len(closed)),
        "abandoned": sum(r.status == "abandoned" for r in rows), **TARGETS,
    }  # fmt: skip


def carrier_health(rows: list[Any], fixes: list[Any]) -> list[dict[str, Any]]:
    by_call: defaultdict[str, list[Any]] = defaultdict(list)
    for fix in fixes:
        by_call[fix.call_id].append(fix)
    groups: defaultdict[str, list[Any]] = defaultdict(list)
    for row in rows:
        groups[row.carrier or "unknown"].append(row)
    out = []
    for carrier, group in sorted(groups.items()):

        def has(source: str, group: list[Any] = group) -> int:
            return sum(any(f.source == source for f in by_call[r.id]) for r in group)

        delays = [min((utc(f.received_at) - utc(r.received_at)).total_seconds()
                      for f in by_call[r.id] if f.source == "aml")
                  for r in group if any(f.source == "aml" for f in by_call[r.id])]  # fmt: skip
        out.append({
            "carrier": carrier, "calls": len(group),
            "with_caller_id_pct": _pct(sum(r.caller_status == "valid" for r in group), len(group)),
            "with_cell_pct": _pct(has("cell"), len(group)),
            "with_pidf_pct": _pct(has("pidf-lo"), len(group)),
            "aml_median_delay_s": round(statistics.median(delays), 1) if delays else None,
        })  # fmt: skip
    return out


def state_durations(events: list[Any], now: datetime) -> dict[str, dict[str, float]]:
    """Seconds per endpoint spent in `paused` and `wrapup` (events in time order)."""
    spent: defaultdict[str, dict[str, float]] = defaultdict(lambda: {"paused": 0.0,
                                                                     "wrapup": 0.0})  # fmt: skip
    last: dict[str, tuple[str, datetime]] = {}
    for event in events:
        at = utc(event.at)
        previous = last.get(event.endpoint)
        if previous and previous[0] in ("paused", "wrapup"):
            spent[event.endpoint][previous[0]] += (at - previous[1]).total_seconds()
        last[event.endpoint] = (event.kind, at)
    for endpoint, (kind, at) in last.items():
        if kind in ("paused", "wrapup"):
            spent[endpoint][kind] += (now - at).total_seconds()
    return spent


def _read(
    conn: Connection, since: datetime, room: str | None
) -> tuple[list[Any], list[Any], list[Any]]:
    query = select(
        calls.c.id, calls.c.carrier, calls.c.caller_status, calls.c.status, calls.c.operator,
        calls.c.talk_time_s, calls.c.received_at, calls.c.answered_at,
    ).where(calls.c.received_at >= since)  # fmt: skip
    if room is not None:
        query = query.where(calls.c.room == room)
    rows = list(conn.execute(query))
    fixes = list(conn.execute(select(
        locations.c.call_id, locations.c.source, locations.c.received_at,
    ).where(locations.c.received_at >= since, locations.c.status == "accepted")))  # fmt: skip
    events = list(
        conn.execute(
            select(
                OperatorEventRow.endpoint,
                OperatorEventRow.kind,
                OperatorEventRow.at,
            )
            .where(OperatorEventRow.at >= since)
            .order_by(OperatorEventRow.at, OperatorEventRow.id)
        )
    )
    return rows, fixes, events


async def overview(
    database: Any, settings: Settings, operators: OperatorService,
    overflow: OverflowMonitor | None, room: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Central (every room), or one room's (`room`): its waiting calls, operators and calls."""
    now = datetime.now(UTC)
    async with database.engine.connect() as conn:
        rows, fixes, events = await conn.run_sync(_read, now - WINDOW, room)
    waiting: list[dict[str, Any]] = [] if overflow is None else [
        {"uniqueid": w.uniqueid, "room": w.queue, "priority": w.priority,
         "waited_s": round(time.monotonic() - w.since, 1)}
        for w in overflow.waiting.values()
    ]  # fmt: skip
    spent = state_durations(events, now)
    taken: defaultdict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.operator and row.answered_at is not None:
            taken[row.operator].append(row)
    views = [v for v in operators.views() if room is None or v.room == room]
    if room is not None:
        waiting = [w for w in waiting if w["room"] == room]
    people = [{**view.as_json(), "calls_taken": len(taken[view.endpoint]),
               "talk_s": round(sum(r.talk_time_s or 0 for r in taken[view.endpoint]), 1),
               "pause_s": round(spent[view.endpoint]["paused"], 1),
               "wrapup_s": round(spent[view.endpoint]["wrapup"], 1)} for view in views]  # fmt: skip
    rooms = []
    for config in settings.rooms:
        if room is not None and config.id != room:
            continue
        mine = [w for w in waiting if w["room"] == config.id]
        states = {
            state.value: 0 for state in OperatorState if state is not OperatorState.LOGGED_OUT
        }
        for view in views:
            if view.room == config.id and view.state.value in states:
                states[view.state.value] += 1
        longest = max((float(w["waited_s"]) for w in mine), default=None)
        rooms.append({"id": config.id, "name": config.name, "backup": config.backup,
                      "waiting": len(mine), "operators": states,
                      "longest_wait_s": longest})  # fmt: skip
    return {"generated_at": now.isoformat(), "rooms": rooms, "waiting": waiting,
            "operators": people, "service_level": service_level(rows),
            "carriers": carrier_health(rows, fixes)}  # fmt: skip
