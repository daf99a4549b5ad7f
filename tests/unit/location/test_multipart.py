"""Multipart SIP bodies: PIDF-LO parts by Content-ID and by type, and broken bodies."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from gateway.location.multipart import MAX_BODY_BYTES, MAX_PARTS, find_body_part, pidf_parts
from gateway.location.parsed import LocationParseError
from gateway.location.pidf_lo import parse_pidf_lo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "location"
MIXED = 'multipart/mixed; boundary="boundary1"'
CID = "target123@atlas.example.ma"


def body_lf() -> bytes:
    return (FIXTURES / "invite_body_multipart.txt").read_bytes()


def body_crlf() -> bytes:
    return body_lf().replace(b"\n", b"\r\n")


def error_code(content_type: str, body: bytes, content_id: str = CID) -> str:
    with pytest.raises(LocationParseError) as caught:
        find_body_part(content_type, body, content_id)
    return caught.value.code


def build(*parts: bytes, boundary: bytes = b"b1", newline: bytes = b"\r\n") -> bytes:
    delimiter = newline + b"--" + boundary + newline
    return b"--" + boundary + newline + delimiter.join(parts) + newline + b"--" + boundary + b"--"


@pytest.mark.parametrize("content_type", [MIXED, "Multipart/Mixed;boundary=boundary1"])
@pytest.mark.parametrize("body", [body_crlf(), body_lf()], ids=["crlf", "lf"])
def test_pidf_part_is_found_by_content_id(content_type: str, body: bytes) -> None:
    media_type, part = find_body_part(content_type, body, CID)
    assert media_type == "application/pidf+xml"
    assert part.startswith(b"<?xml") and part.rstrip().endswith(b"</presence>")
    (fix,) = parse_pidf_lo(part)
    assert (fix.shape, fix.radius_m) == ("Circle", 850.0)


def test_angle_brackets_on_the_asked_content_id_are_optional() -> None:
    bracketed = find_body_part(MIXED, body_crlf(), f" <{CID}> ")
    assert bracketed == find_body_part(MIXED, body_crlf(), CID)


def test_content_id_comparison_is_exact() -> None:
    assert error_code(MIXED, body_crlf(), CID.upper()) == "multipart-part-not-found"
    assert error_code(MIXED, body_crlf(), "<>") == "multipart-part-not-found"


def test_sdp_part_is_returned_with_its_type_and_without_the_delimiter_line_end() -> None:
    sdp_type = b"Content-Type: application/sdp"
    body = body_crlf().replace(sdp_type, sdp_type + b"\r\nContent-ID: <sdp1>")
    media_type, part = find_body_part(MIXED, body, "sdp1")
    assert media_type == "application/sdp"
    assert part.startswith(b"v=0\r\n") and part.endswith(b"telephone-event/8000\r\n")


def test_pidf_parts_lists_every_pidf_part_or_the_body_itself() -> None:
    (part,) = pidf_parts(MIXED, body_lf())
    assert part == find_body_part(MIXED, body_lf(), CID)[1]
    assert pidf_parts("application/pidf+xml; charset=utf-8", b"<presence/>") == [b"<presence/>"]
    assert pidf_parts("application/sdp", b"v=0\r\n") == []


def test_nested_multipart_parts_are_searched() -> None:
    pidf = b"Content-Type: application/pidf+xml\r\nContent-ID: <in@x>\r\n\r\n<presence/>"
    inner = build(pidf, boundary=b"inner")
    sdp = b"Content-Type: application/sdp\r\n\r\nv=0"
    outer = build(sdp, b"Content-Type: multipart/related; boundary=inner\r\n\r\n" + inner)
    content_type = "multipart/mixed; boundary=b1"
    assert find_body_part(content_type, outer, "in@x") == ("application/pidf+xml", b"<presence/>")
    assert pidf_parts(content_type, outer) == [b"<presence/>"]


def test_base64_part_is_decoded_and_folded_headers_are_joined() -> None:
    encoded = base64.encodebytes(b"<presence/>")
    headers = (
        b"Content-Type: application/pidf+xml;\r\n charset=utf-8\r\n"
        b"Content-ID:\r\n\t<p@x>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
    )
    body = build(headers + encoded)
    assert find_body_part("multipart/mixed; boundary=b1", body, "p@x") == (
        "application/pidf+xml",
        b"<presence/>",
    )


def test_part_without_headers_is_plain_text_and_padding_after_a_delimiter_is_allowed() -> None:
    body = (
        b"--b1   \r\n\r\nhello\r\n"
        b"--b1\r\nContent-ID: <x>\r\n\r\n--b1x is not a delimiter\r\n"
        b"--b1-- \r\n"
    )
    assert find_body_part("multipart/mixed; boundary=b1", body, "x") == (
        "text/plain",
        b"--b1x is not a delimiter",
    )
    assert pidf_parts("multipart/mixed; boundary=b1", body) == []


CID_A = b"Content-ID: <a>\r\n"


def in_boundary1(*parts: bytes) -> bytes:
    return build(*parts, boundary=b"boundary1")


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("multipart/mixed", body_crlf(), "multipart-no-boundary"),
        ('multipart/mixed; boundary=""', body_crlf(), "multipart-no-boundary"),
        ("multipart/mixed; boundary=" + "b" * 71, body_crlf(), "multipart-no-boundary"),
        ("application/sdp", b"v=0\r\n", "multipart-not-multipart"),
        ("not a type", body_crlf(), "multipart-malformed"),
        ('multipart/mixed; boundary="boundary1', body_crlf(), "multipart-malformed"),
        (MIXED, body_crlf()[:-60], "multipart-malformed"),
        (MIXED, b"no delimiter at all", "multipart-malformed"),
        (MIXED, b"--boundary1--\r\n", "multipart-malformed"),
        (MIXED, b"x" * (MAX_BODY_BYTES + 1), "multipart-malformed"),
        (MIXED, in_boundary1(b"Content-ID: <t>"), "multipart-malformed"),
        (MIXED, in_boundary1(b"Bad Header\r\n\r\nx"), "multipart-malformed"),
        (
            MIXED,
            in_boundary1(b"Content-ID: <a>\r\nContent-ID: <b>\r\n\r\nx"),
            "multipart-malformed",
        ),
        (
            MIXED,
            in_boundary1(CID_A + b"Content-Transfer-Encoding: uuencode\r\n\r\nx"),
            "multipart-malformed",
        ),
        (
            MIXED,
            in_boundary1(CID_A + b"Content-Transfer-Encoding: base64\r\n\r\n@@@"),
            "multipart-malformed",
        ),
        (MIXED, in_boundary1(b"Content-ID: <\xff>\r\n\r\nx"), "multipart-malformed"),
        (MIXED, in_boundary1(*[b"\r\nx"] * (MAX_PARTS + 1)), "multipart-malformed"),
        (MIXED, body_crlf().replace(b"boundary1", b"other"), "multipart-malformed"),
        (MIXED, body_crlf().replace(CID.encode(), b"someone-else@x"), "multipart-part-not-found"),
    ],
)
def test_broken_bodies_are_refused(content_type: str, body: bytes, code: str) -> None:
    assert error_code(content_type, body) == code


def test_too_deep_nesting_is_refused() -> None:
    body = b"Content-ID: <deep>\r\n\r\nx"
    for level in range(4):
        body = build(body, boundary=b"n%d" % level)
        body = b"Content-Type: multipart/mixed; boundary=n%d\r\n\r\n" % level + body
    outer = build(body, boundary=b"top")
    assert error_code("multipart/mixed; boundary=top", outer, "deep") == "multipart-malformed"
