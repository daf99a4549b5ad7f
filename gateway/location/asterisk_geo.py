"""The caller's location as Asterisk hands it over, from the INVITE of a call to 19.

res_pjsip_geolocation parses a PIDF-LO carried by value (the `cid:` Geolocation header and
its multipart body part) into the channel's geolocation profile; the dialplan
([l19-location] in extensions.conf) passes to the gateway, each base64-encoded behind an
"x" (BASE64_ENCODE of an empty value logs a warning), separated by "|":

    format | location_info | confidence | method | Geolocation 1 | Geolocation 2 | PANI 1 | PANI 2

`location_info` is Asterisk's own text form of the shape: `name="value"` pairs separated by
commas, e.g. `shape="Circle",crs="2d",pos="34.02 -6.84",radius="35"` (GML; the attributes
per shape are Asterisk's `geoloc show gml_shape_defs`) or `country="MA",A1="…"` (civic).
The original XML is not available to the dialplan: the raw payload the gateway keeps is
this hand-over itself.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from gateway.location.geodesy import centre_and_radius
from gateway.location.parsed import (
    LocationParseError,
    ParsedFix,
    check_coordinates,
    parse_decimal,
    parse_length,
    split_outside_quotes,
    unquote,
)

CODE = "asterisk-geo-malformed"
FIELDS = 8
MAX_FIELD_CHARS = 4096
# The radius of a shape that carries none (a Point): unknown, so counted as coarse.
POINT_RADIUS_M = 100.0


@dataclass(frozen=True)
class InviteLocation:
    """What the INVITE said, decoded (each part possibly empty)."""

    format: str
    location_info: str
    confidence: str
    method: str
    geolocation: tuple[str, ...]
    pani: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.location_info or self.geolocation or self.pani)


def decode_handover(text: str) -> InviteLocation:
    """Split and decode the dialplan's L19_LOCATION."""
    parts = text.split("|")
    if len(parts) != FIELDS:
        raise LocationParseError(CODE, f"expected {FIELDS} fields, got {len(parts)}")
    values: list[str] = []
    for part in parts:
        try:
            decoded = base64.b64decode(part, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise LocationParseError(CODE, f"a field is not base64 UTF-8 text: {exc}") from exc
        if not decoded.startswith("x") or len(decoded) > MAX_FIELD_CHARS:
            raise LocationParseError(CODE, "a field lacks its 'x' guard or is too long")
        values.append(decoded[1:])
    fmt, info, confidence, method, geo1, geo2, pani1, pani2 = values
    return InviteLocation(
        format=fmt, location_info=info, confidence=confidence, method=method,
        geolocation=tuple(v for v in (geo1, geo2) if v),
        pani=tuple(v for v in (pani1, pani2) if v),
    )  # fmt: skip


def _pairs(info: str) -> list[tuple[str, str]]:
    pairs = []
    for item in split_outside_quotes(info, ",", code=CODE):
        name, eq, value = item.strip().partition("=")
        if not eq or not name:
            raise LocationParseError(CODE, f"not a name=value pair: {item[:40]!r}")
        pairs.append((name.strip(), unquote(value.strip(), code=CODE)))
    return pairs


def _position(text: str) -> tuple[float, float]:
    numbers = text.split()
    if len(numbers) not in (2, 3):
        raise LocationParseError(CODE, f"a position is 2 or 3 numbers: {text[:40]!r}")
    lat = parse_decimal(numbers[0], code=CODE, what="latitude")
    lon = parse_decimal(numbers[1], code=CODE, what="longitude")
    check_coordinates(lat, lon, code=CODE)
    return lat, lon


def _confidence(text: str) -> float | None:
    """Asterisk's confidence: `pdf=…,value=…` (or empty)."""
    if not text.strip():
        return None
    value = dict(_pairs(text)).get("value")
    if value is None:
        return None
    pct = parse_decimal(value, code=CODE, what="confidence")
    if not 0 < pct < 100:
        raise LocationParseError(CODE, f"confidence {pct!r} is not a percentage in ]0, 100[")
    return pct


def _radius(shape: str, values: dict[str, str]) -> float:
    key = {"Circle": "radius", "Sphere": "radius", "Ellipse": "semiMajorAxis",
           "Ellipsoid": "semiMajorAxis", "ArcBand": "outerRadius"}.get(shape)  # fmt: skip
    if key is None:
        return POINT_RADIUS_M
    if key not in values:
        raise LocationParseError(CODE, f"{shape} without {key}")
    return parse_length(values[key], code=CODE, what=key)


def parse_geo_profile(location: InviteLocation) -> ParsedFix | None:
    """The fix in Asterisk's geolocation profile, or None when it holds no location."""
    if not location.location_info:
        return None
    pairs = _pairs(location.location_info)
    method = location.method or None
    confidence = _confidence(location.confidence)
    if location.format == "civicAddress":
        civic = {name: value for name, value in pairs}
        return ParsedFix("pidf-lo", civic=civic, shape="civic", method=method)
    if location.format != "GML":
        raise LocationParseError(CODE, f"unknown location format {location.format[:20]!r}")
    values = dict(pairs)
    shape = values.get("shape", "")
    positions = [_position(value) for name, value in pairs if name == "pos"]
    if not positions:
        raise LocationParseError(CODE, f"{shape or 'a shape'} without a position")
    if shape in ("Polygon", "Prism"):
        lat, lon, radius = centre_and_radius(positions)
    elif len(positions) == 1:
        (lat, lon), radius = positions[0], _radius(shape, values)
    else:
        raise LocationParseError(CODE, f"{shape} with {len(positions)} positions")
    return ParsedFix(
        "pidf-lo", latitude=lat, longitude=lon, radius_m=radius, confidence_pct=confidence,
        method=method, shape=shape, details={"location_info": location.location_info[:512]},
    )  # fmt: skip
