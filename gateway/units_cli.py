"""`line19 units import FILE`: the fleet of the mobile rescue police, from CSV or JSON.

CSV columns: `call_sign,vehicle,home_room,capabilities,lat,lon` (capabilities `|`-separated,
lat/lon may be empty); JSON: a list of objects with the same keys (capabilities a list or a
`|`-separated string). A re-import updates the units by call sign; a position in the file
only places a unit that has none yet (a tracker's fix is never overwritten). New units are
out of service unless `--on-duty`. Bad rows are reported and skipped; a file without a
single valid row ends with exit status 2.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import click

from dispatch_core.units import Rejection, UnitFix, VehicleClass, accept_position
from gateway.cli_support import UsageFailed, config_option, database_option, load
from gateway.persistence import db, unit_store
from gateway.persistence.db import open_database
from gateway.persistence.unit_store import UnitIn

BATCH = 200


class BadRow(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def _text(raw: dict[str, Any], key: str, limit: int) -> str:
    value = raw.get(key)
    text = "" if value is None else str(value).strip()
    if not text or len(text) > limit:
        raise BadRow(key, f"{key} must be 1 to {limit} characters, not {value!r}")
    return text


def _coordinate(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise BadRow("position", f"not a number: {value!r}") from exc


def parse_unit(raw: dict[str, Any], now: datetime) -> UnitIn:
    """One row as a UnitIn, or BadRow with its reason."""
    call_sign = _text(raw, "call_sign", 32)
    vehicle = _text(raw, "vehicle", 16).lower()
    if vehicle not in {v.value for v in VehicleClass}:
        raise BadRow("vehicle", f"vehicle must be motorbike or car, not {vehicle!r}")
    home_room = _text(raw, "home_room", 32).lower()
    words = raw.get("capabilities") or []
    if isinstance(words, str):
        words = words.split("|")
    if not isinstance(words, list):
        raise BadRow("capabilities", "capabilities are a list or |-separated words")
    capabilities = frozenset(str(w).strip() for w in words if str(w).strip())
    lat, lon = _coordinate(raw.get("lat")), _coordinate(raw.get("lon"))
    if (lat is None) != (lon is None):
        raise BadRow("position", "lat and lon go together")
    if lat is not None and lon is not None:
        verdict = accept_position(None, UnitFix(lat, lon, now, 0.0), now)
        if isinstance(verdict, Rejection) or not (math.isfinite(lat) and math.isfinite(lon)):
            raise BadRow("position", f"({lat}, {lon}): {verdict}")
    return UnitIn(call_sign, VehicleClass(vehicle), home_room, capabilities, lat, lon)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or item number, raw row) from a CSV or JSON file."""
    if path.suffix.lower() == ".json":
        items = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(items, list):
            raise ValueError("a JSON file holds a list of units")
        for number, item in enumerate(items, start=1):
            yield number, item if isinstance(item, dict) else {}
        return
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, dict(row)


@click.group("units")
def units() -> None:
    """The fleet of the mobile rescue police: motorbikes and cars."""


@units.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--on-duty", is_flag=True, help="Sign on every imported unit that is off duty.")
@config_option
@database_option
def import_units(file: Path, on_duty: bool, config: Path | None, database_url: str | None) -> None:
    """Import (or update by call sign) units from a CSV or JSON file."""
    settings = load(config, database_url=database_url)
    if not file.is_file():
        raise UsageFailed(f"no such file: {file}")
    now = datetime.now(UTC)
    try:
        rows = list(read_rows(file))
    except (OSError, ValueError) as exc:
        raise UsageFailed(f"cannot import {file}: {exc}") from exc
    good: list[UnitIn] = []
    skipped: Counter[str] = Counter()
    for number, raw in rows:
        try:
            good.append(parse_unit(raw, now))
        except BadRow as exc:
            skipped[exc.reason] += 1
            click.echo(f"  {'item' if file.suffix == '.json' else 'line'} {number}: {exc}")
    if not good:
        raise UsageFailed(f"no valid unit in {file}")
    db.upgrade(settings.database_url)

    async def main() -> tuple[int, int]:
        database = open_database(settings.database_url)
        inserted = updated = 0
        try:
            with click.progressbar(length=len(good), label=f"Importing {file.name}") as bar:
                for start in range(0, len(good), BATCH):
                    chunk = good[start : start + BATCH]
                    write = partial(unit_store.upsert_units, items=chunk, now=now, on_duty=on_duty)
                    added, changed = await database.write(write)
                    inserted, updated = inserted + added, updated + changed
                    bar.update(len(chunk))
        finally:
            await database.close()
        return inserted, updated

    inserted, updated = asyncio.run(main())
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items()))
    click.echo(f"{file}: read {len(rows)}, new {inserted}, updated {updated}, "
               f"skipped {sum(skipped.values())}{f' ({reasons})' if reasons else ''}")  # fmt: skip
