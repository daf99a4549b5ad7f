"""What every caller-location parser returns (`ParsedFix`), the one error it raises, and the
small text helpers the parsers share (strict decimals, quoted strings, `;param` lists).

Parsers never range-check a position against the service area: the domain does that. They
do refuse what is not a position at all: text that is not a plain decimal number, NaN or
infinity, and latitudes/longitudes outside the globe (|lat| > 90, |lon| > 180).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SOURCES = frozenset({"pidf-lo", "aml", "cell", "fixed-line", "operator"})
SHAPES = frozenset(
    {"Point", "Circle", "Ellipse", "Polygon", "ArcBand", "Sphere", "Ellipsoid", "Prism", "civic"}
)


class LocationParseError(ValueError):
    """A payload that cannot be turned into a location; `code` is short and machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ParsedFix:
    """One location estimate as found in a payload, before any domain validation.

    `radius_m` is the horizontal uncertainty radius in metres (for non-circular shapes, the
    radius of a circle around the centre that holds the shape); `confidence_pct` is the
    probability (0 < c < 100) that the caller is inside it, when the payload says so.
    """

    source: str
    latitude: float | None = None
    longitude: float | None = None
    radius_m: float | None = None
    confidence_pct: float | None = None
    fixed_at: datetime | None = None
    method: str | None = None
    civic: dict[str, str] | None = None
    shape: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise LocationParseError("fix-invalid", f"unknown source {self.source!r}")
        if self.shape is not None and self.shape not in SHAPES:
            raise LocationParseError("fix-invalid", f"unknown shape {self.shape!r}")
        if (self.latitude is None) != (self.longitude is None):
            raise LocationParseError("fix-invalid", "latitude and longitude come together")
        if self.latitude is not None and self.longitude is not None:
            check_coordinates(self.latitude, self.longitude, code="fix-invalid")
        if self.radius_m is not None and not (math.isfinite(self.radius_m) and self.radius_m >= 0):
            raise LocationParseError("fix-invalid", f"radius {self.radius_m!r} is not a length")
        if self.confidence_pct is not None and not 0 < self.confidence_pct < 100:
            raise LocationParseError("fix-invalid", f"confidence {self.confidence_pct!r} %")
        if self.fixed_at is not None and self.fixed_at.utcoffset() != timedelta(0):
            raise LocationParseError("fix-invalid", "fixed_at must be an aware UTC datetime")

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-able copy: datetimes as ISO 8601 strings, dicts copied."""
        return {
            "source": self.source,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "radius_m": self.radius_m,
            "confidence_pct": self.confidence_pct,
            "fixed_at": self.fixed_at.isoformat() if self.fixed_at is not None else None,
            "method": self.method,
            "civic": dict(self.civic) if self.civic is not None else None,
            "shape": self.shape,
            "details": dict(self.details),
        }


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_MAX_NUMBER_CHARS = 40


def parse_decimal(text: str, *, code: str, what: str) -> float:
    """A finite float from ASCII decimal text; no '_', no 'nan'/'inf', no non-ASCII digits."""
    stripped = text.strip()
    if len(stripped) > _MAX_NUMBER_CHARS or not _DECIMAL.fullmatch(stripped):
        raise LocationParseError(code, f"{what} is not a decimal number: {stripped[:40]!r}")
    value = float(stripped)
    if not math.isfinite(value):
        raise LocationParseError(code, f"{what} is not a finite number: {stripped!r}")
    return value


def parse_length(text: str, *, code: str, what: str) -> float:
    """A finite, non-negative decimal (a distance in metres)."""
    value = parse_decimal(text, code=code, what=what)
    if value < 0:
        raise LocationParseError(code, f"{what} is negative: {value!r}")
    return value


def check_coordinates(latitude: float, longitude: float, *, code: str) -> None:
    """Refuse coordinates that are not on the globe (not a service-area check)."""
    for value, limit, what in ((latitude, 90.0, "latitude"), (longitude, 180.0, "longitude")):
        if not (math.isfinite(value) and -limit <= value <= limit):
            raise LocationParseError(code, f"{what} {value!r} is outside ±{limit:g}°")


def as_utc(moment: datetime, *, code: str, what: str) -> datetime:
    """The same instant in UTC; naive datetimes are refused (their zone is unknown)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise LocationParseError(code, f"{what} has no time zone")
    return moment.astimezone(UTC)


def split_outside_quotes(text: str, sep: str, *, code: str, angle: bool = False) -> list[str]:
    """Split on `sep` where it is outside "quoted strings" (and <...> when `angle`)."""
    parts: list[str] = []
    current: list[str] = []
    in_quotes = in_angle = escaped = False
    for char in text:
        if in_quotes:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_quotes = False
        elif in_angle:
            in_angle = char != ">"
        elif char == '"':
            in_quotes = True
        elif angle and char == "<":
            in_angle = True
        elif char == sep:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if in_quotes or in_angle:
        raise LocationParseError(code, "unterminated quoted string or <...>")
    parts.append("".join(current))
    return parts


def unquote(value: str, *, code: str) -> str:
    """The content of a "quoted-string" (backslash escapes removed), or `value` unchanged."""
    if not value.startswith('"'):
        return value
    if len(value) < 2 or not value.endswith('"'):
        raise LocationParseError(code, f"bad quoted string {value[:40]!r}")
    return re.sub(r"\\(.)", r"\1", value[1:-1])


_TOKEN = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_GEN_VALUE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~:\[\]]+")  # token / host (RFC 3261 gen-value)
_LOOSE_VALUE = re.compile(r"[!#-~]+")  # any visible ASCII but '"' (MIME parameter values)


def is_token(text: str) -> bool:
    return _TOKEN.fullmatch(text) is not None


def parse_params(items: Iterable[str], *, code: str, loose: bool = False) -> dict[str, str]:
    """`name[=value]` items (already split on ';') as {lower-case name: unquoted value}.

    A name without value maps to "". Duplicate names are refused. `loose` accepts any
    visible ASCII in unquoted values (MIME), otherwise SIP's token / host / quoted-string.
    """
    value_re = _LOOSE_VALUE if loose else _GEN_VALUE
    params: dict[str, str] = {}
    for item in items:
        name, eq, raw_value = (part.strip() for part in item.partition("="))
        if not is_token(name):
            raise LocationParseError(code, f"bad parameter name {name[:40]!r}")
        value = raw_value
        if eq and not (raw_value.startswith('"') or value_re.fullmatch(raw_value)):
            raise LocationParseError(code, f"bad value for parameter {name!r}")
        if eq:
            value = unquote(raw_value, code=code)
        key = name.lower()
        if key in params:
            raise LocationParseError(code, f"parameter {name!r} appears twice")
        params[key] = value
    return params
