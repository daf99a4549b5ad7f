"""What Asterisk hands over of the INVITE's location, decoded and turned into fixes."""

from __future__ import annotations

import base64

import pytest

from gateway.location.asterisk_geo import decode_handover, parse_geo_profile
from gateway.location.fixed_line import area_fix
from gateway.location.parsed import LocationParseError


def handover(*values: str) -> str:
    fields = [*values, *[""] * (8 - len(values))]
    return "|".join(base64.b64encode(f"x{value}".encode()).decode() for value in fields)


CIRCLE = 'shape="Circle",crs="2d",pos="34.02088 -6.84165",radius="35"'


def test_a_circle_from_the_geolocation_profile_becomes_a_pidf_lo_fix() -> None:
    invite = decode_handover(handover("GML", CIRCLE, "", "GPS", "<cid:a@b>", "<https://x/y>"))
    fix = parse_geo_profile(invite)
    assert fix is not None
    assert (fix.latitude, fix.longitude, fix.radius_m) == (34.02088, -6.84165, 35)
    assert fix.method == "GPS" and fix.shape == "Circle"
    assert invite.geolocation == ("<cid:a@b>", "<https://x/y>") and invite.pani == ()


def test_a_polygon_is_reduced_to_a_centre_and_the_radius_that_holds_it() -> None:
    info = 'shape="Polygon",crs="2d",pos="34.00 -6.80",pos="34.01 -6.80",pos="34.01 -6.81"'
    fix = parse_geo_profile(decode_handover(handover("GML", info)))
    assert fix is not None and fix.radius_m is not None
    assert 34.00 < (fix.latitude or 0) < 34.01 and 500 < fix.radius_m < 1500


def test_a_civic_address_and_a_confidence_are_kept() -> None:
    civic = parse_geo_profile(decode_handover(handover("civicAddress", 'country="MA",A3="Rabat"')))
    assert civic is not None and civic.civic == {"country": "MA", "A3": "Rabat"}
    sure = parse_geo_profile(decode_handover(handover("GML", CIRCLE, 'pdf="normal",value="68"')))
    assert sure is not None and sure.confidence_pct == 68


@pytest.mark.parametrize(
    "text",
    ["not|enough", "!!!|" * 7 + "!!!", handover("GML", 'shape="Circle",pos="abc def"'),
     handover("GML", 'shape="Circle",crs="2d",pos="95 0",radius="3"'),
     handover("GML", 'shape="Circle",crs="2d"'), handover("KML", CIRCLE),
     "|".join([base64.b64encode(b"no guard").decode()] * 8)],
)  # fmt: skip
def test_a_garbled_hand_over_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(LocationParseError):
        location = decode_handover(text)
        parse_geo_profile(location)


def test_a_fixed_line_area_is_a_coarse_fix_holding_all_its_towns() -> None:
    rabat = area_fix("Rabat")
    both = area_fix("Rabat/Témara")
    assert rabat is not None and rabat.radius_m == 20_000
    assert both is not None and both.radius_m is not None and both.radius_m > 20_000
    assert area_fix("Maroc Sud") is None
    assert area_fix("Fès/Maknès") is not None
