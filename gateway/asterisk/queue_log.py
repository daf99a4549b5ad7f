"""Asterisk ``queue_log`` lines: parsing, typed records, and a pure tailer. No I/O.

Asterisk (``main/logger.c``, ``ast_queue_log``) writes one line per event::

    1747131000|1747131000.18|l19-operators|PJSIP/operator-02|CONNECT|19|1747131019.20|3

that is ``time|callid|queue|agent|event|data...``: integer epoch seconds, the caller
channel's uniqueid (or ``NONE``), the queue, the member name (or ``NONE``), the event, then
the event's data, itself ``|``-separated. Asterisk always writes the ``|`` after the event,
so an event without data ends with ``|``. The whole line is capped at 8191 bytes.

Data layouts used here (``apps/app_queue.c``)::

    ENTERQUEUE       url|callerid|position
    CONNECT          holdtime|bridged channel uniqueid|ringtime        (seconds)
    COMPLETECALLER   holdtime|calltime|origposition                    (also COMPLETEAGENT)
    ABANDON          position|origposition|waittime      (also EXITWITHTIMEOUT, EXITEMPTY)
    EXITWITHKEY      key|position|origposition|waittime
    RINGNOANSWER     ringtime (milliseconds)
    L19FAILOPEN      trunk|linkedid|carrier|caller number|caller name  (our dialplan)
    L19INTAKE        incident id|priority                              (our dialplan)

Caller-controlled text (ENTERQUEUE's callerid, L19FAILOPEN's number and name) is written
unescaped: a ``|`` in it shifts the fields after it, so those fields are read from the
other end of the line, and a newline in it would start a new, forged line. The dialplan
must therefore filter caller data (for instance ``${FILTER(0-9+,${CALLERID(num)})}``)
before ``QueueLog()``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_LINE_CHARS = 8192
MAX_TAIL_LINE_BYTES = 16 * 1024

_TIME = re.compile(r"\d{1,12}(?:\.\d{1,9})?")
_EVENT = re.compile(r"[A-Za-z0-9_]+")
_INT = re.compile(r"-?[0-9]{1,12}")


class QueueLogError(ValueError):
    """A line that is not a queue_log entry, or an entry whose data does not fit its event."""

    def __init__(self, reason: str, line: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line[:200]


@dataclass(frozen=True)
class QueueLogEntry:
    time: float
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]
    raw: str


def parse_line(line: str) -> QueueLogEntry:
    raw = line.rstrip("\n").rstrip("\r")
    if len(raw) > MAX_LINE_CHARS:
        raise QueueLogError(f"line longer than {MAX_LINE_CHARS} characters", raw)
    if "\n" in raw or "\r" in raw:
        raise QueueLogError("line break inside the line", raw)
    parts = raw.split("|", 5)
    if len(parts) < 5:
        raise QueueLogError(f"{len(parts)} fields, at least 5 expected", raw)
    stamp, callid, queue, agent, event = parts[:5]
    if not _TIME.fullmatch(stamp):
        raise QueueLogError("timestamp is not epoch seconds", raw)
    if not _EVENT.fullmatch(event):
        raise QueueLogError("missing or malformed event name", raw)
    rest = parts[5] if len(parts) == 6 else ""
    data = tuple(rest.split("|")) if rest else ()
    return QueueLogEntry(float(stamp), callid, queue, agent, event, data, raw)


def parse_lines(text: str) -> tuple[list[QueueLogEntry], list[QueueLogError]]:
    """Parse a block of lines; blank lines are skipped, bad ones returned as errors."""
    entries: list[QueueLogEntry] = []
    errors: list[QueueLogError] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            entries.append(parse_line(line))
        except QueueLogError as exc:
            errors.append(exc)
    return entries, errors


class QueueLogTail:
    """Turns the byte chunks read from a growing file into complete lines."""

    def __init__(self, max_line_bytes: int = MAX_TAIL_LINE_BYTES) -> None:
        self._max = max_line_bytes
        self._buffer = bytearray()
        self._skipping = False
        self.dropped_lines = 0  # lines discarded for being longer than max_line_bytes

    @property
    def pending(self) -> int:
        """Bytes of an incomplete last line held back until its newline arrives."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        lines: list[str] = []
        start = 0
        while (end := self._buffer.find(b"\n", start)) >= 0:
            line = bytes(self._buffer[start:end])
            start = end + 1
            if self._skipping or len(line) > self._max:
                self._skipping = False
                self.dropped_lines += 1
                continue
            lines.append(line.rstrip(b"\r").decode("utf-8", errors="replace"))
        del self._buffer[:start]
        if len(self._buffer) > self._max:
            self._buffer.clear()
            self._skipping = True
        return lines


@dataclass(frozen=True)
class FailOpenRecord:
    """A call the dialplan queued without a completed intake (our L19FAILOPEN event)."""

    entry: QueueLogEntry
    trunk: str
    linkedid: str
    carrier: str
    caller_number: str  # untrusted; control characters removed
    caller_name: str  # untrusted; may contain "|"; control characters removed

    @classmethod
    def from_entry(cls, entry: QueueLogEntry) -> FailOpenRecord:
        _expect(entry, "L19FAILOPEN", minimum=5)
        trunk, linkedid, carrier, number, *name = entry.data
        return cls(entry, trunk, linkedid, carrier, _printable(number), _printable("|".join(name)))


@dataclass(frozen=True)
class IntakeRecord:
    """Our L19INTAKE event: the gateway completed an intake for this call."""

    entry: QueueLogEntry
    incident_id: str
    priority: str

    @classmethod
    def from_entry(cls, entry: QueueLogEntry) -> IntakeRecord:
        _expect(entry, "L19INTAKE", minimum=2, maximum=2)
        return cls(entry, entry.data[0], entry.data[1])


@dataclass(frozen=True)
class EnterQueue:
    entry: QueueLogEntry
    url: str
    callerid: str  # untrusted; may contain "|"
    position: int | None  # absent in lines written by very old Asterisk versions

    @classmethod
    def from_entry(cls, entry: QueueLogEntry) -> EnterQueue:
        _expect(entry, "ENTERQUEUE", minimum=2)
        data = entry.data
        if len(data) == 2:
            return cls(entry, data[0], data[1], None)
        return cls(entry, data[0], "|".join(data[1:-1]), _int(entry, data[-1]))


@dataclass(frozen=True)
class Connect:
    entry: QueueLogEntry
    holdtime: int
    bridged_uniqueid: str
    ringtime: int

    @classmethod
    def from_entry(cls, entry: QueueLogEntry) -> Connect:
        _expect(entry, "CONNECT", minimum=3, maximum=3)
        hold, bridged, ring = entry.data
        return cls(entry, _int(entry, hold), bridged, _int(entry, ring))


@dataclass(frozen=True)
class Complete:
    entry: QueueLogEntry
    ended_by: str  # "caller" or "agent"
    holdtime: int
    calltime: int
    origposition: int

    @classmethod
    def from_entry(cls, entry: QueueLogEntry) -> Complete:
        _expect(entry, ("COMPLETECALLER", "COMPLETEAGENT"), minimum=3, maximum=3)
        hold, call, orig = (_int(entry, value) for value in entry.data)
        ended_by = "caller" if entry.event == "COMPLETECALLER" else "agent"
        return cls(entry, ended_by, hold, call, orig)


@dataclass(frozen=True)
class QueueExit:
    """The caller left the queue unanswered: ABANDON, EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY."""

    entry: QueueLogEntry
    position: int
    origposition: int
    waittime: int
    key: str | None = None  # EXITWITHKEY only

    @classmethod
    def from_entry(cls, entry: QueueLogEntry) -> QueueExit:
        if entry.event == "EXITWITHKEY":
            _expect(entry, "EXITWITHKEY", minimum=4, maximum=4)
            key, *numbers = entry.data
        else:
            _expect(entry, ("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY"), minimum=3, maximum=3)
            key, numbers = None, list(entry.data)
        position, orig, wait = (_int(entry, value) for value in numbers)
        return cls(entry, position, orig, wait, key)


@dataclass(frozen=True)
class RingNoAnswer:
    entry: QueueLogEntry
    ringtime_ms: int

    @classmethod
    def from_entry(cls, entry: QueueLogEntry) -> RingNoAnswer:
        _expect(entry, "RINGNOANSWER", minimum=1, maximum=1)
        return cls(entry, _int(entry, entry.data[0]))


def _expect(
    entry: QueueLogEntry,
    events: str | tuple[str, ...],
    minimum: int,
    maximum: int | None = None,
) -> None:
    allowed = (events,) if isinstance(events, str) else events
    if entry.event not in allowed:
        raise QueueLogError(f"{entry.event} is not {'/'.join(allowed)}", entry.raw)
    count = len(entry.data)
    if count < minimum or (maximum is not None and count > maximum):
        raise QueueLogError(f"{entry.event} with {count} data fields", entry.raw)


def _int(entry: QueueLogEntry, value: str) -> int:
    if not _INT.fullmatch(value):
        raise QueueLogError(f"{entry.event}: {value[:20]!r} is not an integer", entry.raw)
    return int(value)


def _printable(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Cc")
