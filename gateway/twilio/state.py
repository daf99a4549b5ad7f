"""The IVR state carried between Twilio's webhook requests, signed by the gateway.

Twilio is stateless between requests: each `<Gather>` names the action URL it calls with the
caller's keys. The flow's `State.to_dict()` rides in that URL as a token,
`<payload>.<mac>` (both base64url, no padding), where the MAC is HMAC-SHA256 over the
CallSid and the payload. A token is only good for the call it was made for: state cannot
be edited, nor moved to another call. Pure: no I/O, no clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re

from ivr.flow import State

# A state is under 120 bytes of JSON (docs/ivr.md): its token stays well under this.
MAX_TOKEN_CHARS = 400
_TOKEN = re.compile(rf"([A-Za-z0-9_-]{{1,{MAX_TOKEN_CHARS}}})\.([A-Za-z0-9_-]{{43}})")
_DOMAIN = b"line19/twilio-ivr-state/v1"


class StateError(ValueError):
    """A state token that is malformed, tampered with, or made for another call."""


def derive_key(*, state_secret: str | None, auth_token: str) -> bytes:
    """The MAC key: the configured state secret, or one derived from the Twilio auth token
    (so that a deployment needs no second secret; rotating the token then voids the states
    of the calls inside the IVR at that moment)."""
    if state_secret:
        return hashlib.sha256(_DOMAIN + b"/secret\n" + state_secret.encode()).digest()
    return hmac.new(auth_token.encode(), _DOMAIN + b"/key", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class StateSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the state key must be at least 16 bytes")
        self._key = key

    def _mac(self, call_sid: str, payload: str) -> str:
        message = b"\n".join((_DOMAIN, call_sid.encode(), payload.encode()))
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def sign(self, call_sid: str, state: State) -> str:
        document = json.dumps(state.to_dict(), separators=(",", ":"), sort_keys=True)
        payload = _b64(document.encode())
        return f"{payload}.{self._mac(call_sid, payload)}"

    def verify(self, call_sid: str, token: str) -> State:
        """The state in `token`, if this gateway signed it for this call; else StateError."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise StateError("the state token is malformed")
        payload, mac = match.groups()
        if not hmac.compare_digest(mac, self._mac(call_sid, payload)):
            raise StateError("the state token was not signed for this call")
        try:
            return State.from_dict(json.loads(_unb64(payload)))
        except (ValueError, binascii.Error) as exc:  # signed by us, yet not a state
            raise StateError(f"the signed state is not valid: {exc}") from exc
