"""Our strict AGI environment parser agrees with pyst2's (a peer implementation) on what
Asterisk really sends, and disagrees, on purpose, where a caller forges lines."""

from __future__ import annotations

import io
import signal
from pathlib import Path

import pytest
from asterisk.agi import AGI

from gateway.asterisk.agi_env import parse_agi_environment

FIXTURES = Path(__file__).parents[1] / "fixtures" / "agi"


def pyst2_environment(raw: bytes) -> dict[str, str]:
    previous = signal.getsignal(signal.SIGHUP)  # pyst2 installs a SIGHUP handler
    try:
        agi = AGI(stdin=io.StringIO(raw.decode()), stdout=io.StringIO(), stderr=io.StringIO())
    finally:
        signal.signal(signal.SIGHUP, previous)
    return dict(agi.env)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("recorded_*.txt")), ids=lambda p: p.stem)
def test_recorded_environments_parse_the_same_as_with_pyst2(path: Path) -> None:
    raw = path.read_bytes()
    ours = parse_agi_environment(raw.split(b"\n"))
    theirs = pyst2_environment(raw)
    assert ours.complete and not ours.tampered and not ours.anomalies
    assert {key: value.strip() for key, value in ours.fields} == theirs


def test_where_pyst2_lets_a_forged_line_win_ours_keeps_the_genuine_field() -> None:
    raw = (FIXTURES / "recorded_maroc_telecom_mobile.txt").read_bytes()
    forged = raw.replace(
        b"agi_calleridname: Amina\n", b"agi_calleridname: Amina\nagi_extension: evil\n"
    )
    assert pyst2_environment(forged)["agi_extension"] == "s"  # last wins: genuine, here…
    head = raw.replace(
        b"agi_calleridname: Amina\n", b"agi_calleridname: Amina\nagi_uniqueid: 1.666\n"
    )
    assert pyst2_environment(head)["agi_uniqueid"] == "1.666"  # …but a forged id wins there
    ours = parse_agi_environment(head.split(b"\n"))
    assert ours.uniqueid == "1795313145.0" and ours.tampered
