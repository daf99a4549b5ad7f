"""Incidents: what the operator works on. A draft exists before anyone picks up."""

from __future__ import annotations

import enum


class IncidentStatus(enum.StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    CLOSED = "closed"


class IncidentCategory(enum.StrEnum):
    """What the caller reports, as the operator classifies it on the incident form."""

    ASSAULT = "assault"
    DOMESTIC_VIOLENCE = "domestic_violence"
    THEFT = "theft"
    BURGLARY = "burglary"
    TRAFFIC_ACCIDENT = "traffic_accident"
    DISTURBANCE = "disturbance"
    SUSPICIOUS = "suspicious"
    MISSING_PERSON = "missing_person"
    OTHER = "other"
