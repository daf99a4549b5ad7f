"""Where the caller is: a fix with its provenance, its validation, and the best fix.

A call (and its incident) keeps every fix it ever received, accepted or not; the best fix is
re-chosen from the accepted ones each time a fix arrives. The rules are here, in one place,
and documented in docs/location.md:

1. **Validation** (`check_fix`): a fix with a non-finite or out-of-range coordinate, at
   (0, 0), outside the service area, with a radius that is not a positive finite number, a
   confidence outside (0, 100), or a time of fix more than `FUTURE_TOLERANCE_S` ahead of its
   reception is rejected with a reason. It is still kept, for audit.
2. **Comparison on one scale**: each radius is brought to 95 % confidence (a circular normal
   error: r95 = r * sqrt(ln 0.05 / ln(1 - c))), then grown by how far a caller on foot or in
   a car may have moved since the fix (`DRIFT_M_PER_S` times its age). This is the fix's
   *effective radius*.
3. **The operator's word first**: a fix an operator entered (an address confirmed by talking
   to the caller) is preferred to any automatic one; among operator fixes, the newest.
4. **Otherwise the smallest effective radius**, compared in steps of `TIE_M` metres; a tie
   goes to the more trusted source (`SOURCE_TRUST`), then to the newest fix.
5. **Stale fixes last**: a fix older than `STALE_AFTER_S` at the moment of choice only wins
   when no fresh fix exists.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime

FUTURE_TOLERANCE_S = 60.0  # clocks differ: a fix a little "from the future" is fine
DRIFT_M_PER_S = 1.5  # a walking caller; a fix loses this much precision each second
STALE_AFTER_S = 30 * 60.0
TIE_M = 5.0
DEFAULT_CONFIDENCE_PCT = 95.0  # RFC 7459: a shape without a stated confidence means 95 %
EARTH_RADIUS_M = 6_371_008.8


class FixSource(enum.StrEnum):
    OPERATOR = "operator"  # an address typed by the operator, geocoded on the gazetteer
    AML = "aml"  # Advanced Mobile Location from the handset (GNSS, Wi-Fi)
    PIDF_LO = "pidf-lo"  # the carrier's PIDF-LO on the INVITE (by value or by reference)
    CELL = "cell"  # the network-provided cell id, looked up in the cell table
    FIXED_LINE = "fixed-line"  # the region of a fixed-line number: a coarse last resort


# Higher is more trusted, used to break ties between fixes of equal precision.
SOURCE_TRUST: dict[FixSource, int] = {
    FixSource.OPERATOR: 50,
    FixSource.AML: 40,
    FixSource.PIDF_LO: 30,
    FixSource.CELL: 20,
    FixSource.FIXED_LINE: 10,
}


@dataclass(frozen=True)
class ServiceArea:
    """A centre and a radius (metres): where the rooms' units can go."""

    latitude: float
    longitude: float
    radius_m: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return distance_m(self.latitude, self.longitude, latitude, longitude) <= self.radius_m


@dataclass(frozen=True)
class Fix:
    """One location of a caller, as a source reported it."""

    source: FixSource
    latitude: float
    longitude: float
    radius_m: float
    confidence_pct: float | None
    fixed_at: datetime  # when the source measured it (aware)
    received_at: datetime  # when the gateway received it (aware)


class Rejection(enum.StrEnum):
    NOT_FINITE = "coordinates-not-finite"
    OUT_OF_RANGE = "coordinates-out-of-range"
    NULL_ISLAND = "coordinates-zero-zero"
    OUTSIDE_AREA = "outside-service-area"
    BAD_RADIUS = "radius-invalid"
    BAD_CONFIDENCE = "confidence-invalid"
    IN_FUTURE = "time-in-future"


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def check_fix(fix: Fix, area: ServiceArea | None) -> Rejection | None:
    """None when the fix may be used, else why not."""
    values = (fix.latitude, fix.longitude)
    if not all(math.isfinite(value) for value in values):
        return Rejection.NOT_FINITE
    if not (-90 <= fix.latitude <= 90 and -180 <= fix.longitude <= 180):
        return Rejection.OUT_OF_RANGE
    if fix.latitude == 0 and fix.longitude == 0:
        return Rejection.NULL_ISLAND
    if not math.isfinite(fix.radius_m) or fix.radius_m <= 0:
        return Rejection.BAD_RADIUS
    confidence = fix.confidence_pct
    if confidence is not None and not (math.isfinite(confidence) and 0 < confidence < 100):
        return Rejection.BAD_CONFIDENCE
    if (fix.fixed_at - fix.received_at).total_seconds() > FUTURE_TOLERANCE_S:
        return Rejection.IN_FUTURE
    if area is not None and not area.contains(fix.latitude, fix.longitude):
        return Rejection.OUTSIDE_AREA
    return None


def radius_at_95(radius_m: float, confidence_pct: float | None) -> float:
    """The radius brought to 95 % confidence, for a circular normal error."""
    confidence = DEFAULT_CONFIDENCE_PCT if confidence_pct is None else confidence_pct
    if confidence == DEFAULT_CONFIDENCE_PCT:
        return radius_m
    return radius_m * math.sqrt(math.log(0.05) / math.log(1 - confidence / 100))


def effective_radius_m(fix: Fix, now: datetime) -> float:
    """Radius at 95 % plus the drift since the fix (a fix in the future has no drift)."""
    age_s = max(0.0, (now - fix.fixed_at).total_seconds())
    return radius_at_95(fix.radius_m, fix.confidence_pct) + DRIFT_M_PER_S * age_s


def best_fix(fixes: list[Fix], now: datetime) -> int | None:
    """The index of the best of `fixes` (all accepted), or None for an empty list."""
    if not fixes:
        return None

    def rank(index: int) -> tuple[int, int, float, int, float]:
        fix = fixes[index]
        fresh = (now - fix.fixed_at).total_seconds() <= STALE_AFTER_S
        operator = fix.source is FixSource.OPERATOR
        # Effective radii within TIE_M count as equal: compare them in TIE_M steps.
        bucket = math.floor(effective_radius_m(fix, now) / TIE_M)
        trust = SOURCE_TRUST[fix.source]
        newest = fix.fixed_at.timestamp()
        return (-int(fresh), -int(operator), bucket, -trust, -newest)

    return min(range(len(fixes)), key=rank)


@dataclass(frozen=True)
class BestFixChanged:
    """Domain event: the call's best fix is now `fix_id` (it was `previous_fix_id`)."""

    call_id: str
    incident_id: str | None
    fix_id: int
    previous_fix_id: int | None
    fix: Fix
