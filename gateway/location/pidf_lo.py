"""PIDF-LO documents to `ParsedFix` lists: one fix per geodetic shape or civic address.

Follows RFC 4119 (presence / tuple / status / gp:geopriv / gp:location-info, tuple
timestamp, gp:method), RFC 4479 / RFC 5491 §3.1 (dm:device and dm:person elements with
dm:timestamp and dm:deviceID), RFC 5491 §5.2 (the GeoShape set: gml:Point, gml:Polygon,
gs:Circle, gs:Ellipse, gs:ArcBand, gs:Sphere, gs:Ellipsoid, gs:Prism, with srsName
urn:ogc:def:crs:EPSG::4326 as "lat lon" or ::4979 as "lat lon alt" and distances in
urn:ogc:def:uom:EPSG::9001 metres), RFC 5139 (ca:civicAddress) and RFC 7459 (con:confidence,
a percentage, with its pdf attribute). The pre-RFC 5491 `gml:location` wrapper with
`gml:coordinates` is not supported: such a document reads as having no location.

Shapes reduce to a centre and a radius: Circle and Sphere keep theirs; Ellipse and
Ellipsoid use the semi-major axis; ArcBand its centre and outer radius; Polygon and Prism
the vertex mean and the farthest vertex (see `geodesy`). When con:confidence is absent,
`confidence_pct` stays None (RFC 5491 implies 95 %; the domain decides).

Hostile input: at most 64 KiB, UTF-8 only (a declared encoding is ignored), and any
<!DOCTYPE or <!ENTITY is refused before the XML parser sees the text, so no entity
expansion or external fetch can happen.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from gateway.location.geodesy import centre_and_radius
from gateway.location.parsed import (
    LocationParseError,
    ParsedFix,
    as_utc,
    check_coordinates,
    parse_decimal,
    parse_length,
)

MAX_BYTES = 64 * 1024

PIDF = "urn:ietf:params:xml:ns:pidf"
GP = "urn:ietf:params:xml:ns:pidf:geopriv10"
GML = "http://www.opengis.net/gml"
GS = "http://www.opengis.net/pidflo/1.0"
CA = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
DM = "urn:ietf:params:xml:ns:pidf:data-model"
CON = "urn:ietf:params:xml:ns:geopriv:conf"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

CRS_DIMENSIONS = {"urn:ogc:def:crs:epsg::4326": 2, "urn:ogc:def:crs:epsg::4979": 3}
METRE = "urn:ogc:def:uom:epsg::9001"
CONFIDENCE_PDFS = frozenset({"unknown", "normal", "rectangular"})
CIVIC_ELEMENTS = frozenset(
    {"country", "A1", "A2", "A3", "A4", "A5", "A6", "PRM", "PRD", "RD", "STS", "POD", "POM",
     "RDSEC", "RDBR", "RDSUBBR", "HNO", "HNS", "LMK", "LOC", "FLR", "NAM", "PC", "BLD", "UNIT",
     "ROOM", "SEAT", "PLC", "PCN", "POBOX", "ADDCODE"}
)  # fmt: skip

_FORBIDDEN = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


_HOLDERS = {_q(PIDF, "tuple"): "tuple", _q(DM, "device"): "device", _q(DM, "person"): "person"}


@dataclass(frozen=True)
class _Geo:
    shape: str
    latitude: float
    longitude: float
    radius_m: float | None
    extra: dict[str, str] = field(default_factory=dict)


def parse_pidf_lo(xml: str | bytes) -> list[ParsedFix]:
    """Every geodetic shape and civic address of a PIDF-LO document, in document order."""
    root = _load(xml)
    if root.tag != _q(PIDF, "presence"):
        raise LocationParseError("pidf-not-presence", f"root element is {root.tag[:120]!r}")
    entity = root.get("entity")
    fixes: list[ParsedFix] = []
    for holder in root:
        kind = _HOLDERS.get(holder.tag)
        if kind is None:
            continue
        fixed_at, details = _holder_context(holder, kind, entity)
        for geopriv in holder.iter(_q(GP, "geopriv")):
            method = _text(geopriv.find(_q(GP, "method")))
            for info in geopriv.findall(_q(GP, "location-info")):
                fixes.extend(_fixes_in(info, method, fixed_at, details))
    if not fixes:
        raise LocationParseError("pidf-no-location", "the document holds no supported location")
    return fixes


def _load(xml: str | bytes) -> ET.Element:
    if len(xml) > MAX_BYTES:
        raise LocationParseError("pidf-too-large", f"document exceeds {MAX_BYTES} bytes")
    try:
        raw = xml.encode("utf-8") if isinstance(xml, str) else bytes(xml)
        if len(raw) > MAX_BYTES:
            raise LocationParseError("pidf-too-large", f"document exceeds {MAX_BYTES} bytes")
        text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeError as exc:
        raise LocationParseError("pidf-malformed", "document is not UTF-8") from exc
    if _FORBIDDEN.search(text):
        raise LocationParseError("pidf-dtd-forbidden", "DOCTYPE/ENTITY declarations are refused")
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise LocationParseError("pidf-malformed", f"not well-formed XML: {exc}") from exc


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    text = " ".join((element.text or "").split())
    return text[:120] or None


def _holder_context(
    holder: ET.Element, kind: str, entity: str | None
) -> tuple[datetime | None, dict[str, str]]:
    details = {"element": kind}
    if entity:
        details["entity"] = entity[:256]
    if holder.get("id"):
        details["element_id"] = str(holder.get("id"))[:256]
    device_id = _text(holder.find(_q(DM, "deviceID")))
    if device_id:
        details["device_id"] = device_id
    stamp_tag = _q(PIDF, "timestamp") if kind == "tuple" else _q(DM, "timestamp")
    stamp = _text(holder.find(stamp_tag))
    return (_timestamp(stamp) if stamp else None), details


def _timestamp(text: str) -> datetime:
    if not _RFC3339.fullmatch(text.upper()):
        raise LocationParseError("pidf-bad-timestamp", f"timestamp {text[:40]!r} is not RFC 3339")
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError as exc:
        raise LocationParseError("pidf-bad-timestamp", f"timestamp {text[:40]!r}: {exc}") from exc
    return as_utc(moment, code="pidf-bad-timestamp", what="timestamp")


def _fixes_in(
    info: ET.Element, method: str | None, fixed_at: datetime | None, context: dict[str, str]
) -> list[ParsedFix]:
    confidence, pdf = _confidence(info)
    details = context | ({"confidence_pdf": pdf} if pdf else {})
    fixes: list[ParsedFix] = []
    for child in info:
        if child.tag == _q(CA, "civicAddress"):
            civic = _civic(child)
            if not civic:
                continue
            lang = child.get(XML_LANG)
            fixes.append(
                ParsedFix(
                    "pidf-lo",
                    confidence_pct=confidence,
                    fixed_at=fixed_at,
                    method=method,
                    civic=civic,
                    shape="civic",
                    details=details | ({"civic_lang": lang[:35]} if lang else {}),
                )
            )
            continue
        reader = _SHAPE_READERS.get(child.tag)
        if reader is None:
            continue
        geo = reader(child)
        fixes.append(
            ParsedFix(
                "pidf-lo",
                latitude=geo.latitude,
                longitude=geo.longitude,
                radius_m=geo.radius_m,
                confidence_pct=confidence,
                fixed_at=fixed_at,
                method=method,
                shape=geo.shape,
                details=details | geo.extra,
            )
        )
    return fixes


def _confidence(info: ET.Element) -> tuple[float | None, str | None]:
    element = info.find(_q(CON, "confidence"))
    if element is None:
        return None, None
    pdf = (element.get("pdf") or "normal").strip().lower()
    if pdf not in CONFIDENCE_PDFS:
        raise LocationParseError("pidf-bad-confidence", f"unknown confidence pdf {pdf[:40]!r}")
    value = parse_decimal(element.text or "", code="pidf-bad-confidence", what="confidence")
    if not 0 < value < 100:
        raise LocationParseError("pidf-bad-confidence", f"confidence {value!r} not in ]0, 100[")
    return value, pdf


def _civic(element: ET.Element) -> dict[str, str]:
    civic: dict[str, str] = {}
    prefix = f"{{{CA}}}"
    for child in element:
        name = child.tag.removeprefix(prefix)
        value = _text(child)
        if child.tag.startswith(prefix) and name in CIVIC_ELEMENTS and value:
            civic.setdefault(name, value)
    return civic


# --- geodetic shapes -------------------------------------------------------------------------


def _dimension(shape: ET.Element, inherited: int | None = None) -> int:
    name = shape.get("srsName")
    if name is None and inherited is not None:
        return inherited
    dimension = CRS_DIMENSIONS.get((name or "").strip().lower())
    if dimension is None:
        raise LocationParseError("pidf-unknown-crs", f"unsupported srsName {name!r}")
    return dimension


def _positions(text: str | None, dimension: int) -> list[tuple[float, ...]]:
    values = [
        parse_decimal(v, code="pidf-bad-coordinate", what="coordinate")
        for v in (text or "").split()
    ]
    if not values or len(values) % dimension:
        raise LocationParseError(
            "pidf-bad-coordinate", f"expected {dimension} numbers per position, got {len(values)}"
        )
    positions = [tuple(values[i : i + dimension]) for i in range(0, len(values), dimension)]
    for position in positions:
        check_coordinates(position[0], position[1], code="pidf-bad-coordinate")
    return positions


def _centre(shape: ET.Element, dimension: int) -> tuple[float, ...]:
    pos = shape.find(_q(GML, "pos"))
    if pos is None:
        raise LocationParseError("pidf-missing-pos", f"{_local(shape)} has no gml:pos")
    positions = _positions(pos.text, dimension)
    if len(positions) != 1:
        raise LocationParseError("pidf-bad-coordinate", "gml:pos holds more than one position")
    return positions[0]


def _distance(shape: ET.Element, name: str) -> float:
    element = shape.find(_q(GS, name))
    if element is None:
        raise LocationParseError("pidf-malformed", f"{_local(shape)} has no gs:{name}")
    uom = (element.get("uom") or "").strip()
    if uom.lower() != METRE:
        raise LocationParseError("pidf-unknown-uom", f"gs:{name} unit {uom[:80]!r} is not metres")
    return parse_length(element.text or "", code="pidf-bad-distance", what=f"gs:{name}")


def _local(element: ET.Element) -> str:
    return element.tag.rpartition("}")[2]


def _with_altitude(position: tuple[float, ...], extra: dict[str, str]) -> dict[str, str]:
    return extra | ({"altitude_m": str(position[2])} if len(position) == 3 else {})


def _point(shape: ET.Element) -> _Geo:
    centre = _centre(shape, _dimension(shape))
    return _Geo("Point", centre[0], centre[1], None, _with_altitude(centre, {}))


def _circle(shape: ET.Element) -> _Geo:
    centre = _centre(shape, _dimension(shape))
    radius = _distance(shape, "radius")
    return _Geo(_local(shape), centre[0], centre[1], radius, _with_altitude(centre, {}))


def _ellipse(shape: ET.Element) -> _Geo:
    centre = _centre(shape, _dimension(shape))
    major, minor = _distance(shape, "semiMajorAxis"), _distance(shape, "semiMinorAxis")
    extra = {"semi_minor_m": str(minor)}
    if shape.find(_q(GS, "verticalAxis")) is not None:
        extra["vertical_axis_m"] = str(_distance(shape, "verticalAxis"))
    return _Geo(_local(shape), centre[0], centre[1], major, _with_altitude(centre, extra))


def _arc_band(shape: ET.Element) -> _Geo:
    centre = _centre(shape, _dimension(shape))
    inner, outer = _distance(shape, "innerRadius"), _distance(shape, "outerRadius")
    if inner > outer:
        raise LocationParseError("pidf-bad-distance", "ArcBand inner radius exceeds outer radius")
    return _Geo("ArcBand", centre[0], centre[1], outer, {"inner_radius_m": str(inner)})


def _ring(polygon: ET.Element, dimension: int) -> list[tuple[float, float]]:
    ring = polygon.find(f"{_q(GML, 'exterior')}/{_q(GML, 'LinearRing')}")
    if ring is None:
        raise LocationParseError("pidf-malformed", "polygon has no gml:exterior/gml:LinearRing")
    pos_list = ring.find(_q(GML, "posList"))
    if pos_list is not None:
        positions = _positions(pos_list.text, dimension)
    else:
        found = ring.findall(_q(GML, "pos"))
        positions = [p for pos in found for p in _positions(pos.text, dimension)]
    if len(positions) > 1 and positions[0] == positions[-1]:
        positions = positions[:-1]
    if len(positions) < 3:
        raise LocationParseError("pidf-missing-pos", "polygon ring needs at least 3 vertices")
    return [(p[0], p[1]) for p in positions]


def _polygon(shape: ET.Element) -> _Geo:
    lat, lon, radius = centre_and_radius(_ring(shape, _dimension(shape)))
    return _Geo("Polygon", lat, lon, radius)


def _prism(shape: ET.Element) -> _Geo:
    dimension = _dimension(shape)
    polygon = shape.find(f"{_q(GS, 'base')}/{_q(GML, 'Polygon')}")
    if polygon is None:
        raise LocationParseError("pidf-malformed", "Prism has no gs:base/gml:Polygon")
    lat, lon, radius = centre_and_radius(_ring(polygon, _dimension(polygon, dimension)))
    return _Geo("Prism", lat, lon, radius, {"height_m": str(_distance(shape, "height"))})


_SHAPE_READERS: dict[str, Callable[[ET.Element], _Geo]] = {
    _q(GML, "Point"): _point,
    _q(GML, "Polygon"): _polygon,
    _q(GS, "Circle"): _circle,
    _q(GS, "Sphere"): _circle,
    _q(GS, "Ellipse"): _ellipse,
    _q(GS, "Ellipsoid"): _ellipse,
    _q(GS, "ArcBand"): _arc_band,
    _q(GS, "Prism"): _prism,
}
