"""One JSON error shape for every failure:
`{"error": {"code": "no-such-call", "message": "...", "details": {...}}}`."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

logger = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "bad-request"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class NotFound(ApiError):
    status = 404
    code = "not-found"


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> web.Response:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return web.json_response(body, status=status)


_HTTP_CODES = {
    404: "no-such-route",
    405: "method-not-allowed",
    413: "body-too-large",
    431: "headers-too-large",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        logger.info("%s %s -> %s %s", request.method, request.path, exc.status, exc.code)
        return error_response(exc.status, exc.code, exc.message, exc.details)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http-error")
        return error_response(exc.status, code, exc.reason)
    except Exception:
        logger.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal-error", "internal error; it has been logged")
