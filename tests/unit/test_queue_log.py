"""queue_log lines: parsing, typed records for our and Asterisk's events, and the tailer."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.asterisk.queue_log import (
    Complete,
    Connect,
    EnterQueue,
    FailOpenRecord,
    IntakeRecord,
    QueueExit,
    QueueLogEntry,
    QueueLogError,
    QueueLogTail,
    RingNoAnswer,
    parse_line,
    parse_lines,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "queue_log" / "queue_log.txt"


def entries_by_event() -> dict[str, list[QueueLogEntry]]:
    entries, _ = parse_lines(FIXTURE.read_text(encoding="utf-8"))
    grouped: dict[str, list[QueueLogEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.event, []).append(entry)
    return grouped


def test_a_line_splits_into_its_header_and_data() -> None:
    line = "1747131022|1747131000.18|l19-operators|Operateur 02|CONNECT|19|1747131019.20|3\n"
    entry = parse_line(line)
    assert entry == QueueLogEntry(
        time=1747131022.0,
        callid="1747131000.18",
        queue="l19-operators",
        agent="Operateur 02",
        event="CONNECT",
        data=("19", "1747131019.20", "3"),
        raw=line.rstrip("\n"),
    )


def test_an_event_without_data_ends_with_a_pipe_and_has_no_data() -> None:
    assert parse_line("1747120000|NONE|NONE|NONE|QUEUESTART|\r\n").data == ()
    assert parse_line("1747120000|NONE|NONE|NONE|QUEUESTART").data == ()


def test_empty_data_fields_are_kept() -> None:
    assert parse_line("1747131000|1.2|q|NONE|ENTERQUEUE||0612345678|1").data == (
        "",
        "0612345678",
        "1",
    )


def test_a_fractional_timestamp_is_accepted() -> None:
    assert parse_line("1747131000.25|1.2|q|NONE|X|").time == 1747131000.25


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("garbage that is not a queue_log line", "fields"),
        ("1747132000|1747132000.70|l19-operators", "fields"),
        ("not-a-time|1.2|q|NONE|ENTERQUEUE||x|1", "timestamp"),
        ("-5|1.2|q|NONE|X|", "timestamp"),
        ("1747131000|1.2|q|NONE||a", "event"),
        ("1747131000|1.2|q|NONE|BAD EVENT|a", "event"),
        ("1747131000|1.2|q|NONE|X|a\rb", "line break"),
        ("1747131000|1.2|q|NONE|X|" + "a" * 9000, "longer"),
    ],
)
def test_malformed_lines_raise_with_a_reason(line: str, reason: str) -> None:
    with pytest.raises(QueueLogError, match=reason) as info:
        parse_line(line)
    assert info.value.reason and len(info.value.line) <= 200


def test_parse_lines_returns_entries_and_the_errors_to_skip() -> None:
    entries, errors = parse_lines(FIXTURE.read_text(encoding="utf-8"))
    assert len(entries) == 20 and len(errors) == 3
    assert entries[0].event == "QUEUESTART" and entries[-1].event == "CONFIGRELOAD"


def test_a_fail_open_record_rejoins_a_caller_name_that_contains_pipes() -> None:
    [entry] = entries_by_event()["L19FAILOPEN"]
    record = FailOpenRecord.from_entry(entry)
    assert (record.trunk, record.linkedid, record.carrier) == (
        "maroc-telecom",
        "1747131200.32",
        "Maroc Telecom",
    )
    assert record.caller_number == "0712345678"
    assert record.caller_name == "Ahmed | Fils"
    assert record.entry.callid == "1747131200.32" and record.entry.queue == "l19-operators"


def test_a_fail_open_record_strips_control_characters_from_caller_fields() -> None:
    entry = parse_line("1|1.2|q|NONE|L19FAILOPEN|t|1.2|c|06\x0012|A\x1b[2Jb|")
    record = FailOpenRecord.from_entry(entry)
    assert (record.caller_number, record.caller_name) == ("0612", "A[2Jb|")


def test_a_fail_open_record_with_an_empty_name_is_valid() -> None:
    record = FailOpenRecord.from_entry(parse_line("1|1.2|q|NONE|L19FAILOPEN|t|1.2|c|unknown|"))
    assert (record.caller_number, record.caller_name) == ("unknown", "")


def test_a_truncated_fail_open_record_is_an_error() -> None:
    with pytest.raises(QueueLogError, match="3 data fields"):
        FailOpenRecord.from_entry(parse_line("1|1.2|q|NONE|L19FAILOPEN|t|1.2|c"))


def test_an_intake_record_carries_incident_and_priority() -> None:
    [entry] = entries_by_event()["L19INTAKE"]
    record = IntakeRecord.from_entry(entry)
    assert (record.incident_id, record.priority) == ("INC-2025-000123", "P1")


def test_enter_queue_reads_the_position_from_the_end() -> None:
    first = EnterQueue.from_entry(entries_by_event()["ENTERQUEUE"][0])
    assert (first.url, first.callerid, first.position) == ("", "0612345678", 1)
    piped = EnterQueue.from_entry(parse_line("1|1.2|q|NONE|ENTERQUEUE||06|12|3"))
    assert (piped.callerid, piped.position) == ("06|12", 3)
    old = EnterQueue.from_entry(parse_line("1|1.2|q|NONE|ENTERQUEUE||0612345678"))
    assert old.position is None


def test_connect_gives_hold_time_bridged_channel_and_ring_time() -> None:
    record = Connect.from_entry(entries_by_event()["CONNECT"][0])
    assert (record.holdtime, record.bridged_uniqueid, record.ringtime) == (19, "1747131019.20", 3)
    assert record.entry.agent == "Operateur 02"


@pytest.mark.parametrize(
    ("event", "ended_by"), [("COMPLETECALLER", "caller"), ("COMPLETEAGENT", "agent")]
)
def test_complete_says_who_hung_up(event: str, ended_by: str) -> None:
    record = Complete.from_entry(entries_by_event()[event][0])
    assert record.ended_by == ended_by and record.origposition == 1
    assert record.calltime in (94, 97)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ("ABANDON", (1, 2, 41, None)),
        ("EXITWITHTIMEOUT", (1, 1, 120, None)),
        ("EXITEMPTY", (1, 1, 1, None)),
        ("EXITWITHKEY", (1, 1, 4, "5")),
    ],
)
def test_queue_exits_give_positions_and_wait_time(
    event: str, expected: tuple[int, int, int, str | None]
) -> None:
    record = QueueExit.from_entry(entries_by_event()[event][0])
    assert (record.position, record.origposition, record.waittime, record.key) == expected


def test_ring_no_answer_is_in_milliseconds() -> None:
    assert RingNoAnswer.from_entry(entries_by_event()["RINGNOANSWER"][0]).ringtime_ms == 15000


def test_a_record_for_the_wrong_event_is_an_error() -> None:
    with pytest.raises(QueueLogError, match="is not CONNECT"):
        Connect.from_entry(entries_by_event()["ABANDON"][0])


@pytest.mark.parametrize("value", ["x", " 5", "--5", "1.5", "٣"])
def test_non_integer_numbers_are_errors(value: str) -> None:
    with pytest.raises(QueueLogError, match="not an integer"):
        RingNoAnswer.from_entry(parse_line(f"1|1.2|q|a|RINGNOANSWER|{value}"))


def test_the_tail_returns_complete_lines_and_keeps_the_partial_one() -> None:
    tail = QueueLogTail()
    assert tail.feed(b"1|1.2|q|NONE|QUEUESTART|\n1|1.2|q|NO") == ["1|1.2|q|NONE|QUEUESTART|"]
    assert tail.pending == len(b"1|1.2|q|NO")
    assert tail.feed(b"NE|ENTERQUEUE||06|1\r\n") == ["1|1.2|q|NONE|ENTERQUEUE||06|1"]
    assert tail.pending == 0


def test_the_tail_survives_a_multibyte_character_split_across_chunks() -> None:
    tail = QueueLogTail()
    data = "1|1.2|q|NONE|L19FAILOPEN|t|1|c|06|Médina\n".encode()
    cut = data.index("é".encode()) + 1
    assert tail.feed(data[:cut]) == []
    assert tail.feed(data[cut:]) == [data.decode().rstrip("\n")]


def test_the_tail_splits_only_on_newline_not_on_unicode_line_separators() -> None:
    forged = "1|1.2|q|NONE|L19FAILOPEN|t|1|c|06|x\u2028999|9.9|q|NONE|L19INTAKE|INC|P1\n"
    lines = QueueLogTail().feed(forged.encode())
    assert len(lines) == 1 and parse_line(lines[0]).event == "L19FAILOPEN"


def test_the_tail_drops_an_overlong_line_and_resyncs() -> None:
    tail = QueueLogTail(max_line_bytes=100)
    assert tail.feed(b"x" * 80) == []
    assert tail.feed(b"x" * 80) == []
    assert tail.pending == 0
    assert tail.feed(b"yyy\n1|1.2|q|NONE|QUEUESTART|\n") == ["1|1.2|q|NONE|QUEUESTART|"]
    assert tail.feed(b"z" * 150 + b"\nok\n") == ["ok"]
    assert tail.dropped_lines == 2


def test_every_fixture_line_goes_through_the_tail_unchanged() -> None:
    data = FIXTURE.read_bytes()
    tail = QueueLogTail()
    lines = [line for i in range(0, len(data), 7) for line in tail.feed(data[i : i + 7])]
    assert lines == data.decode().splitlines()
