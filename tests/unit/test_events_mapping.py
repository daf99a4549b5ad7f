"""Asterisk's recorded queue traffic mapped to the call timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dispatch_core.calls import IntakeOutcome, TimelineKind
from gateway.asterisk import events
from gateway.asterisk.ami_protocol import AmiParser
from gateway.asterisk.queue_log import parse_line

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_a_recorded_queue_call_maps_to_queued_ringing_answered_completed() -> None:
    parser = AmiParser()
    messages = parser.feed((FIXTURES / "ami" / "recorded_queue_call.ami").read_bytes())
    updates = [u for m in messages if (u := events.from_ami(m, NOW)) is not None]
    kinds = [u.kind for u in updates]
    assert kinds[:4] == [
        TimelineKind.QUEUED,
        TimelineKind.OPERATOR_RINGING,
        TimelineKind.ANSWERED,
        TimelineKind.COMPLETED,
    ]
    assert {u.external_id for u in updates} == {"1795313165.3"}  # the caller's channel
    answered = updates[2]
    assert answered.call_fields["operator"] == "op-rabat-1"
    assert answered.at.year == 2026 and answered.at != NOW  # Asterisk's own timestamp
    assert len(updates) == 4 and updates[3].dedupe_key == "ended"


def test_agent_complete_without_uniqueid_is_ignored_rather_than_misattributed() -> None:
    parser = AmiParser()
    raw = (FIXTURES / "ami" / "agent_complete_without_channel.ami").read_bytes()
    complete = [m for m in parser.feed(raw) if m.name == "AgentComplete"]
    assert complete and all(
        events.from_ami(m, NOW) is None for m in complete if not m.get("Uniqueid")
    )


def test_only_the_agent_class_of_events_carries_timeline_facts() -> None:
    # The AMI client logs in with "Events: agent"; the call class (Newchannel, Hangup …)
    # is many events per call and none of them moves the timeline.
    parser = AmiParser()
    messages = parser.feed((FIXTURES / "ami" / "recorded_queue_call.ami").read_bytes())
    for message in messages:
        if events.from_ami(message, NOW) is not None:
            assert "agent" in (message.get("Privilege") or "").split(",")


def test_a_fail_open_line_becomes_an_intake_with_the_room_asterisk_used() -> None:
    entry = parse_line(
        "1795313000|1795312999.7|sale|NONE|L19FAILOPEN|orange|1795312999.7|Orange|0661234567|A/B"
    )
    request = events.failopen_intake(entry)
    assert request is not None
    assert request.outcome is IntakeOutcome.FAILED_OPEN
    assert (request.room, request.priority, request.trunk) == ("sale", 0, "orange")
    assert (request.caller_raw, request.caller_name) == ("0661234567", "A/B")
