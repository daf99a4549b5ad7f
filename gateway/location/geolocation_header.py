"""SIP `Geolocation` and `Geolocation-Routing` header values (RFC 6442 §4.1 and §4.2).

    Geolocation        = "Geolocation" HCOLON locationValue *( COMMA locationValue )
    locationValue      = LAQUOT locationURI RAQUOT *( SEMI geoloc-param )
    geoloc-param       = generic-param
    Geolocation-Routing = "Geolocation-Routing" HCOLON ( "yes" / "no" / generic-value )

A URI may itself hold commas and semicolons: the split honours <...> and "quoted strings".
A `cid:` URI (RFC 2392) names a body part by Content-ID; `content_id` is its percent-decoded
addr-spec, ready for `multipart.find_body_part`. Caps against abuse: 2048 characters per
header value and 8 references in all; going past them is "geolocation-header-malformed".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, cast
from urllib.parse import unquote

from gateway.location.parsed import (
    LocationParseError,
    is_token,
    parse_params,
    split_outside_quotes,
)

CODE = "geolocation-header-malformed"
MAX_HEADER_CHARS = 2048
MAX_REFS = 8

RefKind = Literal["cid", "http", "https", "sip", "sips", "other"]
_KINDS = frozenset({"cid", "http", "https", "sip", "sips"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_URI = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")  # RFC 3986 characters only
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class GeolocationRef:
    """One location reference: `uri` as written, `kind` from its scheme, its `;params`."""

    uri: str
    kind: RefKind
    content_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def parse_geolocation_header(value: str) -> list[GeolocationRef]:
    """Every `<uri>;param` entry of one Geolocation header value, in order."""
    if len(value) > MAX_HEADER_CHARS:
        raise LocationParseError(CODE, f"header value longer than {MAX_HEADER_CHARS} characters")
    refs = [_entry(entry) for entry in split_outside_quotes(value, ",", code=CODE, angle=True)]
    if len(refs) > MAX_REFS:
        raise LocationParseError(CODE, f"more than {MAX_REFS} location references")
    return refs


def parse_geolocation_headers(values: Iterable[str]) -> list[GeolocationRef]:
    """The references of several Geolocation headers of one message, concatenated in order."""
    refs: list[GeolocationRef] = []
    for value in values:
        refs.extend(parse_geolocation_header(value))
        if len(refs) > MAX_REFS:
            raise LocationParseError(CODE, f"more than {MAX_REFS} location references")
    return refs


def parse_geolocation_routing(value: str) -> bool | None:
    """`yes` -> True, `no` -> False, any other token (a future extension) -> None."""
    text = value.strip()
    if len(text) > 64 or not is_token(text):
        raise LocationParseError(CODE, f"bad Geolocation-Routing value {text[:40]!r}")
    return {"yes": True, "no": False}.get(text.lower())


def _entry(text: str) -> GeolocationRef:
    entry = text.strip()
    close = entry.find(">")
    if not entry.startswith("<") or close < 0:
        raise LocationParseError(CODE, f"entry is not <uri>: {entry[:60]!r}")
    uri, rest = entry[1:close], entry[close + 1 :].strip()
    params: dict[str, str] = {}
    if rest:
        if not rest.startswith(";"):
            raise LocationParseError(CODE, f"unexpected text after <uri>: {rest[:40]!r}")
        params = parse_params(split_outside_quotes(rest[1:], ";", code=CODE), code=CODE)
    scheme = _SCHEME.match(uri)
    if scheme is None or not _URI.fullmatch(uri) or _BAD_PERCENT.search(uri):
        raise LocationParseError(CODE, f"not an absolute URI: {uri[:60]!r}")
    name = scheme.group(1).lower()
    kind = cast(RefKind, name if name in _KINDS else "other")
    content_id = None
    if kind == "cid":
        try:
            content_id = unquote(uri[scheme.end() :], errors="strict")
        except UnicodeDecodeError as exc:
            raise LocationParseError(CODE, "cid: URI is not UTF-8 once decoded") from exc
        if not content_id:
            raise LocationParseError(CODE, "cid: URI without a Content-ID")
    return GeolocationRef(uri=uri, kind=kind, content_id=content_id, params=params)
