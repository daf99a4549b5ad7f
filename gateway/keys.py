"""Typed application state keys (aiohttp AppKey)."""

from __future__ import annotations

from aiohttp import web

from gateway.asterisk.ami_client import AmiClient
from gateway.asterisk.fastagi import FastAgiServer
from gateway.asterisk.queue_log_follower import QueueLogFollower
from gateway.persistence.db import Database
from gateway.services.domain_events import DomainEvents
from gateway.services.fleet import FleetCache
from gateway.services.intake import IntakeService
from gateway.services.invite_location import InviteLocator
from gateway.services.live import LiveHub
from gateway.services.location import LocationService
from gateway.services.operators import OperatorService
from gateway.services.overflow import OverflowMonitor
from gateway.services.timeline import TimelineService
from gateway.settings import Settings

SETTINGS_KEY = web.AppKey("settings", Settings)
DATABASE_KEY = web.AppKey("database", Database)
INTAKE_KEY = web.AppKey("intake", IntakeService)
TIMELINE_KEY = web.AppKey("timeline", TimelineService)
AGI_KEY = web.AppKey("agi", FastAgiServer)
AMI_KEY = web.AppKey("ami", AmiClient)
QUEUE_LOG_KEY = web.AppKey("queue_log", QueueLogFollower)
EVENTS_KEY = web.AppKey("events", DomainEvents)
LOCATIONS_KEY = web.AppKey("locations", LocationService)
LOCATOR_KEY = web.AppKey("locator", InviteLocator)
LIVE_KEY = web.AppKey("live", LiveHub)
OPERATORS_KEY = web.AppKey("operators", OperatorService)
OVERFLOW_KEY = web.AppKey("overflow", OverflowMonitor)
FLEET_KEY = web.AppKey("fleet", FleetCache)
