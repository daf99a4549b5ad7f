"""`--profile`: where the gateway's CPU goes, sampled with py-spy over the intake ramp.

py-spy (`pip install py-spy`) records raw stacks of the thread holding the GIL (`--gil`):
Python's CPU, not C code that runs with the GIL released (SQLite's own work). Each sample
is put in the layer of its innermost frame. Samples in the event loop's `select()` (the
loop was the GIL's last holder while waiting) are idle and left out of the shares.
SQLAlchemy's async layer runs statements in greenlets, so stacks are cut there: layers
tell more than callers.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

# (layer, substrings of the innermost frame), first match wins.
AGI = ("gateway/asterisk/agi_", "gateway/asterisk/fastagi", "gateway/asterisk/intake")
AMI = ("gateway/asterisk/ami_", "gateway/asterisk/events", "gateway/app.py")
LAYERS = (
    ("idle (event loop waiting in select)", ("selectors.py",)),
    (
        "SQLAlchemy (statement building, compiling, caching, ORM results, sessions)",
        ("sqlalchemy/", "greenlet"),
    ),
    ("aiosqlite and sqlite3 (driver thread hand-offs, SQL execution)", ("aiosqlite/", "sqlite3")),
    ("asyncio (tasks, futures, streams, sockets)", ("asyncio/", "socket.py")),
    ("gateway: FastAGI protocol", AGI),
    ("gateway: AMI client and event mapping", AMI),
    ("gateway: services and repository", ("gateway/services/", "gateway/persistence/")),
    ("phonenumbers (caller number analysis)", ("phonenumbers/", "gateway/callers/")),
    ("logging", ("logging/",)),
)
OTHER = "other"


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("--profile needs py-spy: pip install py-spy")
    return found


class Profiler:
    def __init__(self, pid: int, output: Path, rate_hz: int = 100) -> None:
        self.output = output
        self._process = subprocess.Popen(
            [py_spy(), "record", "--pid", str(pid), "--format", "raw", "--output", str(output),
             "--rate", str(rate_hz), "--nonblocking", "--gil"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                self._process.wait(60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def layer_of(frame: str) -> str:
    for name, needles in LAYERS:
        if any(needle in frame for needle in needles):
            return name
    return OTHER


def layers(raw: Path) -> tuple[int, Counter[str]]:
    """(busy samples, {layer: samples}) from a py-spy raw file, idle samples left out."""
    counts: Counter[str] = Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith("thread ")]
        if frames:
            counts[layer_of(frames[-1])] += int(number)
    idle = LAYERS[0][0]
    busy = sum(n for name, n in counts.items() if name != idle)
    del counts[idle]
    return busy, counts


def markdown_rows(raw: Path) -> list[str]:
    busy, counts = layers(raw)
    if not busy:
        return ["(py-spy recorded no busy samples)"]
    rows = ["| layer (innermost frame) | share of the gateway's busy samples |", "|---|---|"]
    rows += [f"| {name} | {100 * n / busy:.0f} % |" for name, n in counts.most_common()]
    return [*rows, "", f"{busy} busy samples at 100 Hz."]
