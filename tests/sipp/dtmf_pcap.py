"""One continuous RTP stream with RFC 4733 DTMF events, as a pcap file for sipp to play.

    python tests/sipp/dtmf_pcap.py OUT.pcap 2.5:2 6.0:5          # "2" at 2.5 s, "5" at 6 s
    python tests/sipp/dtmf_pcap.py OUT.pcap 2.5:1 4.0:1 --duration 12
    python tests/sipp/dtmf_pcap.py --dump OUT.pcap                 # what a file holds

The shipped `/usr/share/sip-tester/dtmf_2833_*.pcap` files each hold one digit with the same
SSRC, sequence numbers and timestamps: played one after the other, Asterisk drops a repeated
digit (same timestamp as the last event) and a digit whose sequence numbers are lower than
the previous one's. This writes the whole call's stream instead: one SSRC, a sequence number
that grows by one per packet, one 8 kHz clock, and a packet every 20 ms from the start:

- PCMU silence (payload type 0, 160 bytes) between events, unless `--no-audio`, so that the
  stream is continuous (Asterisk's strict RTP learns the source from it before the first
  digit, and `Answer()` stops waiting for media at once). Without it, sipp sends the first
  digit at once: the times then count from the first digit;
- each digit as telephone-event (payload type 101, RFC 4733 section 2.3): a packet every 20 ms
  for `--event-ms` (160 ms), all with the event's start timestamp, the marker bit on the
  first, the duration growing by 160; the last one has the E bit and is sent three times
  (new sequence numbers, same timestamp and duration); audio resumes after it with the
  clock where it would have been.

Times are seconds from the first packet, which sipp sends when the scenario reaches
`play_pcap_audio`. Addresses and ports in the file do not matter: sipp sends the UDP payloads
from the call's media port to the port of Asterisk's SDP answer. Only the standard library is
used (the pcap format is written by hand: Ethernet, IPv4, UDP, RTP).
"""

from __future__ import annotations

import argparse
import struct
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_RATE = 8000
PACKET_MS = 20
SAMPLES_PER_PACKET = CLOCK_RATE * PACKET_MS // 1000  # 160
PCMU = 0
TELEPHONE_EVENT = 101
PCMU_SILENCE = b"\xff" * SAMPLES_PER_PACKET
EVENT_CODES = {digit: code for code, digit in enumerate("0123456789*#ABCD")}
DIGITS = {code: digit for digit, code in EVENT_CODES.items()}
END_REPEATS = 3  # RFC 4733 2.5.1.4: the final packet is sent three times
DEFAULT_EVENT_MS = 160
DEFAULT_VOLUME = 10  # -10 dBm0
DEFAULT_SSRC = 0x4C313921  # "L19!"
DEFAULT_TAIL_S = 1.0
MIN_GAP_TICKS = 2  # at least 40 ms of audio between two events

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
_ETHERNET = struct.Struct("!6s6sH")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_UDP = struct.Struct("!HHHH")
_RTP = struct.Struct("!BBHII")
_EVENT = struct.Struct("!BBH")
_PCAP_HEADER = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")


class ScheduleError(ValueError):
    """The digit schedule cannot be played as one stream (bad digit, overlap, negative time)."""


@dataclass(frozen=True)
class RtpPacket:
    at_s: float  # when it is sent, from the start of the stream
    sequence: int
    timestamp: int
    ssrc: int
    payload_type: int
    marker: bool
    payload: bytes

    def to_bytes(self) -> bytes:
        header = _RTP.pack(
            0x80,  # version 2, no padding, no extension, no CSRC
            (0x80 if self.marker else 0) | self.payload_type,
            self.sequence & 0xFFFF,
            self.timestamp & 0xFFFFFFFF,
            self.ssrc,
        )
        return header + self.payload

    @classmethod
    def from_bytes(cls, data: bytes, at_s: float) -> RtpPacket:
        if len(data) < _RTP.size:
            raise ValueError(f"RTP packet of {len(data)} bytes")
        first, second, sequence, timestamp, ssrc = _RTP.unpack_from(data)
        if first >> 6 != 2 or first & 0x3F:
            raise ValueError(f"unexpected RTP first byte {first:#04x}")
        return cls(
            at_s, sequence, timestamp, ssrc, second & 0x7F, bool(second & 0x80), data[_RTP.size :]
        )

    @property
    def event(self) -> TelephoneEvent | None:
        if self.payload_type != TELEPHONE_EVENT:
            return None
        return TelephoneEvent.from_bytes(self.payload)


@dataclass(frozen=True)
class TelephoneEvent:
    """RFC 4733 section 2.3: event, E bit, volume (-dBm0), duration (timestamp units)."""

    code: int
    end: bool
    volume: int
    duration: int

    def to_bytes(self) -> bytes:
        return _EVENT.pack(self.code, (0x80 if self.end else 0) | self.volume, self.duration)

    @classmethod
    def from_bytes(cls, data: bytes) -> TelephoneEvent:
        if len(data) != _EVENT.size:
            raise ValueError(f"telephone-event payload of {len(data)} bytes")
        code, flags, duration = _EVENT.unpack(data)
        return cls(code, bool(flags & 0x80), flags & 0x3F, duration)

    @property
    def digit(self) -> str:
        return DIGITS.get(self.code, f"<{self.code}>")


def parse_schedule(items: Iterable[str]) -> list[tuple[float, str]]:
    """`["2.5:2", "6:5"]` -> `[(2.5, "2"), (6.0, "5")]`."""
    schedule = []
    for item in items:
        at, sep, digit = item.partition(":")
        try:
            seconds = float(at)
        except ValueError:
            seconds = -1.0
        if not sep or seconds < 0 or seconds != seconds:  # NaN
            raise ScheduleError(f"{item!r}: expected SECONDS:DIGIT, e.g. 2.5:1")
        schedule.append((seconds, digit))
    return schedule


def build_stream(
    schedule: Sequence[tuple[float, str]],
    *,
    duration_s: float | None = None,
    audio: bool = True,
    event_ms: int = DEFAULT_EVENT_MS,
    volume: int = DEFAULT_VOLUME,
    ssrc: int = DEFAULT_SSRC,
    first_sequence: int = 1,
    first_timestamp: int = 0,
) -> list[RtpPacket]:
    """The packets of one stream playing `schedule` ([(seconds, digit)]).

    Every packet takes one 20 ms slot; an event starts on the slot at or after its time.
    The stream lasts `duration_s` (default: until 1 s after the last event) and never ends
    inside an event.
    """
    if not 40 <= event_ms <= 5000:
        raise ScheduleError(f"event length {event_ms} ms: expected 40 to 5000 ms")
    if not 0 <= volume <= 63:
        raise ScheduleError(f"volume {volume}: expected 0 to 63 (-dBm0)")
    event_ticks = -(-event_ms // PACKET_MS)  # packets of a tone, the last one with E
    starts: dict[int, int] = {}  # tick -> event code
    busy_until = 0
    for at_s, digit in sorted(schedule, key=lambda item: item[0]):
        code = EVENT_CODES.get(digit.upper()) if len(digit) == 1 else None
        if code is None or at_s < 0:
            raise ScheduleError(f"{digit!r} is not a DTMF digit (0-9 * # A-D)")
        tick = -(-round(at_s * 1000) // PACKET_MS)
        if tick < busy_until:
            raise ScheduleError(
                f"{digit!r} at {at_s} s: too close to the previous digit (an event takes "
                f"{(event_ticks + END_REPEATS - 1 + MIN_GAP_TICKS) * PACKET_MS} ms with the gap)"
            )
        starts[tick] = code
        busy_until = tick + event_ticks + END_REPEATS - 1 + MIN_GAP_TICKS
    last_busy = busy_until - MIN_GAP_TICKS if starts else 0
    if duration_s is None:
        total = last_busy + round(DEFAULT_TAIL_S * 1000) // PACKET_MS
    else:
        total = max(round(duration_s * 1000) // PACKET_MS, last_busy)
    packets: list[RtpPacket] = []
    sequence = first_sequence
    tick = 0
    marker = True  # the first packet of the stream (a talkspurt begins)

    def add(payload_type: int, timestamp: int, payload: bytes, marker_bit: bool) -> None:
        nonlocal sequence
        packets.append(
            RtpPacket(
                round(tick * PACKET_MS / 1000, 3),
                sequence & 0xFFFF,
                (first_timestamp + timestamp) & 0xFFFFFFFF,
                ssrc,
                payload_type,
                marker_bit,
                payload,
            )
        )
        sequence += 1

    while tick < total:
        code = starts.get(tick)
        if code is None:
            if audio:
                add(PCMU, tick * SAMPLES_PER_PACKET, PCMU_SILENCE, marker)
                marker = False
            tick += 1
            continue
        start_ts = tick * SAMPLES_PER_PACKET
        for n in range(event_ticks):
            end = n == event_ticks - 1
            event = TelephoneEvent(code, end, volume, (n + 1) * SAMPLES_PER_PACKET)
            add(TELEPHONE_EVENT, start_ts, event.to_bytes(), n == 0)
            tick += 1
        for _ in range(END_REPEATS - 1):
            add(TELEPHONE_EVENT, start_ts, event.to_bytes(), False)
            tick += 1
        marker = True  # audio after an event starts a new talkspurt
    return packets


# -- pcap ------------------------------------------------------------------------------------
def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(rtp: bytes, ident: int, src: tuple[str, int], dst: tuple[str, int]) -> bytes:
    src_ip, dst_ip = (bytes(int(p) for p in a[0].split(".")) for a in (src, dst))
    udp_length = _UDP.size + len(rtp)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_length)
    udp_checksum = _checksum(pseudo + _UDP.pack(src[1], dst[1], udp_length, 0) + rtp) or 0xFFFF
    udp = _UDP.pack(src[1], dst[1], udp_length, udp_checksum) + rtp
    ip_fields = [0x45, 0, _IPV4.size + len(udp), ident & 0xFFFF, 0x4000, 64, 17, 0, src_ip, dst_ip]
    ip_fields[7] = _checksum(_IPV4.pack(*ip_fields))
    ethernet = _ETHERNET.pack(b"\x02\0\0\0\0\x02", b"\x02\0\0\0\0\x01", 0x0800)
    return ethernet + _IPV4.pack(*ip_fields) + udp


def pcap_bytes(
    packets: Sequence[RtpPacket],
    src: tuple[str, int] = ("127.0.0.2", 6000),
    dst: tuple[str, int] = ("127.0.0.1", 20000),
) -> bytes:
    """A classic pcap file (microsecond timestamps, Ethernet) of the packets over UDP."""
    out = [_PCAP_HEADER.pack(PCAP_MAGIC, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET)]
    for ident, packet in enumerate(packets, start=1):
        frame = _frame(packet.to_bytes(), ident, src, dst)
        micros = round(packet.at_s * 1_000_000)
        out.append(_RECORD.pack(micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


def write_pcap(path: Path | str, packets: Sequence[RtpPacket]) -> None:
    Path(path).write_bytes(pcap_bytes(packets))


def read_pcap(path: Path | str) -> list[RtpPacket]:
    """The RTP packets of a pcap file written by `write_pcap` (Ethernet, IPv4, UDP), their
    times counted from the first packet, as sipp plays them."""
    data = Path(path).read_bytes()
    magic, _major, _minor, _zone, _figs, _snap, link = _PCAP_HEADER.unpack_from(data)
    if magic != PCAP_MAGIC or link != LINKTYPE_ETHERNET:
        raise ValueError(f"{path}: not a little-endian microsecond Ethernet pcap")
    packets: list[RtpPacket] = []
    offset = _PCAP_HEADER.size
    first: float | None = None
    while offset < len(data):
        seconds, micros, length, _orig = _RECORD.unpack_from(data, offset)
        offset += _RECORD.size
        frame = data[offset : offset + length]
        offset += length
        _dst, _src, ethertype = _ETHERNET.unpack_from(frame)
        ip = frame[_ETHERNET.size :]
        if ethertype != 0x0800 or ip[0] >> 4 != 4 or ip[9] != 17:
            raise ValueError(f"{path}: a frame that is not IPv4/UDP")
        header_length = (ip[0] & 0x0F) * 4
        if _checksum(ip[:header_length]) != 0:
            raise ValueError(f"{path}: bad IPv4 header checksum")
        udp = ip[header_length:]
        _sport, _dport, udp_length, _sum = _UDP.unpack_from(udp)
        at = seconds + micros / 1_000_000
        first = at if first is None else first
        packets.append(RtpPacket.from_bytes(udp[_UDP.size : udp_length], round(at - first, 6)))
    return packets


def events(packets: Iterable[RtpPacket]) -> list[tuple[float, str]]:
    """[(start seconds, digit)] as a receiver sees them: one per distinct event timestamp."""
    found: dict[int, tuple[float, str]] = {}
    for packet in packets:
        event = packet.event
        if event is not None and packet.timestamp not in found:
            found[packet.timestamp] = (packet.at_s, event.digit)
    return list(found.values())


def describe(packets: Sequence[RtpPacket]) -> str:
    audio = sum(1 for p in packets if p.payload_type == PCMU)
    lines = [
        f"{len(packets)} packets over {packets[-1].at_s + PACKET_MS / 1000:.2f} s"
        if packets
        else "no packets",
        f"  {audio} PCMU silence, {len(packets) - audio} telephone-event",
    ]
    lines += [f"  {at:7.3f} s  digit {digit}" for at, digit in events(packets)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tests/sipp/dtmf_pcap.py",
        description="Write one continuous RTP stream with RFC 4733 DTMF digits as a pcap.",
    )
    parser.add_argument("out", type=Path, help="the pcap file to write (or read, with --dump)")
    parser.add_argument("digits", nargs="*", help="SECONDS:DIGIT, e.g. 2.5:2 6.0:5")
    parser.add_argument("--duration", type=float, help="stream length in s (default: 1 s after)")
    parser.add_argument("--no-audio", action="store_true", help="events only, no PCMU silence")
    parser.add_argument("--event-ms", type=int, default=DEFAULT_EVENT_MS, help="tone length")
    parser.add_argument("--dump", action="store_true", help="describe an existing file")
    args = parser.parse_args(argv)
    try:
        if args.dump:
            print(describe(read_pcap(args.out)))
            return 0
        packets = build_stream(
            parse_schedule(args.digits),
            duration_s=args.duration,
            audio=not args.no_audio,
            event_ms=args.event_ms,
        )
        write_pcap(args.out, packets)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.out}: {describe(packets)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
