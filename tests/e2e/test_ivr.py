"""The IVR through the real Asterisk, with real RFC 2833 DTMF from sipp callers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from gateway.asterisk.sandbox import Sandbox
from tests.e2e.harness import TRUNKS, Gateway, Sipp, caller, dtmf_caller
from tests.e2e.test_call_path import ALL_OPERATORS, one_call

LANGUAGE_OF_KEY = {"1": "ar", "2": "fr", "3": "zgh", "4": "en"}


def ivr_lines(sandbox: Sandbox) -> dict[str, list[str]]:
    """The dialplan's L19IVR queue_log lines by call: what was set on the channel."""
    lines: dict[str, list[str]] = {}
    for line in sandbox.queue_log_path().read_text(errors="replace").splitlines():
        fields = line.split("|")
        if len(fields) >= 8 and fields[4] == "L19IVR":
            lines[fields[1]] = fields[5:]
    return lines


def test_each_language_choice_ends_on_the_call_and_on_the_channel_and_an_operator_answers(
    sandbox: Sandbox, make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]], log_dir: Path,
) -> None:  # fmt: skip
    gateway = make_gateway(ivr=True)
    operators(ALL_OPERATORS, hold_ms=1500)
    numbers = {key: f"061450000{key}" for key in LANGUAGE_OF_KEY}
    peers = [
        dtmf_caller(TRUNKS["maroc-telecom"], numbers[key], [(1.5, key)], 9000, log_dir,
                    f"caller-key{key}")
        for key in LANGUAGE_OF_KEY
    ]  # fmt: skip
    for peer in peers:
        assert peer.wait(90) == 0, peer.errors()
    channel = ivr_lines(sandbox)
    for key, language in LANGUAGE_OF_KEY.items():
        call = one_call(gateway, "+212" + numbers[key][1:])
        assert call["language"] == language and not call["no_input"] and not call["silent"]
        assert call["operator"].startswith("op-rabat-")
        assert channel[call["external_id"]][:2] == [language, "0"]
        ivr = next(e for e in call["timeline"] if e["kind"] == "ivr_completed")
        assert ivr["details"]["keys"] == key and ivr["details"]["elapsed_s"] < 10


def test_a_caller_who_presses_5_is_marked_silent_goes_ahead_and_is_answered(
    sandbox: Sandbox, make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]], log_dir: Path,
) -> None:  # fmt: skip
    gateway = make_gateway(ivr=True)
    operators(ALL_OPERATORS, hold_ms=1500)
    peer = dtmf_caller(TRUNKS["orange"], "0662666666", [(1.5, "5")], 8000, log_dir, "silent")
    assert peer.wait(90) == 0, peer.errors()
    call = one_call(gateway, "+212662666666")
    assert call["silent"] and call["priority"] == 10
    assert call["priority_reasons"].count("silent-caller") == 1
    assert call["operator"].startswith("op-sale-")
    assert ivr_lines(sandbox)[call["external_id"]] == ["ar", "1", "10"]


def test_a_caller_who_presses_nothing_reaches_an_operator_within_the_bound(
    sandbox: Sandbox, make_gateway: Callable[..., Gateway],
    operators: Callable[..., list[Sipp]], log_dir: Path,
) -> None:  # fmt: skip
    gateway = make_gateway(ivr=True)
    operators(ALL_OPERATORS, hold_ms=1500)
    started = time.monotonic()
    peer = caller(TRUNKS["inwi"], "0612777777", 16000, log_dir, "caller-silent-line")
    assert peer.wait(90) == 0, peer.errors()
    call = one_call(gateway, "+212612777777")
    assert call["no_input"] and not call["silent"] and call["language"] == "ar"
    assert "no-input" in call["priority_reasons"]
    ivr = next(e for e in call["timeline"] if e["kind"] == "ivr_completed")
    assert ivr["details"]["elapsed_s"] <= 10.0  # the IVR's bound
    assert call["operator"].startswith("op-rabat-") and call["hold_time_s"] <= 12
    assert time.monotonic() - started < 40


def test_a_waiting_caller_hears_stay_on_the_line_in_the_language_they_chose(
    sandbox: Sandbox, make_gateway: Callable[..., Gateway], log_dir: Path
) -> None:
    make_gateway(ivr=True)  # no operator: the caller waits in the queue, never a busy tone
    log = sandbox.root / "var/log/asterisk/l19-plays.log"
    log.unlink(missing_ok=True)
    sandbox.rx("logger add channel l19-plays.log verbose(3)")  # names each file played
    try:
        peer = dtmf_caller(TRUNKS["orange"], "0662888888", [(1.5, "2")], 24000, log_dir, "waits")
        assert peer.wait(90) == 0, peer.errors()
    finally:
        sandbox.rx("logger remove channel l19-plays.log")
    played = log.read_text(errors="replace")
    assert "Playing 'line19-stay_on_line" in played and "(language 'fr')" in played
    assert "busy" not in played.lower()
