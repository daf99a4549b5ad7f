"""What the caller's number tells us: validity, E.164, type, carrier, area. Never raises.

The input is the raw caller id number as Asterisk reports it (``agi_callerid``,
``CallerIDNum``): untrusted, possibly empty, ``"unknown"``, ``"anonymous"``, or junk.

``status``:

* ``withheld``  no number was presented (empty, anonymous, unknown, restricted, ...);
* ``malformed`` not a phone number at all (letters, control characters, too long, or
  rejected by the parser);
* ``invalid``   looks like a number but is not valid in its numbering plan (too short,
  unassigned range); ``e164`` is still filled, so repeat calls can be counted;
* ``valid``     a dialable number; type, carrier, area and country are filled when known.

Cost (measured on the project box, phonenumbers 9.0.43): importing this module takes about
75 ms; the geocoder's area tables take about 350 ms more and are loaded on the first fixed
line, so the composition root should call ``warm_up()`` once at start-up. A warm call
takes about 70-110 µs.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, carrier

from gateway.callers.areas import area_of

logger = logging.getLogger(__name__)

MAX_RAW_CHARS = 64
MAX_DIGITS = 17  # before parsing: 15 for E.164, plus room for "00" or a trunk "0"
E164_MAX_DIGITS = 15
# Geocoder language: the French tables spell Moroccan places better ("Kénitra", not
# "Kènitra") and match what call-takers read.
GEO_LANGUAGE = "fr"
CARRIER_LANGUAGE = "en"

_WITHHELD = frozenset(
    {
        "anonymous",
        "unknown",
        "<unknown>",
        "restricted",
        "private",
        "unavailable",
        "withheld",
        "blocked",
        "anonyme",
        "masque",
        "masqué",
        "prive",
        "privé",
    }
)
_ALLOWED = re.compile(r"\+?[0-9 ().\-/]+")
_SEPARATORS = re.compile(r"[ ().\-/]")

_TYPES: dict[int, str] = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
_GEOCODED_TYPES = frozenset({"fixed_line", "fixed_line_or_mobile"})


@dataclass(frozen=True)
class CallerNumber:
    raw: str  # as received, capped to MAX_RAW_CHARS, control characters replaced by "�"
    status: str  # "valid" | "invalid" | "withheld" | "malformed"
    e164: str | None = None
    number_type: str = "unknown"
    carrier: str | None = None
    region: str | None = None  # area for fixed lines, e.g. "Rabat"; None if only the country
    country: str | None = None  # ISO 3166 region code, e.g. "MA"
    foreign: bool = False


def describe_caller(raw: str | None, default_region: str = "MA") -> CallerNumber:
    text = raw if isinstance(raw, str) else ""
    shown = _shown(text)
    stripped = text.strip(" ")
    if any(unicodedata.category(c) == "Cc" for c in text):
        return CallerNumber(raw=shown, status="malformed")
    if not stripped or stripped.lower() in _WITHHELD:
        return CallerNumber(raw=shown, status="withheld")
    if len(text) > MAX_RAW_CHARS or not _ALLOWED.fullmatch(stripped):
        return CallerNumber(raw=shown, status="malformed")
    digits = _SEPARATORS.sub("", stripped)
    if len(digits.lstrip("+")) > MAX_DIGITS or "+" in digits[1:]:
        return CallerNumber(raw=shown, status="malformed")
    try:
        return _analyse(shown, digits, default_region)
    except phonenumbers.NumberParseException:
        return CallerNumber(raw=shown, status="malformed")
    except Exception:  # a library bug must not cost us the call: degrade, and say so
        logger.exception("phonenumbers failed on caller number %r", shown)
        return CallerNumber(raw=shown, status="malformed")


def _analyse(shown: str, digits: str, default_region: str) -> CallerNumber:
    number = phonenumbers.parse(digits, default_region)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(e164) - 1 > E164_MAX_DIGITS:
        return CallerNumber(raw=shown, status="malformed")
    code = number.country_code or 0
    home = phonenumbers.country_code_for_region(default_region)
    foreign = code != home
    if not phonenumbers.is_valid_number(number):
        country = _iso(phonenumbers.region_code_for_country_code(code))
        return CallerNumber(
            raw=shown, status="invalid", e164=e164, country=country, foreign=foreign
        )
    number_type = _TYPES.get(phonenumbers.number_type(number), "unknown")
    country = _iso(phonenumbers.region_code_for_number(number))
    return CallerNumber(
        raw=shown,
        status="valid",
        e164=e164,
        number_type=number_type,
        carrier=carrier.name_for_number(number, CARRIER_LANGUAGE) or None,
        region=_area(number, e164, home) if number_type in _GEOCODED_TYPES else None,
        country=country,
        foreign=foreign,
    )


def repeat_key(caller: CallerNumber) -> str | None:
    """The key under which repeat calls are counted: the E.164 form, when there is one."""
    if caller.status in ("valid", "invalid"):
        return caller.e164
    return None


def warm_up(default_region: str = "MA") -> None:
    """Load the tables a first call needs (metadata, carrier, geocoder) ahead of time."""
    for sample in ("0612345678", "0537212345"):
        describe_caller(sample, default_region)


def _area(number: phonenumbers.PhoneNumber, e164: str, home_code: int) -> str | None:
    """Area of a fixed line of the home country (foreign ones: the country says enough)."""
    if number.country_code != home_code:
        return None
    return area_of(e164, home_code)


def _iso(region: str | None) -> str | None:
    """phonenumbers says "001" for non-geographic numbers and "ZZ" for unknown."""
    if region and region.isalpha() and region != "ZZ":
        return region
    return None


def _shown(text: str) -> str:
    capped = text[:MAX_RAW_CHARS]
    return "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in capped)
