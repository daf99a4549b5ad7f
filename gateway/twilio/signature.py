"""Every request to /twilio/ proves it comes from Twilio, or is refused with 403.

Twilio signs the URL it requested (scheme, host, path, query) and, for a form body, every
POST parameter; for a JSON body it signs the URL, whose `bodySHA256` query parameter is the
SHA-256 of the body. Behind a reverse proxy the URL the gateway sees is not the one Twilio
requested, so the URL checked is the configured public base URL + the path and query as
received (`request.raw_path`, byte for byte). The check itself is the twilio library's
`RequestValidator`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.typedefs import Handler as AiohttpHandler
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from gateway.twilio.errors import InvalidTwilioRequest, NotSignedByTwilio, TwilioNotConfigured

logger = logging.getLogger(__name__)

Params = MultiDictProxy[str]
Handler = Callable[[web.Request, Params], Awaitable[web.StreamResponse]]

MAX_SIGNATURE_CHARS = 128
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class TwilioSignature:
    """Checks requests against one auth token and one public base URL. Either missing: the
    channel is not configured and every request is refused."""

    def __init__(self, auth_token: str | None, public_base_url: str | None) -> None:
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._base_url = public_base_url

    @property
    def configured(self) -> bool:
        return self._validator is not None and self._base_url is not None

    def signed_url(self, request: web.Request) -> str:
        """The URL Twilio requested: the public base URL + the path and query received."""
        return f"{self._base_url}{request.raw_path}"

    async def verified_params(self, request: web.Request) -> Params:
        """The request's parameters (form or JSON body; none for GET) once its signature is
        checked. Raises NotSignedByTwilio (403) otherwise."""
        if self._validator is None or self._base_url is None:
            missing = "auth token" if self._validator is None else "public base URL"
            raise TwilioNotConfigured(f"no Twilio {missing} configured")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            raise NotSignedByTwilio(f"no {SIGNATURE_HEADER} header")
        if len(signature) > MAX_SIGNATURE_CHARS:
            raise NotSignedByTwilio("signature header too long")
        algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        url = self.signed_url(request)
        signed = await _signed_body(request)
        try:
            valid = self._validator.validate(url, signed, signature, algorithm)
        except (ValueError, TypeError) as exc:  # a URL or parameter the library chokes on
            raise NotSignedByTwilio(f"cannot be checked: {exc}") from exc
        if not valid:
            what = "body hash or signature" if isinstance(signed, str) else "signature"
            raise NotSignedByTwilio(f"{what} does not match {url.split('?')[0]}")
        if isinstance(signed, str):  # parsed only now that it is known to come from Twilio
            return MultiDictProxy(json_params(signed))
        return MultiDictProxy(signed)


async def _signed_body(request: web.Request) -> MultiDict[str] | str:
    """What the validator checks: the form parameters, or the raw JSON body."""
    if request.method in ("GET", "HEAD"):
        return MultiDict()
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
        if request.content_type == FORM:
            return MultiDict(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError as exc:
        raise NotSignedByTwilio("body is not UTF-8: it cannot be checked") from exc
    if request.content_type == JSON:
        if "bodySHA256" not in request.rel_url.query:
            raise NotSignedByTwilio("JSON body without a bodySHA256 query parameter")
        return text
    raise NotSignedByTwilio(f"unsupported content type {request.content_type!r}")


def json_params(text: str) -> MultiDict[str]:
    """A signed JSON body's top-level fields, as Twilio's form parameters would be."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidTwilioRequest("the JSON body does not parse") from exc
    if not isinstance(document, dict):
        raise InvalidTwilioRequest("the JSON body must be an object")
    params: MultiDict[str] = MultiDict()
    for key, value in document.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidTwilioRequest(f"JSON field {key[:40]!r} must be a string or number")
        params.add(key, str(value))
    return params


def twilio_webhook(signature: TwilioSignature, handler: Handler) -> AiohttpHandler:
    """Wrap a handler so that it only ever runs on a request Twilio signed."""

    async def checked(request: web.Request) -> web.StreamResponse:
        try:
            params = await signature.verified_params(request)
        except NotSignedByTwilio as exc:
            peer = request.remote or "-"
            logger.warning("twilio %s %s from %s refused: %s", request.method, request.path,
                           peer, exc.reason)  # fmt: skip
            raise
        return await handler(request, params)

    return checked
