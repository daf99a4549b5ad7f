"""RFC 6442 Geolocation / Geolocation-Routing header values."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.location.geolocation_header import (
    MAX_HEADER_CHARS,
    GeolocationRef,
    parse_geolocation_header,
    parse_geolocation_headers,
    parse_geolocation_routing,
)
from gateway.location.parsed import LocationParseError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "location"


def header_values(name: str) -> list[str]:
    """The values of every `name:` line of the sample INVITE header block, in order."""
    values = []
    for line in (FIXTURES / "invite_headers.txt").read_text(encoding="utf-8").splitlines():
        field, colon, value = line.partition(":")
        if colon and field.strip().lower() == name.lower():
            values.append(value.strip())
    return values


def malformed(value: str) -> None:
    with pytest.raises(LocationParseError) as caught:
        parse_geolocation_header(value)
    assert caught.value.code == "geolocation-header-malformed"


def test_cid_reference_gives_the_content_id() -> None:
    assert parse_geolocation_header("<cid:target123@atlas.example.ma>") == [
        GeolocationRef("cid:target123@atlas.example.ma", "cid", "target123@atlas.example.ma")
    ]


def test_cid_content_id_is_percent_decoded() -> None:
    (ref,) = parse_geolocation_header("<CID:loc%25one%3E@example.ma>")
    assert (ref.kind, ref.content_id) == ("cid", "loc%one>@example.ma")


def test_comma_and_semicolon_inside_angle_brackets_stay_in_the_uri() -> None:
    value = (
        '<https://lis.example.ma/loc/q?id=7,8;x=1>;inserted-by="lis.example.ma;v=1", '
        "<sip:lis@example.ma;transport=tls>"
    )
    first, second = parse_geolocation_header(value)
    assert (first.uri, first.kind) == ("https://lis.example.ma/loc/q?id=7,8;x=1", "https")
    assert first.params == {"inserted-by": "lis.example.ma;v=1"} and first.content_id is None
    assert (second.uri, second.kind) == ("sip:lis@example.ma;transport=tls", "sip")
    assert second.params == {}


def test_two_geolocation_headers_are_concatenated_in_order() -> None:
    refs = parse_geolocation_headers(header_values("Geolocation"))
    assert [ref.kind for ref in refs] == ["cid", "https", "sip"]
    assert refs[0].content_id == "target123@atlas.example.ma"


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("http://h/l", "http"),
        ("sips:lis@example.ma", "sips"),
        ("pres:a@example.ma", "other"),
        ("urn:example:loc", "other"),
    ],
)
def test_scheme_decides_the_kind(uri: str, kind: str) -> None:
    (ref,) = parse_geolocation_header(f" <{uri}> ; Flag ")
    assert (ref.uri, ref.kind, ref.params) == (uri, kind, {"flag": ""})


@pytest.mark.parametrize(
    "value",
    [
        "cid:target123@atlas.example.ma",
        "<cid:target123@atlas.example.ma",
        "<cid:a> junk",
        "<cid:a>,",
        "",
        "<cid:a b>",
        "<no-scheme>",
        "<cid:%zz>",
        "<cid:%ff>",
        "<cid:>",
        '<cid:a>;p="unterminated',
        "<cid:a>;p=1;P=2",
        "<cid:a>;p=a b",
        '<https://a/"b">',
    ],
)
def test_garbled_values_are_malformed(value: str) -> None:
    malformed(value)


def test_caps_on_length_and_reference_count() -> None:
    malformed("<cid:" + "a" * MAX_HEADER_CHARS + ">")
    malformed(", ".join(f"<cid:p{i}@example.ma>" for i in range(9)))
    five = ", ".join(f"<cid:p{i}@example.ma>" for i in range(5))
    assert len(parse_geolocation_header(five)) == 5
    with pytest.raises(LocationParseError) as caught:
        parse_geolocation_headers([five, five])
    assert caught.value.code == "geolocation-header-malformed"


@pytest.mark.parametrize(
    ("value", "routing"), [("yes", True), (" No ", False), ("maybe-later", None)]
)
def test_geolocation_routing_reads_yes_no_or_unknown(value: str, routing: bool | None) -> None:
    assert parse_geolocation_routing(value) is routing


def test_sample_invite_allows_routing() -> None:
    (value,) = header_values("Geolocation-Routing")
    assert parse_geolocation_routing(value) is True


@pytest.mark.parametrize("value", ["", "yes no", "yes;x=1", "<yes>", "y" * 65])
def test_garbled_geolocation_routing_is_malformed(value: str) -> None:
    with pytest.raises(LocationParseError) as caught:
        parse_geolocation_routing(value)
    assert caught.value.code == "geolocation-header-malformed"
