"""The Twilio channel: the intake IVR over TwiML webhooks (docs/twilio.md).

`setup_twilio(app)` adds the routes; gateway/twilio/routes.py describes them.
"""

from gateway.twilio.routes import setup_twilio

__all__ = ["setup_twilio"]
