"""Real components for the end-to-end tier: the Asterisk sandbox, sipp peers, the gateway.

Nothing here is a stand-in: Asterisk 22 runs in its Debian-unstable sandbox, callers and
operators are sipp processes on their own loopback addresses, and the gateway is the
`line19 serve` process, started and stopped (or killed) like in production.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SIPP_DIR = REPO / "tests" / "sipp"
ASTERISK = "127.0.0.1"

# The carriers' trunks and the operators' static contacts (asterisk_configs/pjsip.conf).
TRUNKS = {"maroc-telecom": "127.0.0.2", "orange": "127.0.0.3", "inwi": "127.0.0.4"}
TWILIO = "127.0.0.5"  # pjsip.conf: Twilio's SIP hand-off in the sandbox
OPERATORS = {
    "op-rabat-1": "127.0.0.21",
    "op-rabat-2": "127.0.0.22",
    "op-rabat-3": "127.0.0.23",
    "op-sale-1": "127.0.0.24",
    "op-sale-2": "127.0.0.25",
}
UNIDENTIFIED = "127.0.0.9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, timeout: float, interval: float = 0.2, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


@dataclass
class Gateway:
    """A `line19 serve` process with its own database and ports."""

    database_url: str
    agi_port: int
    ami_port: int
    ami_secret: str
    queue_log: Path
    log_path: Path
    ivr: bool = False
    ivr_durations: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LINE19_DATABASE_URL": self.database_url,
            "LINE19_HTTP_PORT": str(self.http_port),
            "LINE19_AGI_PORT": str(self.agi_port),
            "LINE19_AMI_PORT": str(self.ami_port),
            "LINE19_AMI_SECRET": self.ami_secret,
            "LINE19_QUEUE_LOG_PATH": str(self.queue_log),
            "LINE19_QUEUE_LOG_POLL_S": "0.2",
            "LINE19_IVR_ENABLED": "true" if self.ivr else "false",
            **(
                {"LINE19_IVR_DURATIONS_PATH": str(self.ivr_durations)} if self.ivr_durations else {}
            ),
            **self.extra_env,
        }

    def start(self, wait_ami: bool = True) -> None:
        assert self.process is None or self.process.poll() is not None
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve"],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        log.close()
        wait_for(lambda: self._healthy(wait_ami), 30, what="the gateway to be healthy")

    def _healthy(self, wait_ami: bool) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"gateway exited: {self.log_path.read_text()[-3000:]}")
        try:
            health = self.get("/healthz")
        except OSError:
            return False
        return bool(health.get("database")) and (health.get("ami") is True or not wait_ami)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def get(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            return json.load(exc)

    def calls(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = self.get(f"/api/v1/calls?limit=200{cursor}")
            items += page["items"]
            if not page["next_cursor"]:
                return items
            cursor = f"&cursor={page['next_cursor']}"

    def call_from(self, e164: str) -> list[dict[str, Any]]:
        found = [c for c in self.calls() if c["caller"]["e164"] == e164]
        return [self.get(f"/api/v1/calls/{c['id']}") for c in found]


@dataclass
class Sipp:
    process: subprocess.Popen[bytes]
    log_dir: Path
    name: str

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def errors(self) -> str:
        text = []
        for path in self.log_dir.glob(f"{self.name}*"):
            with contextlib.suppress(OSError):
                text.append(f"== {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(text)


def sipp(scenario: str, args: list[str], log_dir: Path, name: str) -> Sipp:
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [
        "sipp",
        "-sf",
        str(SIPP_DIR / scenario),
        *args,
        "-nostdin",
        "-trace_err",
        "-error_file",
        str(log_dir / f"{name}_errors.log"),
        "-trace_msg",
        "-message_file",
        str(log_dir / f"{name}_messages.log"),
    ]
    out = (log_dir / f"{name}_stdout.log").open("wb")
    process = subprocess.Popen(
        command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    out.close()
    return Sipp(process, log_dir, name)


def operator(
    name: str, hold_ms: int, log_dir: Path, log_name: str | None = None, ring_ms: int = 200
) -> Sipp:
    scenario = "operator.xml"
    if ring_ms != 200:  # a softphone that rings longer before the operator picks up
        text = (SIPP_DIR / scenario).read_text()
        patched = text.replace('<pause milliseconds="200"/>', f'<pause milliseconds="{ring_ms}"/>')
        assert patched != text, "operator.xml has no 200 ms ring to change"
        scenario = str(log_dir / f"operator-ring{ring_ms}.xml")
        Path(scenario).write_text(patched)
    return sipp(
        scenario,
        ["-i", OPERATORS[name], "-p", "5060", "-d", str(hold_ms), "-aa", ASTERISK],
        log_dir,
        log_name or name,
    )


def _caller_args(source_ip: str, number: str, talk_ms: int, caller_name: str) -> list[str]:
    """sipp options of one call to 19 from a carrier's address, with its caller id."""
    return [
        "-i", source_ip, "-p", str(free_udp_port(source_ip)), "-s", "19", "-m", "1",
        "-d", str(talk_ms), "-key", "cid_num", number, "-key", "cid_name", caller_name,
        "-timeout", "120s", f"{ASTERISK}:5060",
    ]  # fmt: skip


def caller(
    source_ip: str, number: str, talk_ms: int, log_dir: Path, name: str,
    caller_name: str = "Line19 Test",
) -> Sipp:  # fmt: skip
    """A caller that never presses a key (and sends no media)."""
    return sipp("caller.xml", _caller_args(source_ip, number, talk_ms, caller_name), log_dir, name)


def caller_with(
    source_ip: str, number: str, talk_ms: int, log_dir: Path, name: str, *,
    headers: Sequence[str] = (), body: tuple[str, str] | None = None,
) -> Sipp:  # fmt: skip
    """A caller whose INVITE carries extra header lines and, with `body` = (content type,
    text), another body instead of the plain SDP (a multipart body must hold the SDP too)."""
    scenario = (SIPP_DIR / "caller.xml").read_text()
    extra = "".join(f"      {line}\n" for line in headers)
    scenario = scenario.replace("      Max-Forwards: 70\n", "      Max-Forwards: 70\n" + extra, 1)
    if body is not None:
        content_type, text = body
        start = scenario.index("      Content-Type: application/sdp")
        end = scenario.index("    ]]>", start)
        invite_tail = f"      Content-Type: {content_type}\n      Content-Length: [len]\n\n{text}\n"
        scenario = scenario[:start] + invite_tail + scenario[end:]
    path = log_dir / f"{name}.xml"
    path.write_text(scenario)
    return sipp(str(path), _caller_args(source_ip, number, talk_ms, "Line19 Test"), log_dir, name)


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def dtmf_caller(
    source_ip: str, number: str, keys: list[tuple[float, str]], talk_ms: int, log_dir: Path,
    name: str,
) -> Sipp:  # fmt: skip
    """A caller that sends real RFC 2833 DTMF: `keys` are (seconds after the answer, digit)."""
    pcap = log_dir / f"{name}.pcap"
    schedule = [f"{at}:{digit}" for at, digit in keys]
    duration = str(talk_ms / 1000 + 5)
    subprocess.run(
        [sys.executable, str(SIPP_DIR / "dtmf_pcap.py"), str(pcap), *schedule, "--duration",
         duration], check=True, capture_output=True,
    )  # fmt: skip
    args = ["-key", "pcap_file", str(pcap),
            *_caller_args(source_ip, number, talk_ms, "Line19 DTMF")]  # fmt: skip
    return sipp("caller_dtmf.xml", args, log_dir, name)


def wait_operators_reachable(sandbox: Any, names: list[str]) -> None:
    def reachable() -> bool:
        contacts = sandbox.rx("pjsip show contacts")
        return all(
            any(name in line and "Avail" in line for line in contacts.splitlines())
            for name in names
        )

    try:
        wait_for(reachable, 30, 0.5, "the operators' contacts to be reachable")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{sandbox.rx('pjsip show contacts')}") from None


# --- accounts and the JSON API of a running gateway

PASSWORD = "Rabat-2026-shift"


def add_user(
    gateway: Gateway, username: str, endpoint: str | None, role: str = "operator",
    room: str = "rabat",
) -> None:  # fmt: skip
    """`line19 users add` on the gateway's database (no endpoint: no softphone)."""
    where = ["--endpoint", endpoint, "--room", room] if endpoint else []
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "users", "add", username, "--role", role,
         *where, "--password-stdin", "--database-url", gateway.database_url],
        input=PASSWORD + "\n", capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def call_api(
    gateway: Gateway, method: str, path: str, token: str | None = None,
    body: Any = None, data: bytes | None = None, headers: dict[str, str] | None = None,
) -> tuple[int, Any]:  # fmt: skip
    """(status, JSON body or None) of one request; `token` is a session token (Bearer)."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent.setdefault("Authorization", f"Bearer {token}")
    payload = data if data is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(gateway.base_url + path, payload, sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def sign_in(gateway: Gateway, username: str, password: str = PASSWORD) -> tuple[int, Any]:
    """(200, session token) or (status, the error body)."""
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        gateway.base_url + "/api/v1/login", body, {"Content-Type": "application/json"},
        method="POST",
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            cookie = response.headers["Set-Cookie"]
            return response.status, cookie.split("=", 1)[1].split(";", 1)[0]
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)
