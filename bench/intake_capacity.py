"""Intake capacity: the highest zero-failure call rate without and with the gateway's intake.

    sudo python -m bench.intake_capacity [--quick] [--rates 25,50,100] [--step-seconds 10]
                                         [--profile] [--write docs/benchmarks.md]

In one run, on a sandbox of its own (never the default one other people test against):
a sipp step ramp to `bench-bare` (Answer, Wait(1), Hangup), then the same ramp to
`bench-intake` (the real FastAGI intake in between) with `line19 serve` running against a
fresh SQLite file database. Each ramp stops at its first unclean step. Printed (and with
--write, put in the "Intake capacity" section of docs/benchmarks.md): the per-step figures,
the ratio of the highest clean rates, the latencies at the highest rate both passed, the
share of calls whose intake completed, the CPU time per call of Asterisk and of the
gateway, the gateway's peak RSS, and with --profile where the gateway's CPU went (py-spy).
The sandbox lives in $LINE19_BENCH_SANDBOX_DIR (default /var/lib/line19/bench-sandbox) and
is stopped at the end, also on error; sipp files, gateway log and database stay in /tmp.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import probes
from bench.gateway_run import REPO, GatewayProcess
from bench.profile import Profiler
from bench.report import Facts, Step, markdown, summarize, summary_rows, write_section
from bench.sipp_step import caller_number, run_step
from gateway.asterisk.sandbox import DEFAULT_STATE_DIR, Sandbox, SandboxError, SandboxParams

STATE_ENV = "LINE19_BENCH_SANDBOX_DIR"
DEFAULT_BENCH_DIR = Path("/var/lib/line19/bench-sandbox")
# Ports of the bench sandbox: apart from the default sandbox's (5060, 5038, 4573, 20000-…).
# Every call holds an RTP port pair for about 1.5 s: 5000 pairs are enough past 1000 calls/s.
PARAMS = SandboxParams(
    sip_port=5260, ami_port=5238, agi_port=4873, rtp_start=30000, rtp_end=39999, bench=True
)
RATES = (25, 50, 75, 100, 150, 200, 250, 300, 350, 400, 500, 600, 700, 800)
QUICK_RATES = (25, 50)
IDLE_TIMEOUT_S = 60.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench_sandbox() -> Sandbox:
    state = Path(os.environ.get(STATE_ENV) or DEFAULT_BENCH_DIR)
    if state.resolve() == DEFAULT_STATE_DIR.resolve():
        raise SandboxError(f"{state} is the default sandbox, which others test against")
    return Sandbox(state_dir=state)


def wait_idle(sandbox: Sandbox) -> None:
    """No channel left from the previous step (or from anything else)."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    while True:
        output = sandbox.rx("core show channels count")
        match = re.search(r"(\d+) active channels?", output)
        if match and match.group(1) == "0":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Asterisk still has channels: {output.strip()}")
        time.sleep(0.5)


@dataclass
class Ramp:
    """One dialplan's step ramp against the bench sandbox (and the gateway, for the intake)."""

    sandbox: Sandbox
    extension: str
    seconds: float
    work: Path
    gateway: GatewayProcess | None = None
    number: int = 0  # the next caller number
    recorded: int = 0  # calls in the gateway's database

    def run(self, rates: list[int]) -> list[Step]:
        """Every rate in turn; a failed step is run once more, and a second failure ends it.

        On this shared box a neighbour's burst can spoil one step (a lone late BYE): the
        repeat tells that apart from the rate being too high.
        """
        if self.gateway is not None:
            self.recorded = self.gateway.count_calls()
        steps: list[Step] = []
        for rate in rates:
            step = self.step(rate, attempt=1)
            steps.append(step)
            if not step.clean:
                step.repeated = True
                step = self.step(rate, attempt=2)
                steps.append(step)
                if not step.clean:
                    break
        return steps

    def step(self, rate: int, attempt: int) -> Step:
        wait_idle(self.sandbox)
        time.sleep(1.0)
        messages = self.sandbox.root / "var/log/asterisk/messages.log"
        offset = probes.file_size(messages)
        asterisk_pid = self.sandbox.pid()
        assert asterisk_pid is not None
        meter = probes.CpuMeter(asterisk_pid, self.gateway.pid if self.gateway else None)
        meter.start()
        target = f"127.0.0.1:{PARAMS.sip_port}"
        folder = self.work / f"{self.extension}-{rate}-{attempt}"
        result = run_step(folder, target, self.extension, rate, self.seconds, self.number)
        step = Step(self.extension, result)
        if self.gateway is not None:
            self.recorded = self.gateway.settle(self.recorded + result.created)
            first, end = caller_number(self.number), caller_number(self.number + result.planned)
            step.outcomes = self.gateway.outcomes(first, end)
            step.incidents = self.gateway.incidents_for(first, end)
        step.wall_s, step.asterisk_cpu_s, step.gateway_cpu_s, step.sipp_cpu_s, step.box_cpu_s = (
            meter.read()
        )
        _, step.asterisk_warnings, step.warning_samples = probes.count_warnings(messages, offset)
        self.number += result.planned
        log(f"  {self.extension} {rate}/s (attempt {attempt}): {step.verdict()}")
        for sample in step.warning_samples:
            log(f"    Asterisk: {sample[:200]}")
        return step


def facts(sandbox: Sandbox, command: str, seconds: float) -> Facts:
    return Facts(
        command=command,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        nproc=len(os.sched_getaffinity(0)),
        cpu=probes.cpu_model(),
        asterisk=probes.asterisk_version(sandbox.rx("core show version")),
        sipp=probes.sipp_version(),
        python=platform.python_version(),
        revision="",
        step_seconds=seconds,
        load_before=probes.load_average(),
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.intake_capacity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="update the Intake capacity section of FILE (docs/benchmarks.md)",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke run: rates {QUICK_RATES}, 3 s steps"
    )
    parser.add_argument("--step-seconds", type=float, help="length of a step (default 10 s)")
    parser.add_argument("--rates", help=f"comma-separated call rates (default {RATES})")
    parser.add_argument(
        "--profile", action="store_true", help="sample the gateway with py-spy (intake ramp)"
    )
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rates = [int(r) for r in args.rates.split(",")] if args.rates else None
    rates = rates or list(QUICK_RATES if args.quick else RATES)
    seconds = args.step_seconds or (3.0 if args.quick else 10.0)
    command = shlex.join(["python", "-m", "bench.intake_capacity", *(argv or sys.argv[1:])])
    sandbox = bench_sandbox()
    work = Path(tempfile.mkdtemp(prefix="line19-bench-"))
    log(f"bench sandbox {sandbox.state_dir}, files in {work}")
    gateway: GatewayProcess | None = None
    profiler: Profiler | None = None
    try:
        asterisk_code = probes.code_fingerprint(REPO)  # what up() renders the configs from
        sandbox.up(PARAMS)
        run_facts = facts(sandbox, command, seconds)
        log(f"bench-bare ramp {rates}, {seconds:g} s steps")
        bare = Ramp(sandbox, "bench-bare", seconds, work).run(rates)
        # A fresh database follows queue_log from its start: leave no line of earlier runs.
        sandbox.queue_log_path().open("r+").truncate(0)
        gateway = GatewayProcess(
            work / "gateway", PARAMS.agi_port, PARAMS.ami_port, PARAMS.ami_user,
            sandbox.secrets().ami_secret, sandbox.queue_log_path(),
        )  # fmt: skip
        run_facts.revision = probes.git_revision(REPO)  # the code the gateway loads now
        if probes.code_fingerprint(REPO) != asterisk_code:
            run_facts.revision += " (the tree changed after Asterisk's configs were installed)"
        gateway.start()
        log(f"bench-intake ramp, gateway pid {gateway.pid}, database {gateway.database}")
        if args.profile:
            profiler = Profiler(gateway.pid, work / "gateway-py-spy.txt")
        intake = Ramp(sandbox, "bench-intake", seconds, work, gateway).run(rates)
        peak_rss = probes.status_kib(gateway.pid, "VmHWM")
        run_facts.load_after = probes.load_average()
    finally:
        if profiler is not None:
            profiler.stop()
        if gateway is not None:
            gateway.stop()
        sandbox.down()
    summary = summarize(bare, intake, rates, peak_rss)
    section = markdown(run_facts, summary, bare, intake, profiler.output if profiler else None)
    print(section)
    rows = summary_rows(summary)
    width = max(len(name) for name, _, _ in rows)
    for name, value, goal in rows:
        log(f"{name:{width}}  {value}{f'   (goal {goal})' if goal else ''}")
    if args.write:
        write_section(args.write, section)
        log(f"wrote the section into {args.write}")
    log(f"sipp files, gateway log and database kept in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
