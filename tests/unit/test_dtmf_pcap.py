"""tests/sipp/dtmf_pcap.py: one continuous RTP stream with RFC 4733 digits, read back."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

import pytest

from tests.sipp.dtmf_pcap import (
    DEFAULT_VOLUME,
    PCMU,
    PCMU_SILENCE,
    SAMPLES_PER_PACKET,
    TELEPHONE_EVENT,
    RtpPacket,
    ScheduleError,
    build_stream,
    events,
    main,
    parse_schedule,
    read_pcap,
    write_pcap,
)

TICK_S = 0.02


def written(tmp_path: Path, packets: list[RtpPacket]) -> list[RtpPacket]:
    path = tmp_path / "keys.pcap"
    write_pcap(path, packets)
    return read_pcap(path)


def assert_continuous(packets: list[RtpPacket]) -> None:
    """One SSRC, a sequence number growing by one, a packet every 20 ms from 0."""
    assert len({p.ssrc for p in packets}) == 1
    for n, (before, after) in enumerate(itertools.pairwise(packets)):
        assert after.sequence == (before.sequence + 1) % 65536, n
        assert after.at_s == pytest.approx(before.at_s + TICK_S), n
    assert packets[0].at_s == 0


def event_runs(packets: list[RtpPacket]) -> list[list[RtpPacket]]:
    runs: dict[int, list[RtpPacket]] = {}
    for packet in packets:
        if packet.payload_type == TELEPHONE_EVENT:
            runs.setdefault(packet.timestamp, []).append(packet)
    return list(runs.values())


def test_two_digits_read_back_as_one_continuous_stream(tmp_path: Path) -> None:
    packets = build_stream([(2.5, "2"), (6.0, "5")])
    back = written(tmp_path, packets)
    assert back == packets
    assert_continuous(back)
    assert events(back) == [(2.5, "2"), (6.0, "5")]
    assert {p.payload_type for p in back} == {PCMU, TELEPHONE_EVENT}
    # Until 1 s after the last event (6.0 s + 10 packets of 20 ms).
    assert back[-1].at_s == pytest.approx(6.2 + 1.0 - TICK_S)


def test_audio_keeps_the_media_clock_and_events_carry_their_start(tmp_path: Path) -> None:
    back = written(tmp_path, build_stream([(2.5, "2"), (6.0, "5")]))
    for packet in back:
        tick = round(packet.at_s / TICK_S)
        if packet.payload_type == PCMU:
            assert packet.timestamp == tick * SAMPLES_PER_PACKET
            assert packet.payload == PCMU_SILENCE
    starts = [run[0].timestamp for run in event_runs(back)]
    assert starts == [round(2.5 / TICK_S) * 160, round(6.0 / TICK_S) * 160]
    first_audio_after = next(p for p in back if p.at_s > 2.5 and p.payload_type == PCMU)
    assert first_audio_after.at_s == pytest.approx(2.7)  # 8 updates + 2 repeats of the end
    assert first_audio_after.marker  # a new talkspurt after the event
    assert back[0].marker and sum(p.marker for p in back if p.payload_type == PCMU) == 3


def test_each_event_follows_rfc_4733(tmp_path: Path) -> None:
    back = written(tmp_path, build_stream([(1.0, "#")], event_ms=160))
    (run,) = event_runs(back)
    decoded = [p.event for p in run]
    assert all(e is not None for e in decoded)
    codes = {e.code for e in decoded if e}
    assert codes == {11}
    assert [e.duration for e in decoded if e] == [160 * n for n in range(1, 9)] + [1280, 1280]
    assert [e.end for e in decoded if e] == [False] * 7 + [True] * 3
    assert {e.volume for e in decoded if e} == {DEFAULT_VOLUME}
    assert [p.marker for p in run] == [True] + [False] * 9
    assert len({p.sequence for p in run}) == 10  # the repeats have their own numbers
    assert all(len(p.payload) == 4 for p in run)


def test_a_repeated_digit_is_two_events(tmp_path: Path) -> None:
    back = written(tmp_path, build_stream([(2.5, "1"), (4.0, "1")]))
    assert_continuous(back)
    assert events(back) == [(2.5, "1"), (4.0, "1")]
    first, second = event_runs(back)
    assert second[0].timestamp > first[0].timestamp
    assert second[0].sequence > first[-1].sequence


def test_events_only(tmp_path: Path) -> None:
    back = written(tmp_path, build_stream([(0.5, "9"), (1.0, "D")], audio=False))
    assert {p.payload_type for p in back} == {TELEPHONE_EVENT}
    assert [p.sequence for p in back] == list(range(1, 21))
    # Like sipp, which sends the first packet at once, reading counts from the first one.
    assert events(back) == [(0.0, "9"), (0.5, "D")]


def test_times_round_up_to_the_next_packet_and_the_schedule_is_sorted() -> None:
    packets = build_stream([(3.0, "a"), (0.51, "*")])
    assert events(packets) == [(0.52, "*"), (3.0, "A")]


def test_duration_and_wrapping_counters() -> None:
    packets = build_stream([], duration_s=2.0, first_sequence=65530, first_timestamp=2**32 - 320)
    assert len(packets) == 100
    assert [p.sequence for p in packets[:8]] == [65530, 65531, 65532, 65533, 65534, 65535, 0, 1]
    assert [p.timestamp for p in packets[:3]] == [2**32 - 320, 2**32 - 160, 0]
    # A duration shorter than the schedule never cuts an event.
    short = build_stream([(1.0, "5")], duration_s=0.5)
    assert short[-1].event is not None and short[-1].event.end


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ([(1.0, "E")], "not a DTMF digit"),
        ([(1.0, "12")], "not a DTMF digit"),
        ([(1.0, "")], "not a DTMF digit"),
        ([(1.0, "1"), (1.1, "2")], "too close"),
        ([(-1.0, "1")], "not a DTMF digit"),
    ],
)
def test_bad_schedules_are_refused(schedule: list[tuple[float, str]], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        build_stream(schedule)


def test_parse_schedule() -> None:
    assert parse_schedule(["2.5:2", "6:5", "7:#"]) == [(2.5, "2"), (6.0, "5"), (7.0, "#")]
    for bad in ("2.5", "x:1", "-1:2", "nan:1"):
        with pytest.raises(ScheduleError):
            parse_schedule([bad])


def test_the_file_is_a_classic_ethernet_pcap_with_valid_checksums(tmp_path: Path) -> None:
    path = tmp_path / "keys.pcap"
    write_pcap(path, build_stream([(0.1, "3")], duration_s=0.5))
    data = path.read_bytes()
    magic, major, minor, _zone, _figs, snaplen, link = struct.unpack_from("<IHHiIII", data)
    assert (magic, major, minor, snaplen, link) == (0xA1B2C3D4, 2, 4, 65535, 1)
    offset = 24
    while offset < len(data):
        _sec, _usec, length, original = struct.unpack_from("<IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        assert length == original == len(frame)
        ip, udp = frame[14:34], frame[34:]
        assert struct.unpack("!H", ip[2:4])[0] == len(ip) + len(udp)
        assert struct.unpack("!H", udp[4:6])[0] == len(udp)
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, len(udp))
        assert ones_complement_sum(pseudo + udp) == 0xFFFF
        assert ones_complement_sum(ip) == 0xFFFF


def ones_complement_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "keys.pcap"
    assert main([str(path), "2.5:1", "4.0:1", "--duration", "6"]) == 0
    assert "digit 1" in capsys.readouterr().out
    assert main(["--dump", str(path)]) == 0
    out = capsys.readouterr().out
    assert "300 packets over 6.00 s" in out and "4.000 s  digit 1" in out
    assert main([str(path), "1:1", "1.1:2"]) == 1
    assert "too close" in capsys.readouterr().err
