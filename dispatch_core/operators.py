"""An operator's state, as Asterisk's queue reports their softphone's membership.

The state shown to an operator and a supervisor is derived from what app_queue says of the
member (its device status, paused flag and reason, whether it is in a call), never from
what the console last asked for: a restart of the gateway, of Asterisk or of the AMI link
ends with a QueueStatus and the same derivation (`member_state`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

WRAPUP_REASON = "wrapup"  # a pause with this reason is the wrap-up after a call


class OperatorState(enum.StrEnum):
    LOGGED_OUT = "logged_out"  # not a member of any room's queue
    READY = "ready"
    PAUSED = "paused"
    RINGING = "ringing"
    IN_CALL = "in_call"
    WRAPUP = "wrapup"
    UNREACHABLE = "unreachable"  # a member whose softphone does not answer OPTIONS


class DeviceStatus(enum.IntEnum):
    """app_queue's member Status (AST_DEVICE_*)."""

    UNKNOWN = 0
    NOT_INUSE = 1
    INUSE = 2
    BUSY = 3
    INVALID = 4
    UNAVAILABLE = 5
    RINGING = 6
    RINGINUSE = 7
    ONHOLD = 8


@dataclass(frozen=True)
class MemberFacts:
    """One queue membership as Asterisk reported it (QueueMember, QueueMemberStatus)."""

    queue: str
    interface: str  # PJSIP/op-rabat-1
    status: DeviceStatus
    paused: bool
    paused_reason: str
    in_call: bool


def member_state(member: MemberFacts | None) -> OperatorState:
    """The operator's state from their membership (None: not a member)."""
    if member is None:
        return OperatorState.LOGGED_OUT
    if member.status in (DeviceStatus.UNAVAILABLE, DeviceStatus.INVALID):
        return OperatorState.UNREACHABLE
    if member.status in (DeviceStatus.RINGING, DeviceStatus.RINGINUSE):
        return OperatorState.RINGING
    if member.in_call or member.status in (
        DeviceStatus.INUSE, DeviceStatus.BUSY, DeviceStatus.ONHOLD
    ):  # fmt: skip
        return OperatorState.IN_CALL
    if member.paused:
        if member.paused_reason == WRAPUP_REASON:
            return OperatorState.WRAPUP
        return OperatorState.PAUSED
    return OperatorState.READY


def parse_status(text: str | None) -> DeviceStatus:
    try:
        return DeviceStatus(int(text or "0"))
    except ValueError:
        return DeviceStatus.UNKNOWN
