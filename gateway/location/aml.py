"""Advanced Mobile Location (ETSI TS 103 625) messages to `ParsedFix`.

SMS text form (version 1), e.g.
`A"ML=1;lt=+33.97421;lg=-006.84971;rd=12;top=20261122043012;lc=68;pm=G;si=604001234567890;
ei=356938035643809;mcc=604;mnc=01;ml=129` (one line). Every attribute appears at most once,
only the twelve known names are accepted, and `ml` must equal the length in characters of
the whole message, itself included (surrounding whitespace is stripped first). `pm=N` means
the handset had no position: that raises "aml-no-position". The caller's number is the SMS
sender, known to the transport, not to the text.

HTTPS form: the form-urlencoded POST of the handset (the field set of ETSI TS 103 625's HTTPS
transport as published in Google's ELS HTTPS specification): `v`, `emergency_number`,
`source`, `thunderbird_version`, `time` and `location_time` (Unix milliseconds),
`location_latitude`, `location_longitude`, `location_accuracy` (m), `location_confidence`
(a fraction, 0 < c < 1, e.g. 0.6827), `location_source` (gps, wifi, cell, unknown),
`location_altitude[_msl]`, `location_vertical_accuracy[_msl]`, `location_floor`,
`location_bearing`, `location_speed`, `device_number`, `device_model`, `device_imsi`,
`device_imei`, `device_iccid`, `cell_home_mcc`, `cell_home_mnc`, `cell_network_mcc`,
`cell_network_mnc`. Known fields are checked strictly (a malformed one is an error; an empty
one counts as absent); a known field given twice is an error. The spec says the format may
be extended (and carries opt-in "additional emergency information", e.g. medical data), so
unknown fields are tolerated but ignored: only their count is kept, never their content.
Without both latitude and longitude there is no position: "aml-no-position".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from gateway.location.parsed import (
    LocationParseError,
    ParsedFix,
    check_coordinates,
    parse_decimal,
    parse_length,
)

MAX_SMS_CHARS = 640
SMS_ATTRIBUTES = ('A"ML', "lt", "lg", "rd", "top", "lc", "pm", "si", "ei", "mcc", "mnc", "ml")
SMS_MANDATORY = ("lt", "lg", "rd", "top", "lc", "pm", "ml")
SMS_METHODS = {"G": "GPS", "W": "Wifi", "C": "Cell"}
HTTPS_SOURCES = {"gps": "GPS", "wifi": "Wifi", "cell": "Cell", "unknown": None}
MAX_FORM_FIELDS = 64
MAX_FIELD_CHARS = 256

BAD = "aml-bad-value"


def _digits(low: int, high: int) -> re.Pattern[str]:
    return re.compile(f"[0-9]{{{low},{high}}}")


_SMS_IDS = {"si": ("imsi", _digits(5, 15)), "ei": ("imei", _digits(14, 16)),
            "mcc": ("mcc", _digits(3, 3)), "mnc": ("mnc", _digits(2, 3))}  # fmt: skip
_PRINTABLE = r"[^\x00-\x1f\x7f]"
_HTTPS_TEXT: dict[str, tuple[str, re.Pattern[str]]] = {
    "v": ("version", _digits(1, 4)),
    "emergency_number": ("emergency_number", re.compile(r"\+?[0-9*#]{1,16}")),
    "source": ("activation", re.compile(r"(?i:call|sms)")),
    "thunderbird_version": ("thunderbird_version", re.compile(r"[0-9A-Za-z._\-]{1,32}")),
    "location_floor": ("floor", re.compile(f"{_PRINTABLE}{{1,16}}")),
    "device_number": ("number", re.compile(r"\+?[0-9]{3,20}")),
    "device_model": ("device_model", re.compile(f"{_PRINTABLE}{{1,128}}")),
    "device_imsi": ("imsi", _digits(5, 15)),
    "device_imei": ("imei", _digits(14, 16)),
    "device_iccid": ("iccid", _digits(18, 22)),
    "cell_home_mcc": ("home_mcc", _digits(3, 3)),
    "cell_home_mnc": ("home_mnc", _digits(2, 3)),
    "cell_network_mcc": ("mcc", _digits(3, 3)),
    "cell_network_mnc": ("mnc", _digits(2, 3)),
}
_HTTPS_NUMBERS = {
    "location_altitude": "altitude_m",
    "location_altitude_msl": "altitude_msl_m",
    "location_vertical_accuracy": "vertical_accuracy_m",
    "location_vertical_accuracy_msl": "vertical_accuracy_msl_m",
    "location_bearing": "bearing_deg",
    "location_speed": "speed_mps",
}
_HTTPS_POSITION = ("location_latitude", "location_longitude", "location_accuracy",
                   "location_confidence", "location_time", "time", "location_source")  # fmt: skip
HTTPS_FIELDS = frozenset(_HTTPS_TEXT) | frozenset(_HTTPS_NUMBERS) | frozenset(_HTTPS_POSITION)


def parse_aml_sms(text: str, *, received_at: datetime) -> ParsedFix:
    """The position of an AML SMS (version 1); `received_at` is when the SMS arrived."""
    received = _aware(received_at)
    message = text.strip()
    if not message.startswith('A"ML='):
        raise LocationParseError("aml-not-aml", 'message does not start with A"ML=')
    if len(message) > MAX_SMS_CHARS:
        raise LocationParseError("aml-malformed", f"message longer than {MAX_SMS_CHARS} characters")
    attrs: dict[str, str] = {}
    for item in message.split(";"):
        key, eq, value = item.partition("=")
        if not eq:
            raise LocationParseError("aml-malformed", f"{item[:40]!r} is not name=value")
        if key not in SMS_ATTRIBUTES:
            raise LocationParseError("aml-unknown-attribute", f"unknown attribute {key[:20]!r}")
        if key in attrs:
            raise LocationParseError("aml-duplicate-attribute", f"attribute {key!r} appears twice")
        attrs[key] = value
    version = attrs['A"ML']
    if version != "1":
        raise LocationParseError("aml-unsupported-version", f"AML version {version[:8]!r}")
    if "ml" in attrs:
        declared = attrs["ml"]
        if not _digits(1, 4).fullmatch(declared) or int(declared) != len(message):
            raise LocationParseError(
                "aml-length-mismatch", f"ml={declared[:8]!r} but the message is {len(message)} long"
            )
    if attrs.get("pm") == "N":
        raise LocationParseError("aml-no-position", "AML message without position (pm=N)")
    missing = [key for key in SMS_MANDATORY if key not in attrs]
    if missing:
        raise LocationParseError("aml-missing-attribute", f"missing {', '.join(missing)}")
    latitude = parse_decimal(attrs["lt"], code=BAD, what="lt")
    longitude = parse_decimal(attrs["lg"], code=BAD, what="lg")
    check_coordinates(latitude, longitude, code=BAD)
    method = SMS_METHODS.get(attrs["pm"])
    if method is None:
        raise LocationParseError(BAD, f"unknown positioning method pm={attrs['pm'][:8]!r}")
    details = {"version": "1", "pm": attrs["pm"], "received_at": received.isoformat()}
    for key, (name, pattern) in _SMS_IDS.items():
        if key in attrs:
            details[name] = _checked(attrs[key], pattern, key)
    return ParsedFix(
        "aml",
        latitude=latitude,
        longitude=longitude,
        radius_m=parse_length(attrs["rd"], code=BAD, what="rd"),
        confidence_pct=_percent(parse_decimal(attrs["lc"], code=BAD, what="lc")),
        fixed_at=_top(attrs["top"]),
        method=method,
        details=details,
    )


def parse_aml_https(fields: Mapping[str, str], *, received_at: datetime) -> ParsedFix:
    """The position of an HTTPS AML POST, from its decoded form fields (a MultiDict is fine)."""
    received = _aware(received_at)
    form: dict[str, str] = {}
    ignored = 0
    for count, (key, value) in enumerate(fields.items(), start=1):
        if count > MAX_FORM_FIELDS:
            raise LocationParseError("aml-malformed", f"more than {MAX_FORM_FIELDS} form fields")
        if key not in HTTPS_FIELDS:
            ignored += 1
        elif key in form:
            raise LocationParseError("aml-duplicate-attribute", f"field {key!r} appears twice")
        elif len(value) > MAX_FIELD_CHARS or not value.isprintable():
            raise LocationParseError(BAD, f"field {key!r} is too long or not printable")
        else:
            form[key] = value.strip()
    form = {key: value for key, value in form.items() if value}
    if "location_latitude" not in form or "location_longitude" not in form:
        raise LocationParseError("aml-no-position", "HTTPS AML without latitude and longitude")
    latitude = parse_decimal(form["location_latitude"], code=BAD, what="location_latitude")
    longitude = parse_decimal(form["location_longitude"], code=BAD, what="location_longitude")
    check_coordinates(latitude, longitude, code=BAD)
    details = {"received_at": received.isoformat()}
    if ignored:
        details["ignored_fields"] = str(ignored)
    for key, (name, pattern) in _HTTPS_TEXT.items():
        if key in form:
            details[name] = _checked(form[key], pattern, key)
    details["activation"] = details.get("activation", "").lower()
    for key, name in _HTTPS_NUMBERS.items():
        if key in form:
            details[name] = str(parse_decimal(form[key], code=BAD, what=key))
    if "time" in form:
        details["call_started_at"] = _unix_ms(form["time"], "time").isoformat()
    source = form.get("location_source", "unknown").lower()
    if source not in HTTPS_SOURCES:
        raise LocationParseError(BAD, f"unknown location_source {source[:16]!r}")
    radius = form.get("location_accuracy")
    confidence = form.get("location_confidence")
    fix_time = form.get("location_time")
    return ParsedFix(
        "aml",
        latitude=latitude,
        longitude=longitude,
        radius_m=parse_length(radius, code=BAD, what="location_accuracy") if radius else None,
        confidence_pct=_fraction_to_percent(confidence) if confidence else None,
        fixed_at=_unix_ms(fix_time, "location_time") if fix_time else None,
        method=HTTPS_SOURCES[source],
        details={key: value for key, value in details.items() if value},
    )


def _aware(received_at: datetime) -> datetime:
    if received_at.utcoffset() is None:
        raise ValueError("received_at must be a timezone-aware datetime")
    return received_at.astimezone(UTC)


def _checked(value: str, pattern: re.Pattern[str], name: str) -> str:
    if not pattern.fullmatch(value):
        raise LocationParseError(BAD, f"{name} has an unexpected form: {value[:24]!r}")
    return " ".join(value.split())


def _percent(value: float) -> float:
    if not 0 < value < 100:
        raise LocationParseError(BAD, f"confidence {value!r} % is not in ]0, 100[")
    return value


def _fraction_to_percent(text: str) -> float:
    value = parse_decimal(text, code=BAD, what="location_confidence")
    if not 0 < value < 1:
        raise LocationParseError(BAD, f"location_confidence {value!r} is not a fraction in ]0, 1[")
    return value * 100


def _top(text: str) -> datetime:
    if not _digits(14, 14).fullmatch(text):
        raise LocationParseError(BAD, f"top={text[:20]!r} is not YYYYMMDDhhmmss")
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise LocationParseError(BAD, f"top={text!r} is not a date: {exc}") from exc


def _unix_ms(text: str, name: str) -> datetime:
    if not _digits(1, 15).fullmatch(text):
        raise LocationParseError(BAD, f"{name}={text[:20]!r} is not Unix milliseconds")
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(text))
    except OverflowError as exc:
        raise LocationParseError(BAD, f"{name}={text!r} is out of range") from exc
