"""Caller number metadata: formats, withheld and junk input, foreign numbers, repeat keys."""

from __future__ import annotations

import random

import pytest

from gateway.callers.numbers import (
    MAX_RAW_CHARS,
    CallerNumber,
    describe_caller,
    repeat_key,
    warm_up,
)


@pytest.mark.parametrize(
    "raw",
    [
        "0612345678",
        "+212612345678",
        "00212612345678",
        "212612345678",
        "06 12 34 56 78",
        "06-12-34-56-78",
        "+212 (0) 6 12 34 56 78",
        " 0612345678 ",
    ],
)
def test_every_way_of_writing_a_moroccan_mobile_gives_the_same_number(raw: str) -> None:
    caller = describe_caller(raw)
    assert caller == CallerNumber(
        raw=raw,
        status="valid",
        e164="+212612345678",
        number_type="mobile",
        carrier="Orange",
        region=None,
        country="MA",
        foreign=False,
    )


@pytest.mark.parametrize(
    ("raw", "carrier"),
    [("0661234567", "Maroc Telecom"), ("0712345678", "Inwi"), ("0612345678", "Orange")],
)
def test_mobile_numbers_name_their_original_carrier(raw: str, carrier: str) -> None:
    assert describe_caller(raw).carrier == carrier


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("0537212345", "Rabat"),
        ("0520012345", "Casablanca"),
        ("0524300000", "Marrakech"),
        ("0537300000", "Kénitra"),
    ],
)
def test_fixed_lines_name_their_area(raw: str, region: str) -> None:
    caller = describe_caller(raw)
    assert caller.status == "valid" and caller.number_type == "fixed_line"
    assert caller.region == region and caller.carrier is None


def test_a_fixed_line_known_only_by_its_country_has_no_area() -> None:
    caller = describe_caller("0522123456")
    assert caller.number_type == "fixed_line" and caller.region is None


@pytest.mark.parametrize(
    ("raw", "number_type"),
    [("0800123456", "toll_free"), ("0892123456", "premium"), ("0808123456", "voip")],
)
def test_special_number_types_are_named(raw: str, number_type: str) -> None:
    assert describe_caller(raw).number_type == number_type


@pytest.mark.parametrize(
    ("raw", "e164", "country"),
    [
        ("+33612345678", "+33612345678", "FR"),
        ("0033612345678", "+33612345678", "FR"),
        ("+34612345678", "+34612345678", "ES"),
    ],
)
def test_foreign_numbers_are_flagged_with_their_country(raw: str, e164: str, country: str) -> None:
    caller = describe_caller(raw)
    assert caller.status == "valid" and caller.foreign
    assert (caller.e164, caller.country) == (e164, country)


def test_a_foreign_fixed_line_names_its_country_not_an_area() -> None:
    # Area tables are loaded for the home country only (gateway/callers/areas.py).
    caller = describe_caller("+33 1 42 68 53 00")
    assert caller.region is None and caller.country == "FR" and caller.foreign


def test_area_names_come_without_loading_every_country_into_the_gateway() -> None:
    import sys

    describe_caller("0537212345")
    assert "phonenumbers.geodata" not in sys.modules


def test_a_non_geographic_number_has_no_country_code() -> None:
    caller = describe_caller("+80012345678")
    assert caller.status == "valid" and caller.country is None and caller.foreign


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "anonymous",
        "Anonymous",
        "ANONYMOUS",
        "unknown",
        "<unknown>",
        "restricted",
        "private",
        "Unavailable",
        "withheld",
        "Masqué",
    ],
)
def test_withheld_numbers_are_recognised(raw: str | None) -> None:
    caller = describe_caller(raw)
    assert caller.status == "withheld" and caller.e164 is None and not caller.foreign
    assert repeat_key(caller) is None


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "+212abc<script>",
        "0612345678 ext 5",
        "0612\x00345678",
        "0612345678\r",
        "\t0612345678",
        "++212612345678",
        "06+12345678",
        "+",
        "-",
        "1" * 40,
        "+21261234567890123",
        "٠٦١٢٣٤٥٦٧٨",
        "sip:0612345678@10.0.0.1",
        "anonymous\n",
    ],
)
def test_junk_is_malformed_never_an_exception(raw: str) -> None:
    caller = describe_caller(raw)
    assert caller.status == "malformed"
    assert caller.e164 is None and repeat_key(caller) is None


@pytest.mark.parametrize(("raw", "e164"), [("19", "+21219"), ("0612", "+2120612")])
def test_short_numbers_are_invalid_but_still_counted(raw: str, e164: str) -> None:
    caller = describe_caller(raw)
    assert (caller.status, caller.e164, caller.country) == ("invalid", e164, "MA")
    assert repeat_key(caller) == e164


def test_repeat_calls_from_differently_written_numbers_share_one_key() -> None:
    keys = {repeat_key(describe_caller(raw)) for raw in ("0612345678", "+212 6 12 34 56 78")}
    assert keys == {"+212612345678"}


def test_the_raw_value_is_capped_and_made_safe_to_store() -> None:
    caller = describe_caller("\x00" + "7" * 200)
    assert len(caller.raw) == MAX_RAW_CHARS
    assert caller.raw.startswith("\ufffd") and "\x00" not in caller.raw


def test_another_default_region_changes_what_national_means() -> None:
    caller = describe_caller("0612345678", default_region="FR")
    assert caller.e164 == "+33612345678" and not caller.foreign
    assert describe_caller("+212612345678", default_region="FR").foreign


def test_an_unknown_default_region_degrades_to_malformed() -> None:
    assert describe_caller("0612345678", default_region="XX").status == "malformed"


def test_random_input_never_raises() -> None:
    rng = random.Random(19)
    alphabet = "0123456789+()- ./abc\x00\r\n٣é"
    for _ in range(2000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        caller = describe_caller(raw)
        assert caller.status in ("valid", "invalid", "withheld", "malformed")
        assert (repeat_key(caller) is not None) == (caller.status in ("valid", "invalid"))


def test_warm_up_loads_the_tables_without_error() -> None:
    warm_up()
