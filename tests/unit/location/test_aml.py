"""Advanced Mobile Location: the SMS text form and the HTTPS form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from multidict import MultiDict

from gateway.location.aml import MAX_FORM_FIELDS, parse_aml_https, parse_aml_sms
from gateway.location.parsed import LocationParseError, ParsedFix

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "location"
RECEIVED = datetime(2026, 11, 22, 4, 30, 20, tzinfo=UTC)


def sms_samples() -> dict[str, str]:
    lines = (FIXTURES / "aml_sms.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split(" ", 1) for line in lines if line and not line.startswith("#"))


def https_form() -> list[tuple[str, str]]:
    lines = (FIXTURES / "aml_https_form.txt").read_text(encoding="utf-8").splitlines()
    (body,) = [line for line in lines if line and not line.startswith("#")]
    return parse_qsl(body, keep_blank_values=True, strict_parsing=True)


def with_ml(body: str) -> str:
    """`body;ml=NNN` with NNN the length of the whole result."""
    for length in range(10, 1000):
        message = f"{body};ml={length}"
        if len(message) == length:
            return message
    raise AssertionError("no consistent length")


def sms_code(text: str) -> str:
    with pytest.raises(LocationParseError) as caught:
        parse_aml_sms(text, received_at=RECEIVED)
    return caught.value.code


def https_code(fields: list[tuple[str, str]]) -> str:
    with pytest.raises(LocationParseError) as caught:
        parse_aml_https(MultiDict(fields), received_at=RECEIVED)
    return caught.value.code


GNSS = (
    'A"ML=1;lt=+33.97421;lg=-006.84971;rd=12;top=20261122043012;lc=68;pm=G;'
    "si=604001234567890;ei=356938035643809;mcc=604;mnc=01"
)


def test_gnss_sms_gives_position_radius_confidence_time_and_ids() -> None:
    fix = parse_aml_sms(sms_samples()["gnss_rabat"], received_at=RECEIVED)
    assert fix == ParsedFix(
        "aml",
        latitude=33.97421,
        longitude=-6.84971,
        radius_m=12.0,
        confidence_pct=68.0,
        fixed_at=datetime(2026, 11, 22, 4, 30, 12, tzinfo=UTC),
        method="GPS",
        details={
            "version": "1",
            "pm": "G",
            "received_at": "2026-11-22T04:30:20+00:00",
            "imsi": "604001234567890",
            "imei": "356938035643809",
            "mcc": "604",
            "mnc": "01",
        },
    )


def test_wifi_and_cell_methods_and_optional_ids() -> None:
    wifi = parse_aml_sms(sms_samples()["wifi_casablanca"], received_at=RECEIVED)
    assert (wifi.method, wifi.radius_m, wifi.details["mnc"]) == ("Wifi", 35.5, "02")
    cell = parse_aml_sms(sms_samples()["cell_fes_no_ids"], received_at=RECEIVED)
    assert (cell.method, cell.radius_m, cell.longitude) == ("Cell", 1200.0, -5.00028)
    assert not {"imsi", "imei", "mcc", "mnc"} & cell.details.keys()


def test_received_at_in_another_zone_is_kept_in_utc() -> None:
    received = datetime(2026, 11, 22, 5, 30, 20, tzinfo=timezone(timedelta(hours=1)))
    fix = parse_aml_sms(with_ml(GNSS), received_at=received)
    assert fix.details["received_at"] == "2026-11-22T04:30:20+00:00"


def test_surrounding_whitespace_is_not_counted_in_ml() -> None:
    assert parse_aml_sms(f"  {with_ml(GNSS)}\r\n", received_at=RECEIVED).latitude == 33.97421


def test_fix_time_after_reception_is_parsed_not_judged() -> None:
    late = with_ml(GNSS.replace("top=20261122043012", "top=20261122050000"))
    fix = parse_aml_sms(late, received_at=RECEIVED)
    assert fix.fixed_at == datetime(2026, 11, 22, 5, tzinfo=UTC)


def test_brief_example_with_ml_124_is_a_length_mismatch() -> None:
    assert sms_code(GNSS + ";ml=124") == "aml-length-mismatch"  # the message is 129 long


def test_no_position_message_is_recognised() -> None:
    with pytest.raises(LocationParseError) as caught:
        parse_aml_sms(sms_samples()["no_position"], received_at=RECEIVED)
    assert caught.value.code == "aml-no-position"
    assert "pm=N" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (GNSS + ";ml=130", "aml-length-mismatch"),
        (GNSS + ";ml=abc", "aml-length-mismatch"),
        (with_ml(GNSS + ";xx=1"), "aml-unknown-attribute"),
        (with_ml(GNSS + ";lc=70"), "aml-duplicate-attribute"),
        (with_ml(GNSS.replace("lt=+33.97421;", "")), "aml-missing-attribute"),
        (GNSS, "aml-missing-attribute"),
        (with_ml(GNSS.replace("+33.97421", "abc")), "aml-bad-value"),
        (with_ml(GNSS.replace("+33.97421", "NaN")), "aml-bad-value"),
        (with_ml(GNSS.replace("+33.97421", "+95.00000")), "aml-bad-value"),
        (with_ml(GNSS.replace("rd=12", "rd=-3")), "aml-bad-value"),
        (with_ml(GNSS.replace("rd=12", "rd=N")), "aml-bad-value"),
        (with_ml(GNSS.replace("top=20261122043012", "top=20261322043012")), "aml-bad-value"),
        (with_ml(GNSS.replace("top=20261122043012", "top=2026112204301")), "aml-bad-value"),
        (with_ml(GNSS.replace("lc=68", "lc=100")), "aml-bad-value"),
        (with_ml(GNSS.replace("pm=G", "pm=X")), "aml-bad-value"),
        (with_ml(GNSS.replace("ei=356938035643809", "ei=35693803564380A")), "aml-bad-value"),
        (with_ml(GNSS.replace("mcc=604", "mcc=6040")), "aml-bad-value"),
        (with_ml(GNSS.replace('A"ML=1', 'A"ML=2')), "aml-unsupported-version"),
        (with_ml(GNSS.replace(";pm=G", ";pm")), "aml-malformed"),
        (with_ml(GNSS) + ";", "aml-malformed"),
        (with_ml(GNSS + ";mcc=604" * 80), "aml-malformed"),
        ("Hello, I need help", "aml-not-aml"),
        ("", "aml-not-aml"),
    ],
)
def test_garbled_sms_is_refused_with_a_precise_code(text: str, code: str) -> None:
    assert sms_code(text) == code


def test_naive_received_at_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware") as caught:
        parse_aml_sms(with_ml(GNSS), received_at=datetime(2026, 11, 22, 4, 30))
    assert not isinstance(caught.value, LocationParseError)


def test_https_form_gives_position_number_and_device_details() -> None:
    fix = parse_aml_https(dict(https_form()), received_at=RECEIVED)
    assert (fix.source, fix.latitude, fix.longitude) == ("aml", 33.97421, -6.84971)
    assert fix.radius_m == 12.5
    assert fix.confidence_pct == pytest.approx(68.27)
    assert (fix.method, fix.shape, fix.civic) == ("GPS", None, None)
    assert fix.fixed_at == datetime(2026, 11, 22, 4, 30, 12, tzinfo=UTC)
    assert fix.details == {
        "received_at": "2026-11-22T04:30:20+00:00",
        "ignored_fields": "1",
        "version": "3",
        "emergency_number": "19",
        "activation": "call",
        "thunderbird_version": "2800",
        "floor": "2",
        "number": "+212612345678",
        "device_model": "Example Phone 7",
        "imsi": "604010000000000",
        "imei": "356938035643809",
        "home_mcc": "604",
        "home_mnc": "01",
        "mcc": "604",
        "mnc": "01",
        "altitude_m": "61.0",
        "vertical_accuracy_m": "3.0",
        "bearing_deg": "156.7",
        "speed_mps": "0.0",
        "call_started_at": "2026-11-22T04:30:10.123000+00:00",
    }
    assert "asthma" not in str(fix.to_json_dict())


def test_https_form_with_only_a_position_is_enough() -> None:
    fields = [
        ("location_latitude", "33.97421"),
        ("location_longitude", "-6.84971"),
        ("location_accuracy", ""),
        ("location_source", "unknown"),
    ]
    fix = parse_aml_https(MultiDict(fields), received_at=RECEIVED)
    assert (fix.radius_m, fix.confidence_pct, fix.fixed_at, fix.method) == (None, None, None, None)
    assert fix.details == {"received_at": "2026-11-22T04:30:20+00:00"}


def replace_field(name: str, value: str) -> list[tuple[str, str]]:
    return [(key, value if key == name else old) for key, old in https_form()]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ([item for item in https_form() if item[0] != "location_latitude"], "aml-no-position"),
        (replace_field("location_longitude", ""), "aml-no-position"),
        (replace_field("location_latitude", "abc"), "aml-bad-value"),
        (replace_field("location_latitude", "nan"), "aml-bad-value"),
        (replace_field("location_longitude", "-186.1"), "aml-bad-value"),
        (replace_field("location_accuracy", "-1"), "aml-bad-value"),
        (replace_field("location_confidence", "68"), "aml-bad-value"),
        (replace_field("location_source", "magic"), "aml-bad-value"),
        (replace_field("location_time", "soon"), "aml-bad-value"),
        (replace_field("location_time", "9" * 15), "aml-bad-value"),
        (replace_field("device_imei", "12"), "aml-bad-value"),
        (replace_field("device_number", "call me"), "aml-bad-value"),
        (replace_field("source", "APP"), "aml-bad-value"),
        (replace_field("location_altitude", "inf"), "aml-bad-value"),
        (replace_field("device_model", "Phone\x00"), "aml-bad-value"),
        (replace_field("device_model", "x" * 300), "aml-bad-value"),
        ([*https_form(), ("location_latitude", "35.0")], "aml-duplicate-attribute"),
        ([*https_form(), *[(f"extra_{i}", "1") for i in range(MAX_FORM_FIELDS)]], "aml-malformed"),
    ],
)
def test_garbled_https_form_is_refused_with_a_precise_code(
    fields: list[tuple[str, str]], code: str
) -> None:
    assert https_code(fields) == code
