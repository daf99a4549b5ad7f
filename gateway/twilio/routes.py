"""The Twilio channel: the intake IVR as TwiML webhooks (docs/twilio.md).

| route | what Twilio calls it for |
|---|---|
| `POST /twilio/voice` | the number's Voice URL: takes the call in, starts the IVR |
| `POST /twilio/ivr?s=<state>` | each `<Gather>`'s action: the caller's key, or nothing |
| `POST /twilio/dial?s=<state>` | the `<Dial><Sip>` action: a failed hand-off goes to `<Enqueue>` |
| `POST /twilio/wait?lang=<lang>` | the `<Enqueue>` wait URL: "stay on the line" |
| `POST /twilio/status` | the number's status callback: into the call's timeline |
| `GET /twilio/prompts/<lang>/<name>.wav` | the prompt audio `<Play>` fetches |

Every route runs behind the signature check (gateway/twilio/signature.py). The flow is the
one FastAGI runs (`ivr.flow.advance`), one step per request, its state carried in the action
URL, signed for the call (gateway/twilio/state.py). Once a request is known to come from
Twilio, nothing strands the caller: a failing database or a broken prompt text still hands
the call to the operators.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from dispatch_core.calls import BASE_PRIORITY, IntakeOutcome, choose_room
from gateway.keys import DATABASE_KEY, INTAKE_KEY, SETTINGS_KEY
from gateway.services.intake import IntakeRequest, IntakeResult
from gateway.settings import Settings
from gateway.twilio import mapping, store
from gateway.twilio.errors import BadState, InvalidTwilioRequest, NoSuchPrompt
from gateway.twilio.prompts import PromptLibrary, prompt_of
from gateway.twilio.schemas import (
    CallParams,
    DialParams,
    DialStatus,
    GatherParams,
    StatusParams,
    parse,
)
from gateway.twilio.signature import Handler, Params, TwilioSignature, twilio_webhook
from gateway.twilio.state import StateError, StateSigner, derive_key
from ivr.catalog import Language, Prompt
from ivr.flow import (
    Digits,
    FlowError,
    IntakeFlow,
    NoInput,
    Outcome,
    Queue,
    Started,
    State,
    Step,
    Transition,
    advance,
)

logger = logging.getLogger(__name__)

TRUNK = "twilio"
CARRIER = "Twilio"
_DIAL_FAILED = frozenset({DialStatus.BUSY, DialStatus.NO_ANSWER, DialStatus.FAILED})


@dataclass
class TwilioChannel:
    settings: Settings
    flow: IntakeFlow
    signature: TwilioSignature
    signer: StateSigner | None
    library: PromptLibrary
    links: mapping.Links
    clock: Callable[[], float] = field(default=time.time)  # the flow's clock, shared by steps

    def audio_url(self, prompt: Prompt) -> str | None:
        return self.links.prompt(prompt) if self.library.path(prompt) else None

    @property
    def voice(self) -> mapping.Voice:
        return mapping.Voice(audio_url=self.audio_url, text=self.library.text)

    @property
    def default_room(self) -> str:
        settings = self.settings
        return choose_room(settings.twilio_default_room, settings.room_ids, settings.fallback_room)

    def state_of(self, request: web.Request, call_sid: str) -> State:
        token = request.query.get("s")
        if not token:
            raise InvalidTwilioRequest("the action URL carries no IVR state (s=)")
        if self.signer is None:  # unreachable: the signature check refused the request
            raise BadState("no key to check the IVR state with")
        try:
            return self.signer.verify(call_sid, token)
        except StateError as exc:
            logger.warning("twilio call %s: IVR state refused: %s", call_sid, exc)
            raise BadState("the IVR state was not issued for this call") from exc


TWILIO_KEY = web.AppKey("twilio", TwilioChannel)


def _twiml(document: str) -> web.Response:
    return web.Response(text=document, content_type="text/xml")


def _now() -> datetime:
    return datetime.now(UTC)


def _intake_request(
    settings: Settings, call: CallParams, outcome: IntakeOutcome = IntakeOutcome.COMPLETED
) -> IntakeRequest:
    return IntakeRequest(
        source=store.SOURCE,
        external_id=call.call_sid,
        caller_raw=call.caller,
        trunk=TRUNK,
        carrier=CARRIER,
        default_room=settings.twilio_default_room,
        outcome=outcome,
    )


async def _take_in(app: web.Application, call: CallParams) -> IntakeResult | None:
    """The call record (created by the first request, found by the others), or None when
    the intake fails: the caller goes on through the IVR to the operators anyway."""
    request = _intake_request(app[TWILIO_KEY].settings, call)
    try:
        return await app[INTAKE_KEY].take_call(request)
    except Exception:
        logger.exception("twilio call %s: intake failed, the call goes on", call.call_sid)
        return None


def _hand_off_target(
    twilio: TwilioChannel, outcome: Outcome, taken: IntakeResult | None
) -> tuple[mapping.HandOff, tuple[str, ...]]:
    """Where the call goes, with the priority: the intake's (a repeat caller) and the IVR's
    (a silent caller), whichever is higher, and both reasons."""
    ivr = outcome.priority(recent_calls_from_number=0)
    if taken is None:
        target = mapping.HandOff(outcome.language, ivr.priority, twilio.default_room, None)
        return target, ivr.reasons
    reasons = taken.reasons + tuple(r for r in ivr.reasons if r not in taken.reasons)
    priority = max(taken.priority, ivr.priority)
    return mapping.HandOff(outcome.language, priority, taken.room, taken.call_id), reasons


async def _hand_off(
    app: web.Application, call: CallParams, transition: Transition, outcome: Outcome
) -> web.Response:
    twilio = app[TWILIO_KEY]
    taken = await _take_in(app, call)
    target, reasons = _hand_off_target(twilio, outcome, taken)
    via = "enqueue" if twilio.settings.twilio_sip_uri is None else "sip"
    result = store.IvrResult(call.call_sid, outcome, target.priority, reasons, target.room,
                             via, _now())  # fmt: skip
    try:
        recorded = await store.record_ivr(app[DATABASE_KEY], result)
    except Exception:
        logger.exception("twilio call %s: IVR outcome not recorded", call.call_sid)
        recorded = None
    if recorded:
        logger.info(
            "twilio call %s: IVR done in %.2f s, language %s, priority %d (%s), via %s to %s",
            call.call_sid, outcome.elapsed_s, outcome.language.value, target.priority,
            ",".join(reasons) or "-", via, target.room,
        )  # fmt: skip
    return _hand_off_twiml(twilio, call.call_sid, target, transition.state)


def _hand_off_twiml(
    twilio: TwilioChannel, call_sid: str, target: mapping.HandOff, state: State
) -> web.Response:
    """The hand-off; a SIP dial that fails comes back with the queued `state`."""
    assert twilio.signer is not None  # the signature check refuses everything without one
    token = twilio.signer.sign(call_sid, state)
    return _twiml(
        mapping.hand_off(
            target,
            sip_uri=twilio.settings.twilio_sip_uri,
            links=twilio.links,
            dial_result_url=twilio.links.dial_result(token),
        )
    )


def _fail_open(twilio: TwilioChannel, call_sid: str) -> web.Response:
    """Straight to the operators in the trunk's language, recording nothing."""
    language = twilio.flow.default_language
    state = State(Step.QUEUED, started_at=twilio.clock(), language=language, queued_after_s=0.0)
    target = mapping.HandOff(language, BASE_PRIORITY, twilio.default_room, None)
    return _hand_off_twiml(twilio, call_sid, target, state)


async def _respond(app: web.Application, call: CallParams, transition: Transition) -> web.Response:
    """The TwiML for the flow's next step; on any failure, the hand-off (never a 500)."""
    twilio = app[TWILIO_KEY]
    last = transition.actions[-1]
    try:
        if isinstance(last, Queue):
            return await _hand_off(app, call, transition, last.outcome)
        assert twilio.signer is not None
        token = twilio.signer.sign(call.call_sid, transition.state)
        document = mapping.ivr_step(transition.actions, twilio.links.ivr(token), twilio.voice)
        return _twiml(document)
    except Exception:
        logger.exception("twilio call %s: IVR step failed, handing the call over", call.call_sid)
        return _fail_open(twilio, call.call_sid)


async def voice(request: web.Request, params: Params) -> web.StreamResponse:
    call = parse(CallParams, params)
    twilio = request.app[TWILIO_KEY]
    taken = await _take_in(request.app, call)
    if taken is not None and taken.created:
        logger.info("twilio call %s taken in as %s", call.call_sid, taken.call_id)
    transition = advance(twilio.flow, State(), Started(at=twilio.clock()))
    return await _respond(request.app, call, transition)


async def ivr(request: web.Request, params: Params) -> web.StreamResponse:
    call = parse(GatherParams, params)
    twilio = request.app[TWILIO_KEY]
    state = twilio.state_of(request, call.call_sid)
    now = twilio.clock()
    event = Digits(call.digits, at=now) if call.digits else NoInput(at=now)
    try:
        transition = advance(twilio.flow, state, event)
    except FlowError as exc:  # a state that was never handed out for this step
        raise InvalidTwilioRequest(f"no IVR step for this state: {exc}") from exc
    return await _respond(request.app, call, transition)


async def dial_result(request: web.Request, params: Params) -> web.StreamResponse:
    """After the SIP hand-off: the end of the call, or, if Asterisk was not reached, the
    Twilio queue (the caller is never left with a failed dial)."""
    call = parse(DialParams, params)
    twilio = request.app[TWILIO_KEY]
    state = twilio.state_of(request, call.call_sid)
    if state.step is not Step.QUEUED:
        raise InvalidTwilioRequest("the IVR state of a dial result must be a queued one")
    if call.dial_status not in _DIAL_FAILED:
        return _twiml(mapping.hang_up())
    taken = await _take_in(request.app, call)
    target, _ = _hand_off_target(twilio, state.outcome(), taken)
    logger.warning("twilio call %s: SIP hand-off %s, enqueued in %s instead",
                   call.call_sid, call.dial_status.value, target.room)  # fmt: skip
    fact = store.Fact(call.call_sid, "twilio_sip_failed", "twilio-sip-failed", _now(),
                      {"dial_status": call.dial_status.value, "room": target.room})  # fmt: skip
    try:
        await store.record_fact(request.app[DATABASE_KEY], fact)
    except Exception:
        logger.exception("twilio call %s: SIP failure not recorded", call.call_sid)
    return _twiml(mapping.enqueue(target, twilio.links))


async def wait(request: web.Request, params: Params) -> web.StreamResponse:
    parse(CallParams, params)
    language = request.query.get("lang", "")
    if language not in Language._value2member_map_:
        raise InvalidTwilioRequest("unknown language", details={"lang": language[:16]})
    twilio = request.app[TWILIO_KEY]
    return _twiml(mapping.waiting(Language(language), twilio.voice))


async def status(request: web.Request, params: Params) -> web.StreamResponse:
    """A status callback, into the call's timeline. The end of a call never taken in (Twilio
    ran its fallback URL while the gateway was away) takes it in, as failed open."""
    update = parse(StatusParams, params)
    database = request.app[DATABASE_KEY]
    at = _now()
    recorded = await store.record_status(
        database, update.call_sid, update.status, update.duration_s, at
    )
    if recorded is None and update.status in store.FINAL_STATUSES:
        settings = request.app[TWILIO_KEY].settings
        failed_open = _intake_request(settings, update, IntakeOutcome.FAILED_OPEN)
        await request.app[INTAKE_KEY].take_call(failed_open)
        recorded = await store.record_status(
            database, update.call_sid, update.status, update.duration_s, at
        )
    if recorded is None:
        logger.info("twilio call %s: status %s for a call not taken in yet", update.call_sid,
                    update.status.value)  # fmt: skip
    return web.Response(status=204)


async def prompt(request: web.Request, params: Params) -> web.StreamResponse:
    twilio = request.app[TWILIO_KEY]
    wanted = prompt_of(request.match_info["lang"], request.match_info["name"])
    path = None if wanted is None else twilio.library.path(wanted)
    if path is None:
        raise NoSuchPrompt("no such prompt")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", "/twilio/voice", voice),
    ("POST", "/twilio/ivr", ivr),
    ("POST", "/twilio/dial", dial_result),
    ("POST", "/twilio/wait", wait),
    ("POST", "/twilio/status", status),
    ("GET", "/twilio/prompts/{lang}/{name}.wav", prompt),
)


def build_channel(settings: Settings) -> TwilioChannel:
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    secret = settings.state_secret.get_secret_value() if settings.state_secret else None
    library = PromptLibrary(settings.prompts_dir)
    flow = IntakeFlow(
        default_language=settings.twilio_default_language,
        bound_s=settings.twilio_ivr_bound_s,
        step_overhead_s=settings.twilio_step_overhead_s,
        durations=library.durations(),
    )
    return TwilioChannel(
        settings=settings,
        flow=flow,
        signature=TwilioSignature(token, settings.public_base_url),
        signer=StateSigner(derive_key(state_secret=secret, auth_token=token)) if token else None,
        library=library,
        links=mapping.Links(settings.public_base_url or ""),
    )


def setup_twilio(app: web.Application) -> None:
    """Add the Twilio routes and their state to `app` (called by create_app)."""
    twilio = build_channel(app[SETTINGS_KEY])
    app[TWILIO_KEY] = twilio
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, twilio_webhook(twilio.signature, handler))
    if twilio.signature.configured:
        logger.info("Twilio channel at %s/twilio/voice", twilio.links.base_url)
    else:
        logger.warning("Twilio channel not configured (LINE19_TWILIO_AUTH_TOKEN, "
                       "LINE19_PUBLIC_BASE_URL): every /twilio/ request is refused")  # fmt: skip
