"""Asterisk's queue facts (AMI events, queue_log lines) mapped to timeline updates. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch_core.calls import IntakeOutcome, TimelineKind
from gateway.asterisk import dialplan
from gateway.asterisk.ami_protocol import AmiMessage
from gateway.asterisk.queue_log import (
    Complete,
    Connect,
    EnterQueue,
    FailOpenRecord,
    QueueExit,
    QueueLogEntry,
)
from gateway.services.intake import IntakeRequest
from gateway.services.timeline import TimelineUpdate


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _ami_time(message: AmiMessage, now: datetime) -> datetime:
    stamp = _number(message.get("Timestamp"))
    return datetime.fromtimestamp(stamp, UTC) if stamp else now


def _member(message: AmiMessage) -> str | None:
    return message.get("MemberName") or message.get("Interface")


def from_ami(message: AmiMessage, now: datetime) -> TimelineUpdate | None:
    """The timeline update an AMI event carries, or None when it carries none.

    Correlation is always on the caller channel's Uniqueid. AgentComplete sometimes comes
    without it (FIELD_NOTES.md): it is then ignored, and queue_log's COMPLETECALLER /
    COMPLETEAGENT line, which always names the call, closes it a poll later.
    """
    name = message.name
    uniqueid = message.get("Uniqueid")
    if not uniqueid:
        return None
    at = _ami_time(message, now)
    queue = message.get("Queue")
    common = {"linkedid": message.get("Linkedid"), "channel": message.get("Channel")}
    if name == "QueueCallerJoin":
        return TimelineUpdate(
            uniqueid,
            TimelineKind.QUEUED,
            at,
            "ami",
            "queued",
            {"queue": queue, "position": message.get("Position")},
            {**common, "room": queue, "caller_raw": message.get("CallerIDNum")},
        )
    if name == "AgentCalled":
        dest = message.get("DestUniqueid") or message.get("DestChannel") or ""
        return TimelineUpdate(
            uniqueid,
            TimelineKind.OPERATOR_RINGING,
            at,
            "ami",
            f"ringing:{dest}",
            {"operator": _member(message), "interface": message.get("Interface")},
            {**common, "room": queue},
        )
    if name == "AgentRingNoAnswer":
        dest = message.get("DestUniqueid") or message.get("DestChannel") or ""
        return TimelineUpdate(
            uniqueid,
            TimelineKind.RING_NO_ANSWER,
            at,
            "ami",
            f"noanswer:{dest}",
            {"operator": _member(message), "ring_time_ms": _number(message.get("RingTime"))},
        )
    if name == "AgentConnect":
        hold = _number(message.get("HoldTime"))
        return TimelineUpdate(
            uniqueid,
            TimelineKind.ANSWERED,
            at,
            "ami",
            "answered",
            {"operator": _member(message), "hold_time_s": hold},
            {**common, "operator": _member(message), "hold_time_s": hold, "room": queue},
        )
    if name == "QueueCallerAbandon":
        wait = _number(message.get("HoldTime"))
        return TimelineUpdate(
            uniqueid,
            TimelineKind.ABANDONED,
            at,
            "ami",
            "ended",
            {"wait_time_s": wait, "position": message.get("Position")},
            {"wait_time_s": wait},
        )
    if name == "AgentComplete":
        talk = _number(message.get("TalkTime"))
        return TimelineUpdate(
            uniqueid,
            TimelineKind.COMPLETED,
            at,
            "ami",
            "ended",
            {"talk_time_s": talk, "reason": message.get("Reason"), "operator": _member(message)},
            {"talk_time_s": talk},
        )
    return None


def from_queue_log(entry: QueueLogEntry) -> TimelineUpdate | None:
    """The timeline update of a queue_log line; QueueLogError when the line is malformed."""
    at = datetime.fromtimestamp(entry.time, UTC)
    agent = entry.agent if entry.agent not in ("", "NONE") else None
    callid = entry.callid
    if entry.event == "ENTERQUEUE":
        caller = EnterQueue.from_entry(entry).callerid
        return TimelineUpdate(
            callid, TimelineKind.QUEUED, at, "queue_log", "queued",
            {"queue": entry.queue}, {"room": entry.queue, "caller_raw": caller},
        )  # fmt: skip
    if entry.event == "CONNECT":
        hold = float(Connect.from_entry(entry).holdtime)
        return TimelineUpdate(
            callid, TimelineKind.ANSWERED, at, "queue_log", "answered",
            {"operator": agent, "hold_time_s": hold},
            {"operator": agent, "hold_time_s": hold, "room": entry.queue},
        )  # fmt: skip
    if entry.event == "ABANDON":
        wait = float(QueueExit.from_entry(entry).waittime)
        return TimelineUpdate(
            callid, TimelineKind.ABANDONED, at, "queue_log", "ended",
            {"wait_time_s": wait}, {"wait_time_s": wait},
        )  # fmt: skip
    if entry.event in ("COMPLETECALLER", "COMPLETEAGENT"):
        complete = Complete.from_entry(entry)
        talk = float(complete.calltime)
        return TimelineUpdate(
            callid, TimelineKind.COMPLETED, at, "queue_log", "ended",
            {"talk_time_s": talk, "by": complete.ended_by, "operator": agent},
            {"talk_time_s": talk, "operator": agent},
        )  # fmt: skip
    return None


def failopen_intake(entry: QueueLogEntry) -> IntakeRequest | None:
    """The intake we missed, rebuilt from the dialplan's L19FAILOPEN queue_log line."""
    if entry.event != dialplan.QUEUE_LOG_FAILOPEN:
        return None
    record = FailOpenRecord.from_entry(entry)
    return IntakeRequest(
        external_id=entry.callid,
        linkedid=record.linkedid or None,
        trunk=record.trunk or None,
        carrier=record.carrier or None,
        caller_raw=record.caller_number or None,
        caller_name=record.caller_name or None,
        received_at=datetime.fromtimestamp(entry.time, UTC),
        outcome=IntakeOutcome.FAILED_OPEN,
        room=entry.queue,
        priority=0,
    )
