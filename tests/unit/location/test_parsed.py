"""ParsedFix invariants and JSON form; the shared text helpers; the geodesy reduction."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.location.geodesy import centre_and_radius, haversine_m
from gateway.location.parsed import (
    LocationParseError,
    ParsedFix,
    parse_decimal,
    parse_params,
    split_outside_quotes,
    unquote,
)


def test_to_json_dict_is_json_with_iso_time_and_copied_dicts() -> None:
    fix = ParsedFix(
        "aml",
        latitude=33.97421,
        longitude=-6.84971,
        radius_m=12.0,
        confidence_pct=68.0,
        fixed_at=datetime(2026, 11, 22, 4, 30, 12, tzinfo=UTC),
        method="GPS",
        details={"imei": "356938035643809"},
    )
    data = fix.to_json_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["fixed_at"] == "2026-11-22T04:30:12+00:00"
    assert data["latitude"] == 33.97421 and data["civic"] is None
    data["details"]["imei"] = "changed"
    assert fix.details["imei"] == "356938035643809"


def test_civic_fix_json_keeps_the_address() -> None:
    fix = ParsedFix("pidf-lo", civic={"country": "MA", "A3": "Rabat"}, shape="civic")
    assert fix.to_json_dict()["civic"] == {"country": "MA", "A3": "Rabat"}
    assert fix.to_json_dict()["fixed_at"] is None


PLUS_ONE = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"source": "gps"},
        {"source": "aml", "latitude": 33.9},
        {"source": "aml", "latitude": math.nan, "longitude": 1.0},
        {"source": "aml", "latitude": 91.0, "longitude": 1.0},
        {"source": "aml", "latitude": 1.0, "longitude": -180.5},
        {"source": "aml", "radius_m": -1.0},
        {"source": "aml", "radius_m": math.inf},
        {"source": "aml", "confidence_pct": 100.0},
        {"source": "aml", "confidence_pct": 0.0},
        {"source": "aml", "fixed_at": datetime(2026, 11, 22, 4, 30)},
        {"source": "aml", "fixed_at": datetime(2026, 11, 22, 5, 30, tzinfo=PLUS_ONE)},
        {"source": "aml", "shape": "Blob"},
    ],
)
def test_fix_refuses_values_that_are_not_a_location(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocationParseError) as caught:
        ParsedFix(**kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "fix-invalid"


def test_error_carries_code_and_message() -> None:
    error = LocationParseError("aml-length-mismatch", "ml=124 but the message is 129 long")
    assert isinstance(error, ValueError)
    assert error.code == "aml-length-mismatch"
    assert error.message == "ml=124 but the message is 129 long"
    assert str(error).startswith("aml-length-mismatch: ")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("+33.97421", 33.97421),
        ("-006.84971", -6.84971),
        ("12", 12.0),
        (" 7.5 ", 7.5),
        ("1e2", 100.0),
    ],
)
def test_decimal_accepts_plain_ascii_numbers(text: str, value: float) -> None:
    assert parse_decimal(text, code="x", what="n") == value


@pytest.mark.parametrize(
    "text", ["abc", "NaN", "nan", "inf", "-Infinity", "1_000", "٣٣.٩", "", "1.2.3", "1e999", "0x10"]
)
def test_decimal_refuses_words_nan_infinity_and_foreign_digits(text: str) -> None:
    with pytest.raises(LocationParseError) as caught:
        parse_decimal(text, code="bad-number", what="latitude")
    assert caught.value.code == "bad-number"


def test_split_ignores_separators_inside_quotes_and_angle_brackets() -> None:
    text = '<sip:a@b;x=1,2>;p="a,b", <cid:c>'
    assert split_outside_quotes(text, ",", code="x", angle=True) == [
        '<sip:a@b;x=1,2>;p="a,b"',
        " <cid:c>",
    ]
    assert split_outside_quotes('a;b="c;\\"d";e', ";", code="x") == ["a", 'b="c;\\"d"', "e"]


@pytest.mark.parametrize("text", ['a="b', "<sip:a", 'a="b\\"'])
def test_split_refuses_unterminated_quotes_and_brackets(text: str) -> None:
    with pytest.raises(LocationParseError) as caught:
        split_outside_quotes(text, ",", code="hdr", angle=True)
    assert caught.value.code == "hdr"


def test_params_lower_case_names_unquote_values_and_keep_flags() -> None:
    assert parse_params([" Foo = bar", 'q="x\\"y"', "flag"], code="x") == {
        "foo": "bar",
        "q": 'x"y',
        "flag": "",
    }
    assert unquote('"a\\\\b"', code="x") == "a\\b"


@pytest.mark.parametrize("items", [["a=1", "A=2"], ["bad name=1"], ["a=b c"], ["=1"], ['a="x']])
def test_params_refuse_duplicates_and_bad_syntax(items: list[str]) -> None:
    with pytest.raises(LocationParseError) as caught:
        parse_params(items, code="p")
    assert caught.value.code == "p"


def test_haversine_gives_a_degree_of_latitude_in_metres() -> None:
    assert haversine_m(33.0, -6.0, 34.0, -6.0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(33.97421, -6.84971, 33.97421, -6.84971) == 0.0


def test_centre_and_radius_handle_a_shape_across_the_antimeridian() -> None:
    lat, lon, radius = centre_and_radius([(0.0, 179.9), (0.0, -179.9)])
    assert lat == 0.0 and abs(lon) == pytest.approx(180.0)
    assert radius == pytest.approx(11_119.5, rel=1e-3)


def test_centre_and_radius_need_a_vertex() -> None:
    with pytest.raises(ValueError, match="no vertices"):
        centre_and_radius([])
