"""What the INVITE of a call to 19 says of the caller's location, recorded off the call's path.

The intake hands over the dialplan's L19_LOCATION (gateway/location/asterisk_geo.py) and the
caller's number, and returns to Asterisk at once; this runs in a task of its own:

1. the PIDF-LO by value, as res_pjsip_geolocation parsed it into the channel's profile;
2. the network-provided cell of `P-Access-Network-Info`, looked up in the cell table;
3. each `Geolocation` URI by reference (http/https), fetched with a short timeout and parsed
   as PIDF-LO (a `cid:` URI is the body, already read by Asterisk);
4. for a fixed-line number, the area of the number (gateway/location/fixed_line.py).

A civic address (RFC 5139) without coordinates is placed with the local gazetteer.

Every payload is recorded, the unusable ones with their reason (services/location.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp

from dispatch_core.location import FixSource
from gateway.callers.numbers import CallerNumber
from gateway.location import cells
from gateway.location.asterisk_geo import InviteLocation, decode_handover, parse_geo_profile
from gateway.location.fixed_line import area_fix
from gateway.location.gazetteer import geocode
from gateway.location.geolocation_header import parse_geolocation_headers
from gateway.location.pani import parse_pani, trusted_cell
from gateway.location.parsed import LocationParseError, ParsedFix
from gateway.location.pidf_lo import parse_pidf_lo
from gateway.persistence.db import Database
from gateway.services.location import LocationInput, LocationService

logger = logging.getLogger(__name__)

MAX_REFERENCE_BYTES = 65536
DEFAULT_CELL_RANGE_M = 1000.0


class InviteLocator:
    def __init__(
        self, locations: LocationService, database: Database, fetch_timeout_s: float
    ) -> None:
        self._locations = locations
        self._db = database
        self._timeout = aiohttp.ClientTimeout(total=fetch_timeout_s)
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, call_id: str, handover: str, caller: CallerNumber | None) -> None:
        """Record the call's location in the background (the call goes on meanwhile)."""
        task = asyncio.create_task(self.handle(call_id, handover, caller))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Let the tasks in flight finish (on shutdown, and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def handle(self, call_id: str, handover: str, caller: CallerNumber | None) -> None:
        try:
            await self._handle(call_id, handover, caller)
        except Exception:  # a location is never worth a crash; the call is already queued
            logger.exception("call %s: recording its location failed", call_id)

    async def _handle(self, call_id: str, handover: str, caller: CallerNumber | None) -> None:
        if handover:
            try:
                invite = decode_handover(handover)
            except LocationParseError as exc:
                await self._rejected(call_id, FixSource.PIDF_LO, handover, exc)
            else:
                await self._invite(call_id, invite)
        if caller is not None and caller.number_type == "fixed_line" and caller.region:
            fix = area_fix(caller.region)
            if fix is not None:
                await self._record(call_id, FixSource.FIXED_LINE, caller.region, fix)

    async def _invite(self, call_id: str, invite: InviteLocation) -> None:
        if invite.location_info:
            raw = f"format={invite.format} location_info={invite.location_info} " \
                  f"confidence={invite.confidence} method={invite.method}"  # fmt: skip
            try:
                fix = parse_geo_profile(invite)
            except LocationParseError as exc:
                await self._rejected(call_id, FixSource.PIDF_LO, raw, exc)
            else:
                if fix is not None:
                    fix = await self._geocoded(fix)
                    await self._record(call_id, FixSource.PIDF_LO, raw, fix)
        if invite.pani:
            await self._cell(call_id, invite.pani)
        if invite.geolocation:
            await self._references(call_id, invite.geolocation)

    async def _geocoded(self, fix: ParsedFix) -> ParsedFix:
        """A civic address without coordinates, placed with the local gazetteer if it can be
        (street and number, in the town: RFC 5139 RD/HNO and A3)."""
        civic = fix.civic
        if fix.latitude is not None or not civic or not civic.get("RD"):
            return fix
        text = " ".join(part for part in (civic.get("HNO"), civic.get("RD")) if part)
        matches = await geocode(self._db, text, city=civic.get("A3"), limit=1)
        if not matches:
            return fix
        place = matches[0]
        return replace(
            fix, latitude=place.latitude, longitude=place.longitude, radius_m=place.radius_m,
            method=f"{fix.method or 'civic'} (gazetteer: {place.name})"[:24],
            details={**fix.details, "gazetteer_place": place.name},
        )  # fmt: skip

    async def _cell(self, call_id: str, headers: tuple[str, ...]) -> None:
        raw = "\n".join(headers)
        try:
            cell = trusted_cell(parse_pani(headers))
        except LocationParseError as exc:
            await self._rejected(call_id, FixSource.CELL, raw, exc)
            return
        if cell is None:
            error = LocationParseError("pani-untrusted", "no entry marked network-provided")
            await self._rejected(call_id, FixSource.CELL, raw, error)
            return
        ids = {"radio": cell.radio, "mcc": str(cell.mcc), "mnc": str(cell.mnc),
               "area": str(cell.area), "cell": str(cell.cell)}  # fmt: skip
        found = await cells.find_cell(self._db, cell.radio, cell.mcc, cell.mnc, cell.area,
                                      cell.cell)  # fmt: skip
        if found is None:
            error = LocationParseError("cell-unknown", f"cell {ids} is not in the cell table")
            await self._rejected(call_id, FixSource.CELL, raw, error, ids)
            return
        fix = ParsedFix("cell", latitude=found.latitude, longitude=found.longitude,
                        radius_m=found.range_m or DEFAULT_CELL_RANGE_M, method="Cell",
                        details=ids)  # fmt: skip
        await self._record(call_id, FixSource.CELL, raw, fix)

    async def _references(self, call_id: str, headers: tuple[str, ...]) -> None:
        try:
            refs = parse_geolocation_headers(headers)
        except LocationParseError as exc:
            await self._rejected(call_id, FixSource.PIDF_LO, "\n".join(headers), exc)
            return
        for ref in refs:
            if ref.kind in ("http", "https"):
                await self._fetch(call_id, ref.uri)

    async def _fetch(self, call_id: str, uri: str) -> None:
        details = {"reference": uri[:256]}
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.get(uri, allow_redirects=False) as response,
            ):
                body = await response.content.read(MAX_REFERENCE_BYTES + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            error = LocationParseError("reference-unreachable", f"{type(exc).__name__}: {exc}")
            await self._rejected(call_id, FixSource.PIDF_LO, uri, error, details)
            return
        text = body.decode("utf-8", "replace")
        if status != 200 or len(body) > MAX_REFERENCE_BYTES:
            error = LocationParseError("reference-failed", f"HTTP {status}, {len(body)} bytes")
            await self._rejected(call_id, FixSource.PIDF_LO, text or uri, error, details)
            return
        try:
            fixes = parse_pidf_lo(body)
        except LocationParseError as exc:
            await self._rejected(call_id, FixSource.PIDF_LO, text, exc, details)
            return
        for fix in fixes:
            await self._record(call_id, FixSource.PIDF_LO, text, fix, details)

    async def _record(
        self, call_id: str, source: FixSource, raw: str, fix: ParsedFix,
        details: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        await self._locations.record(LocationInput(
            source, raw, datetime.now(UTC), parsed=fix, call_id=call_id, details=details or {},
        ))  # fmt: skip

    async def _rejected(
        self, call_id: str, source: FixSource, raw: str, error: LocationParseError,
        details: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        await self._locations.record(LocationInput(
            source, raw, datetime.now(UTC), error=f"{error.code}: {error.message}",
            call_id=call_id, details=details or {},
        ))  # fmt: skip
