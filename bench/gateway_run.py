"""The real gateway for the intake steps: `line19 serve` with its own SQLite file database.

Configured as in production (AMI with the sandbox's secret, queue_log followed at the
default poll interval, INFO logging), only its ports point at the bench sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class GatewayProcess:
    work_dir: Path
    agi_port: int
    ami_port: int
    ami_user: str
    ami_secret: str
    queue_log: Path
    process: subprocess.Popen[bytes] | None = None
    # More LINE19_ settings (e.g. LINE19_IVR_ENABLED), applied over the ones above.
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http_port = free_tcp_port()
        self.database = self.work_dir / "gateway.db"
        self.log_path = self.work_dir / "gateway.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout_s: float = 60.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LINE19_")}
        env.update(
            LINE19_DATABASE_URL=f"sqlite+aiosqlite:///{self.database}",
            LINE19_HTTP_PORT=str(self.http_port),
            LINE19_AGI_PORT=str(self.agi_port),
            LINE19_AMI_PORT=str(self.ami_port),
            LINE19_AMI_USER=self.ami_user,
            LINE19_AMI_SECRET=self.ami_secret,
            LINE19_QUEUE_LOG_PATH=str(self.queue_log),
        )
        env.update(self.extra_env)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "serve"],
                env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while not self._healthy():
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited: see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gateway was not healthy within {timeout_s:.0f} s")
            time.sleep(0.2)

    def _healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.http_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                health = json.load(response)
        except (OSError, urllib.error.URLError, ValueError):
            return False
        return bool(health.get("database")) and health.get("ami") is True

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    # -- what the gateway recorded -------------------------------------------------------
    def _query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        if not self.database.exists():
            return []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10) as db:
            return list(db.execute(sql, args))

    def count_calls(self) -> int:
        rows = self._query("SELECT count(*) FROM calls")
        return int(str(rows[0][0])) if rows else 0

    def outcomes(self, first_number: str, end_number: str) -> Counter[str]:
        """Intake outcomes (completed, failed_open …) of the calls from a range of numbers."""
        rows = self._query(
            "SELECT intake, count(*) FROM calls WHERE caller_raw >= ? AND caller_raw < ? "
            "GROUP BY intake",
            (first_number, end_number),
        )
        return Counter({str(intake): int(str(n)) for intake, n in rows})

    def incidents_for(self, first_number: str, end_number: str) -> int:
        rows = self._query(
            "SELECT count(*) FROM incidents JOIN calls ON calls.id = incidents.call_id "
            "WHERE calls.caller_raw >= ? AND calls.caller_raw < ?",
            (first_number, end_number),
        )
        return int(str(rows[0][0])) if rows else 0

    def settle(self, expected_total: int, timeout_s: float = 30.0) -> int:
        """Wait until the database holds expected_total calls (or stops growing)."""
        deadline = time.monotonic() + timeout_s
        last, still_since = -1, time.monotonic()
        while True:
            count = self.count_calls()
            if count >= expected_total:
                return count
            if count != last:
                last, still_since = count, time.monotonic()
            elif time.monotonic() - still_since > 5.0 or time.monotonic() > deadline:
                return count
            time.sleep(0.25)
