"""Wire shapes of the HTTP API (pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dispatch_core.incidents import IncidentCategory


class CallerOut(BaseModel):
    raw: str | None
    name: str | None
    status: str = Field(description="valid | invalid | withheld | malformed")
    e164: str | None
    number_type: str | None
    carrier: str | None
    region: str | None
    country: str | None
    foreign: bool
    repeat_count_24h: int


class TimelineEntryOut(BaseModel):
    kind: str
    at: datetime
    source: str
    details: dict[str, Any]


class LocationOut(BaseModel):
    """One fix with its provenance (docs/location.md)."""

    id: int
    source: str = Field(description="pidf-lo | aml | cell | fixed-line | operator")
    status: str = Field(description="accepted | rejected | unmatched")
    reason: str | None = Field(description="why it was rejected (a stable code)")
    latitude: float | None
    longitude: float | None
    radius_m: float | None
    confidence_pct: float | None
    method: str | None
    civic: dict[str, str] | None
    details: dict[str, Any]
    fixed_at: datetime | None
    received_at: datetime
    raw: str = Field(description="the payload as received")


class CallOut(BaseModel):
    id: str
    source: str
    external_id: str
    linkedid: str | None
    channel: str | None
    trunk: str | None
    carrier: str | None
    caller: CallerOut
    room: str | None
    language: str | None = Field(description="chosen in the IVR, or the trunk's default")
    silent: bool = Field(description="the caller pressed 5: they cannot speak")
    no_input: bool = Field(description="the caller pressed nothing in the IVR")
    priority: int
    priority_reasons: list[str]
    status: str
    intake: str
    operator: str | None
    hold_time_s: float | None
    talk_time_s: float | None
    wait_time_s: float | None
    incident_id: str | None
    received_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    timeline: list[TimelineEntryOut] | None = None
    locations: list[LocationOut] | None = None
    best_location: LocationOut | None = None


class CallPage(BaseModel):
    items: list[CallOut]
    next_cursor: str | None


class ListCallsQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=200)


class HealthOut(BaseModel):
    status: str = Field(description="ok | degraded")
    database: bool
    ami: bool | None = Field(description="null when AMI is not configured")


class IncidentOut(BaseModel):
    id: str
    call_id: str
    status: str
    priority: int
    room: str | None
    category: str | None = None
    address: str | None = None
    description: str | None = None
    updated_by: str | None = None
    created_at: datetime
    updated_at: datetime
    locations: list[LocationOut]
    best_location: LocationOut | None
    cameras: list[dict[str, Any]] = Field(
        default_factory=list, description="the cameras nearest the best location (≤ 1 km)"
    )


class AmlAccepted(BaseModel):
    location_id: int | None = Field(description="null: this message was already recorded")
    status: str = Field(description="accepted | rejected | unmatched")
    reason: str | None
    call_id: str | None
    best_location_id: int | None


class AddressIn(BaseModel):
    """An address the operator typed, to be found on the local gazetteer."""

    model_config = {"extra": "forbid"}
    address: str = Field(min_length=2, max_length=200)
    city: str | None = Field(default=None, max_length=64)


class AddressFixOut(BaseModel):
    location_id: int | None
    status: str
    best_location_id: int | None
    place: dict[str, Any] = Field(description="the gazetteer entry the address was found as")
    alternatives: list[dict[str, Any]] = Field(description="the next candidates, best first")


class IncidentFormIn(BaseModel):
    """The operator's incident form; a field left out (or null) is left as it was."""

    model_config = {"extra": "forbid"}
    category: IncidentCategory | None = None
    priority: int | None = Field(default=None, ge=0, le=10)
    address: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
