"""`line19 asterisk up --write-gateway-config PATH`: the gateway's TOML config for a sandbox.

The sandbox owns the keys that say how to reach it (`OWNED`): they are rewritten on every
`up`. Every other line of an existing file is kept as it was, comments included, and
`database_url` is written only when the file has none. Keys are `gateway.settings.Settings`
field names; the file is 0600 (it holds the AMI secret).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from gateway.asterisk.sandbox_config import SandboxError, SandboxParams, SandboxSecrets
from gateway.asterisk.sandbox_host import write_private

OWNED = (
    "agi_host",
    "agi_port",
    "ami_port",
    "ami_user",
    "ami_secret",
    "queue_log_path",
    "ivr_durations_path",
)
# Relative to the folder the gateway runs in (the repository for `make run`).
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/line19.db"
HEADER = (
    "# Written by `line19 asterisk up --write-gateway-config`: on each `up` it rewrites the",
    "# AGI, AMI, queue_log and IVR prompt keys below (and adds database_url if missing); other",
    "# lines stay.",
)
# Header lines of earlier versions, replaced by HEADER.
_OLD_HEADER = (
    "# AGI, AMI and queue_log keys below (and adds database_url if missing); other lines stay.",
)
_TABLE = re.compile(r"\s*\[")
_KEY = re.compile(r"""\s*["']?([A-Za-z0-9_-]+)["']?\s*=""")

Value = str | int


def gateway_config_values(
    params: SandboxParams, secrets: SandboxSecrets, queue_log: Path, ivr_durations: Path
) -> dict[str, Value]:
    """What the gateway needs to reach this sandbox and to time the prompts installed in
    it, plus the default database."""
    return {
        "agi_host": params.agi_host,
        "agi_port": params.agi_port,
        "ami_port": params.ami_port,
        "ami_user": params.ami_user,
        "ami_secret": secrets.ami_secret,
        "queue_log_path": str(queue_log),
        "ivr_durations_path": str(ivr_durations),
        "database_url": DEFAULT_DATABASE_URL,
    }


def toml_value(value: Value) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"unsupported value {value!r}")
    if isinstance(value, int):
        return str(value)
    escaped = (c if c >= " " and c not in '"\\\x7f' else f"\\u{ord(c):04x}" for c in value)
    return '"' + "".join(escaped) + '"'


def merge_gateway_config(existing: str, values: Mapping[str, Value], source: str = "") -> str:
    """The new file text: our keys first, then the existing lines minus the ones we replace.

    Keys not in `OWNED` (i.e. `database_url`) are only added when the file lacks them.
    """
    try:
        current = tomllib.loads(existing)
    except tomllib.TOMLDecodeError as exc:
        raise SandboxError(f"{source}: not valid TOML ({exc}); fix or remove it") from None
    ours = {k: v for k, v in values.items() if k in OWNED or k not in current}
    kept: list[str] = []
    top_level = True
    for line in existing.splitlines():
        top_level = top_level and not _TABLE.match(line)
        key = _KEY.match(line)
        ours_line = line in HEADER or line in _OLD_HEADER or (key is not None and key[1] in ours)
        if top_level and ours_line:
            continue
        kept.append(line)
    while kept and not kept[0].strip():
        kept.pop(0)
    lines = [*HEADER, *(f"{k} = {toml_value(v)}" for k, v in ours.items())]
    text = "\n".join([*lines, *([""] if kept else []), *kept]) + "\n"
    if tomllib.loads(text) != {**current, **ours}:
        raise SandboxError(
            f"{source}: cannot replace {', '.join(sorted(ours))} line by line (a multi-line "
            "value?); remove those keys from the file and run up again"
        )
    return text


def write_gateway_config(path: Path, values: Mapping[str, Value]) -> None:
    """Write (or update) the gateway's config file, 0600, creating its folder."""
    existing = path.read_text() if path.exists() else ""
    text = merge_gateway_config(existing, values, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, text)
