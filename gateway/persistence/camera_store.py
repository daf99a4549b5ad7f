"""The camera registry: import (CSV `name,lat,lon,stream_url`, a re-import updates by name)
and the cameras nearest a point (dispatch_core.cameras)."""

from __future__ import annotations

import csv
import math
import uuid
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from dispatch_core.cameras import Camera, nearest_cameras
from gateway.persistence.models import CameraRow

cameras = cast(Table, CameraRow.__table__)
SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})


class BadCamera(ValueError):
    pass


def parse_row(row: dict[str, str]) -> dict[str, Any]:
    name = (row.get("name") or "").strip()
    if not 1 <= len(name) <= 120:
        raise BadCamera("name: 1 to 120 characters")
    try:
        lat, lon = float(row.get("lat") or ""), float(row.get("lon") or "")
    except ValueError as exc:
        raise BadCamera("lat/lon: not numbers") from exc
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
            and -180 <= lon <= 180) or (lat, lon) == (0.0, 0.0):  # fmt: skip
        raise BadCamera("lat/lon: not a place")
    url = (row.get("stream_url") or "").strip()
    if urlsplit(url).scheme not in SCHEMES or not urlsplit(url).hostname or len(url) > 500:
        raise BadCamera("stream_url: an rtsp(s) or http(s) URL with a host")
    return {"name": name, "latitude": lat, "longitude": lon, "stream_url": url}


def read_csv(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    good, bad = [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                good.append(parse_row(row))
            except BadCamera as exc:
                bad.append(f"line {line}: {exc}")
    return good, bad


def upsert(conn: Connection, rows: list[dict[str, Any]]) -> int:
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for row in rows:
        statement = insert(cameras).values(id=str(uuid.uuid4()), **row)
        conn.execute(statement.on_conflict_do_update(
            index_elements=["name"],
            set_={key: statement.excluded[key] for key in ("latitude", "longitude", "stream_url")},
        ))  # fmt: skip
    return len(rows)


def near(conn: Connection, lat: float, lon: float, limit: int = 3) -> list[dict[str, Any]]:
    known = [Camera(r.id, r.name, r.latitude, r.longitude, r.stream_url)
             for r in conn.execute(select(cameras))]  # fmt: skip
    return [
        {
            "id": n.camera.id,
            "name": n.camera.name,
            "stream_url": n.camera.stream_url,
            "distance_m": round(n.distance_m),
        }
        for n in nearest_cameras(lat, lon, known, limit)
    ]
