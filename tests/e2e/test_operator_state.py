"""Operator state through the real gateway and Asterisk: requests carried over AMI, and the
state right again after Asterisk and the gateway are restarted (re-read from Asterisk)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gateway.asterisk.sandbox import Sandbox
from tests.e2e.harness import (
    TRUNKS,
    Gateway,
    Sipp,
    add_user,
    call_api,
    caller,
    sign_in,
    wait_for,
)


def test_operator_state_is_asterisks_again_after_asterisk_and_the_gateway_restart(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway("sqlite")
    add_user(gateway, "amina", "op-rabat-1")
    operators(["op-rabat-1"], join=False)
    status, token = sign_in(gateway, "amina")
    assert status == 200
    assert call_api(gateway, "POST", "/api/v1/operators/me/login", token)[1]["state"] == "paused"
    assert call_api(gateway, "POST", "/api/v1/operators/me/ready", token)[1]["state"] == "ready"
    status, paused = call_api(gateway, "POST", "/api/v1/operators/me/pause", token,
                              {"reason": "training"})  # fmt: skip
    assert (status, paused["state"], paused["pause_reason"]) == (200, "paused", "training")

    sandbox.stop()
    sandbox.start()  # the member and its pause come back from astdb (persistentmembers)
    wait_for(lambda: gateway.get("/healthz")["ami"] is True, 30, what="AMI back")

    def shown(state: str, reason: str | None) -> bool:
        view = call_api(gateway, "GET", "/api/v1/operators/me", token)[1]
        return bool(view["state"] == state and view["pause_reason"] == reason)

    wait_for(lambda: shown("paused", "training"), 15, what="the pause re-read after Asterisk")

    gateway.stop()  # while the gateway is away, the state changes in Asterisk itself
    sandbox.rx("queue unpause member PJSIP/op-rabat-1")
    gateway.start()
    wait_for(lambda: shown("ready", None), 15, what="the state re-read by a new gateway")


def test_wrong_password_expired_session_and_an_operator_on_the_supervisor_view_are_refused(
    sandbox: Sandbox, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway("sqlite")
    add_user(gateway, "amina", "op-rabat-1")
    status, error = sign_in(gateway, "amina", "not-the-password")
    assert status == 401 and error["error"]["code"] == "invalid-credentials"
    status, token = sign_in(gateway, "amina")
    status, forbidden = call_api(gateway, "GET", "/api/v1/operators", token)
    assert status == 403 and forbidden["error"]["code"] == "forbidden"
    call_api(gateway, "POST", "/api/v1/logout", token)
    status, expired = call_api(gateway, "GET", "/api/v1/operators/me", token)
    assert status == 401 and expired["error"]["code"] == "session-expired"
    status, anonymous = call_api(gateway, "GET", "/api/v1/operators/me")
    assert status == 401 and anonymous["error"]["code"] == "not-authenticated"


def test_an_unreachable_softphone_is_shown_so_and_skipped_not_rung(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway("sqlite")
    add_user(gateway, "chef", "op-rabat-3", role="supervisor")
    gone, _ = operators(["op-rabat-1", "op-rabat-2"], hold_ms=1500)
    gone.stop()  # op-rabat-1's softphone is gone: its qualify OPTIONS go unanswered
    _, token = sign_in(gateway, "chef")

    def state_of(endpoint: str) -> str | None:
        items = call_api(gateway, "GET", "/api/v1/operators", token)[1]["items"]
        return next((i["state"] for i in items if i["endpoint"] == endpoint), None)

    wait_for(lambda: state_of("op-rabat-1") == "unreachable", 30, 0.5,
             "op-rabat-1 shown unreachable")  # fmt: skip
    assert state_of("op-rabat-2") == "ready"
    peer = caller(TRUNKS["maroc-telecom"], "0612340901", 5000, log_dir, "after-gone")
    assert peer.wait(60) == 0, peer.errors()
    call = wait_for(lambda: next(iter(gateway.call_from("+212612340901")), None), 20, 0.5,
                    "the call recorded")  # fmt: skip
    call = wait_for(lambda: (c := gateway.get(f"/api/v1/calls/{call['id']}"))["answered_at"]
                    and c, 20, 0.5, "the call answered")  # fmt: skip
    assert call["operator"] == "op-rabat-2"
    rung = [e["details"].get("operator") for e in call["timeline"]
            if e["kind"] == "operator_ringing"]  # fmt: skip
    assert "op-rabat-1" not in rung and call["hold_time_s"] < 5
