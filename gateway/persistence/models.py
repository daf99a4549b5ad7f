"""SQLAlchemy models. The schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class CallRow(Base):
    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_calls_source_external_id"),
        Index("ix_calls_caller_e164_received_at", "caller_e164", "received_at"),
        Index("ix_calls_received_at", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # asterisk | twilio
    external_id: Mapped[str] = mapped_column(String(64))  # Asterisk uniqueid, Twilio CallSid
    linkedid: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(128))
    trunk: Mapped[str | None] = mapped_column(String(64))
    carrier: Mapped[str | None] = mapped_column(String(64))

    caller_raw: Mapped[str | None] = mapped_column(String(128))
    caller_name: Mapped[str | None] = mapped_column(String(128))
    caller_status: Mapped[str] = mapped_column(String(16))
    caller_e164: Mapped[str | None] = mapped_column(String(20))
    caller_type: Mapped[str | None] = mapped_column(String(24))
    caller_carrier: Mapped[str | None] = mapped_column(String(64))
    caller_region: Mapped[str | None] = mapped_column(String(96))
    caller_country: Mapped[str | None] = mapped_column(String(4))
    caller_foreign: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat_count_24h: Mapped[int] = mapped_column(Integer, default=0)

    room: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    silent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    no_input: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    priority: Mapped[int] = mapped_column(Integer, default=0)
    priority_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    intake: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str | None] = mapped_column(String(64))
    hold_time_s: Mapped[float | None] = mapped_column(Float)
    talk_time_s: Mapped[float | None] = mapped_column(Float)
    wait_time_s: Mapped[float | None] = mapped_column(Float)

    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    best_location_id: Mapped[int | None] = mapped_column(Integer)


class CallLinkRow(Base):
    """Another telephony id of a call: a Twilio call handed to Asterisk keeps its one record,
    and Asterisk's events for the new channel (its uniqueid) land on it."""

    __tablename__ = "call_links"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CallEventRow(Base):
    __tablename__ = "call_events"
    __table_args__ = (
        UniqueConstraint("call_id", "dedupe_key", name="uq_call_events_call_id_dedupe_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # agi | ami | queue_log
    dedupe_key: Mapped[str] = mapped_column(String(160))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    room: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The operator's incident form (dispatch_core.incidents.IncidentCategory).
    category: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class CursorRow(Base):
    """Where a reader of an outside log stopped (the queue_log tailer)."""

    __tablename__ = "cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LocationRow(Base):
    """A fix as it arrived: accepted, rejected (with the reason) or not matched to a call.

    Every payload is kept with its raw text, whatever became of it."""

    __tablename__ = "locations"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_locations_dedupe_key"),
        Index("ix_locations_number_received_at", "number", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str | None] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))  # dispatch_core.location.FixSource
    status: Mapped[str] = mapped_column(String(16))  # accepted | rejected | unmatched
    reason: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    confidence_pct: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str | None] = mapped_column(String(24))
    civic: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    number: Mapped[str | None] = mapped_column(String(20))  # E.164, to match late fixes
    fixed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raw: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(160))


class CellRow(Base):
    """The operator's cell table (OpenCelliD CSV columns)."""

    __tablename__ = "cells"

    radio: Mapped[str] = mapped_column(String(8), primary_key=True)
    mcc: Mapped[int] = mapped_column(Integer, primary_key=True)
    net: Mapped[int] = mapped_column(Integer, primary_key=True)
    area: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    range_m: Mapped[float] = mapped_column(Float)
    samples: Mapped[int | None] = mapped_column(Integer)
    updated: Mapped[int | None] = mapped_column(BigInteger)


class PlaceRow(Base):
    """The local gazetteer: streets, landmarks and neighbourhoods the operator imports."""

    __tablename__ = "places"
    __table_args__ = (Index("ix_places_key", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # street | landmark | neighbourhood
    name: Mapped[str] = mapped_column(String(160))
    key: Mapped[str] = mapped_column(String(160))  # the normalised name, for lookups
    city: Mapped[str | None] = mapped_column(String(64))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)


class UserRow(Base):
    """An account of the command room: an operator, a supervisor or an administrator."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("username", name="uq_users_username"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))  # operator | supervisor | admin
    endpoint: Mapped[str | None] = mapped_column(String(64))  # PJSIP endpoint: op-rabat-1
    room: Mapped[str | None] = mapped_column(String(32))  # home room: rabat
    password_hash: Mapped[str] = mapped_column(Text)  # scrypt$n$r$p$salt$hash
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    """A login session; `id` is the SHA-256 (hex) of its token, never the token itself."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class OperatorEventRow(Base):
    """What an operator's position did: login, ready, paused, ringing, answered, ended …"""

    __tablename__ = "operator_events"
    __table_args__ = (Index("ix_operator_events_endpoint_at", "endpoint", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    endpoint: Mapped[str] = mapped_column(String(64))
    room: Mapped[str | None] = mapped_column(String(32))
    # login | ready | paused | wrapup | logout | ringing | answered | ended | unreachable | resync
    kind: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(128))
    call_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CallbackRow(Base):
    """A caller to call back: the call was abandoned, or the caller could not speak.

    Cleared by itself when the same number calls again (`cleared_by_call`), or when an
    attempt reached the caller."""

    __tablename__ = "callbacks"
    __table_args__ = (
        UniqueConstraint("call_id", name="uq_callbacks_call_id"),
        Index("ix_callbacks_number_cleared_at", "number", "cleared_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20))  # E.164
    room: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16))  # abandoned | silent
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_by: Mapped[str | None] = mapped_column(String(64))  # a call id, or "reached:<op>"


class CallbackAttemptRow(Base):
    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    callback_id: Mapped[str] = mapped_column(
        ForeignKey("callbacks.id", ondelete="CASCADE"), index=True
    )
    operator: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # reached | no_answer | busy | wrong_number
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UnitRow(Base):
    """A unit of the mobile rescue police (dispatch_core.units.Unit) and its last good fix."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("call_sign", name="uq_units_call_sign"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    call_sign: Mapped[str] = mapped_column(String(32))  # Rabat-M12
    vehicle: Mapped[str] = mapped_column(String(16))  # motorbike | car
    home_room: Mapped[str] = mapped_column(String(32))
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16))  # dispatch_core.units.UnitState
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    fix_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssignmentRow(Base):
    """An incident offered to a unit: proposed, then acknowledged, declined or expired."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_unit_id_state", "unit_id", "state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    # proposed | acknowledged | declined | expired | released
    state: Mapped[str] = mapped_column(String(16))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(200))
    by: Mapped[str | None] = mapped_column(String(64))  # who acknowledged or declined


class CameraRow(Base):
    """A surveillance camera the incident view can offer (dispatch_core.cameras)."""

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    stream_url: Mapped[str] = mapped_column(String(500))
