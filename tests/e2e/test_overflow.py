"""A call waiting in a room with no operator ready overflows to the backup room, its
priority kept (real Asterisk: QueueWithdrawCaller, then the dialplan's second Queue())."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.asterisk.sandbox import Sandbox
from tests.e2e.harness import TRUNKS, Gateway, Sipp, caller, wait_for


def test_a_repeat_caller_waiting_in_an_empty_room_overflows_to_the_backup_room_with_its_priority(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway("sqlite", start=False)
    gateway.extra_env["LINE19_OVERFLOW_AFTER_S"] = "3"
    gateway.start()
    operators(["op-sale-1"], hold_ms=1000)  # Salé has an operator ready; Rabat has none
    first = caller(TRUNKS["orange"], "0612340801", 4000, log_dir, "first")  # Orange: Salé
    assert first.wait(60) == 0, first.errors()

    console = sandbox.log_path
    mark = console.stat().st_size
    second = caller(TRUNKS["maroc-telecom"], "0612340801", 12000, log_dir, "second")  # Rabat
    assert second.wait(60) == 0, second.errors()

    def overflowed() -> dict[str, Any] | None:
        calls = [c for c in gateway.call_from("+212612340801") if c["trunk"] == "maroc-telecom"]
        done = calls and calls[0]["status"] == "completed"
        return calls[0] if done else None

    call = wait_for(overflowed, 30, 0.5, "the overflowed call to be completed")
    assert call["priority"] == 5 and "repeat-caller:1" in call["priority_reasons"]
    (move,) = [e for e in call["timeline"] if e["kind"] == "overflowed"]
    assert move["details"]["from"] == "rabat" and move["details"]["to"] == "sale"
    assert move["details"]["waited_s"] >= 3
    assert call["room"] == "sale" and call["operator"] == "op-sale-1"
    log = console.read_bytes()[mark:].decode("utf-8", "replace")
    assert "overflows from rabat to sale with priority 5" in log, log[-2000:]
