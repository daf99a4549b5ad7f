"""The location rules of dispatch_core: validation and the choice of the best fix."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from dispatch_core.location import (
    STALE_AFTER_S,
    Fix,
    FixSource,
    Rejection,
    ServiceArea,
    best_fix,
    check_fix,
    radius_at_95,
)

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
MOROCCO = ServiceArea(28.5, -9.0, 1_400_000)


def fix(source: FixSource = FixSource.AML, lat: float = 34.02, lon: float = -6.84,
        radius: float = 20, confidence: float | None = None, age_s: float = 0) -> Fix:  # fmt: skip
    at = NOW - timedelta(seconds=age_s)
    return Fix(source, lat, lon, radius, confidence, at, NOW)


def test_a_fix_in_rabat_is_accepted() -> None:
    assert check_fix(fix(), MOROCCO) is None


def test_impossible_positions_are_rejected_with_their_reason() -> None:
    assert check_fix(fix(lat=math.nan), MOROCCO) is Rejection.NOT_FINITE
    assert check_fix(fix(lat=91), MOROCCO) is Rejection.OUT_OF_RANGE
    assert check_fix(fix(lat=0, lon=0), None) is Rejection.NULL_ISLAND
    assert check_fix(fix(lat=48.85, lon=2.35), MOROCCO) is Rejection.OUTSIDE_AREA
    assert check_fix(fix(radius=0), MOROCCO) is Rejection.BAD_RADIUS
    assert check_fix(fix(confidence=100), MOROCCO) is Rejection.BAD_CONFIDENCE


def test_a_fix_from_the_future_is_rejected_beyond_a_minute_of_clock_skew() -> None:
    assert check_fix(fix(age_s=-30), MOROCCO) is None
    assert check_fix(fix(age_s=-120), MOROCCO) is Rejection.IN_FUTURE


def test_radii_are_compared_at_95_percent_confidence() -> None:
    assert radius_at_95(10, None) == 10
    assert radius_at_95(10, 68) > 10 * 1.5  # a 68 % circle is much smaller than its 95 % one
    assert radius_at_95(10, 99) < 10


def test_the_smallest_effective_radius_wins() -> None:
    fixes = [fix(FixSource.CELL, radius=850), fix(FixSource.PIDF_LO, radius=35),
             fix(FixSource.AML, radius=8, confidence=68)]  # fmt: skip
    assert best_fix(fixes, NOW) == 2


def test_an_old_fix_loses_to_a_fresh_coarser_one_as_the_caller_may_have_moved() -> None:
    fixes = [fix(FixSource.AML, radius=10, age_s=600), fix(FixSource.PIDF_LO, radius=100)]
    assert best_fix(fixes, NOW) == 1


def test_a_stale_fix_only_wins_when_nothing_fresh_exists() -> None:
    stale = fix(FixSource.AML, radius=5, age_s=STALE_AFTER_S + 1)
    assert best_fix([stale, fix(FixSource.FIXED_LINE, radius=20_000)], NOW) == 1
    assert best_fix([stale], NOW) == 0


def test_the_operators_fix_comes_first_and_ties_go_to_the_more_trusted_source() -> None:
    operator = fix(FixSource.OPERATOR, radius=500)
    assert best_fix([fix(FixSource.AML, radius=5), operator], NOW) == 1
    assert best_fix([fix(FixSource.CELL, radius=100), fix(FixSource.PIDF_LO, radius=101)], NOW) == 1
    assert best_fix([], NOW) is None
