"""Find the PIDF-LO in a SIP message body: multipart MIME (RFC 2046 §5.1.1) parts, picked by
Content-ID (RFC 2392, as a Geolocation `cid:` URI names them, RFC 6442 §4.1) or by type.

A small splitter rather than the `email` package: SIP bodies are binary-safe, the delimiter
rule is short, and we want every oddity to end in a `LocationParseError`, not a best guess.
Accepted: a quoted or bare `boundary` parameter, CRLF or bare LF line ends, preamble and
epilogue, transport padding after a delimiter, folded part headers, nested multiparts (up to
3 levels), and base64 / quoted-printable part encodings. Refused: no boundary, no closing
delimiter, a part without the blank line after its headers, more than 32 parts, a body over
256 KiB. Returned media types are bare and lower-case ("application/pidf+xml"); a part with
no Content-Type is text/plain (RFC 2045 §5.2).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass

from gateway.location.parsed import LocationParseError, is_token, parse_params, split_outside_quotes

PIDF_TYPE = "application/pidf+xml"
MAX_BODY_BYTES = 256 * 1024
MAX_PARTS = 32
MAX_DEPTH = 3

_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+")
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


@dataclass(frozen=True)
class _Part:
    media_type: str
    params: dict[str, str]
    content_id: str | None
    body: bytes


def find_body_part(content_type: str, body: bytes, content_id: str) -> tuple[str, bytes]:
    """(media type, decoded body) of the part whose Content-ID is `content_id`.

    Angle brackets are optional on both sides; the comparison is otherwise exact (RFC 2392
    leaves the local part case-sensitive, and we do not guess about the domain either).
    """
    wanted = _strip_brackets(content_id)
    if not wanted:
        raise LocationParseError("multipart-part-not-found", "empty Content-ID asked for")
    media_type, params = parse_content_type(content_type)
    if not media_type.startswith("multipart/"):
        raise LocationParseError("multipart-not-multipart", f"body is {media_type}")
    for part in _walk(params, body, depth=1):
        if part.content_id == wanted:
            return part.media_type, part.body
    raise LocationParseError("multipart-part-not-found", f"no part has Content-ID <{wanted}>")


def pidf_parts(content_type: str, body: bytes) -> list[bytes]:
    """Every application/pidf+xml body: the body itself, or each such multipart part."""
    media_type, params = parse_content_type(content_type)
    if media_type == PIDF_TYPE:
        return [body]
    if not media_type.startswith("multipart/"):
        return []
    return [part.body for part in _walk(params, body, depth=1) if part.media_type == PIDF_TYPE]


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """("type/subtype" in lower case, {param: value}) of a Content-Type header value."""
    code = "multipart-malformed"
    media_type, *items = split_outside_quotes(value, ";", code=code)
    media_type = media_type.strip()
    if not _MEDIA_TYPE.fullmatch(media_type):
        raise LocationParseError(code, f"bad media type {media_type[:60]!r}")
    return media_type.lower(), parse_params((i for i in items if i.strip()), code=code, loose=True)


def _walk(params: dict[str, str], body: bytes, depth: int) -> Iterator[_Part]:
    if depth > MAX_DEPTH:
        raise LocationParseError("multipart-malformed", f"multipart nested over {MAX_DEPTH} deep")
    for raw in _split(body, _boundary(params)):
        part = _read_part(raw)
        yield part
        if part.media_type.startswith("multipart/"):
            yield from _walk(part.params, part.body, depth + 1)


def _boundary(params: dict[str, str]) -> bytes:
    boundary = params.get("boundary")
    if boundary is None:
        raise LocationParseError("multipart-no-boundary", "multipart Content-Type has no boundary")
    if not _BOUNDARY.fullmatch(boundary):
        raise LocationParseError("multipart-no-boundary", f"invalid boundary {boundary[:80]!r}")
    return boundary.encode("ascii")


def _split(body: bytes, boundary: bytes) -> list[bytes]:
    if len(body) > MAX_BODY_BYTES:
        raise LocationParseError("multipart-malformed", f"body exceeds {MAX_BODY_BYTES} bytes")
    delimiter = re.compile(rb"(?:\A|\r?\n)--" + re.escape(boundary) + rb"(--)?[ \t]*(?=\r?\n|\Z)")
    matches = list(delimiter.finditer(body))
    parts: list[bytes] = []
    for here, following in itertools.pairwise(matches):
        if here.group(1):
            break
        start = here.end() + (2 if body.startswith(b"\r\n", here.end()) else 1)
        parts.append(body[start : following.start()])
        if len(parts) > MAX_PARTS:
            raise LocationParseError("multipart-malformed", f"more than {MAX_PARTS} parts")
        if following.group(1):
            return parts
    raise LocationParseError("multipart-malformed", "no part closed by a --boundary-- delimiter")


def _read_part(raw: bytes) -> _Part:
    headers: dict[str, str] = {}
    last: str | None = None
    position = 0
    while True:
        end = raw.find(b"\n", position)
        if end < 0:
            raise LocationParseError("multipart-malformed", "part headers end without a blank line")
        line, position = raw[position:end].removesuffix(b"\r"), end + 1
        if not line:
            break
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LocationParseError("multipart-malformed", "part header is not UTF-8") from exc
        if text[:1] in (" ", "\t") and last is not None:
            headers[last] += " " + text.strip()
            continue
        name, colon, value = text.partition(":")
        name = name.strip().lower()
        if not colon or not is_token(name) or name in headers:
            raise LocationParseError("multipart-malformed", f"bad part header {text[:60]!r}")
        headers[name], last = value.strip(), name
    media_type, params = parse_content_type(headers.get("content-type", "text/plain"))
    content_id = headers.get("content-id")
    body = _decode(raw[position:], headers.get("content-transfer-encoding", "binary"))
    return _Part(media_type, params, _strip_brackets(content_id) if content_id else None, body)


def _decode(body: bytes, encoding: str) -> bytes:
    name = encoding.strip().lower()
    if name in ("7bit", "8bit", "binary"):
        return body
    if name == "quoted-printable":
        return quopri.decodestring(body)
    if name == "base64":
        try:
            return base64.b64decode(b"".join(body.split()), validate=True)
        except binascii.Error as exc:
            raise LocationParseError("multipart-malformed", "part is not valid base64") from exc
    raise LocationParseError("multipart-malformed", f"unknown transfer encoding {name[:40]!r}")


def _strip_brackets(content_id: str) -> str:
    value = content_id.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    return value
