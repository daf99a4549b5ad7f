"""PIDF-LO documents to `ParsedFix` lists: one fix per geodetic shape or civic address.

Read: RFC 4119 (presence/tuple/status/gp:geopriv/gp:location-info, tuple timestamp,
gp:method); RFC 4479 dm:device and dm:person (RFC 5491 §3.1) with dm:timestamp, dm:deviceID;
the RFC 5491 §5.2 GeoShapes, srsName urn:ogc:def:crs:EPSG::4326 ("lat lon") or ::4979
("lat lon alt"), distances in urn:ogc:def:uom:EPSG::9001 metres; RFC 5139 ca:civicAddress;
RFC 7459 con:confidence (a percentage; absent -> None, though RFC 5491 implies 95 %). The
pre-RFC 5491 `gml:location`/`gml:coordinates` form is not read: it counts as no location.

Each shape becomes a centre and a radius: Circle/Sphere their radius, Ellipse/Ellipsoid the
semi-major axis, ArcBand the outer radius, Polygon/Prism the vertex mean and the farthest
vertex from it (`geodesy`). Hostile input: 64 KiB at most, UTF-8 only (a declared encoding
is ignored), and <!DOCTYPE / <!ENTITY is refused before the XML parser sees the text, so no
entity expansion or external fetch can happen.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.location.geodesy import centre_and_radius
from gateway.location.parsed import (
    LocationParseError,
    ParsedFix,
    check_coordinates,
    parse_decimal,
    parse_length,
)

MAX_BYTES = 64 * 1024
BAD_COORD = "pidf-bad-coordinate"

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
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.ASCII)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


_HOLDERS = {_q(PIDF, "tuple"): "tuple", _q(DM, "device"): "device", _q(DM, "person"): "person"}


@dataclass(frozen=True)
class _Found:
    shape: str
    latitude: float | None = None
    longitude: float | None = None
    radius_m: float | None = None
    extra: dict[str, str] = field(default_factory=dict)
    civic: dict[str, str] | None = None


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
    try:  # a str longer than the cap is too large whatever its encoding: test before encoding
        raw = b"" if len(xml) > MAX_BYTES else xml.encode() if isinstance(xml, str) else xml
        text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeError as exc:
        raise LocationParseError("pidf-malformed", "document is not UTF-8") from exc
    if len(xml) > MAX_BYTES or len(raw) > MAX_BYTES:
        raise LocationParseError("pidf-too-large", f"document exceeds {MAX_BYTES} bytes")
    if _FORBIDDEN.search(text):
        raise LocationParseError("pidf-dtd-forbidden", "DOCTYPE/ENTITY declarations are refused")
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise LocationParseError("pidf-malformed", f"not well-formed XML: {exc}") from exc


def _text(element: ET.Element | None) -> str | None:
    """The element's text with runs of whitespace made single spaces, capped; None if empty."""
    text = " ".join((element.text or "").split()) if element is not None else ""
    return text[:120] or None


def _holder_context(
    holder: ET.Element, kind: str, entity: str | None
) -> tuple[datetime | None, dict[str, str]]:
    """The timestamp and identifiers of a tuple / dm:device / dm:person element."""
    details = {
        "element": kind,
        "entity": (entity or "")[:256],
        "element_id": holder.get("id", "")[:256],
        "device_id": _text(holder.find(_q(DM, "deviceID"))) or "",
    }
    stamp = _text(holder.find(_q(PIDF if kind == "tuple" else DM, "timestamp")))
    return _timestamp(stamp), {key: value for key, value in details.items() if value}


def _timestamp(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        if not _RFC3339.fullmatch(text.upper()):
            raise ValueError("not RFC 3339 with a time zone")
        return datetime.fromisoformat(text.upper()).astimezone(UTC)
    except ValueError as exc:
        raise LocationParseError("pidf-bad-timestamp", f"timestamp {text[:40]!r}: {exc}") from exc


def _fixes_in(
    info: ET.Element, method: str | None, fixed_at: datetime | None, context: dict[str, str]
) -> list[ParsedFix]:
    confidence, pdf = _confidence(info)
    details = context | ({"confidence_pdf": pdf} if pdf else {})
    fixes: list[ParsedFix] = []
    for child in info:
        reader = _READERS.get(child.tag)
        found = reader(child) if reader is not None else None
        if found is None:
            continue
        fixes.append(
            ParsedFix(
                "pidf-lo",
                latitude=found.latitude,
                longitude=found.longitude,
                radius_m=found.radius_m,
                confidence_pct=confidence,
                fixed_at=fixed_at,
                method=method,
                civic=found.civic,
                shape=found.shape,
                details=details | found.extra,
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


def _civic(element: ET.Element) -> _Found | None:
    civic: dict[str, str] = {}
    prefix = f"{{{CA}}}"
    for child in element:
        name = child.tag.removeprefix(prefix)
        value = _text(child)
        if child.tag.startswith(prefix) and name in CIVIC_ELEMENTS and value:
            civic.setdefault(name, value)
    lang = element.get(XML_LANG)
    extra = {"civic_lang": lang[:35]} if lang else {}
    return _Found("civic", civic=civic, extra=extra) if civic else None


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
    values = [parse_decimal(v, code=BAD_COORD, what="coordinate") for v in (text or "").split()]
    if not values or len(values) % dimension:
        raise LocationParseError(BAD_COORD, f"{len(values)} numbers, not {dimension} per position")
    positions = [tuple(values[i : i + dimension]) for i in range(0, len(values), dimension)]
    for position in positions:
        check_coordinates(position[0], position[1], code=BAD_COORD)
    return positions


def _centre(shape: ET.Element) -> tuple[float, float, dict[str, str]]:
    """(lat, lon, {"altitude_m": ...} for 3D) of the shape's gml:pos."""
    pos = shape.find(_q(GML, "pos"))
    if pos is None:
        raise LocationParseError("pidf-missing-pos", f"{_local(shape)} has no gml:pos")
    positions = _positions(pos.text, _dimension(shape))
    if len(positions) != 1:
        raise LocationParseError(BAD_COORD, "gml:pos holds more than one position")
    (lat, lon, *alt) = positions[0]
    return lat, lon, {"altitude_m": str(alt[0])} if alt else {}


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


def _round(shape: ET.Element) -> _Found:
    """gml:Point (no radius), gs:Circle and gs:Sphere."""
    lat, lon, extra = _centre(shape)
    radius = _distance(shape, "radius") if _local(shape) != "Point" else None
    return _Found(_local(shape), lat, lon, radius, extra)


def _ellipse(shape: ET.Element) -> _Found:
    """gs:Ellipse and gs:Ellipsoid: the semi-major axis is the radius."""
    lat, lon, extra = _centre(shape)
    extra["semi_minor_m"] = str(_distance(shape, "semiMinorAxis"))
    if shape.find(_q(GS, "verticalAxis")) is not None:
        extra["vertical_axis_m"] = str(_distance(shape, "verticalAxis"))
    return _Found(_local(shape), lat, lon, _distance(shape, "semiMajorAxis"), extra)


def _arc_band(shape: ET.Element) -> _Found:
    lat, lon, extra = _centre(shape)
    inner, outer = _distance(shape, "innerRadius"), _distance(shape, "outerRadius")
    if inner > outer:
        raise LocationParseError("pidf-bad-distance", "ArcBand inner radius exceeds outer radius")
    return _Found("ArcBand", lat, lon, outer, extra | {"inner_radius_m": str(inner)})


def _polygon(shape: ET.Element) -> _Found:
    """gml:Polygon, or gs:Prism through its base polygon (whose srsName it may inherit)."""
    polygon, dimension = shape, _dimension(shape)
    extra = {}
    if _local(shape) == "Prism":
        found = shape.find(f"{_q(GS, 'base')}/{_q(GML, 'Polygon')}")
        if found is None:
            raise LocationParseError("pidf-malformed", "Prism has no gs:base/gml:Polygon")
        polygon, dimension = found, _dimension(found, dimension)
        extra["height_m"] = str(_distance(shape, "height"))
    ring = polygon.find(f"{_q(GML, 'exterior')}/{_q(GML, 'LinearRing')}")
    if ring is None:
        raise LocationParseError("pidf-malformed", "polygon has no gml:exterior/gml:LinearRing")
    pos_list = ring.find(_q(GML, "posList"))
    texts = [pos_list.text] if pos_list is not None else [p.text for p in ring.iter(_q(GML, "pos"))]
    positions = [position for text in texts for position in _positions(text, dimension)]
    if len(positions) > 1 and positions[0] == positions[-1]:
        positions = positions[:-1]
    if len(positions) < 3:
        raise LocationParseError("pidf-missing-pos", "polygon ring needs at least 3 vertices")
    lat, lon, radius = centre_and_radius([(p[0], p[1]) for p in positions])
    return _Found(_local(shape), lat, lon, radius, extra)


_READERS: dict[str, Callable[[ET.Element], _Found | None]] = {
    _q(CA, "civicAddress"): _civic,
    _q(GML, "Point"): _round,
    _q(GML, "Polygon"): _polygon,
    _q(GS, "Circle"): _round,
    _q(GS, "Sphere"): _round,
    _q(GS, "Ellipse"): _ellipse,
    _q(GS, "Ellipsoid"): _ellipse,
    _q(GS, "ArcBand"): _arc_band,
    _q(GS, "Prism"): _polygon,
}
