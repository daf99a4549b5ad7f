"""The Twilio adapter's failures, in the one JSON error shape (gateway/http/errors.py).

A refused signature says nothing about why to the client (the reason is logged); garbage
parameters say which ones. Neither is ever a 500.
"""

from __future__ import annotations

from gateway.http.errors import ApiError


class NotSignedByTwilio(ApiError):
    """No valid X-Twilio-Signature for the URL Twilio was given (or none can be checked)."""

    status = 403
    code = "twilio-signature-invalid"

    def __init__(self, reason: str) -> None:
        super().__init__("request not signed by Twilio for this URL")
        self.reason = reason  # logged, not returned


class TwilioNotConfigured(NotSignedByTwilio):
    code = "twilio-not-configured"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.message = "the Twilio channel is not configured: every request is refused"


class BadState(ApiError):
    """The IVR state in the action URL was not signed by this gateway for this call."""

    status = 403
    code = "twilio-state-invalid"


class InvalidTwilioRequest(ApiError):
    status = 400
    code = "invalid-twilio-request"


class NoSuchPrompt(ApiError):
    status = 404
    code = "no-such-prompt"
