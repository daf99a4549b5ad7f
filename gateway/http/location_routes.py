"""Location intake over HTTP: an operator's typed address, and AML from the carriers.

`POST /api/v1/calls/{id}/locations` takes `{"address": "12 avenue Mohammed V", "city":
"Rabat"}`, finds it on the local gazetteer (`line19 places import`) and records it as an
`operator` fix (which the best-fix rules put first); not found: 422 `address-not-found`,
kept as a rejected fix.

`POST /api/v1/location/aml`: Advanced Mobile Location messages from the carriers.

Each carrier has its own token (`aml_tokens` in the settings) and sends
`Authorization: Bearer <token>`. Two bodies are taken:

- `text/plain`: the SMS form (`A"ML=1;lt=…;…;ml=NNN`), with the sending handset's number
  in `X-AML-Sender` (the SMS originator, as the carrier's SMS centre saw it);
- `application/x-www-form-urlencoded`: the HTTPS form (`location_latitude`, …), whose
  `device_number` is the handset's number.

The message is matched to the newest call from that number received within
`aml_match_window_s`; with no such call it is kept as `unmatched`. A message that cannot be
parsed is kept too (raw, with the reason) and answered 422; a recorded one 202.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from aiohttp import web
from pydantic import ValidationError

from dispatch_core.location import FixSource
from gateway.callers.numbers import describe_caller
from gateway.http.errors import ApiError, NotFound
from gateway.http.schemas import AddressFixOut, AddressIn, AmlAccepted
from gateway.keys import DATABASE_KEY, LOCATIONS_KEY, SETTINGS_KEY
from gateway.location.aml import parse_aml_https, parse_aml_sms
from gateway.location.gazetteer import geocode
from gateway.location.parsed import LocationParseError, ParsedFix
from gateway.persistence import calls as repo
from gateway.services.location import LocationInput

logger = logging.getLogger(__name__)

location_routes = web.RouteTableDef()
MAX_AML_BYTES = 8192


def _carrier(request: web.Request) -> str:
    tokens = request.app[SETTINGS_KEY].aml_tokens
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        for carrier, secret in tokens.items():
            if hmac.compare_digest(token.encode(), secret.get_secret_value().encode()):
                return carrier
    logger.warning("AML from %s refused: no or unknown bearer token", request.remote)
    raise ApiError("a carrier's AML token is required", status=401, code="aml-unauthorized")


async def _body(request: web.Request) -> str:
    if request.content_length is not None and request.content_length > MAX_AML_BYTES:
        raise ApiError("AML message too large", status=413, code="body-too-large")
    raw = await request.content.read(MAX_AML_BYTES + 1)
    if len(raw) > MAX_AML_BYTES:
        raise ApiError("AML message too large", status=413, code="body-too-large")
    return raw.decode("utf-8", "replace")


def _parse(request: web.Request, text: str, now: datetime) -> tuple[ParsedFix, str | None]:
    """The fix and the handset's raw number."""
    if request.content_type == "text/plain":
        return parse_aml_sms(text, received_at=now), request.headers.get("X-AML-Sender")
    if request.content_type == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
        except ValueError as exc:
            raise LocationParseError("aml-malformed", f"not a form body: {exc}") from exc
        if len({key for key, _ in pairs}) != len(pairs):
            raise LocationParseError("aml-duplicate-attribute", "a form field appears twice")
        fix = parse_aml_https(dict(pairs), received_at=now)
        return fix, fix.details.get("number") or dict(pairs).get("device_number")
    raise ApiError(
        "AML is text/plain (SMS form) or application/x-www-form-urlencoded (HTTPS form)",
        status=415, code="unsupported-media-type",
    )  # fmt: skip


@location_routes.post("/api/v1/calls/{call_id}/locations")
async def post_address(request: web.Request) -> web.Response:
    """An operator's address for the call: geocoded on the gazetteer, kept as an operator fix."""
    call_id = request.match_info["call_id"][:64]
    try:
        entry = AddressIn.model_validate(await request.json())
    except (ValueError, ValidationError) as exc:
        raise ApiError("expected {\"address\": …, \"city\": …}", code="invalid-body",
                       details={"reason": str(exc)[:300]}) from exc  # fmt: skip
    database = request.app[DATABASE_KEY]
    async with database.sessions() as session:
        if await repo.get_call(session, call_id) is None:
            raise NotFound("no such call", code="no-such-call", details={"id": call_id})
    matches = await geocode(database, entry.address, city=entry.city, limit=4)
    now = datetime.now(UTC)
    raw = entry.address if entry.city is None else f"{entry.address}, {entry.city}"
    if not matches:
        await request.app[LOCATIONS_KEY].record(LocationInput(
            FixSource.OPERATOR, raw, now, error="address-not-found: not in the gazetteer",
            call_id=call_id,
        ))  # fmt: skip
        raise ApiError("the address is not in the gazetteer", status=422,
                       code="address-not-found", details={"address": raw})  # fmt: skip
    best = matches[0]
    fix = ParsedFix(
        "operator", latitude=best.latitude, longitude=best.longitude, radius_m=best.radius_m,
        method="Manual", details={"place": best.name, "kind": best.kind,
                                  "city": best.city or "", "house_number": best.house_number or ""},
    )  # fmt: skip
    recorded = await request.app[LOCATIONS_KEY].record(
        LocationInput(FixSource.OPERATOR, raw, now, parsed=fix, call_id=call_id)
    )
    body = AddressFixOut(
        location_id=recorded.location_id, status=recorded.status,
        best_location_id=recorded.best_location_id, place=asdict(best),
        alternatives=[asdict(match) for match in matches[1:]],
    )  # fmt: skip
    return web.Response(text=body.model_dump_json(), status=201, content_type="application/json")


@location_routes.post("/api/v1/location/aml")
async def post_aml(request: web.Request) -> web.Response:
    carrier = _carrier(request)
    text = await _body(request)
    now = datetime.now(UTC)
    settings = request.app[SETTINGS_KEY]
    parsed: ParsedFix | None = None
    error: LocationParseError | None = None
    sender = request.headers.get("X-AML-Sender")
    try:
        parsed, sender = _parse(request, text, now)
    except LocationParseError as exc:
        error = exc
    number = describe_caller(sender, settings.default_region).e164 if sender else None
    item = LocationInput(
        FixSource.AML, text, now, parsed=parsed,
        error=None if error is None else f"{error.code}: {error.message}",
        number=number, details={"carrier": carrier},
    )  # fmt: skip
    recorded = await request.app[LOCATIONS_KEY].record(item)
    body = AmlAccepted(
        location_id=recorded.location_id, status=recorded.status, reason=recorded.reason,
        call_id=recorded.call_id, best_location_id=recorded.best_location_id,
    )  # fmt: skip
    if error is not None:
        raise ApiError(
            f"AML message not usable: {error.message}", status=422, code=error.code,
            details=body.model_dump(),
        )  # fmt: skip
    return web.Response(text=body.model_dump_json(), status=202, content_type="application/json")
