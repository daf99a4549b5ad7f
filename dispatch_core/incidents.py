"""Incidents: what the operator works on. A draft exists before anyone picks up."""

from __future__ import annotations

import enum


class IncidentStatus(enum.StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    CLOSED = "closed"
