"""AGI commands out, AGI responses in: formatting and strict parsing, no I/O.

Responses (``res/res_agi.c``), one line each unless noted::

    200 result=1 (value)            GET VARIABLE / GET FULL VARIABLE: variable set
    200 result=0                    ... variable unset
    200 result=-1                   command failed (usually: channel hung up)
    200 result=0 endpos=8640        trailing key=value text is kept in ``text``
    100 result=0 Trying...          interim line of GOSUB; the final 200 follows
    503 result=-2 Memory allocation failure
    510 Invalid or unknown command
    511 Command Not Permitted on a dead channel or intercept routine
    520 Invalid command syntax.  Proper usage not available.
    520-Invalid command syntax.  Proper usage follows:     <- then free text lines ...
    ...520 End of proper usage.     <- may be glued to the last usage line (no newline)
    HANGUP                          FastAGI, when the channel hangs up and AGISIGHUP is
                                    not "no"; it arrives unsolicited, before a response

Anything else where a response is expected (typically an ``agi_...: ...`` line left over
from an environment cut short by an injected blank line) raises ``AgiProtocolError``: the
stream is desynchronised and the session must be abandoned (the dialplan then queues the
call on its fail-open path).

A caller who can inject a blank line can also inject well-formed response lines after it,
which would answer the gateway's first commands. The first round trip should therefore
echo a fresh random token, e.g. ``GET FULL VARIABLE "l19-5f0c9e..."`` (no ``${}``, so
Asterisk returns the literal), and the session continue only if ``value`` equals it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Asterisk reads a command with fgets() into a 2048-byte buffer: a longer line is split
# and its tail executed as a second command. Stay below that, newline included.
MAX_COMMAND_BYTES = 2047
USAGE_END = "520 End of proper usage."

_KNOWN_CODES = frozenset({100, 200, 503, 510, 511, 520})
_RESULT_CODES = frozenset({100, 200, 503})
_LINE = re.compile(r"(\d{3})([ -])(.*)", re.DOTALL)
_RESULT = re.compile(r"result=([-0-9*#A-Da-d]*)(.*)", re.DOTALL)
_COMMAND_NAME = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_FORBIDDEN = ("\r", "\n", "\x00")


class AgiProtocolError(Exception):
    """A line that is not a valid AGI response: the stream cannot be trusted any more."""


@dataclass(frozen=True)
class AgiResponse:
    code: int  # 0 for the HANGUP notice, otherwise the three-digit code
    result: str  # the result= token ("" when absent)
    data: str | None  # the parenthesised part, without its parentheses
    text: str = ""  # what follows: "endpos=8640", or the error message of 510/511/520
    hangup: bool = False
    usage_follows: bool = False  # a 520 whose usage text continues on the next lines

    @property
    def ok(self) -> bool:
        """The command ran; a negative result (``-1``, ``-2``) means it failed."""
        return self.code == 200 and not self.result.startswith("-")

    @property
    def value(self) -> str | None:
        """The value of GET VARIABLE / GET FULL VARIABLE.

        GET VARIABLE answers ``result=0`` (None here) for an unset variable; GET FULL
        VARIABLE always answers ``result=1`` on the calling channel, with ``()`` ("")
        when the expression expands to nothing.
        """
        if self.code == 200 and self.result == "1":
            return self.data
        return None

    @property
    def dead(self) -> bool:
        """The channel is gone: HANGUP notice or 511."""
        return self.hangup or self.code == 511


HANGUP = AgiResponse(code=0, result="", data=None, text="HANGUP", hangup=True)


def format_command(name: str, *args: str) -> bytes:
    """``format_command("GET FULL VARIABLE", "${CHANNEL(endpoint)}")`` -> quoted line."""
    if not _COMMAND_NAME.fullmatch(name):
        raise ValueError(f"invalid AGI command name: {name!r}")
    parts = [name]
    for arg in args:
        if any(c in arg for c in _FORBIDDEN):
            raise ValueError("AGI argument contains CR, LF or NUL")
        parts.append('"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"')
    line = (" ".join(parts) + "\n").encode("utf-8")
    if len(line) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command longer than {MAX_COMMAND_BYTES} bytes")
    return line


def parse_response(line: bytes) -> AgiResponse:
    """Parse one response line (with or without its trailing newline)."""
    text = _decode(line)
    if text == "HANGUP":
        return HANGUP
    match = _LINE.fullmatch(text)
    if match is None:
        raise AgiProtocolError(f"not an AGI response line: {_preview(text)}")
    code, separator, rest = int(match[1]), match[2], match[3]
    if code not in _KNOWN_CODES:
        raise AgiProtocolError(f"unknown AGI response code {code}: {_preview(text)}")
    if separator == "-" and code != 520:
        raise AgiProtocolError(f"continuation line with code {code}: {_preview(text)}")
    if code not in _RESULT_CODES:
        follows = code == 520 and (separator == "-" or "usage follows" in rest)
        return AgiResponse(code=code, result="", data=None, text=rest, usage_follows=follows)
    result = _RESULT.fullmatch(rest)
    if result is None:
        raise AgiProtocolError(f"AGI {code} response without result=: {_preview(text)}")
    data, trailing = _split_data(result[2], text)
    return AgiResponse(code=code, result=result[1], data=data, text=trailing)


def is_usage_end(line: bytes) -> bool:
    """True for the line closing a ``520-`` usage block (possibly glued to usage text)."""
    return _decode(line).endswith(USAGE_END)


def _split_data(rest: str, whole: str) -> tuple[str | None, str]:
    if rest == "":
        return None, ""
    if rest.startswith(" ("):
        # GET VARIABLE writes "(%s)" with the raw value, which may itself hold ")":
        # the data runs to the last ")" on the line.
        close = rest.rfind(")")
        if close < 2:
            raise AgiProtocolError(f"unterminated (data) in AGI response: {_preview(whole)}")
        after = rest[close + 1 :]
        if after and not after.startswith(" "):
            raise AgiProtocolError(f"text glued to (data) in AGI response: {_preview(whole)}")
        return rest[2:close], after.strip()
    if rest.startswith(" "):
        return None, rest[1:]
    raise AgiProtocolError(f"malformed result in AGI response: {_preview(whole)}")


def _decode(line: bytes) -> str:
    if line.endswith(b"\n"):
        line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("utf-8", errors="replace")


def _preview(text: str) -> str:
    return repr(text[:60] + ("…" if len(text) > 60 else ""))
