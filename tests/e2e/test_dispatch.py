"""A call through the real Asterisk becomes an incident; the operator confirms it and
dispatches the nearest unit, which acknowledges, goes en route and arrives; the call's
timeline shows every step."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.asterisk.sandbox import Sandbox
from tests.e2e.harness import (
    REPO,
    TRUNKS,
    Gateway,
    Sipp,
    add_user,
    call_api,
    caller_with,
    sign_in,
    wait_for,
)
from tests.e2e.test_location import BY_VALUE, SDP

UNITS = REPO / "tests" / "fixtures" / "units_sample.csv"


def test_a_located_call_becomes_an_incident_whose_nearest_unit_is_dispatched_and_arrives(
    sandbox: Sandbox,
    make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]],
    log_dir: Path,
) -> None:
    gateway = make_gateway("sqlite")
    imported = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "units", "import", str(UNITS), "--on-duty",
         "--database-url", gateway.database_url], capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    add_user(gateway, "amina", "op-rabat-1")
    _, token = sign_in(gateway, "amina")
    operators(["op-rabat-1"], hold_ms=3000)
    body = (f"--b1\nContent-Type: application/sdp\n\n{SDP}\n\n--b1\n"
            "Content-Type: application/pidf+xml\nContent-ID: <d@ims.example.ma>\n\n"
            f"{BY_VALUE}\n--b1--")  # fmt: skip
    peer = caller_with(TRUNKS["maroc-telecom"], "0612341001", 6000, log_dir, "dispatch",
                       headers=["Geolocation: <cid:d@ims.example.ma>"],
                       body=("multipart/mixed;boundary=b1", body))  # fmt: skip

    def located() -> dict[str, Any] | None:
        calls = gateway.call_from("+212612341001")
        return calls[0] if calls and calls[0]["best_location"] else None

    call = wait_for(located, 30, 0.5, "the call and its location")
    incident = f"/api/v1/incidents/{call['incident_id']}"
    assert call_api(gateway, "POST", f"{incident}/confirm", token)[1]["status"] == "confirmed"
    status, proposal = call_api(gateway, "POST", f"{incident}/dispatch", token)
    assert status == 201, proposal
    assert proposal["call_sign"] == "Rabat-M12"  # 0.1 km from the caller's PIDF-LO point
    assignment = f"/api/v1/assignments/{proposal['assignment_id']}/acknowledge"
    assert call_api(gateway, "POST", assignment, token)[0] == 200
    unit = f"/api/v1/units/{proposal['unit_id']}/status"
    for event in ("en_route", "on_scene"):
        status, moved = call_api(gateway, "POST", unit, token,
                                 {"event": event, "incident_id": call["incident_id"]})  # fmt: skip
        assert (status, moved["state"]) == (200, event), moved
    assert peer.wait(60) == 0, peer.errors()
    timeline = [e["kind"] for e in gateway.get(f"/api/v1/calls/{call['id']}")["timeline"]]
    for step in ("received", "queued", "answered", "incident_confirmed",
                 "incident_dispatched", "incident_on_scene"):  # fmt: skip
        assert step in timeline, timeline
    assert gateway.get(incident)["status"] == "on_scene"
