"""Asterisk Manager Interface wire format: bytes in, messages out; actions out. No I/O.

On connect Asterisk writes one banner line, ``Asterisk Call Manager/9.0.0\\r\\n`` (the
version differs per release), with no blank line after it. Every message after that is a
block of ``Key: value\\r\\n`` lines closed by an empty line. Keys may repeat
(``ChanVariable``, ``Variable``, ``FileName``) and keep their order here. A list action
such as QueueStatus answers with a ``Response: Success`` / ``EventList: start`` message,
then one event per item, then a ``...Complete`` event carrying the same ActionID.

The parser never raises on input: an oversized message is dropped, an error is recorded,
and parsing resumes after the next blank line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

BANNER_PREFIX = "Asterisk Call Manager/"
MAX_MESSAGE_BYTES = 64 * 1024
MAX_FIELDS = 512
MAX_ERRORS_KEPT = 100


@dataclass(frozen=True)
class AmiMessage:
    fields: tuple[tuple[str, str], ...]  # keys case-preserved, in wire order

    def get(self, key: str, default: str | None = None) -> str | None:
        """First value of ``key``, compared case-insensitively."""
        wanted = key.lower()
        for name, value in self.fields:
            if name.lower() == wanted:
                return value
        return default

    def get_all(self, key: str) -> tuple[str, ...]:
        wanted = key.lower()
        return tuple(value for name, value in self.fields if name.lower() == wanted)

    @property
    def kind(self) -> str:
        """``"event"``, ``"response"`` or ``"unknown"``, from the leading header."""
        first = self.fields[0][0].lower() if self.fields else ""
        if first == "event":
            return "event"
        if first == "response":
            return "response"
        if self.get("Event") is not None:
            return "event"
        if self.get("Response") is not None:
            return "response"
        return "unknown"

    @property
    def name(self) -> str | None:
        """The Event name, or the Response status (``Success``, ``Error``, ...)."""
        kind = self.kind
        if kind == "event":
            return self.get("Event")
        if kind == "response":
            return self.get("Response")
        return None

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")


class AmiParser:
    """Incremental parser; feed it whatever the socket returned."""

    def __init__(
        self, max_message_bytes: int = MAX_MESSAGE_BYTES, max_fields: int = MAX_FIELDS
    ) -> None:
        self.banner: str | None = None
        self._max_bytes = max_message_bytes
        self._max_fields = max_fields
        self._buffer = bytearray()
        self._fields: list[tuple[str, str]] = []
        self._size = 0
        self._dropping = False  # skipping to the next blank line after an oversize
        self._line_overflowed = False  # the buffered partial line was discarded
        self._first_line = True
        self._errors: list[str] = []

    @property
    def errors(self) -> tuple[str, ...]:
        """The most recent problems (at most ``MAX_ERRORS_KEPT``), oldest first."""
        return tuple(self._errors)

    def take_errors(self) -> list[str]:
        """Return and forget the recorded problems (for the socket layer to log)."""
        errors, self._errors = self._errors, []
        return errors

    def feed(self, data: bytes) -> list[AmiMessage]:
        self._buffer += data
        messages: list[AmiMessage] = []
        start = 0
        while (end := self._buffer.find(b"\n", start)) >= 0:
            line = bytes(self._buffer[start:end])
            start = end + 1
            overflowed, self._line_overflowed = self._line_overflowed, False
            message = self._line(line, overflowed)
            if message is not None:
                messages.append(message)
        del self._buffer[:start]
        if len(self._buffer) + self._size > self._max_bytes:
            # A line with no end in sight: remember it was not blank, keep no bytes.
            self._oversize()
            self._buffer.clear()
            self._line_overflowed = True
        return messages

    def _line(self, line: bytes, overflowed: bool) -> AmiMessage | None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if self._first_line:
            self._first_line = False
            if not overflowed and line.startswith(BANNER_PREFIX.encode()):
                self.banner = line.decode("utf-8", errors="replace")
                return None
        if not line and not overflowed:
            return self._end_of_message()
        if self._dropping:
            return None
        self._size += len(line) + 2
        if self._size > self._max_bytes or len(self._fields) >= self._max_fields:
            self._oversize()
            return None
        text = line.decode("utf-8", errors="replace")
        key, sep, value = text.partition(":")
        key = key.strip()
        if not sep or not key:
            self._error(f"line without 'Key:' ignored: {text[:60]!r}")
            return None
        self._fields.append((key, value[1:] if value.startswith(" ") else value))
        return None

    def _end_of_message(self) -> AmiMessage | None:
        fields, self._fields, self._size = self._fields, [], 0
        if self._dropping:
            self._dropping = False
            return None
        if not fields:
            return None  # stray blank line
        return AmiMessage(tuple(fields))

    def _oversize(self) -> None:
        if self._dropping:
            return
        head = f"{self._fields[0][0]}: {self._fields[0][1][:40]}" if self._fields else "?"
        self._error(f"message dropped: over {self._max_bytes} bytes or fields ({head})")
        self._fields, self._size = [], 0
        self._dropping = True

    def _error(self, message: str) -> None:
        self._errors.append(message)
        del self._errors[:-MAX_ERRORS_KEPT]


def format_action(name: str, fields: Mapping[str, str], action_id: str) -> bytes:
    """``Action: name``, ``ActionID``, then ``fields`` in order, then the blank line."""
    pairs = [("Action", name), ("ActionID", action_id), *fields.items()]
    lines = []
    for key, value in pairs:
        if not key or ":" in key or key != key.strip():
            raise ValueError(f"invalid AMI header name: {key!r}")
        if any(c in key + value for c in ("\r", "\n", "\x00")):
            raise ValueError(f"AMI header {key!r} contains CR, LF or NUL")
        lines.append(f"{key}: {value}\r\n")
    seen = [key.lower() for key, _ in pairs]
    if seen.count("action") > 1 or seen.count("actionid") > 1:
        raise ValueError("Action and ActionID are set by format_action, not in fields")
    return ("".join(lines) + "\r\n").encode("utf-8")
