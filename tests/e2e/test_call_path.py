"""A call to 19 through the real Asterisk: recorded, queued, answered, even without us."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.asterisk.sandbox import Sandbox
from tests.e2e.harness import TRUNKS, UNIDENTIFIED, Gateway, Sipp, caller, wait_for

ALL_OPERATORS = ["op-rabat-1", "op-rabat-2", "op-rabat-3", "op-sale-1", "op-sale-2"]
ROOM_OF_TRUNK = {"maroc-telecom": "rabat", "orange": "sale", "inwi": "rabat"}
CARRIER_OF_TRUNK = {"maroc-telecom": "Maroc Telecom", "orange": "Orange", "inwi": "inwi"}


def finished(call: dict[str, Any]) -> bool:
    return call["status"] in {"completed", "abandoned"}


def one_call(
    gateway: Gateway, e164: str, timeout: float = 30, intake: str = "completed"
) -> dict[str, Any]:
    """The one call from this number, once finished and its intake recorded as expected."""

    def done() -> dict[str, Any] | None:
        calls = gateway.call_from(e164)
        if len(calls) == 1 and finished(calls[0]) and calls[0]["intake"] == intake:
            return calls[0]
        return None

    return wait_for(done, timeout, 0.5, f"the call from {e164} to be completed")


def assert_succeeded(peer: Sipp, timeout: float = 60) -> None:
    assert peer.wait(timeout) == 0, peer.errors()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_call_on_each_trunk_is_answered_and_recorded_with_carrier_number_room_and_timeline(
    backend: str,
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway(backend)
    operators(ALL_OPERATORS, hold_ms=1500)
    numbers = {"maroc-telecom": "0612000001", "orange": "0662000002", "inwi": "0537000003"}
    peers = [caller(TRUNKS[t], numbers[t], 8000, log_dir, f"caller-{t}") for t in TRUNKS]
    for peer in peers:
        assert_succeeded(peer)
    for trunk, number in numbers.items():
        call = one_call(gateway, "+212" + number[1:])
        assert call["trunk"] == trunk and call["carrier"] == CARRIER_OF_TRUNK[trunk]
        assert call["room"] == ROOM_OF_TRUNK[trunk] and call["intake"] == "completed"
        assert call["incident_id"] and call["channel"].startswith(f"PJSIP/{trunk}-")
        assert call["operator"].startswith(f"op-{ROOM_OF_TRUNK[trunk]}-")
        assert call["hold_time_s"] is not None and call["talk_time_s"] > 0
        kinds = [e["kind"] for e in call["timeline"]]
        assert kinds[:2] == ["received", "queued"]
        assert "operator_ringing" in kinds and kinds[-2:] == ["answered", "completed"]
    assert gateway.call_from("+212537000003")[0]["caller"]["number_type"] == "fixed_line"


def test_five_callers_three_operators_two_wait_and_the_repeat_caller_is_answered_first(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway()
    operators(["op-rabat-1", "op-rabat-2", "op-rabat-3"], hold_ms=8000)
    maroc = TRUNKS["maroc-telecom"]
    first = []
    for n in range(3):  # staggered, so that the operators free up one at a time
        first.append(caller(maroc, f"061300000{n}", 25000, log_dir, f"caller-{n}"))
        wait_for(
            lambda n=n: sum(c["status"] == "answered" for c in gateway.calls()) == n + 1,
            20,
            0.2,
            f"{n + 1} calls answered",
        )
        time.sleep(1.0)
    newcomer = caller(maroc, "0613999999", 30000, log_dir, "caller-new")
    wait_for(lambda: gateway.call_from("+212613999999"), 10, 0.3, "the newcomer queued")
    time.sleep(0.5)
    repeat = caller(maroc, "0613000000", 30000, log_dir, "caller-repeat")  # called 1 min ago
    for peer in [*first, newcomer, repeat]:
        assert_succeeded(peer, 90)
    new = one_call(gateway, "+212613999999")
    again = [c for c in gateway.call_from("+212613000000") if c["caller"]["repeat_count_24h"]]
    assert len(again) == 1
    again_call = again[0]
    assert again_call["priority"] > new["priority"]
    assert again_call["priority_reasons"] == ["repeat-caller:1"]
    assert again_call["answered_at"] < new["answered_at"]
    assert new["received_at"] < again_call["received_at"]
    assert new["hold_time_s"] >= 1 and again_call["hold_time_s"] >= 1  # both waited


def test_a_call_is_answered_while_the_gateway_is_down_and_recorded_when_it_is_back(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway(start=False)
    operators(ALL_OPERATORS, hold_ms=1500)
    peer = caller(TRUNKS["orange"], "0662111111", 5000, log_dir, "caller-down")
    assert_succeeded(peer)  # answered by an operator with no gateway at all
    gateway.start()
    call = one_call(gateway, "+212662111111", intake="failed_open")
    assert call["intake"] == "failed_open" and call["room"] == "sale"
    assert call["trunk"] == "orange" and call["carrier"] == "Orange"
    assert call["incident_id"] and call["operator"].startswith("op-sale-")
    assert [e["kind"] for e in call["timeline"]] == [
        "failed_open",
        "queued",
        "answered",
        "completed",
    ]


def test_a_frozen_gateway_does_not_strand_the_caller(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway()
    operators(ALL_OPERATORS, hold_ms=1500)
    gateway.freeze()  # accepts TCP (the kernel does), never answers
    try:
        started = time.monotonic()
        peer = caller(TRUNKS["inwi"], "0612222222", 9000, log_dir, "caller-frozen")
        assert_succeeded(peer)
        assert time.monotonic() - started < 30
    finally:
        gateway.thaw()
    call = one_call(gateway, "+212612222222", intake="failed_open")
    assert call["intake"] == "failed_open" and call["room"] == "rabat"
    assert call["operator"].startswith("op-rabat-")


def test_a_call_from_an_unidentified_address_never_reaches_the_19_context(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway()
    peer = caller(UNIDENTIFIED, "0612333333", 2000, log_dir, "caller-unknown")
    assert peer.wait(60) != 0
    messages = (log_dir / "caller-unknown_messages.log").read_text(errors="replace")
    assert "SIP/2.0 401" in messages or "SIP/2.0 403" in messages
    assert "SIP/2.0 200" not in messages
    time.sleep(1.5)  # a queue_log poll or two
    assert gateway.call_from("+212612333333") == []
    assert "L19" not in sandbox.queue_log_path().read_text()


@pytest.mark.parametrize(
    ("number", "name", "status"),
    [
        ("anonymous", "Anonymous", "withheld"),
        ("x1y2z3..", "<script>|x", "malformed"),
        ("0033612345678", "Touriste", "valid"),
    ],
)
def test_withheld_garbage_and_foreign_caller_ids_are_queued_like_any_other(
    number: str,
    name: str,
    status: str,
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway()
    operators(ALL_OPERATORS, hold_ms=1000)
    peer = caller(TRUNKS["maroc-telecom"], number, 5000, log_dir, "caller-odd", caller_name=name)
    assert_succeeded(peer)

    def recorded() -> dict[str, Any] | None:
        calls = [c for c in gateway.calls() if finished(c)]
        return gateway.get(f"/api/v1/calls/{calls[0]['id']}") if calls else None

    call = wait_for(recorded, 30, 0.5, "the call to be recorded")
    assert call["caller"]["status"] == status and call["intake"] == "completed"
    assert call["room"] == "rabat" and call["operator"].startswith("op-rabat-")
    assert call["caller"]["foreign"] is (status == "valid")


def test_a_caller_who_hangs_up_while_waiting_is_recorded_as_abandoned_with_the_wait(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    log_dir: Path,
) -> None:
    gateway = make_gateway()  # no operator is running: the call waits, it is not refused
    peer = caller(TRUNKS["orange"], "0662555555", 4000, log_dir, "caller-gives-up")
    assert_succeeded(peer)
    call = wait_for(
        lambda: next((c for c in gateway.call_from("+212662555555")
                      if c["status"] == "abandoned"), None),
        30, 0.5, "the call to be abandoned",
    )  # fmt: skip
    assert call["room"] == "sale" and call["operator"] is None
    assert call["wait_time_s"] is not None and call["wait_time_s"] >= 2
    kinds = [e["kind"] for e in call["timeline"]]
    assert kinds[:2] == ["received", "queued"] and kinds[-1] == "abandoned"
    assert "answered" not in kinds  # an operator whose phone just went may still be rung
