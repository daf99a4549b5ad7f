"""PIDF-LO: every RFC 5491 shape, civic addresses, several locations, hostile documents."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.location.geodesy import haversine_m
from gateway.location.parsed import LocationParseError, ParsedFix
from gateway.location.pidf_lo import MAX_BYTES, parse_pidf_lo

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "location"


def sample(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def only_fix(name: str) -> ParsedFix:
    fixes = parse_pidf_lo(sample(name))
    assert len(fixes) == 1
    return fixes[0]


def error_code(document: str | bytes) -> str:
    with pytest.raises(LocationParseError) as caught:
        parse_pidf_lo(document)
    assert caught.value.message
    return caught.value.code


def test_device_point_gives_position_method_time_and_ids() -> None:
    fix = only_fix("pidf_device_point.xml")
    assert (fix.source, fix.shape, fix.method) == ("pidf-lo", "Point", "GPS")
    assert (fix.latitude, fix.longitude, fix.radius_m) == (33.97421, -6.84971, None)
    assert fix.confidence_pct is None and fix.civic is None
    assert fix.fixed_at == datetime(2026, 11, 22, 4, 30, 12, tzinfo=UTC)
    assert fix.details == {
        "element": "device",
        "element_id": "handset-1",
        "entity": "pres:+212612345678@ims.example.ma",
        "device_id": "imei:35693803-564380-9",
    }


def test_tuple_3d_point_keeps_altitude_and_moves_timestamp_to_utc() -> None:
    fix = only_fix("pidf_tuple_point_3d.xml")
    assert (fix.shape, fix.latitude, fix.longitude) == ("Point", 34.02088, -6.84165)
    assert fix.details["altitude_m"] == "52.5"
    assert (fix.details["element"], fix.details["element_id"]) == ("tuple", "t1")
    assert fix.fixed_at == datetime(2026, 11, 22, 4, 30, 12, 250000, tzinfo=UTC)
    assert fix.fixed_at is not None and fix.fixed_at.tzinfo is UTC


def test_pidf_circle_gives_centre_radius_and_confidence() -> None:
    fix = only_fix("pidf_circle_confidence.xml")
    assert (fix.shape, fix.latitude, fix.longitude) == ("Circle", 33.58831, -7.61138)
    assert (fix.radius_m, fix.confidence_pct, fix.method) == (850.0, 68.0, "Cell")
    assert fix.details["confidence_pdf"] == "normal"


def test_ellipse_radius_is_the_semi_major_axis() -> None:
    fix = only_fix("pidf_ellipse.xml")
    assert (fix.shape, fix.latitude, fix.longitude) == ("Ellipse", 31.62947, -7.98108)
    assert fix.radius_m == 1275.0 and fix.details["semi_minor_m"] == "670.0"


def test_polygon_centre_is_the_vertex_mean_and_radius_reaches_the_farthest_vertex() -> None:
    fix = only_fix("pidf_polygon_poslist.xml")
    assert fix.shape == "Polygon"
    assert fix.latitude == pytest.approx(34.005) and fix.longitude == pytest.approx(-6.845)
    corners = [(34.0, -6.85), (34.0, -6.84), (34.01, -6.84), (34.01, -6.85)]
    farthest = max(haversine_m(34.005, -6.845, lat, lon) for lat, lon in corners)
    assert fix.radius_m == pytest.approx(farthest)
    assert 700 < farthest < 760


def test_polygon_of_pos_elements_ignores_the_closing_vertex() -> None:
    fix = only_fix("pidf_polygon_pos.xml")
    assert fix.latitude == pytest.approx((35.7590 + 35.7590 + 35.7620) / 3)
    assert fix.longitude == pytest.approx((-5.8340 - 5.8300 - 5.8320) / 3)
    assert fix.radius_m is not None and 150 < fix.radius_m < 250


def test_arcband_gives_its_centre_and_outer_radius() -> None:
    fix = only_fix("pidf_arcband.xml")
    assert (fix.shape, fix.latitude, fix.longitude) == ("ArcBand", 34.03313, -5.00028)
    assert fix.radius_m == 2200.0 and fix.details["inner_radius_m"] == "1500.0"


def test_sphere_ellipsoid_and_prism_reduce_to_centre_and_radius() -> None:
    sphere, ellipsoid, prism = parse_pidf_lo(sample("pidf_3d_shapes.xml"))
    assert (sphere.shape, sphere.latitude, sphere.radius_m) == ("Sphere", 33.99, 25.0)
    assert sphere.details["altitude_m"] == "31.0"
    assert (ellipsoid.shape, ellipsoid.radius_m) == ("Ellipsoid", 60.0)
    assert ellipsoid.details["vertical_axis_m"] == "12.0"
    assert prism.shape == "Prism" and prism.details["height_m"] == "3.5"
    assert prism.latitude == pytest.approx(33.9905) and prism.longitude == pytest.approx(-6.8495)
    assert prism.radius_m == pytest.approx(haversine_m(33.9905, -6.8495, 33.99, -6.85))


def test_civic_address_is_kept_under_its_rfc5139_names() -> None:
    fix = only_fix("pidf_civic.xml")
    assert (fix.shape, fix.latitude, fix.longitude, fix.method) == ("civic", None, None, "Manual")
    assert fix.civic == {
        "country": "MA",
        "A1": "Rabat-Salé-Kénitra",
        "A3": "Rabat",
        "RD": "Avenue Mohammed V",
        "HNO": "12",
        "FLR": "3",
        "PC": "10000",
        "LOC": "Bureau 22",
    }
    assert fix.details["civic_lang"] == "fr-MA"
    assert fix.fixed_at == datetime(2026, 11, 22, 4, 29, tzinfo=UTC)


def test_several_locations_give_one_fix_each_in_document_order() -> None:
    circle, point, civic = parse_pidf_lo(sample("pidf_multi.xml"))
    assert (circle.shape, circle.radius_m, circle.method) == ("Circle", 30.0, "Wifi")
    assert (circle.details["element"], point.details["element"]) == ("device", "person")
    assert point.fixed_at == datetime(2026, 11, 22, 4, 30, 10, tzinfo=UTC)
    assert civic.civic == {"country": "MA", "A3": "Rabat", "RD": "Avenue Mohammed V"}
    assert civic.fixed_at is None


def test_bytes_with_a_utf8_bom_parse_like_text() -> None:
    text = sample("pidf_civic.xml")
    assert parse_pidf_lo(codecs.BOM_UTF8 + text.encode()) == parse_pidf_lo(text)


def replaced(name: str, old: str, new: str) -> str:
    text = sample(name)
    assert old in text
    return text.replace(old, new)


POINT = "pidf_device_point.xml"
CIRCLE = "pidf_circle_confidence.xml"
BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="&lol3;"/>"""
EMPTY_PRESENCE = '<presence xmlns="urn:ietf:params:xml:ns:pidf"/>'
XXE = """<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="&x;"/>"""


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (BOMB, "pidf-dtd-forbidden"),
        (XXE, "pidf-dtd-forbidden"),
        ("<!doctype presence>" + EMPTY_PRESENCE, "pidf-dtd-forbidden"),
        ("", "pidf-malformed"),
        ("<presence", "pidf-malformed"),
        ('<presence xmlns="urn:ietf:params:xml:ns:pidf">&undefined;</presence>', "pidf-malformed"),
        (EMPTY_PRESENCE, "pidf-no-location"),
        ("<presence/>", "pidf-not-presence"),
    ],
)
def test_hostile_and_broken_documents_are_refused(document: str, code: str) -> None:
    assert error_code(document) == code


def test_truncated_document_is_malformed() -> None:
    text = sample(CIRCLE)
    assert error_code(text[: len(text) // 2]) == "pidf-malformed"


def test_oversized_documents_are_refused_before_parsing() -> None:
    padding = "<!-- " + "x" * MAX_BYTES + " -->"
    assert error_code(sample(POINT) + padding) == "pidf-too-large"
    assert error_code((sample(POINT) + padding).encode()) == "pidf-too-large"
    assert error_code("é" * (MAX_BYTES // 2 + 1)) == "pidf-too-large"  # 2 bytes each


def test_non_utf8_bytes_are_malformed() -> None:
    assert error_code(sample(POINT).encode("utf-16")) == "pidf-malformed"
    assert error_code(b"<presence>\xff</presence>") == "pidf-malformed"


def test_deep_nesting_within_the_size_cap_is_handled() -> None:
    depth = 5000
    body = "<x>" * depth + "</x>" * depth
    document = f'<presence xmlns="urn:ietf:params:xml:ns:pidf"><tuple>{body}</tuple></presence>'
    assert error_code(document) == "pidf-no-location"


@pytest.mark.parametrize(
    ("name", "old", "new", "code"),
    [
        (POINT, '="urn:ietf:params:xml:ns:pidf"', '="urn:example:pidf"', "pidf-not-presence"),
        (POINT, "http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2", "pidf-no-location"),
        (POINT, "urn:ietf:params:xml:ns:pidf:geopriv10", "urn:example:gp", "pidf-no-location"),
        (POINT, "33.97421 -6.84971", "abc -6.84971", "pidf-bad-coordinate"),
        (POINT, "33.97421 -6.84971", "NaN -6.84971", "pidf-bad-coordinate"),
        (POINT, "33.97421 -6.84971", "33.97421 INF", "pidf-bad-coordinate"),
        (POINT, "33.97421 -6.84971", "95.0 -6.84971", "pidf-bad-coordinate"),
        (POINT, "33.97421 -6.84971", "33.97421", "pidf-bad-coordinate"),
        (POINT, "33.97421 -6.84971", "33.97421 -6.84971 12", "pidf-bad-coordinate"),
        (POINT, "33.97421 -6.84971", "", "pidf-bad-coordinate"),
        (POINT, "<gml:pos>33.97421 -6.84971</gml:pos>", "", "pidf-missing-pos"),
        (POINT, "EPSG::4326", "EPSG::3857", "pidf-unknown-crs"),
        (POINT, ' srsName="urn:ogc:def:crs:EPSG::4326"', "", "pidf-unknown-crs"),
        (POINT, "2026-11-22T04:30:12Z", "yesterday", "pidf-bad-timestamp"),
        (POINT, "2026-11-22T04:30:12Z", "2026-11-22T04:30:12", "pidf-bad-timestamp"),
        (POINT, "2026-11-22T04:30:12Z", "2026-13-22T04:30:12Z", "pidf-bad-timestamp"),
        (CIRCLE, "EPSG::9001", "EPSG::9002", "pidf-unknown-uom"),
        (CIRCLE, ' uom="urn:ogc:def:uom:EPSG::9001"', "", "pidf-unknown-uom"),
        (CIRCLE, ">850<", ">-850<", "pidf-bad-distance"),
        (CIRCLE, ">850<", ">lots<", "pidf-bad-distance"),
        (CIRCLE, "gs:radius", "gs:diameter", "pidf-malformed"),
        (CIRCLE, ">68<", ">100<", "pidf-bad-confidence"),
        (CIRCLE, ">68<", ">high<", "pidf-bad-confidence"),
        (CIRCLE, 'pdf="normal"', 'pdf="bimodal"', "pidf-bad-confidence"),
        ("pidf_arcband.xml", ">1500<", ">2500<", "pidf-bad-distance"),
        ("pidf_polygon_pos.xml", "<gml:pos>35.7620 -5.8320</gml:pos>", "", "pidf-missing-pos"),
        ("pidf_polygon_poslist.xml", "gml:exterior", "gml:interior", "pidf-malformed"),
        ("pidf_3d_shapes.xml", "gs:base", "gs:top", "pidf-malformed"),
    ],
)
def test_garbled_locations_are_refused_with_a_precise_code(
    name: str, old: str, new: str, code: str
) -> None:
    assert error_code(replaced(name, old, new)) == code
