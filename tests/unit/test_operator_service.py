"""The operator service against a fake AMI (the real one is in tests/e2e and tests/browser)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.asterisk.ami_protocol import AmiMessage
from gateway.services.live import LiveHub
from gateway.services.operators import OperatorError, OperatorService


def message(kind: str, **fields: str) -> AmiMessage:
    return AmiMessage(((kind, fields.pop("name")), *fields.items()))


class FakeAmi:
    """Answers the actions the way app_queue does, keeping one member table."""

    def __init__(self) -> None:
        self.members: dict[str, dict[str, str]] = {}
        self.actions: list[tuple[str, dict[str, str]]] = []

    async def send_action(self, name: str, fields: dict[str, str]) -> AmiMessage:
        self.actions.append((name, fields))
        interface = fields.get("Interface", "")
        if name == "QueueAdd":
            if interface in self.members:
                return message("Response", name="Error",
                               Message="Unable to add interface: Already there")  # fmt: skip
            self.members[interface] = {"Queue": fields["Queue"], "Paused": "1",
                                       "PausedReason": fields.get("Reason", "")}  # fmt: skip
        elif name == "QueuePause":
            entry = self.members[interface]
            entry["Paused"] = "1" if fields["Paused"] == "true" else "0"
            entry["PausedReason"] = fields.get("Reason", "")
        elif name == "QueueRemove":
            self.members.pop(interface)
        return message("Response", name="Success")

    async def send_list_action(self, name: str, fields: dict[str, str], complete: str
                               ) -> list[AmiMessage]:  # fmt: skip
        wanted = fields.get("Member")
        return [
            message(
                "Event", name="QueueMember", Location=interface, Status="1", InCall="0", **entry
            )
            for interface, entry in self.members.items()
            if wanted in (None, interface)
        ]


@pytest.fixture
def service() -> tuple[OperatorService, FakeAmi, LiveHub]:
    hub = LiveHub()
    operators = OperatorService(database=None, hub=hub)  # type: ignore[arg-type]
    ami = FakeAmi()
    operators.attach(ami)  # type: ignore[arg-type]
    return operators, ami, hub


async def test_login_ready_pause_wrapup_logout_show_what_asterisk_reports(
    service: tuple[OperatorService, FakeAmi, LiveHub],
) -> None:
    operators, ami, hub = service
    stream = hub.open("op-rabat-1")
    assert (await operators.login("op-rabat-1", "rabat")).state.value == "paused"
    assert (await operators.ready("op-rabat-1")).state.value == "ready"
    paused = await operators.pause("op-rabat-1", "break")
    assert (paused.state.value, paused.pause_reason) == ("paused", "break")
    assert (await operators.wrapup("op-rabat-1")).state.value == "wrapup"
    assert (await operators.logout("op-rabat-1")).state.value == "logged_out"
    assert [name for name, _ in ami.actions] == [
        "QueueAdd", "QueuePause", "QueuePause", "QueuePause", "QueueRemove"]  # fmt: skip
    frames = [stream.get_nowait() for _ in range(stream.qsize())]
    assert len(frames) == 5 and all(f.startswith("event: operator_state") for f in frames)


async def test_a_second_login_is_harmless_and_a_pause_before_login_is_refused(
    service: tuple[OperatorService, FakeAmi, LiveHub],
) -> None:
    operators, _, _ = service
    await operators.login("op-rabat-1", "rabat")
    assert (await operators.login("op-rabat-1", "rabat")).state.value == "paused"
    with pytest.raises(OperatorError, match="log in first"):
        await operators.pause("op-sale-1", "break")


async def test_member_events_move_the_state_and_a_resync_restores_it(
    service: tuple[OperatorService, FakeAmi, LiveHub],
) -> None:
    operators, ami, _ = service
    await operators.on_ami_event(message("Event", name="QueueMemberStatus", Queue="rabat",
        Interface="PJSIP/op-rabat-2", Status="6", Paused="0", InCall="0"))  # fmt: skip
    assert operators.view("op-rabat-2").state.value == "ringing"
    ami.members["PJSIP/op-rabat-2"] = {"Queue": "rabat", "Paused": "1", "PausedReason": "break"}
    await operators.resync()
    assert operators.view("op-rabat-2").state.value == "paused"
    ami.members.clear()
    await operators.resync()
    assert operators.view("op-rabat-2").state.value == "logged_out"


async def test_without_ami_a_request_gets_a_clear_error() -> None:
    operators = OperatorService(database=None, hub=LiveHub())  # type: ignore[arg-type]
    with pytest.raises(OperatorError, match="not configured"):
        await operators.login("op-rabat-1", "rabat")


def test_a_slow_page_loses_its_oldest_events_never_blocks_the_publisher() -> None:
    hub = LiveHub()
    stream = hub.open("op-rabat-1")
    for n in range(300):
        hub.publish("op-rabat-1", "tick", {"n": n})
    first: Any = stream.get_nowait()
    assert stream.qsize() == 255 and '"n": 44' in first
