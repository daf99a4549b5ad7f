"""The AMI link to the real Asterisk: health, and reconnection after a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gateway.asterisk.sandbox import Sandbox
from tests.e2e.harness import TRUNKS, Gateway, Sipp, caller, wait_for
from tests.e2e.test_call_path import ALL_OPERATORS, one_call


def test_the_ami_link_comes_back_by_itself_after_asterisk_restarts(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway()
    assert gateway.get("/healthz") == {"status": "ok", "database": True, "ami": True}
    sandbox.stop()
    wait_for(lambda: gateway.get("/healthz")["ami"] is False, 15, what="AMI seen down")
    assert gateway.get("/healthz")["status"] == "degraded"
    sandbox.start()
    wait_for(lambda: gateway.get("/healthz")["ami"] is True, 30, what="AMI back")
    log = gateway.log_path.read_text()
    assert log.count("AMI connected") >= 2
    assert "AMI disconnected" in log and "retry in" in log

    operators(ALL_OPERATORS, hold_ms=1000)
    peer = caller(TRUNKS["maroc-telecom"], "0612444444", 4000, log_dir, "caller-after")
    assert peer.wait(60) == 0, peer.errors()
    call = one_call(gateway, "+212612444444")
    ringing = [e for e in call["timeline"] if e["kind"] == "operator_ringing"]
    assert ringing and ringing[0]["source"] == "ami"  # live events flow again
