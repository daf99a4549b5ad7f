"""What the benchmark reads from /proc and the tools: CPU time, memory, machine facts."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of stat(5)


def status_kib(pid: int, key: str) -> int:
    """A `kB` line of /proc/PID/status (VmHWM, VmRSS …)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def box_busy_seconds() -> float:
    """CPU seconds spent on the whole box, all cores, not idle or iowait."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICKS


def children_cpu_seconds() -> float:
    """CPU time of our waited-for children (the sipp processes)."""
    usage = os.times()
    return usage.children_user + usage.children_system


@dataclass
class CpuMeter:
    """Deltas of CPU seconds between `start()` and `read()` for the pieces of one step."""

    asterisk_pid: int
    gateway_pid: int | None = None

    def start(self) -> None:
        self._base = self._now()

    def _now(self) -> tuple[float, ...]:
        gateway = cpu_seconds(self.gateway_pid) if self.gateway_pid else 0.0
        return (
            time.monotonic(),
            cpu_seconds(self.asterisk_pid),
            gateway,
            children_cpu_seconds(),
            box_busy_seconds(),
        )

    def read(self) -> tuple[float, ...]:
        """(wall, asterisk, gateway, sipp, whole box) seconds since start()."""
        return tuple(now - base for now, base in zip(self._now(), self._base, strict=True))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def sipp_version() -> str:
    output = subprocess.run(["sipp", "-v"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"SIPp v?(\S+)", output)
    return match.group(1).rstrip(".") if match else "unknown"


def asterisk_version(core_show_version: str) -> str:
    match = re.search(r"Asterisk (\S+)", core_show_version)
    return match.group(1) if match else core_show_version.strip()


def count_warnings(log: Path, offset: int) -> tuple[int, int, list[str]]:
    """WARNING/ERROR lines of an Asterisk log after `offset`: (new offset, count, samples)."""
    try:
        with log.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except OSError:
        return offset, 0, []
    lines = [
        line
        for line in data.decode("utf-8", errors="replace").splitlines()
        if "WARNING[" in line or "ERROR[" in line
    ]
    return offset + len(data), len(lines), lines[:3]


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


MEASURED_CODE = ("gateway", "dispatch_core", "asterisk_configs")


def code_fingerprint(repo: Path) -> str:
    """A digest of the code the gateway and Asterisk run: to notice a change mid-run."""
    digest = hashlib.sha256()
    for top in MEASURED_CODE:
        for path in sorted((repo / top).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".conf"):
                digest.update(str(path.relative_to(repo)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def git_revision(repo: Path) -> str:
    """The commit measured, and the uncommitted files that change what runs (if any)."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
        return result.stdout.rstrip()

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = git("status", "--porcelain", "--", *MEASURED_CODE)
    files = [line[3:] for line in changed.splitlines() if line.endswith((".py", ".conf"))]
    return f"{commit} with uncommitted changes to {', '.join(files)}" if files else commit
