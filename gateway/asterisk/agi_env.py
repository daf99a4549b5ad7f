"""Strict parser for the environment block Asterisk sends when a FastAGI session opens.

Wire format (Asterisk 22, ``res/res_agi.c``: ``launch_netscript`` then ``setup_env``)::

    agi_network: yes
    agi_network_script: intake          <- only when the AGI URL has a path
    agi_request: agi://127.0.0.1:4573/intake
    agi_channel / agi_language / agi_type / agi_uniqueid / agi_version
    agi_callerid / agi_calleridname / agi_callingpres / agi_callingani2
    agi_callington / agi_callingtns / agi_dnid / agi_rdnis
    agi_context / agi_extension / agi_priority / agi_enhanced
    agi_accountcode / agi_threadid
    agi_arg_1 ... agi_arg_N
    <blank line>

Each value is written with ``"%s\\n"`` and no escaping, so a caller who controls a field can
put a newline in it and the rest of that value arrives as extra lines: a caller name of
``"x\\nagi_uniqueid: 999"`` yields a second, forged ``agi_uniqueid`` line.

Trust model
-----------
* The *head* (``TRUSTED_KEYS``: network, network_script, request, channel, language, type,
  uniqueid, version) is written before any caller-controlled field, so its first occurrence
  is Asterisk's own. The gateway may trust it, provided the dialplan never interpolates
  caller data into the AGI URL.
* ``CALLER_CONTROLLED_KEYS`` (callerid, calleridname, dnid, rdnis) are raw input from the
  network: display only after validation (see ``gateway.callers.numbers``).
* Every field after the first caller-controlled one (context, extension, priority,
  accountcode, threadid and the ``agi_arg_N`` arguments) can be forged by a caller who
  injects the exact next expected line; such a forgery makes the genuine line a duplicate,
  so ``tampered`` becomes true. Never pass caller data as AGI arguments.
* A caller who injects a *blank* line ends the environment early; the genuine remainder is
  then read where a command response is expected. That is why the gateway fetches what it
  needs beyond the head (trunk endpoint, linkedid) with ``GET FULL VARIABLE`` round trips:
  the strict response parser in ``agi_protocol`` rejects a stray ``agi_...`` line and so
  detects the desynchronised stream. A caller may also forge the rest of the environment
  and a response line after the blank line; the first round trip should therefore echo a
  random token (see ``agi_protocol``), and an environment that is not ``complete`` or is
  ``tampered`` should be used for its head only.

Parsing rules: only the canonical keys are accepted, in canonical order; the first
occurrence wins; duplicates, out-of-order, unknown and malformed lines are recorded in
``anomalies`` and ignored. A duplicate always marks the environment ``tampered``; the
others do when they appear after a caller-controlled field. Lines are capped
(``MAX_LINE_BYTES``, ``MAX_LINES``, ``MAX_VALUE_CHARS``); control characters are stripped
and flagged; undecodable bytes are replaced. Anomaly texts name keys and line numbers,
never values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

MAX_LINE_BYTES = 1024
MAX_LINES = 64
MAX_VALUE_CHARS = 512

HEAD_KEYS: tuple[str, ...] = (
    "agi_network",
    "agi_network_script",
    "agi_request",
    "agi_channel",
    "agi_language",
    "agi_type",
    "agi_uniqueid",
    "agi_version",
)
TAIL_KEYS: tuple[str, ...] = (
    "agi_callerid",
    "agi_calleridname",
    "agi_callingpres",
    "agi_callingani2",
    "agi_callington",
    "agi_callingtns",
    "agi_dnid",
    "agi_rdnis",
    "agi_context",
    "agi_extension",
    "agi_priority",
    "agi_enhanced",
    "agi_accountcode",
    "agi_threadid",
)
CANONICAL_KEYS: tuple[str, ...] = HEAD_KEYS + TAIL_KEYS
TRUSTED_KEYS: frozenset[str] = frozenset(HEAD_KEYS)
CALLER_CONTROLLED_KEYS: frozenset[str] = frozenset(
    {"agi_callerid", "agi_calleridname", "agi_dnid", "agi_rdnis"}
)
# agi_network_script is only sent when the AGI URL has a path.
OPTIONAL_KEYS: frozenset[str] = frozenset({"agi_network_script"})

_INDEX = {key: i for i, key in enumerate(CANONICAL_KEYS)}
_ARG_PREFIX = "agi_arg_"
_STRIPPED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
_AGI_KEY = re.compile(r"agi_[a-z0-9_]{1,32}")


class AgiEnvironmentError(Exception):
    """The environment cannot be read at all (too many lines, or fed after its end)."""


@dataclass(frozen=True)
class AgiEnvironment:
    """An accepted environment: ``fields`` in arrival order, first occurrence only."""

    fields: tuple[tuple[str, str], ...]
    args: tuple[str, ...]
    anomalies: tuple[str, ...]
    tampered: bool
    complete: bool  # ended by the blank line, with every required key present

    def get(self, key: str) -> str | None:
        for name, value in self.fields:
            if name == key:
                return value
        return None

    @property
    def request(self) -> str | None:
        return self.get("agi_request")

    @property
    def network_script(self) -> str | None:
        """Route key: the path of the AGI URL without its query, e.g. ``"intake"``."""
        script = self.get("agi_network_script")
        if script is None:
            script = _script_from_request(self.request)
        if script is None:
            return None
        return script.split("?", 1)[0]

    @property
    def channel(self) -> str | None:
        return self.get("agi_channel")

    @property
    def uniqueid(self) -> str | None:
        return self.get("agi_uniqueid")

    @property
    def callerid(self) -> str | None:
        """Raw caller number; Asterisk sends ``"unknown"`` when there is none."""
        return self.get("agi_callerid")

    @property
    def calleridname(self) -> str | None:
        return self.get("agi_calleridname")


class AgiEnvironmentReader:
    """Incremental reader: feed one line at a time (with or without its ``\\n``)."""

    def __init__(self) -> None:
        self._fields: list[tuple[str, str]] = []
        self._args: list[str] = []
        self._seen: set[str] = set()
        self._anomalies: list[str] = []
        self._next = 0  # canonical index of the next expected key
        self._after_caller_field = False
        self._tampered = False
        self._lines = 0
        self._ended = False

    @property
    def done(self) -> bool:
        return self._ended

    def feed_line(self, line: bytes) -> bool:
        """Consume one line; return True once the terminating blank line has been read."""
        if self._ended:
            raise AgiEnvironmentError("environment already ended with its blank line")
        self._lines += 1
        if self._lines > MAX_LINES:
            raise AgiEnvironmentError(f"environment longer than {MAX_LINES} lines")
        n = self._lines
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
            self._note(n, "carriage return stripped")
        if not line:
            self._ended = True
            return True
        if len(line) > MAX_LINE_BYTES:
            line = line[:MAX_LINE_BYTES]
            self._note(n, f"line longer than {MAX_LINE_BYTES} bytes truncated")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("utf-8", errors="replace")
            self._note(n, "undecodable bytes replaced")
        self._take(n, text)
        return False

    def result(self) -> AgiEnvironment:
        """The environment read so far (complete or not); may be called at any time."""
        anomalies = list(self._anomalies)
        if not self._ended:
            anomalies.append("environment ended without its terminating blank line")
        missing = [k for k in CANONICAL_KEYS if k not in self._seen and k not in OPTIONAL_KEYS]
        if missing:
            anomalies.append("missing keys: " + ", ".join(missing))
        values = dict(self._fields)
        script = values.get("agi_network_script")
        from_request = _script_from_request(values.get("agi_request"))
        if script is not None and from_request is not None and script != from_request:
            anomalies.append("agi_network_script does not match agi_request")
        return AgiEnvironment(
            fields=tuple(self._fields),
            args=tuple(self._args),
            anomalies=tuple(anomalies),
            tampered=self._tampered,
            complete=self._ended and not missing,
        )

    def _take(self, n: int, text: str) -> None:
        if ": " in text:
            key, value = text.split(": ", 1)
        elif text.endswith(":"):  # "agi_accountcode:" once trailing blanks were trimmed
            key, value = text[:-1], ""
        else:
            self._suspect(n, "line without ': ' ignored")
            return
        index = _canonical_index(key)
        if index is None:
            self._suspect(n, f"unknown key {_shown(key)} ignored")
            return
        if key in self._seen:
            self._tampered = True
            self._note(n, f"duplicate {key} ignored (first occurrence kept)")
            return
        if index != self._next and not self._may_skip_to(index):
            self._suspect(n, f"{key} out of canonical order ignored")
            return
        skipped = [
            CANONICAL_KEYS[i]
            for i in range(self._next, min(index, len(CANONICAL_KEYS)))
            if not _is_optional(i)
        ]
        if skipped:
            self._note(n, f"{key} arrived before " + ", ".join(skipped))
        value = self._clean(n, key, value)
        self._seen.add(key)
        self._next = index + 1
        if key.startswith(_ARG_PREFIX):
            self._args.append(value)
        self._fields.append((key, value))
        if key in CALLER_CONTROLLED_KEYS:
            self._after_caller_field = True

    def _may_skip_to(self, index: int) -> bool:
        if index < self._next:
            return False
        if index >= len(CANONICAL_KEYS) and index - len(CANONICAL_KEYS) != len(self._args):
            return False  # arguments must stay consecutive, or their positions shift
        if not self._after_caller_field:
            # No caller data has been written yet, so a gap is Asterisk's, not a forgery.
            return True
        return all(_is_optional(i) for i in range(self._next, index))

    def _clean(self, n: int, key: str, value: str) -> str:
        if value.isprintable():  # the usual case, checked in C
            kept = value
        else:
            kept = "".join(c for c in value if unicodedata.category(c) not in _STRIPPED_CATEGORIES)
        if kept != value:
            self._note(n, f"control characters stripped from {key}")
        if len(kept) > MAX_VALUE_CHARS:
            kept = kept[:MAX_VALUE_CHARS]
            self._note(n, f"{key} longer than {MAX_VALUE_CHARS} characters truncated")
        return kept

    def _suspect(self, n: int, message: str) -> None:
        if self._after_caller_field:
            self._tampered = True
            message += " after a caller-controlled field"
        self._note(n, message)

    def _note(self, n: int, message: str) -> None:
        self._anomalies.append(f"line {n}: {message}")


def parse_agi_environment(lines: Iterable[bytes]) -> AgiEnvironment:
    """Read lines up to and including the blank line; later lines are left unconsumed."""
    reader = AgiEnvironmentReader()
    for line in lines:
        if reader.feed_line(line):
            break
    return reader.result()


def _canonical_index(key: str) -> int | None:
    if key in _INDEX:
        return _INDEX[key]
    if key.startswith(_ARG_PREFIX):
        number = key[len(_ARG_PREFIX) :]
        if number.isascii() and number.isdigit() and not number.startswith("0"):
            return len(CANONICAL_KEYS) + int(number) - 1
    return None


def _is_optional(index: int) -> bool:
    return index < len(CANONICAL_KEYS) and CANONICAL_KEYS[index] in OPTIONAL_KEYS


def _script_from_request(request: str | None) -> str | None:
    """``agi://host[:port]/path?query`` -> ``path?query``, as Asterisk derives it."""
    if request is None or "://" not in request:
        return None
    rest = request.split("://", 1)[1]
    if "/" not in rest:
        return None
    return rest.split("/", 1)[1] or None


def _shown(key: str) -> str:
    """Name a key only if it looks like Asterisk's own (a new Asterisk field, say)."""
    return repr(key) if _AGI_KEY.fullmatch(key) else "(not an agi_ key)"
