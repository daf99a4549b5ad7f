"""The composition root: `create_app(settings)` wires every adapter to the services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from dispatch_core.calls import TimelineKind
from gateway.asterisk import dialplan, events
from gateway.asterisk.ami_client import AmiClient
from gateway.asterisk.ami_protocol import AmiMessage
from gateway.asterisk.fastagi import AgiRoute, FastAgiServer
from gateway.asterisk.handoff_script import HandoffScript
from gateway.asterisk.intake import IntakeScript
from gateway.asterisk.ivr_script import IvrScript
from gateway.asterisk.queue_log_follower import QueueLogFollower
from gateway.auth.http import auth_middleware, setup_auth
from gateway.callers.numbers import warm_up
from gateway.http.console_routes import add_console
from gateway.http.errors import error_middleware
from gateway.http.incident_routes import incident_routes
from gateway.http.location_routes import location_routes
from gateway.http.routes import routes
from gateway.http.supervisor_routes import supervisor_routes
from gateway.http.unit_feed import unit_feed_routes
from gateway.http.unit_routes import unit_routes
from gateway.keys import (
    AGI_KEY,
    AMI_KEY,
    DATABASE_KEY,
    EVENTS_KEY,
    FLEET_KEY,
    INTAKE_KEY,
    LIVE_KEY,
    LOCATIONS_KEY,
    LOCATOR_KEY,
    OPERATORS_KEY,
    OVERFLOW_KEY,
    QUEUE_LOG_KEY,
    SETTINGS_KEY,
    TIMELINE_KEY,
)
from gateway.persistence.db import migrate, open_database
from gateway.services.dispatch import DispatchService
from gateway.services.domain_events import DomainEvents
from gateway.services.fleet import REFRESH_S, FleetCache
from gateway.services.handoff import HandoffService
from gateway.services.intake import IntakeService
from gateway.services.invite_location import InviteLocator
from gateway.services.ivr import IvrService
from gateway.services.live import LiveHub
from gateway.services.location import LocationService
from gateway.services.operators import OperatorError, OperatorService
from gateway.services.overflow import OverflowMonitor
from gateway.services.timeline import TimelineService
from gateway.settings import Settings
from gateway.twilio import setup_twilio
from ivr.catalog import Language, PromptDurations
from ivr.flow import IntakeFlow
from ivr.prompt_audio import PromptAudioError, read_durations

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
DISPATCH_SWEEP_S = 1.0


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    if settings.migrate_on_start:
        await migrate(settings.database_url)
    database = open_database(settings.database_url)
    app[DATABASE_KEY] = database
    app[INTAKE_KEY] = IntakeService(database, settings)
    app[TIMELINE_KEY] = TimelineService(database, settings.default_region)
    locations = LocationService(database, settings, app[EVENTS_KEY])
    app[LOCATIONS_KEY] = locations
    app[LOCATOR_KEY] = InviteLocator(locations, database, settings.location_fetch_timeout_s)
    app[FLEET_KEY] = FleetCache(database)
    operators = OperatorService(database, app[LIVE_KEY])
    app[OPERATORS_KEY] = operators
    app[EVENTS_KEY].subscribe(operators.on_domain_event)
    # phonenumbers loads its geocoder on first use (~0.35 s): not on the first call's path.
    await asyncio.to_thread(warm_up, settings.default_region)
    logger.info("database %s ready", settings.redacted_database_url())
    yield
    await app[LOCATOR_KEY].wait()
    await app[OPERATORS_KEY].wait_written()
    await database.close()


async def _fastagi(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    intake = IntakeScript(app[INTAKE_KEY], app[LOCATOR_KEY])
    handoff = HandoffScript(HandoffService(app[DATABASE_KEY]), intake)
    routes = {
        dialplan.INTAKE_SCRIPT: AgiRoute(intake, settings.intake_budget_s),
        dialplan.HANDOFF_SCRIPT: AgiRoute(handoff, settings.intake_budget_s),
    }
    if settings.ivr_enabled:
        ivr = IvrScript(IvrService(app[DATABASE_KEY]), intake_flow(settings))
        routes[dialplan.IVR_SCRIPT] = AgiRoute(ivr, settings.ivr_budget_s)
    server = FastAgiServer(routes, settings.agi_host, settings.agi_port)
    await server.start()
    app[AGI_KEY] = server
    yield
    await server.close()


async def _ami(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    if not settings.ami_enabled or settings.ami_secret is None:
        logger.warning("AMI not configured: no live queue events (queue_log still read)")
        yield
        return
    timeline = app[TIMELINE_KEY]
    operators = app[OPERATORS_KEY]
    overflow = OverflowMonitor(settings, operators, timeline, app[DATABASE_KEY])
    app[OVERFLOW_KEY] = overflow
    app[EVENTS_KEY].subscribe(overflow.on_domain_event)

    async def on_event(message: AmiMessage) -> None:
        update = events.from_ami(message, datetime.now(UTC))
        moved = update is not None and update.kind is TimelineKind.ABANDONED
        if update is not None and not (moved and overflow.withdrawn(update.external_id)):
            await timeline.apply(update)
        await operators.on_ami_event(message)
        overflow.on_ami_event(message)

    async def resync() -> None:
        try:
            await operators.resync()
        except OperatorError as exc:
            logger.warning("operators not resynchronised: %s", exc)

    client = AmiClient(
        settings.ami_host,
        settings.ami_port,
        settings.ami_user,
        settings.ami_secret.get_secret_value(),
        on_event,
        reconnect_max_s=settings.ami_reconnect_max_s,
    )
    app[AMI_KEY] = client
    operators.attach(client)
    overflow.attach(client)
    client.on_connected.append(resync)
    task = asyncio.create_task(client.run(), name="ami")
    overflowing = asyncio.create_task(overflow.run(), name="overflow")
    yield
    await _stop(overflowing)
    await _stop(task)


async def _queue_log(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    if settings.queue_log_path is None:
        logger.warning("queue_log_path not set: fail-open calls are not reconciled")
        yield
        return
    follower = QueueLogFollower(
        settings.queue_log_path,
        app[DATABASE_KEY],
        app[INTAKE_KEY],
        app[TIMELINE_KEY],
        settings.queue_log_poll_s,
    )
    app[QUEUE_LOG_KEY] = follower
    task = asyncio.create_task(follower.run(), name="queue-log")
    yield
    await _stop(task)


async def _dispatch_sweep(app: web.Application) -> AsyncIterator[None]:
    """Proposals past their acknowledgement deadline: released, the next unit asked; the
    in-memory fleet rebuilt from the database every REFRESH_S (services/fleet.py)."""
    fleet = app[FLEET_KEY]
    service = DispatchService(app[DATABASE_KEY], hub=app[LIVE_KEY], fleet=fleet)

    async def sweep() -> None:
        while True:
            await asyncio.sleep(DISPATCH_SWEEP_S)
            try:
                if time.monotonic() - fleet.loaded_at >= REFRESH_S:
                    await fleet.refresh()  # units back to available, other processes' moves
                for item in await service.expire_and_repropose(datetime.now(UTC)):
                    nxt = item.proposed.call_sign if item.proposed else "none"
                    logger.warning("incident %s: no acknowledgement, next unit: %s",
                                   item.released.incident_id, nxt)  # fmt: skip
            except Exception:  # the sweep must outlive a bad moment of the database
                logger.exception("dispatch sweep failed; retrying")

    task = asyncio.create_task(sweep(), name="dispatch-sweep")
    yield
    await _stop(task)


def intake_flow(settings: Settings) -> IntakeFlow:
    """The IVR flow, timed with the prompts' measured durations when they are known."""
    durations = PromptDurations()
    if settings.ivr_durations_path is not None:
        try:
            durations = read_durations(settings.ivr_durations_path)
        except PromptAudioError as exc:
            logger.warning("IVR prompt durations not loaded (%s): nominal ones used", exc)
    return IntakeFlow(
        default_language=Language(settings.ivr_default_language),
        bound_s=settings.ivr_bound_s,
        durations=durations,
    )


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware, auth_middleware], client_max_size=MAX_BODY)
    app[SETTINGS_KEY] = settings
    app[EVENTS_KEY] = DomainEvents()
    app[LIVE_KEY] = LiveHub()
    app.cleanup_ctx.extend([_database, _fastagi, _ami, _queue_log, _dispatch_sweep])
    app.add_routes(routes)
    app.add_routes(location_routes)
    setup_auth(app)
    add_console(app)
    app.add_routes(supervisor_routes)
    app.add_routes(unit_routes)
    app.add_routes(incident_routes)
    app.add_routes(unit_feed_routes)
    setup_twilio(app)
    return app
