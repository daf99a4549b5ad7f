"""Figures of one intake-capacity run: the per-step rows, the summary, and their Markdown."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.profile import markdown_rows as profile_rows
from bench.sipp_step import StepResult, percentile

SECTION = "## Intake capacity (issue 2)"
HEADER = "# Benchmarks\n\nMeasured figures only; each section names the command that produced it.\n"
RATIO_GOAL = 0.85
CPU_GOAL_MS = 2.0
RSS_GOAL_MB = 150.0


@dataclass
class Step:
    dialplan: str  # bench-bare | bench-intake
    sipp: StepResult
    wall_s: float = 0.0  # from the step's start to its calls recorded (intake)
    asterisk_cpu_s: float = 0.0
    gateway_cpu_s: float = 0.0
    sipp_cpu_s: float = 0.0
    box_cpu_s: float = 0.0
    asterisk_warnings: int = 0
    warning_samples: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    incidents: int = 0
    repeated: bool = False  # failed, and was run once more

    @property
    def intake(self) -> bool:
        return self.dialplan == "bench-intake"

    @property
    def completed(self) -> int:
        return self.outcomes.get("completed", 0)

    @property
    def completed_share(self) -> float:
        return self.completed / self.sipp.successful if self.sipp.successful else 0.0

    @property
    def clean(self) -> bool:
        return self.sipp.clean and not self.intake_problems()

    def intake_problems(self) -> list[str]:
        if not self.intake:
            return []
        problems = []
        if self.completed < self.sipp.successful:
            problems.append(f"intake completed for {self.completed}/{self.sipp.successful}")
        if self.incidents < self.completed:
            problems.append(f"{self.incidents} draft incidents for {self.completed} calls")
        return problems

    def verdict(self) -> str:
        problems = self.sipp.problems + self.intake_problems()
        verdict = "clean" if not problems else "; ".join(problems)
        return verdict + (" (repeated)" if self.repeated else "")

    @property
    def other_cpu_s(self) -> float:
        """CPU the rest of the box used meanwhile (other users of this shared machine)."""
        return max(0.0, self.box_cpu_s - self.asterisk_cpu_s - self.gateway_cpu_s - self.sipp_cpu_s)

    def cores(self, seconds: float) -> float:
        return seconds / self.wall_s if self.wall_s else 0.0

    @property
    def asterisk_ms_per_call(self) -> float:
        return 1000 * self.asterisk_cpu_s / self.sipp.successful if self.sipp.successful else 0.0

    @property
    def all_ms_per_call(self) -> float:
        spent = self.asterisk_cpu_s + self.gateway_cpu_s + self.sipp_cpu_s
        return 1000 * spent / self.sipp.successful if self.sipp.successful else 0.0

    @property
    def gateway_ms_per_call(self) -> float | None:
        return 1000 * self.gateway_cpu_s / self.completed if self.completed else None


@dataclass
class Facts:
    command: str
    date: str
    nproc: int
    cpu: str
    asterisk: str
    sipp: str
    python: str
    revision: str
    step_seconds: float
    load_before: str
    load_after: str = ""


@dataclass
class Summary:
    bare_rate: int | None
    intake_rate: int | None
    both_rate: int | None  # the highest rate both passed
    capped: bool  # the bare ramp never failed: its rate is a lower bound
    bare_at: Step | None
    intake_at: Step | None
    gateway_ms_per_call: float | None
    peak_rss_mb: float | None

    @property
    def ratio(self) -> float | None:
        if self.bare_rate and self.intake_rate is not None:
            return self.intake_rate / self.bare_rate
        return None


def highest_clean(steps: list[Step]) -> int | None:
    """The last rate of the ramp that passed (a repeated step passed at its second try)."""
    best = None
    for step in steps:
        if step.repeated:
            continue
        if not step.clean:
            break
        best = step.sipp.rate
    return best


def summarize(
    bare: list[Step], intake: list[Step], rates: list[int], peak_rss_kib: int | None
) -> Summary:
    bare_rate, intake_rate = highest_clean(bare), highest_clean(intake)
    both = min(bare_rate, intake_rate) if bare_rate and intake_rate else None
    clean_intake = [s for s in intake if s.clean]
    completed = sum(s.completed for s in clean_intake)
    return Summary(
        bare_rate=bare_rate,
        intake_rate=intake_rate,
        both_rate=both,
        capped=len(bare) == len(rates) and all(s.clean for s in bare),
        bare_at=next((s for s in bare if s.sipp.rate == both and s.clean), None),
        intake_at=next((s for s in intake if s.sipp.rate == both and s.clean), None),
        gateway_ms_per_call=(
            1000 * sum(s.gateway_cpu_s for s in clean_intake) / completed if completed else None
        ),
        peak_rss_mb=peak_rss_kib / 1024 if peak_rss_kib else None,
    )


def _ms(value: int | None) -> str:
    return "–" if value is None else f"{value}"


def _p(step: Step | None, which: str, share: float) -> int | None:
    if step is None:
        return None
    return percentile(step.sipp.answer_ms if which == "answer" else step.sipp.hangup_ms, share)


def _added(summary: Summary, which: str) -> str:
    bare, intake = _p(summary.bare_at, which, 0.95), _p(summary.intake_at, which, 0.95)
    return "–" if bare is None or intake is None else f"{intake - bare:+d} ms"


def _goal(ok: bool | None) -> str:
    return "" if ok is None else (" ✓" if ok else " ✗ missed")


def summary_rows(s: Summary) -> list[tuple[str, str, str]]:
    """(figure, measured value, goal) for the summary table."""
    at = f"at {s.both_rate}/s" if s.both_rate else "(no rate both passed)"
    cap = " (≥: the ramp's last rate passed)" if s.capped else ""
    rows = [
        ("highest clean rate, bench-bare", f"{_ms(s.bare_rate)} calls/s{cap}", ""),
        ("highest clean rate, bench-intake", f"{_ms(s.intake_rate)} calls/s", ""),
    ]
    ratio = s.ratio
    bound = "≤ " if s.capped else ""  # the bare rate is only a lower bound
    ratio_text = "–" if ratio is None else f"{bound}{ratio:.2f}{_goal(ratio >= RATIO_GOAL)}"
    rows.append(("ratio intake / bare", ratio_text, f"≥ {RATIO_GOAL}"))
    for which, label in (("answer", "INVITE→200"), ("hangup", "INVITE→BYE")):
        bare, intake = _p(s.bare_at, which, 0.95), _p(s.intake_at, which, 0.95)
        value = f"{_ms(bare)} / {_ms(intake)} ms (intake adds {_added(s, which)})"
        rows.append((f"p95 {label} {at}, bare / intake", value, ""))
    if s.intake_at is not None:
        step = s.intake_at
        share = f"{100 * step.completed_share:.1f} % ({step.completed}/{step.sipp.successful})"
        rows.append((f"calls whose intake completed {at}", share, "100 %"))
    if s.bare_at is not None and s.intake_at is not None:
        bare_ms = s.bare_at.asterisk_ms_per_call
        intake_ms = s.intake_at.asterisk_ms_per_call
        value = f"{bare_ms:.2f} / {intake_ms:.2f} ms (intake adds {intake_ms - bare_ms:+.2f} ms)"
        rows.append((f"Asterisk CPU per call {at}, bare / intake", value, ""))
        bare_all, intake_all = s.bare_at.all_ms_per_call, s.intake_at.all_ms_per_call
        value = f"{bare_all:.2f} / {intake_all:.2f} ms (ratio {bare_all / intake_all:.2f})"
        rows.append((f"CPU per call of Asterisk + gateway + sipp {at}, bare / intake", value, ""))
    cpu = s.gateway_ms_per_call
    cpu_text = "–" if cpu is None else f"{cpu:.2f} ms{_goal(cpu <= CPU_GOAL_MS)}"
    rows.append(("gateway CPU per call (clean intake steps)", cpu_text, f"≤ {CPU_GOAL_MS} ms"))
    rss = s.peak_rss_mb
    rss_text = "–" if rss is None else f"{rss:.0f} MB{_goal(rss <= RSS_GOAL_MB)}"
    rows.append(("gateway peak RSS (VmHWM)", rss_text, f"≤ {RSS_GOAL_MB:.0f} MB"))
    return rows


STEP_HEADER = (
    "| rate/s | ok/calls | failed/retrans/unexp. | sent/s | INVITE→200 p50/p95/p99 ms "
    "| INVITE→BYE p50/p95 ms | cores: Asterisk/gateway/sipp/others | Asterisk warnings "
    "| intake completed | gateway ms/call | verdict |"
)
STEP_COLUMNS = 11


def step_row(step: Step) -> str:
    r = step.sipp
    answer = "/".join(_ms(percentile(r.answer_ms, q)) for q in (0.5, 0.95, 0.99))
    hangup = "/".join(_ms(percentile(r.hangup_ms, q)) for q in (0.5, 0.95))
    gateway = f"{step.cores(step.gateway_cpu_s):.2f}" if step.intake else "–"
    cores = (
        f"{step.cores(step.asterisk_cpu_s):.2f}/{gateway}/"
        f"{step.cores(step.sipp_cpu_s):.2f}/{step.cores(step.other_cpu_s):.2f}"
    )
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(step.outcomes.items()))
    per_call = step.gateway_ms_per_call
    cells = [
        str(r.rate), f"{r.successful}/{r.planned}",
        f"{r.failed}/{r.retransmissions}/{r.unexpected}", f"{r.achieved_rate:.0f}",
        answer, hangup, cores, str(step.asterisk_warnings),
        f"{step.completed}/{r.successful} ({outcomes or 'none'})" if step.intake else "–",
        "–" if per_call is None else f"{per_call:.2f}",
        step.verdict(),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def markdown(
    facts: Facts, summary: Summary, bare: list[Step], intake: list[Step], profile: Path | None
) -> str:
    lines = [
        SECTION,
        "",
        f"Command: `{facts.command}` (root: it runs its own Asterisk sandbox). "
        f"Run on {facts.date}.",
        "",
        f"Machine: {facts.nproc} CPUs ({facts.cpu}), shared with other work (load average "
        f"{facts.load_before} before, {facts.load_after} after); Asterisk {facts.asterisk} "
        f"(Debian unstable chroot sandbox), sipp {facts.sipp}, Python {facts.python}; "
        f"gateway at {facts.revision}, on a SQLite file database.",
        "",
        "Method: sipp callers from the three carrier addresses (127.0.0.2/.3/.4, a third of "
        f"the rate each), {facts.step_seconds:g} s steps, every call with its own caller "
        "number (0660000000, 0660000001 …). `bench-bare` is Answer, Wait(1), Hangup; "
        "`bench-intake` is the same with the real FastAGI intake in between, answered by "
        "`line19 serve` (AMI logged in, queue_log followed, each call and its draft incident "
        "written to the database). A step fails on a failed call, an unexpected message, more "
        "than 1 % INVITE retransmissions, or (intake) a call whose intake did not complete; "
        "a failed step is run once more (marked repeated), and the ramp ends when it fails "
        "again. INVITE→BYE includes Answer()'s 500 ms wait for media (sipp "
        "sends none) and the dialplan's Wait(1): the intake's own time shows as the "
        "difference between the two dialplans. The box is a shared, noisy 2-core machine, "
        "so both dialplans are measured in the same run and compared as a ratio; the "
        "absolute rates move from run to run.",
        "",
        "| figure | measured | goal |",
        "|---|---|---|",
        *(f"| {name} | {value} | {goal} |" for name, value, goal in summary_rows(summary)),
        "",
    ]
    for name, steps in (("bench-bare", bare), ("bench-intake", intake)):
        lines += [f"Steps, `{name}`:", "", STEP_HEADER, "|" + "---|" * STEP_COLUMNS]
        lines += [step_row(step) for step in steps]
        lines.append("")
    lines += [
        "Cores are CPU seconds over the step's wall time (sipp waits for the last call to "
        'end, about 2 s after the last INVITE); "others" is the rest of the box (other users '
        "of the machine). Gateway ms/call is its utime + stime (/proc/PID/stat) over the step "
        "divided by the calls whose intake completed. sipp's response times come from a "
        "coarse clock (multiples of 4 ms on this box).",
        "",
    ]
    if profile is not None and profile.exists():
        lines += [
            "Where the gateway's CPU went over the intake ramp (`--profile`: py-spy "
            "`--gil --nonblocking` at 100 Hz, so Python's CPU only; each busy sample counted "
            "in the layer of its innermost frame):",
            "",
            *profile_rows(profile),
            "",
        ]
    return "\n".join(lines)


def write_section(path: Path, section: str, heading: str = SECTION) -> None:
    """Replace the section `heading` (up to the next `## ` heading) in path, or append it."""
    text = path.read_text() if path.exists() else HEADER
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")
