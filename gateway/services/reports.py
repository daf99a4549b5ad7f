"""Intervention times: call arrival → answer → dispatch → on scene, per room and per day.

`GET /api/v1/reports/intervention-times?days=7[&format=svg]` (supervisor, admin): a table
(JSON) of each room and day with the number of calls and the median and 90th-percentile
seconds of each stage, or the same as an SVG chart (stacked bars of the medians per room
and day; no plotting library: the SVG is written here).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import Connection, select

from gateway.persistence.call_store import calls, events, utc

STAGES = ("answer_s", "dispatch_s", "on_scene_s")  # from arrival, from answer, from dispatch
COLOURS = {"answer_s": "#2b7bb9", "dispatch_s": "#e0a030", "on_scene_s": "#3aa655"}


def _q(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def read(conn: Connection, since: datetime) -> list[dict[str, Any]]:
    rows = list(conn.execute(select(
        calls.c.id, calls.c.room, calls.c.received_at, calls.c.answered_at,
    ).where(calls.c.received_at >= since)))  # fmt: skip
    marks: defaultdict[str, dict[str, datetime]] = defaultdict(dict)
    for event in conn.execute(select(events.c.call_id, events.c.kind, events.c.at).where(
        events.c.kind.in_(["incident_dispatched", "incident_on_scene"]), events.c.at >= since,
    )):  # fmt: skip
        marks[event.call_id].setdefault(event.kind, utc(event.at))
    groups: defaultdict[tuple[str, str], dict[str, list[float]]] = defaultdict(
        lambda: {stage: [] for stage in STAGES}
    )
    counts: defaultdict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        received = utc(row.received_at)
        key = (row.room or "?", received.date().isoformat())
        counts[key] += 1
        answered = utc(row.answered_at) if row.answered_at else None
        dispatched = marks[row.id].get("incident_dispatched")
        on_scene = marks[row.id].get("incident_on_scene")
        if answered:
            groups[key]["answer_s"].append((answered - received).total_seconds())
            if dispatched:
                groups[key]["dispatch_s"].append((dispatched - answered).total_seconds())
        if dispatched and on_scene:
            groups[key]["on_scene_s"].append((on_scene - dispatched).total_seconds())
    table = []
    for (room, day), count in sorted(counts.items()):
        stages = groups[(room, day)]
        table.append({"room": room, "day": day, "calls": count, **{
            f"{stage}_{name}": _q(stages[stage], q)
            for stage in STAGES for name, q in (("median", 0.5), ("p90", 0.9))
        }})  # fmt: skip
    return table


def since_days(now: datetime, days: int) -> datetime:
    return (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)


def svg(table: list[dict[str, Any]]) -> str:
    """Stacked horizontal bars of the median seconds of each stage, one bar per room and day."""
    bar, gap, left, width = 22, 8, 190, 520
    longest = max((sum(r[f"{s}_median"] or 0 for s in STAGES) for r in table), default=0) or 1
    scale = width / longest
    height = 60 + len(table) * (bar + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 40}" '
             f'height="{height}" font-family="sans-serif" font-size="12">',
             '<text x="10" y="20" font-size="14">Intervention times, median seconds '
             '(answer · dispatch · on scene)</text>']  # fmt: skip
    for i, row in enumerate(table):
        y = 40 + i * (bar + gap)
        label = escape(f"{row['room']} {row['day']} ({row['calls']})")
        parts.append(f'<text x="10" y="{y + 15}">{label}</text>')
        x = float(left)
        for stage in STAGES:
            seconds = row[f"{stage}_median"] or 0
            w = seconds * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                f'fill="{COLOURS[stage]}"><title>{stage} {seconds} s</title></rect>'
            )
            x += w
        total = sum(row[f"{s}_median"] or 0 for s in STAGES)
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}">{round(total)} s</text>')
    if not table:
        parts.append('<text x="10" y="50">No calls in the period.</text>')
    parts.append("</svg>")
    return "\n".join(parts)
