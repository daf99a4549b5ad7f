"""Typed application state keys (aiohttp AppKey)."""

from __future__ import annotations

from aiohttp import web

from gateway.asterisk.ami_client import AmiClient
from gateway.asterisk.fastagi import FastAgiServer
from gateway.asterisk.queue_log_follower import QueueLogFollower
from gateway.persistence.db import Database
from gateway.services.intake import IntakeService
from gateway.services.timeline import TimelineService
from gateway.settings import Settings

SETTINGS_KEY = web.AppKey("settings", Settings)
DATABASE_KEY = web.AppKey("database", Database)
INTAKE_KEY = web.AppKey("intake", IntakeService)
TIMELINE_KEY = web.AppKey("timeline", TimelineService)
AGI_KEY = web.AppKey("agi", FastAgiServer)
AMI_KEY = web.AppKey("ami", AmiClient)
QUEUE_LOG_KEY = web.AppKey("queue_log", QueueLogFollower)
