"""IVR capacity: the gateway's CPU per IVR call, and how many callers it holds in the IVR.

    sudo python -m bench.ivr_capacity [--quick] [--levels 10,20,50] [--plateau-seconds 20]
                                      [--cpu-rate 10] [--cpu-seconds 30] [--cpu-rounds 2]
                                      [--write docs/benchmarks.md]

In one run, on a sandbox of its own (never the default one other people test against), with
`line19 serve` (IVR on, the sandbox's prompt durations) on a fresh SQLite file database:

1. CPU: sipp callers dial 19 (intake, IVR, queue) and press "2" (French) 1.5 s after the
   answer, as real RFC 4733 DTMF in one continuous RTP stream (tests/sipp/dtmf_pcap.py), then
   hang up 4 s after the answer. The same steps run with the IVR on and with it off
   (LINE19_IVR_ENABLED=false: the dialplan still asks for the `ivr` script, the gateway turns
   it down and the call is queued), alternated, a fresh gateway process each (plus a few
   warm-up calls). Gateway CPU per call: its utime + stime over the step divided by the calls
   whose IVR completed (IVR on) or whose intake completed (IVR off).
2. Concurrency: callers that press nothing (the no-input path, ~10 s in the IVR) arrive at
   level / 10 calls per second for 10 s + the plateau, so that about `level` of them are in
   the IVR at once during the plateau. The gateway's added latency is read on the wire: the
   AGI connections on loopback are captured (an AF_PACKET socket with a kernel BPF filter on
   the AGI port, kernel timestamps), and each gap between Asterisk's last segment (an answer
   to a command, or the environment) and the gateway's next command (or its FIN) is one
   gateway turn: Asterisk is waiting for the gateway all that time. The ramp stops at the
   first level whose p95 turn latency in the IVR exceeds 50 ms twice in a row (a failed
   level runs once more), or at a level whose calls fail.

Printed (and with --write, put in the "IVR capacity" section of docs/benchmarks.md). The
sandbox lives in $LINE19_BENCH_IVR_SANDBOX_DIR (default /var/lib/line19/bench-ivr-sandbox);
the static operator contacts of its pjsip.conf (127.0.0.21-25:5060, the e2e tests' sipp
operators) are commented out in the installed copy, so that it never qualifies or rings
them: queued calls wait, unanswered, until the caller hangs up. It is stopped at the end,
also on error; sipp files, pcaps, gateway log and database stay in /tmp.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import probes
from bench.agi_capture import AgiCapture, AgiSession, Turn, nearest_rank, sessions_of
from bench.gateway_run import REPO, GatewayProcess
from bench.intake_capacity import DEFAULT_BENCH_DIR as INTAKE_BENCH_DIR
from bench.intake_capacity import facts, wait_idle
from bench.report import Facts, write_section
from bench.sipp_step import StepResult, caller_number, percentile, run_step
from gateway.asterisk.sandbox import DEFAULT_STATE_DIR, Sandbox, SandboxError, SandboxParams

SECTION = "## IVR capacity (issue 3)"
STATE_ENV = "LINE19_BENCH_IVR_SANDBOX_DIR"
DEFAULT_IVR_BENCH_DIR = Path("/var/lib/line19/bench-ivr-sandbox")
# Apart from the default sandbox's ports (5060, 5038, 4573, 20000-…) and the intake bench's.
PARAMS = SandboxParams(
    sip_port=5460, ami_port=5438, agi_port=4973, rtp_start=50000, rtp_end=59999, bench=True
)
SCENARIO = Path(__file__).resolve().parent / "sipp" / "ivr_caller.xml"
DTMF_PCAP = REPO / "tests" / "sipp" / "dtmf_pcap.py"
EXTENSION = "19"

# Part 1: the DTMF path.
KEY_AT_S = 1.5
KEY = "2"  # French
KEY_LANGUAGE = "fr"
CPU_TALK_MS = 4000
CPU_RATE, CPU_SECONDS, CPU_ROUNDS = 10, 30.0, 2
# Part 2: the no-input path.
IVR_SECONDS = 10.0  # the IVR's bound; a caller who presses nothing stays about that long
RAMP_TALK_MS = 12_500  # from the answer: the intake, the IVR, then a moment in the queue
LEVELS = (10, 20, 50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500)
QUICK_LEVELS = (10, 20)
PLATEAU_S = 20.0
LATENCY_GOAL_MS = 50.0
WARMUP_CALLS = 10
TAIL_S = 2.0  # after the last call: queue_log lines and AMI events still to be applied
OPERATOR_CONTACT = re.compile(r"^(contact = sip:op@127\.0\.0\.2\d:5060)$", re.M)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the sandbox ---------------------------------------------------------------------------
def bench_sandbox() -> Sandbox:
    state = Path(os.environ.get(STATE_ENV) or DEFAULT_IVR_BENCH_DIR).resolve()
    for taken, whose in ((DEFAULT_STATE_DIR, "the default sandbox"),
                         (INTAKE_BENCH_DIR, "the intake benchmark's sandbox")):  # fmt: skip
        if state == taken.resolve():
            raise SandboxError(f"{state} is {whose}: use a sandbox of this benchmark's own")
    return Sandbox(state_dir=state)


def sandbox_up(sandbox: Sandbox) -> int:
    """`Sandbox.up`, with the operators' static contacts commented out in the installed
    pjsip.conf before Asterisk starts (no qualify, no call offered to them). Returns how
    many contacts were disabled."""
    PARAMS.validate()
    sandbox.build()
    sandbox.extract()
    sandbox.stop()
    sandbox.install_configs(PARAMS)
    pjsip = sandbox.root / "etc/asterisk/pjsip.conf"
    text, disabled = OPERATOR_CONTACT.subn(r"; bench: no operator here. \1", pjsip.read_text())
    pjsip.write_text(text)
    sandbox.start()
    return disabled


# -- callers -------------------------------------------------------------------------------
def make_pcap(path: Path, keys: list[tuple[float, str]], duration_s: float) -> Path:
    """One continuous RTP stream with the keys (tests/sipp/dtmf_pcap.py, as the e2e tests)."""
    schedule = [f"{at}:{digit}" for at, digit in keys]
    subprocess.run(
        [sys.executable, str(DTMF_PCAP), str(path), *schedule, "--duration", f"{duration_s}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return path


@dataclass
class Callers:
    """sipp steps to 19 against the bench sandbox, every call with its own caller number."""

    work: Path
    number: int = 0

    def step(
        self, name: str, rate: int, seconds: float, pcap: Path, talk_ms: int
    ) -> tuple[StepResult, str, str]:
        """Run one step; return the sipp result and its caller number range [first, end)."""
        target = f"127.0.0.1:{PARAMS.sip_port}"
        extra = ["-key", "pcap_file", str(pcap), "-d", str(talk_ms)]
        first = self.number
        result = run_step(
            self.work / name, target, EXTENSION, rate, seconds, first, SCENARIO, extra
        )
        self.number += result.planned
        return result, caller_number(first), caller_number(self.number)


# -- what the gateway recorded -------------------------------------------------------------
@dataclass
class Recorded:
    calls: int = 0
    intake: Counter[str] = field(default_factory=Counter)
    ivr_completed: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    no_input: int = 0
    ivr_elapsed_s: list[float] = field(default_factory=list)


def recorded(database: Path, first: str, end: str) -> Recorded:
    found = Recorded()
    if not database.exists():
        return found
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as db:
        window = (first, end)
        for intake, n in db.execute(
            "SELECT intake, count(*) FROM calls WHERE caller_raw >= ? AND caller_raw < ? "
            "GROUP BY intake", window,
        ):  # fmt: skip
            found.intake[str(intake)] = int(n)
            found.calls += int(n)
        for language, no_input, elapsed in db.execute(
            "SELECT c.language, c.no_input, json_extract(e.details, '$.elapsed_s') "
            "FROM call_events e JOIN calls c ON c.id = e.call_id "
            "WHERE e.kind = 'ivr_completed' AND c.caller_raw >= ? AND c.caller_raw < ?",
            window,
        ):
            found.ivr_completed += 1
            found.languages[str(language)] += 1
            found.no_input += 1 if no_input else 0
            if elapsed is not None:
                found.ivr_elapsed_s.append(float(elapsed))
    return found


def settle(database: Path, first: str, end: str, expected: int, timeout_s: float = 30.0) -> None:
    """Wait until the gateway has recorded `expected` calls of the range (or stops growing)."""
    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = recorded(database, first, end).calls
        if count >= expected:
            return
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since > 5.0:
            return
        time.sleep(0.25)


# -- part 1: CPU per call ------------------------------------------------------------------
@dataclass
class CpuStep:
    name: str
    ivr: bool
    sipp: StepResult
    record: Recorded
    wall_s: float
    asterisk_cpu_s: float
    gateway_cpu_s: float
    sipp_cpu_s: float
    box_cpu_s: float
    asterisk_warnings: int

    @property
    def completed(self) -> int:
        """The calls the gateway's CPU is divided by: IVR completed (on), intake (off)."""
        if self.ivr:
            return self.record.languages.get(KEY_LANGUAGE, 0)
        return self.record.intake.get("completed", 0)

    @property
    def gateway_ms(self) -> float | None:
        return 1000 * self.gateway_cpu_s / self.completed if self.completed else None

    @property
    def asterisk_ms(self) -> float | None:
        ok = self.sipp.successful
        return 1000 * self.asterisk_cpu_s / ok if ok else None

    def problems(self) -> list[str]:
        found = list(self.sipp.problems)
        intake = self.record.intake.get("completed", 0)
        if intake < self.sipp.successful:
            found.append(f"intake completed for {intake}/{self.sipp.successful}")
        if self.ivr and self.completed < self.sipp.successful:
            found.append(f"IVR chose {KEY_LANGUAGE} for {self.completed}/{self.sipp.successful}")
        if not self.ivr and self.record.ivr_completed:
            found.append(f"{self.record.ivr_completed} IVRs ran with the IVR off")
        return found


@dataclass
class Bench:
    sandbox: Sandbox
    work: Path
    callers: Callers
    durations: Path
    gateway: GatewayProcess | None = None
    gateway_pids: list[int] = field(default_factory=list)

    @property
    def database(self) -> Path:
        return self.work / "gateway" / "gateway.db"

    def start_gateway(self, ivr: bool) -> GatewayProcess:
        self.stop_gateway()
        gateway = GatewayProcess(
            self.work / "gateway", PARAMS.agi_port, PARAMS.ami_port, PARAMS.ami_user,
            self.sandbox.secrets().ami_secret, self.sandbox.queue_log_path(),
            extra_env={
                "LINE19_IVR_ENABLED": "true" if ivr else "false",
                "LINE19_IVR_DURATIONS_PATH": str(self.durations),
            },
        )  # fmt: skip
        gateway.start()
        self.gateway = gateway
        self.gateway_pids.append(gateway.pid)
        return gateway

    def stop_gateway(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None

    def warm_up(self, pcap: Path, talk_ms: int) -> None:
        """A few calls through a freshly started gateway (imports, caches), not measured."""
        wait_idle(self.sandbox)
        result, first, end = self.callers.step(
            f"warmup-{self.callers.number}", WARMUP_CALLS, 1.0, pcap, talk_ms
        )
        settle(self.database, first, end, result.successful)
        wait_idle(self.sandbox)
        time.sleep(TAIL_S)

    def idle_gateway_ms_per_s(self, seconds: float = 10.0) -> float:
        assert self.gateway is not None
        before = probes.cpu_seconds(self.gateway.pid)
        time.sleep(seconds)
        return 1000 * (probes.cpu_seconds(self.gateway.pid) - before) / seconds

    def cpu_step(self, name: str, ivr: bool, rate: int, seconds: float, pcap: Path) -> CpuStep:
        assert self.gateway is not None
        wait_idle(self.sandbox)
        time.sleep(1.0)
        messages = self.sandbox.root / "var/log/asterisk/messages.log"
        offset = probes.file_size(messages)
        asterisk_pid = self.sandbox.pid()
        assert asterisk_pid is not None
        meter = probes.CpuMeter(asterisk_pid, self.gateway.pid)
        meter.start()
        result, first, end = self.callers.step(name, rate, seconds, pcap, CPU_TALK_MS)
        settle(self.database, first, end, result.successful)
        wait_idle(self.sandbox)
        time.sleep(TAIL_S)
        wall, asterisk, gateway, sipp, box = meter.read()
        _, warnings, samples = probes.count_warnings(messages, offset)
        step = CpuStep(name, ivr, result, recorded(self.database, first, end), wall,
                       asterisk, gateway, sipp, box, warnings)  # fmt: skip
        per_call = step.gateway_ms
        log(f"  {name}: {result.successful}/{result.planned} calls, gateway "
            f"{'–' if per_call is None else f'{per_call:.2f}'} ms/call, "
            f"{'; '.join(step.problems()) or 'clean'}")  # fmt: skip
        for sample in samples:
            log(f"    Asterisk: {sample[:200]}")
        return step

    def cpu_part(self, rate: int, seconds: float, rounds: int) -> tuple[list[CpuStep], float]:
        pcap = make_pcap(self.work / "key2.pcap", [(KEY_AT_S, KEY)], CPU_TALK_MS / 1000 + 0.5)
        steps: list[CpuStep] = []
        idle: list[float] = []
        for round_ in range(1, rounds + 1):
            for ivr in (True, False):
                self.start_gateway(ivr)
                self.warm_up(pcap, CPU_TALK_MS)
                idle.append(self.idle_gateway_ms_per_s())
                name = f"cpu-ivr-{'on' if ivr else 'off'}-{round_}"
                steps.append(self.cpu_step(name, ivr, rate, seconds, pcap))
        return steps, sum(idle) / len(idle)


# -- part 2: callers in the IVR ------------------------------------------------------------
@dataclass
class Level:
    target: int
    rate: int
    attempt: int
    sipp: StepResult
    record: Recorded
    ivr_sessions: list[AgiSession]
    intake_sessions: list[AgiSession]
    window: tuple[float, float]
    concurrency: tuple[float, int, int]  # mean, min, max over the window
    turns: list[Turn]  # IVR turns in the window
    intake_turns: list[Turn]
    wall_s: float
    asterisk_cpu_s: float
    gateway_cpu_s: float
    sipp_cpu_s: float
    box_cpu_s: float
    capture_cpu_s: float
    capture_drops: int
    asterisk_warnings: int
    repeated: bool = False

    def p(self, share: float, kind: str | None = None) -> float | None:
        turns = [t for t in self.turns if kind is None or t.kind == kind]
        value = nearest_rank([t.latency_s for t in turns], share)
        return None if value is None else 1000 * value

    def intake_p(self, share: float) -> float | None:
        value = nearest_rank([t.latency_s for t in self.intake_turns], share)
        return None if value is None else 1000 * value

    @property
    def over_goal(self) -> bool:
        p95 = self.p(0.95)
        return p95 is not None and p95 > LATENCY_GOAL_MS

    def problems(self) -> list[str]:
        found = list(self.sipp.problems)
        ok = self.sipp.successful
        if self.record.ivr_completed < ok:
            found.append(f"IVR completed for {self.record.ivr_completed}/{ok}")
        elif self.record.no_input < ok:
            found.append(f"no-input path for {self.record.no_input}/{ok}")
        if self.capture_drops:
            found.append(f"the capture dropped {self.capture_drops} packets")
        if not self.turns:
            found.append("no IVR turn in the plateau")
        return found

    @property
    def clean(self) -> bool:
        return not self.problems() and not self.over_goal

    def verdict(self) -> str:
        found = self.problems()
        if self.over_goal:
            found.append(f"p95 over {LATENCY_GOAL_MS:.0f} ms")
        return ("; ".join(found) or "clean") + (" (repeated)" if self.repeated else "")


def concurrency(sessions: list[AgiSession], start: float, end: float) -> tuple[float, int, int]:
    """Mean, min and max number of sessions open, sampled every 100 ms over [start, end]."""
    samples = []
    t = start
    while t <= end:
        samples.append(sum(1 for s in sessions if s.start <= t and (s.end is None or s.end > t)))
        t += 0.1
    if not samples:
        return 0.0, 0, 0
    return sum(samples) / len(samples), min(samples), max(samples)


def level_step(bench: Bench, target: int, attempt: int, plateau_s: float, pcap: Path) -> Level:
    assert bench.gateway is not None
    rate = max(1, round(target / IVR_SECONDS))
    seconds = IVR_SECONDS + plateau_s
    wait_idle(bench.sandbox)
    time.sleep(1.0)
    messages = bench.sandbox.root / "var/log/asterisk/messages.log"
    offset = probes.file_size(messages)
    asterisk_pid = bench.sandbox.pid()
    assert asterisk_pid is not None
    capture = AgiCapture(PARAMS.agi_port)
    meter = probes.CpuMeter(asterisk_pid, bench.gateway.pid)
    meter.start()
    try:
        name = f"level-{target}-{attempt}"
        result, first, end = bench.callers.step(name, rate, seconds, pcap, RAMP_TALK_MS)
        settle(bench.database, first, end, result.successful)
        wait_idle(bench.sandbox)
        time.sleep(TAIL_S)
        wall, asterisk, gateway, sipp, box = meter.read()
    finally:
        packets = capture.stop()
    _, warnings, samples = probes.count_warnings(messages, offset)
    for sample in samples:
        log(f"    Asterisk: {sample[:200]}")
    sessions = sessions_of(packets, PARAMS.agi_port)
    ivr = [s for s in sessions if s.script == "ivr"]
    intake = [s for s in sessions if s.script == "intake"]
    lengths = sorted(s.length_s for s in ivr if s.length_s is not None)
    window = (0.0, 0.0)
    if ivr and lengths:
        starts = sorted(s.start for s in ivr)
        window = (starts[0] + lengths[len(lengths) // 2], starts[-1])
    in_window = [t for s in ivr for t in s.turns if window[0] <= t.at <= window[1]]
    intake_turns = [t for s in intake for t in s.turns if window[0] <= t.at <= window[1]]
    level = Level(
        target, rate, attempt, result, recorded(bench.database, first, end), ivr, intake,
        window, concurrency(ivr, *window), in_window, intake_turns, wall, asterisk, gateway,
        sipp, box, capture.cpu_s, capture.drops, warnings,
    )  # fmt: skip
    p50, p95, p99 = (level.p(q) for q in (0.5, 0.95, 0.99))
    log(f"  {target} in the IVR ({rate} calls/s), attempt {attempt}: "
        f"concurrency {level.concurrency[0]:.0f}, {len(in_window)} turns, "
        f"p50/p95/p99 {_ms(p50)}/{_ms(p95)}/{_ms(p99)} ms: {level.verdict()}")  # fmt: skip
    return level


def ramp(bench: Bench, levels: list[int], plateau_s: float) -> list[Level]:
    pcap = make_pcap(bench.work / "silence.pcap", [], 0.02)  # one packet: media is there
    bench.start_gateway(ivr=True)
    bench.warm_up(pcap, RAMP_TALK_MS)
    done: list[Level] = []
    for target in levels:
        level = level_step(bench, target, 1, plateau_s, pcap)
        done.append(level)
        if not level.clean:
            level.repeated = True
            level = level_step(bench, target, 2, plateau_s, pcap)
            done.append(level)
            if not level.clean:
                break
    return done


# -- the report ----------------------------------------------------------------------------
def _ms(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _cores(seconds: float, wall: float) -> str:
    return f"{seconds / wall:.2f}" if wall else "–"


def _others(box: float, *parts: float) -> float:
    return max(0.0, box - sum(parts))


@dataclass
class Result:
    facts: Facts
    cpu_steps: list[CpuStep]
    idle_ms_per_s: float
    levels: list[Level]
    disabled_contacts: int
    peak_rss_kib: int | None

    def cpu_total(self, ivr: bool) -> tuple[float | None, int]:
        steps = [s for s in self.cpu_steps if s.ivr == ivr and not s.problems()]
        calls = sum(s.completed for s in steps)
        spent = sum(s.gateway_cpu_s for s in steps)
        return (1000 * spent / calls if calls else None), calls

    def asterisk_total(self, ivr: bool) -> float | None:
        steps = [s for s in self.cpu_steps if s.ivr == ivr and not s.problems()]
        calls = sum(s.sipp.successful for s in steps)
        return 1000 * sum(s.asterisk_cpu_s for s in steps) / calls if calls else None

    def first_over(self) -> Level | None:
        """The level the ramp ended at, when its p95 was over the goal at both attempts."""
        last = self.levels[-1] if self.levels else None
        if last is not None and last.attempt == 2 and last.over_goal:
            return last
        return None

    def highest_held(self) -> Level | None:
        held = None
        for level in self.levels:
            if level.clean:
                held = level
        return held


def summary_rows(r: Result) -> list[tuple[str, str]]:
    on, on_calls = r.cpu_total(True)
    off, off_calls = r.cpu_total(False)
    share = f"{on - off:+.2f} ms" if on is not None and off is not None else "–"
    rows = [
        (f'gateway CPU per call, intake + IVR (DTMF "{KEY}" at {KEY_AT_S} s)',
         f"{_ms(on, 2)} ms ({on_calls} calls whose IVR completed)"),
        ("gateway CPU per call, IVR off (same calls)",
         f"{_ms(off, 2)} ms ({off_calls} calls whose intake completed)"),
        ("the IVR's share (difference)", share),
        ("Asterisk CPU per call, IVR on / off",
         f"{_ms(r.asterisk_total(True), 2)} / {_ms(r.asterisk_total(False), 2)} ms"),
        ("gateway CPU when idle (queue_log polling, AMI)", f"{r.idle_ms_per_s:.2f} ms per s"),
    ]  # fmt: skip
    over, held = r.first_over(), r.highest_held()
    top = max((level.target for level in r.levels), default=0)
    if over is not None:
        text = (f"{over.target} (p95 {_ms(over.p(0.95))} ms, about "
                f"{over.concurrency[0]:.0f} in the IVR); held: "
                f"{held.target if held else '–'}")  # fmt: skip
    elif r.levels and r.levels[-1].clean:
        text = f"not reached up to {top} (the last level of the ramp)"
    elif r.levels:
        last = r.levels[-1]
        text = (f"not reached up to {held.target if held else '–'}; the ramp ended at "
                f"{last.target}: {last.verdict()}")  # fmt: skip
    else:
        text = "–"
    rows.append((f"first level where the p95 gateway turn exceeds {LATENCY_GOAL_MS:.0f} ms", text))
    if held is not None:
        rows.append((
            f"gateway turn in the IVR at {held.target} (highest level held): p50/p95/p99",
            f"{_ms(held.p(0.5))} / {_ms(held.p(0.95))} / {_ms(held.p(0.99))} ms",
        ))  # fmt: skip
    if r.peak_rss_kib:
        rows.append(("gateway peak RSS (VmHWM), ramp", f"{r.peak_rss_kib / 1024:.0f} MB"))
    return rows


def cpu_row(s: CpuStep) -> str:
    others = _others(s.box_cpu_s, s.asterisk_cpu_s, s.gateway_cpu_s, s.sipp_cpu_s)
    cores = "/".join(_cores(x, s.wall_s) for x in (s.asterisk_cpu_s, s.gateway_cpu_s,
                                                   s.sipp_cpu_s, others))  # fmt: skip
    languages = ", ".join(f"{k} {v}" for k, v in sorted(s.record.languages.items()))
    cells = [
        s.name, "on" if s.ivr else "off", f"{s.sipp.successful}/{s.sipp.planned}",
        str(s.record.intake.get("completed", 0)),
        f"{s.record.ivr_completed} ({languages or 'none'})",
        f"{s.gateway_cpu_s:.2f}", _ms(s.gateway_ms, 2), _ms(s.asterisk_ms, 2), cores,
        str(s.asterisk_warnings), "; ".join(s.problems()) or "clean",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def level_row(v: Level) -> str:
    others = _others(v.box_cpu_s, v.asterisk_cpu_s, v.gateway_cpu_s, v.sipp_cpu_s)
    cores = "/".join(_cores(x, v.wall_s) for x in (v.asterisk_cpu_s, v.gateway_cpu_s,
                                                   v.sipp_cpu_s, others))  # fmt: skip
    mean, low, high = v.concurrency
    lengths = [s.length_s for s in v.ivr_sessions if s.length_s is not None]
    length = "/".join(_ms(nearest_rank(lengths, q), 2) for q in (0.5, 1.0))
    answer = percentile(v.sipp.answer_ms, 0.95)
    cells = [
        str(v.target), str(v.rate), f"{v.sipp.successful}/{v.sipp.planned}",
        f"{v.record.ivr_completed} (no input {v.record.no_input})",
        f"{mean:.0f} ({low}–{high})", str(len(v.turns)),
        "/".join(_ms(v.p(q)) for q in (0.5, 0.95, 0.99, 1.0)),
        _ms(v.p(0.95, "after Read")), _ms(v.p(0.95, "outcome written")),
        "/".join(_ms(v.intake_p(q)) for q in (0.95, 0.99)), length,
        "–" if answer is None else str(answer), cores, str(v.asterisk_warnings), v.verdict(),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def markdown(r: Result, plateau_s: float, cpu_rate: int, cpu_seconds: float) -> str:
    f = r.facts
    capture_cpu = sum(v.capture_cpu_s for v in r.levels)
    capture_wall = sum(v.wall_s for v in r.levels)
    lines = [
        SECTION,
        "",
        f"Command: `{f.command}` (root: it runs its own Asterisk sandbox and captures "
        f"loopback packets). Run on {f.date}.",
        "",
        f"Machine: {f.nproc} CPUs ({f.cpu}), shared with other work (load average "
        f"{f.load_before} before, {f.load_after} after); Asterisk {f.asterisk} (Debian "
        f"unstable chroot sandbox), sipp {f.sipp}, Python {f.python}; gateway at "
        f"{f.revision}, on a SQLite file database, IVR default language ar, prompt durations "
        "from the sandbox's durations.json (espeak-ng prompts).",
        "",
        "Method: sipp callers from the three carrier addresses (127.0.0.2/.3/.4, a third of "
        "the calls each) dial 19: the real flow, intake then IVR (`line19 serve`, AMI logged "
        "in, queue_log followed, SQLite), then the queue, where nobody answers: the bench "
        f"sandbox's copy of pjsip.conf has its {r.disabled_contacts} static operator contacts "
        "commented out (they are the e2e tests' sipp operators), so calls wait until the "
        "caller hangs up. Every call has its own caller number.",
        "",
        f"1. CPU per call, DTMF path: each caller plays one continuous RTP stream with "
        f'RFC 4733 "{KEY}" at {KEY_AT_S} s after the answer (tests/sipp/dtmf_pcap.py) and '
        f"hangs up at {CPU_TALK_MS / 1000:g} s; {cpu_rate} calls/s for {cpu_seconds:g} s "
        "per step. The IVR on and off (`LINE19_IVR_ENABLED=false`: the dialplan still "
        "connects for the `ivr` script, the gateway turns it down and the call goes to the "
        "queue with the intake's priority) alternate, each step on a freshly started "
        f"gateway after {WARMUP_CALLS} warm-up calls. Gateway CPU per call is its utime + "
        "stime (/proc/PID/stat) from the step's first call to "
        f"{TAIL_S:g} s after its last, minus nothing, divided by the calls whose IVR "
        "completed with French (on) or whose intake completed (off); the IVR's share is the "
        "difference. The off figure still holds the turned-down `ivr` connection (accept, "
        "environment read, one log line). Both figures also hold what every call to 19 costs "
        "the gateway besides its AGI scripts (the queue's AMI events and queue_log lines "
        "applied to the call's timeline) and its idle polling, which the intake "
        "benchmark's `bench-intake` calls (never queued) do not: compare them with each "
        "other, not with that section's figure.",
        f"2. Callers in the IVR: callers who press nothing (the no-input path: the menu, "
        f"the silent check, about {IVR_SECONDS:g} s in the IVR; one RTP packet so that "
        "Asterisk has media, then none) arrive at level/10 calls per second for "
        f"{IVR_SECONDS:g} s + {plateau_s:g} s and hang up {RAMP_TALK_MS / 1000:g} s after "
        "the answer, so that about `level` callers are in the IVR at once over the last "
        f"{plateau_s:g} s (the plateau: from the first IVR's start + the median IVR length "
        "to the last IVR's start; the concurrency column is measured there). The gateway's "
        "added latency is read on the wire: the AGI connections on loopback are captured "
        "(an AF_PACKET socket in the bench process, kernel BPF filter on the AGI port, "
        "kernel timestamps), and each gap between Asterisk's last segment (its answer to a "
        "command, or the AGI environment) and the gateway's next command (or its FIN) is "
        "one gateway turn, all of it the gateway's (its wake-up, its event loop's queue, "
        "its work, the database write where there is one); Asterisk's own time (Read() "
        "playing prompts and waiting for a key) is never in it. Percentiles are over every "
        "turn of the IVR connections in the plateau. A level fails when its p95 is over "
        f"{LATENCY_GOAL_MS:.0f} ms, or a call fails or misses its IVR; a failed level runs "
        "once more (marked repeated) and the ramp ends when it fails again.",
        "",
        "| figure | measured |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in summary_rows(r)),
        "",
        "CPU steps (DTMF path):",
        "",
        "| step | IVR | ok/calls | intake completed | IVR completed (language) | gateway CPU s "
        "| gateway ms/call | Asterisk ms/call | cores: Asterisk/gateway/sipp/others "
        "| Asterisk warnings | verdict |",
        "|" + "---|" * 11,
        *(cpu_row(s) for s in r.cpu_steps),
        "",
        "Callers in the IVR (no-input path):",
        "",
        "| level | calls/s | ok/calls | IVR completed | in the IVR, plateau: mean (min–max) "
        "| IVR turns | gateway turn p50/p95/p99/max ms | p95 after Read() ms "
        "| p95 outcome written ms | intake turns p95/p99 ms | IVR length p50/max s "
        "| INVITE→200 p95 ms | cores: Asterisk/gateway/sipp/others | Asterisk warnings "
        "| verdict |",
        "|" + "---|" * 15,
        *(level_row(v) for v in r.levels),
        "",
        "Turns: the IVR's connection is about 12 of them for a caller who presses nothing "
        "(SET VARIABLE, EXEC Read, GET VARIABLE per prompt group, the language, the outcome "
        'written to the database then four variables, the close). "after Read()" is the '
        "gateway's GET VARIABLE after a Read() answer; \"outcome written\" includes the IVR's "
        "database write; intake turns (the intake's own connection, same plateau) include "
        "its caller lookup and database write. IVR length is the AGI connection's, from "
        "Asterisk's connect to the close. Cores are CPU seconds over the step's wall time "
        '(sipp waits for the last call to end); "others" is the rest of the box (other '
        f"users of the machine, and the capture thread: {_cores(capture_cpu, capture_wall)} "
        "cores on average over the ramp).",
        "",
    ]
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ivr_capacity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="update the IVR capacity section of FILE (docs/benchmarks.md)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: levels {QUICK_LEVELS}, short steps, one CPU round",
    )
    parser.add_argument("--levels", help=f"comma-separated callers in the IVR (default {LEVELS})")
    parser.add_argument("--plateau-seconds", type=float, help=f"default {PLATEAU_S:g}")
    parser.add_argument("--cpu-rate", type=int, help=f"calls/s, CPU steps (default {CPU_RATE})")
    parser.add_argument("--cpu-seconds", type=float, help=f"default {CPU_SECONDS:g}")
    parser.add_argument("--cpu-rounds", type=int, help=f"on/off pairs (default {CPU_ROUNDS})")
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    levels = [int(v) for v in args.levels.split(",")] if args.levels else None
    levels = levels or list(QUICK_LEVELS if args.quick else LEVELS)
    plateau = args.plateau_seconds or (5.0 if args.quick else PLATEAU_S)
    cpu_rate = args.cpu_rate or (5 if args.quick else CPU_RATE)
    cpu_seconds = args.cpu_seconds or (5.0 if args.quick else CPU_SECONDS)
    cpu_rounds = args.cpu_rounds or (1 if args.quick else CPU_ROUNDS)
    command = shlex.join(["python", "-m", "bench.ivr_capacity", *(argv or sys.argv[1:])])
    sandbox = bench_sandbox()
    work = Path(tempfile.mkdtemp(prefix="line19-bench-ivr-"))
    log(f"bench sandbox {sandbox.state_dir}, files in {work}")
    bench: Bench | None = None
    try:
        asterisk_code = probes.code_fingerprint(REPO)
        disabled = sandbox_up(sandbox)
        run_facts = facts(sandbox, command, cpu_seconds)
        run_facts.revision = probes.git_revision(REPO)
        sandbox.queue_log_path().open("r+").truncate(0)  # the fresh database reads it all
        bench = Bench(sandbox, work, Callers(work), sandbox.prompt_durations_path())
        log(f"CPU steps: {cpu_rate} calls/s, {cpu_seconds:g} s, {cpu_rounds} on/off rounds")
        cpu_steps, idle = bench.cpu_part(cpu_rate, cpu_seconds, cpu_rounds)
        log(f"callers in the IVR: levels {levels}, plateau {plateau:g} s")
        levels_done = ramp(bench, levels, plateau)
        assert bench.gateway is not None
        peak = probes.status_kib(bench.gateway.pid, "VmHWM")
        run_facts.load_after = probes.load_average()
        if probes.code_fingerprint(REPO) != asterisk_code:
            run_facts.revision += " (the tree changed during the run)"
    finally:
        if bench is not None:
            bench.stop_gateway()
        sandbox.down()
    result = Result(run_facts, cpu_steps, idle, levels_done, disabled, peak)
    section = markdown(result, plateau, cpu_rate, cpu_seconds)
    print(section)
    for name, value in summary_rows(result):
        log(f"{name}: {value}")
    if args.write:
        write_section(args.write, section, SECTION)
        log(f"wrote the section into {args.write}")
    log(f"sipp files, pcaps, gateway log and database kept in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
