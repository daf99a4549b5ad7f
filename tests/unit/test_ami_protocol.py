"""The AMI wire parser on queue-call traffic, arbitrary chunking, junk and oversize input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gateway.asterisk.ami_protocol import (
    MAX_ERRORS_KEPT,
    AmiMessage,
    AmiParser,
    format_action,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"


def traffic(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_all(data: bytes, chunk: int | None = None) -> tuple[AmiParser, list[AmiMessage]]:
    parser = AmiParser()
    size = chunk or len(data) or 1
    messages: list[AmiMessage] = []
    for start in range(0, len(data), size):
        messages += parser.feed(data[start : start + size])
    return parser, messages


def test_fixtures_keep_their_crlf_line_endings() -> None:
    for path in FIXTURES.glob("*.ami"):
        data = path.read_bytes()
        assert data.count(b"\n") == data.count(b"\r\n"), path.name


def test_the_banner_is_exposed_and_is_not_a_message() -> None:
    parser, messages = parse_all(traffic("queue_call.ami"))
    assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert messages[0].kind == "response" and messages[0].name == "Success"
    assert messages[0].action_id == "l19-login-1"


def test_a_queue_call_yields_its_events_in_order() -> None:
    parser, messages = parse_all(traffic("queue_call.ami"))
    assert [m.name for m in messages[1:]] == [
        "FullyBooted",
        "Newchannel",
        "VarSet",
        "VarSet",
        "QueueCallerJoin",
        "Newchannel",
        "AgentCalled",
        "AgentRingNoAnswer",
        "Hangup",
        "Newchannel",
        "AgentCalled",
        "QueueCallerLeave",
        "AgentConnect",
        "AgentComplete",
        "Hangup",
        "Hangup",
    ]
    assert all(m.kind == "event" for m in messages[1:])
    assert parser.errors == ()


def test_queue_events_carry_the_fields_asterisk_22_documents() -> None:
    _, messages = parse_all(traffic("queue_call.ami"))
    by_name = {m.name: m for m in messages}
    join = by_name["QueueCallerJoin"]
    assert (join.get("Queue"), join.get("Position"), join.get("Count")) == (
        "l19-operators",
        "1",
        "1",
    )
    assert join.get("Uniqueid") == join.get("Linkedid") == "1747131000.18"
    assert by_name["AgentRingNoAnswer"].get("RingTime") == "15000"
    connect = by_name["AgentConnect"]
    assert (connect.get("HoldTime"), connect.get("RingTime")) == ("19", "3")
    assert connect.get("DestUniqueid") == "1747131019.20"
    assert connect.get("DestLinkedid") == "1747131000.18"
    assert connect.get("Interface") == "PJSIP/operator-02"
    complete = by_name["AgentComplete"]
    assert (complete.get("TalkTime"), complete.get("Reason")) == ("94", "caller")
    varset = next(m for m in messages if m.name == "VarSet")
    assert (varset.get("Variable"), varset.get("Value")) == ("QUEUE_PRIO", "10")


def test_an_agent_complete_without_the_caller_channel_still_parses() -> None:
    _, [message] = parse_all(traffic("agent_complete_without_channel.ami"))
    assert message.name == "AgentComplete"
    assert message.get("Channel") is None and message.get("Uniqueid") is None
    assert message.get("DestChannel") == "PJSIP/operator-02-00000014"
    assert message.get("DestLinkedid") == "1747131000.18"


def test_an_abandoned_call_reports_its_original_position_and_hold_time() -> None:
    _, messages = parse_all(traffic("queue_abandon.ami"))
    abandon = next(m for m in messages if m.name == "QueueCallerAbandon")
    assert abandon.get("OriginalPosition") == "2" and abandon.get("HoldTime") == "41"
    assert abandon.get("Position") == "1"


def test_queue_status_response_and_its_events_share_the_action_id() -> None:
    _, messages = parse_all(traffic("queue_status.ami"))
    assert [m.name for m in messages] == [
        "Success",
        "QueueParams",
        "QueueMember",
        "QueueMember",
        "QueueEntry",
        "QueueStatusComplete",
    ]
    assert {m.action_id for m in messages} == {"l19-qs-7"}
    assert messages[0].get("Message") == "Queue status will follow"
    assert messages[0].get("EventList") == "start"
    assert messages[2].get("PausedReason") == ""
    assert messages[-1].get("ListItems") == "4"


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 13, 64, 1000])
def test_any_chunking_of_the_stream_gives_the_same_messages(chunk: int) -> None:
    data = traffic("queue_call.ami") + traffic("queue_status.ami")
    _, whole = parse_all(data)
    parser, pieces = parse_all(data, chunk)
    assert pieces == whole
    assert parser.banner == "Asterisk Call Manager/11.0.0"


def test_lf_only_line_endings_are_tolerated() -> None:
    data = traffic("queue_call.ami")
    _, crlf = parse_all(data)
    _, lf = parse_all(data.replace(b"\r\n", b"\n"))
    assert lf == crlf


def test_keys_are_case_preserved_but_looked_up_case_insensitively() -> None:
    _, [message] = parse_all(b"event: Hangup\r\nUNIQUEID: 1.2\r\n\r\n")
    assert message.fields[0] == ("event", "Hangup")
    assert message.kind == "event" and message.get("uniqueid") == "1.2"


def test_repeated_keys_are_kept_in_order() -> None:
    _, [message] = parse_all(traffic("chanvariables.ami"))
    assert message.get("ChanVariable") == "L19_INCIDENT=INC-2025-000123"
    assert message.get_all("chanvariable") == (
        "L19_INCIDENT=INC-2025-000123",
        "QUEUE_PRIO=10",
    )
    assert message.get_all("Nope") == ()


def test_values_keep_colons_and_inner_spaces() -> None:
    _, [message] = parse_all(b"Event: X\r\nAppData: a: b  c\r\nEmpty:\r\n\r\n")
    assert message.get("AppData") == "a: b  c" and message.get("Empty") == ""


def test_a_message_without_event_or_response_is_unknown() -> None:
    _, [message] = parse_all(b"Foo: bar\r\n\r\n")
    assert message.kind == "unknown" and message.name is None


def test_stray_blank_lines_produce_no_messages() -> None:
    _, messages = parse_all(b"\r\n\r\n\r\nEvent: A\r\n\r\n\r\n")
    assert [m.name for m in messages] == ["A"]


def test_the_banner_is_only_recognised_on_the_first_line() -> None:
    parser, messages = parse_all(b"Event: A\r\n\r\nAsterisk Call Manager/11.0.0\r\n\r\n")
    assert parser.banner is None
    assert [m.name for m in messages] == ["A"]
    assert len(parser.errors) == 1


def test_an_oversized_message_is_dropped_and_parsing_resumes() -> None:
    parser = AmiParser(max_message_bytes=200)
    big = b"Event: Big\r\n" + b"Field: " + b"x" * 300 + b"\r\n\r\n"
    messages = parser.feed(big + b"Event: After\r\n\r\n")
    assert [m.name for m in messages] == ["After"]
    assert len(parser.errors) == 1 and "Event: Big" in parser.errors[0]


def test_an_endless_line_is_dropped_without_buffering_it() -> None:
    parser = AmiParser(max_message_bytes=1000)
    assert parser.feed(b"Event: Flood\r\nData: ") == []
    for _ in range(50):
        assert parser.feed(b"y" * 500) == []
    assert len(parser._buffer) <= 1000
    # The end of the huge line is not mistaken for a blank line.
    assert parser.feed(b"\r\n") == []
    assert [m.name for m in parser.feed(b"More: z\r\n\r\nEvent: Next\r\n\r\n")] == ["Next"]
    assert len(parser.take_errors()) == 1 and parser.errors == ()


def test_too_many_fields_drop_the_message() -> None:
    parser = AmiParser(max_fields=10)
    flood = b"Event: Many\r\n" + b"".join(b"K%d: v\r\n" % i for i in range(20)) + b"\r\n"
    assert parser.feed(flood + b"Event: Fine\r\n\r\n")[0].name == "Fine"


def test_a_line_without_a_key_is_recorded_and_skipped() -> None:
    parser, [message] = parse_all(b"Event: A\r\nno colon here\r\n: no key\r\nB: 1\r\n\r\n")
    assert message.fields == (("Event", "A"), ("B", "1"))
    assert len(parser.errors) == 2


def test_junk_never_raises_and_the_recorded_errors_stay_bounded() -> None:
    rng = random.Random(19)
    parser = AmiParser(max_message_bytes=512)
    alphabet = b"ab:\r\n \x00\xff"
    for _ in range(3000):
        parser.feed(bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 64))))
    assert len(parser.errors) <= MAX_ERRORS_KEPT
    assert [m.name for m in parser.feed(b"\r\n\r\nEvent: Alive\r\n\r\n")][-1] == "Alive"


def test_an_action_is_formatted_with_crlf_and_a_closing_blank_line() -> None:
    action = format_action("QueueStatus", {"Queue": "l19-operators"}, "l19-qs-7")
    assert action == (b"Action: QueueStatus\r\nActionID: l19-qs-7\r\nQueue: l19-operators\r\n\r\n")


def test_an_action_with_utf8_values_is_encoded() -> None:
    action = format_action("Setvar", {"Variable": "L19_NOTE", "Value": "Médina"}, "1")
    assert "Médina".encode() in action


@pytest.mark.parametrize(
    ("fields", "action_id"),
    [
        ({"Queue": "x\r\nAction: Originate"}, "1"),
        ({"Queue\n": "x"}, "1"),
        ({"Queue": "x"}, "1\r\n"),
        ({"Bad:Key": "x"}, "1"),
        ({"": "x"}, "1"),
        ({"ActionID": "2"}, "1"),
        ({"action": "Logoff"}, "1"),
        ({"Value": "a\x00b"}, "1"),
    ],
)
def test_actions_that_could_inject_headers_are_rejected(
    fields: dict[str, str], action_id: str
) -> None:
    with pytest.raises(ValueError):
        format_action("QueueStatus", fields, action_id)
