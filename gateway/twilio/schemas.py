"""What the gateway reads from Twilio's webhook parameters, strictly.

Twilio sends many more parameters than these (ApiVersion, Direction, FromCity …); they are
ignored. The ones read are checked for shape and size: a request that passed the signature
check but holds garbage gets a 400 naming the fields, never a 500.
"""

from __future__ import annotations

import enum
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.twilio.errors import InvalidTwilioRequest
from gateway.twilio.signature import Params

CallSid = Annotated[str, Field(pattern=r"^CA[0-9a-fA-F]{32}$")]
Party = Annotated[str, Field(max_length=128)]  # a number, "anonymous", client:…, sip:…


class _TwilioParams(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=False)

    call_sid: CallSid = Field(alias="CallSid")


class CallParams(_TwilioParams):
    """The Voice URL's request, and the parameters every later request repeats."""

    caller: Party | None = Field(default=None, alias="From")
    called: Party | None = Field(default=None, alias="To")


class GatherParams(CallParams):
    # What the caller pressed; absent or empty when the Gather timed out.
    digits: str = Field(default="", alias="Digits", pattern=r"^[0-9A-D*#]{0,32}$")


class DialStatus(enum.StrEnum):
    COMPLETED = "completed"
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"


class DialParams(CallParams):
    dial_status: DialStatus = Field(alias="DialCallStatus")


class TwilioCallStatus(enum.StrEnum):
    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    CANCELED = "canceled"
    FAILED = "failed"


class StatusParams(CallParams):
    status: TwilioCallStatus = Field(alias="CallStatus")
    duration_s: int | None = Field(default=None, alias="CallDuration", ge=0, le=7 * 86400)


Model = TypeVar("Model", bound=_TwilioParams)


def parse(model: type[Model], params: Params) -> Model:
    """The model from the parameters; InvalidTwilioRequest (400) naming what is wrong."""
    fields = {(info.alias or name) for name, info in model.model_fields.items()}
    repeated = sorted(key for key in fields if len(params.getall(key, [])) > 1)
    if repeated:
        raise InvalidTwilioRequest("repeated parameters", details={"parameters": repeated})
    try:
        return model.model_validate({key: params[key] for key in fields if key in params})
    except ValidationError as exc:
        errors = [
            {"parameter": ".".join(str(part) for part in error["loc"]), "error": error["msg"]}
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidTwilioRequest("invalid Twilio parameters", details={"errors": errors}) from exc
