"""A unit's position report is accepted, or rejected with a reason (accept_position)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from dispatch_core.location import Rejection as CallerRejection
from dispatch_core.units import Rejection, UnitFix, accept_position

NOW = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
CURRENT = UnitFix(34.0209, -6.8416, NOW - timedelta(seconds=10), 8.0)


def fix(lat: float = 34.03, lon: float = -6.83, age_s: float = 0.0, acc: float = 5.0) -> UnitFix:
    return UnitFix(lat, lon, NOW - timedelta(seconds=age_s), acc)


def test_a_newer_valid_fix_replaces_the_current_one() -> None:
    new = fix(age_s=2)
    assert accept_position(CURRENT, new, NOW) is new


def test_the_first_fix_of_a_unit_is_accepted() -> None:
    new = fix(age_s=300)
    assert accept_position(None, new, NOW) is new


def test_a_fix_older_than_the_current_one_is_ignored() -> None:
    assert accept_position(CURRENT, fix(age_s=11), NOW) is Rejection.OUT_OF_ORDER


def test_a_fix_repeating_the_current_time_is_ignored() -> None:
    assert accept_position(CURRENT, fix(age_s=10), NOW) is Rejection.OUT_OF_ORDER


def test_a_fix_up_to_60_s_in_the_future_is_accepted_beyond_that_rejected() -> None:
    near_future = fix(age_s=-60)
    assert accept_position(CURRENT, near_future, NOW) is near_future
    assert accept_position(CURRENT, fix(age_s=-61), NOW) is Rejection.IN_FUTURE


@pytest.mark.parametrize(
    ("lat", "lon"), [(math.nan, -6.8), (34.0, math.nan), (math.inf, -6.8), (34.0, -math.inf)]
)
def test_a_non_finite_coordinate_is_rejected(lat: float, lon: float) -> None:
    assert accept_position(CURRENT, fix(lat, lon), NOW) is Rejection.NOT_FINITE


@pytest.mark.parametrize(("lat", "lon"), [(90.1, -6.8), (-91.0, -6.8), (34.0, 180.5)])
def test_a_coordinate_out_of_range_is_rejected(lat: float, lon: float) -> None:
    assert accept_position(CURRENT, fix(lat, lon), NOW) is Rejection.OUT_OF_RANGE


def test_zero_zero_is_rejected_but_zero_latitude_alone_is_not() -> None:
    assert accept_position(None, fix(0.0, 0.0), NOW) is Rejection.NULL_ISLAND
    on_equator = fix(0.0, -6.8)
    assert accept_position(None, on_equator, NOW) is on_equator


@pytest.mark.parametrize("accuracy", [-1.0, math.nan, math.inf])
def test_an_invalid_accuracy_is_rejected(accuracy: float) -> None:
    assert accept_position(CURRENT, fix(acc=accuracy), NOW) is Rejection.BAD_ACCURACY


def test_the_rejection_codes_match_those_of_caller_locations() -> None:
    shared = {"NOT_FINITE", "OUT_OF_RANGE", "NULL_ISLAND", "IN_FUTURE"}
    assert {Rejection[n].value for n in shared} == {CallerRejection[n].value for n in shared}
