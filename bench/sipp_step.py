"""One load step: sipp callers from the three carrier addresses at a total call rate.

Each carrier address (asterisk_configs/pjsip.conf identifies trunks by source address) gets
its own sipp process running `bench/sipp/bench_caller.xml` at a third of the rate. Every
call presents its own caller number (an injection file, one line per call). What a step
yields comes from sipp's own files: the final line of `-trace_stat` (counters) and
`-trace_rtt` (every response time, in ms).
"""

from __future__ import annotations

import contextlib
import csv
import math
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent / "sipp" / "bench_caller.xml"
CARRIER_ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")  # maroc-telecom, orange, inwi
# A step fails when more than this share of its calls had the INVITE retransmitted (no
# answer at all within sipp's 500 ms T1, on loopback): a retransmission storm.
RETRANS_STORM_SHARE = 0.01
RECV_TIMEOUT_MS = 20_000


def caller_number(index: int) -> str:
    """A valid Moroccan mobile number per call: 0660000000, 0660000001, …"""
    return f"066{index:07d}"


def percentile(values: list[int], share: float) -> int | None:
    """Nearest-rank percentile (share in 0..1) of values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class StepResult:
    rate: int
    planned: int
    first_number: int  # the callers of this step are caller_number(first_number + i)
    created: int = 0
    successful: int = 0
    failed: int = 0
    retransmissions: int = 0
    unexpected: int = 0  # unexpected, out-of-call and dead-call messages
    sipp_watchdog: int = 0  # sipp's own scheduler fell behind (major + minor)
    achieved_rate: float = 0.0
    wall_s: float = 0.0
    answer_ms: list[int] = field(default_factory=list, repr=False)
    hangup_ms: list[int] = field(default_factory=list, repr=False)
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def judge(self) -> None:
        if self.failed or self.successful < self.planned:
            self.problems.append(f"{self.failed} failed, {self.successful}/{self.planned} ok")
        if self.unexpected:
            self.problems.append(f"{self.unexpected} unexpected messages")
        if self.retransmissions > RETRANS_STORM_SHARE * max(1, self.planned):
            self.problems.append(f"retransmission storm ({self.retransmissions})")


def _udp_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def free_media_port(address: str, start: int = 26000) -> int:
    """A base port where sipp can bind its audio and video sockets (port and port + 2)."""
    for port in range(start, start + 4000, 4):
        if _udp_free(address, port) and _udp_free(address, port + 2):
            return port
    raise RuntimeError(f"no free media ports on {address} from {start}")


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _final_stats(path: Path) -> dict[str, str]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    if not rows:
        raise RuntimeError(f"sipp wrote no statistics in {path}")
    return rows[-1]


def _response_times(path: Path) -> dict[str, list[tuple[float, int]]]:
    """{rtd name: [(time recorded in ms since sipp started, response time in ms)]}."""
    found: dict[str, list[tuple[float, int]]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            found.setdefault(row["rtd_no"], []).append(
                (float(row["Date_ms"]), int(float(row["response_time_ms"])))
            )
    return found


def run_step(
    work_dir: Path,
    target: str,
    extension: str,
    rate: int,
    seconds: float,
    first_number: int,
    scenario: Path = SCENARIO,
    extra_args: Sequence[str] = (),
) -> StepResult:
    """Place rate × seconds calls to `extension` at `target` (host:port); wait for them all.

    `scenario` (default bench_caller.xml) must take the caller number from the injection
    file's field0 and time its answer with the rtd `answer` (and `hangup`, if it has one);
    `extra_args` go to every sipp process (e.g. `-key pcap_file …`, `-d …`).
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    planned = round(rate * seconds)
    result = StepResult(rate, planned, first_number)
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    number = first_number
    started = time.monotonic()
    try:
        for address, calls in zip(CARRIER_ADDRESSES, _split(planned, 3), strict=True):
            if not calls:
                continue
            numbers = work_dir / f"numbers_{address}.csv"
            lines = (caller_number(number + i) for i in range(calls))
            numbers.write_text("SEQUENTIAL\n" + "\n".join(lines) + "\n")
            number += calls
            stats = work_dir / f"stat_{address}.csv"
            command = [
                "sipp", "-sf", str(scenario), "-i", address, "-p", str(free_udp_port(address)),
                "-mp", str(free_media_port(address)), "-s", extension, "-inf", str(numbers),
                "-r", str(rate), "-rp", "3000", "-m", str(calls), "-l", "10000",
                "-recv_timeout", str(RECV_TIMEOUT_MS), "-timeout", f"{int(seconds) + 120}s",
                "-timeout_error", "-nostdin", "-trace_stat", "-stf", str(stats), "-fd", "5",
                "-trace_rtt", "-rtt_freq", "1",
                "-trace_err", "-error_file", str(work_dir / f"errors_{address}.log"),
                *extra_args, target,
            ]  # fmt: skip
            out = (work_dir / f"sipp_{address}.log").open("wb")
            process = subprocess.Popen(
                command, cwd=work_dir, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            out.close()
            processes.append((process, stats))
        for process, _ in processes:
            process.wait(seconds + 180)
    finally:
        for process, _ in processes:
            if process.poll() is None:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(5)
                if process.poll() is None:
                    process.kill()
                    process.wait()
    result.wall_s = time.monotonic() - started
    for process, stats in processes:
        _collect(result, process, stats, work_dir, scenario)
    result.judge()
    return result


def _collect(
    result: StepResult,
    process: subprocess.Popen[bytes],
    stats: Path,
    work: Path,
    scenario: Path = SCENARIO,
) -> None:
    final = _final_stats(stats)

    def count(name: str) -> int:
        return int(float(final.get(f"{name}(C)") or 0))

    result.created += count("OutgoingCall")
    result.successful += count("SuccessfulCall")
    result.failed += count("FailedCall")
    result.retransmissions += count("Retransmissions")
    result.unexpected += sum(
        count(n) for n in ("FailedUnexpectedMessage", "OutOfCallMsgs", "DeadCallMsgs")
    )
    result.sipp_watchdog += count("WatchdogMajor") + count("WatchdogMinor")
    if process.returncode not in (0, 1):  # 1: some call failed (counted above)
        result.problems.append(f"sipp exited with {process.returncode}")
    rtt = work / f"{scenario.stem}_{process.pid}_rtt.csv"
    times = _response_times(rtt) if rtt.exists() else {}
    answers = times.get("answer", [])
    result.answer_ms += [ms for _, ms in answers]
    result.hangup_ms += [ms for _, ms in times.get("hangup", [])]
    if len(answers) > 1:  # when each INVITE went out: recorded time minus response time
        sent = sorted(at - ms for at, ms in answers)
        if sent[-1] > sent[0]:
            result.achieved_rate += (len(sent) - 1) * 1000 / (sent[-1] - sent[0])
