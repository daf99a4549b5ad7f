"""The AGI traffic on loopback, captured with a raw packet socket: the gateway's turns.

Used by bench/ivr_capacity.py (see its docstring for the method).
"""

from __future__ import annotations

import ctypes
import math
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

# -- the AGI capture -----------------------------------------------------------------------
ETH_P_IP = 0x0800
SO_ATTACH_FILTER, SO_RCVBUFFORCE, SO_TIMESTAMPNS = 26, 33, 35
SOL_PACKET, PACKET_STATISTICS, PACKET_OUTGOING = 263, 6, 4


def tcp_port_filter(port: int) -> list[tuple[int, int, int, int]]:
    """Classic BPF, from the IPv4 header on (an AF_PACKET SOCK_DGRAM socket): TCP, not a
    fragment, source or destination port `port`, and carrying data or SYN, FIN or RST (bare
    ACKs are left in the kernel). (code, jt, jf, k) per instruction."""
    drop, keep = 23, 22

    def to(target: int, at: int) -> int:  # jump offsets count from the next instruction
        return target - at - 1

    return [
        (0x30, 0, 0, 9),  # 0  ldb [9]             protocol
        (0x15, 0, to(drop, 1), 6),  # 1  jeq #6 (TCP)
        (0x28, 0, 0, 6),  # 2  ldh [6]             flags and fragment offset
        (0x45, to(drop, 3), 0, 0x1FFF),  # 3  jset #0x1fff: a fragment
        (0xB1, 0, 0, 0),  # 4  ldxb 4*([0]&0xf)    X = IP header length
        (0x48, 0, 0, 0),  # 5  ldh [x+0]           source port
        (0x15, to(9, 6), 0, port),  # 6  jeq #port
        (0x48, 0, 0, 2),  # 7  ldh [x+2]           destination port
        (0x15, 0, to(drop, 8), port),  # 8  jeq #port
        (0x28, 0, 0, 2),  # 9  ldh [2]             IP total length
        (0x1C, 0, 0, 0),  # 10 sub x
        (0x02, 0, 0, 0),  # 11 st M[0]             TCP segment length
        (0x50, 0, 0, 12),  # 12 ldb [x+12]         TCP data offset (high nibble)
        (0x74, 0, 0, 4),  # 13 rsh #4
        (0x64, 0, 0, 2),  # 14 lsh #2
        (0x07, 0, 0, 0),  # 15 tax                 X = TCP header length
        (0x60, 0, 0, 0),  # 16 ld M[0]
        (0x1C, 0, 0, 0),  # 17 sub x               payload length
        (0x25, to(keep, 18), 0, 0),  # 18 jgt #0: data
        (0xB1, 0, 0, 0),  # 19 ldxb 4*([0]&0xf)
        (0x50, 0, 0, 13),  # 20 ldb [x+13]         TCP flags
        (0x45, to(keep, 21), to(drop, 21), 0x07),  # 21 jset #FIN|SYN|RST
        (0x06, 0, 0, 0x40000),  # 22 ret #262144   keep the whole packet
        (0x06, 0, 0, 0),  # 23 ret #0             drop
    ]


class AgiCapture:
    """The AGI connections' TCP segments on loopback, with the kernel's receive timestamps.

    Each packet crosses `lo` twice for a packet socket (out, then in): only the incoming copy
    is kept, as libpcap does. The timestamp is taken by the kernel when the segment enters
    the receive path (right after the sender's write), so this thread's own scheduling
    does not move it; the socket buffer (64 MB) absorbs its delays, and the kernel's drop
    count is read at the end.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.packets: list[tuple[int, bytes]] = []  # (ns since the epoch, IPv4 packet)
        self.drops = 0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        program = tcp_port_filter(port)
        code = b"".join(struct.pack("HBBI", *instruction) for instruction in program)
        buffer = ctypes.create_string_buffer(code)
        fprog = struct.pack("HL", len(program), ctypes.addressof(buffer))
        self._sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
        self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
        self._sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._sock.bind(("lo", ETH_P_IP))
        self._sock.settimeout(0.2)
        self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # reading resets the counters
        self._thread = threading.Thread(target=self._run, name="agi-capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.thread_time()
        space = socket.CMSG_SPACE(16)
        try:
            while not self._stop.is_set():
                try:
                    data, ancillary, _flags, address = self._sock.recvmsg(65536, space)
                except TimeoutError:
                    continue
                if address[0] != "lo" or address[2] == PACKET_OUTGOING:
                    continue
                stamp = next(
                    (struct.unpack("qq", d[:16]) for level, kind, d in ancillary
                     if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS),
                    None,
                )  # fmt: skip
                at = stamp[0] * 1_000_000_000 + stamp[1] if stamp else time.time_ns()
                self.packets.append((at, data))
        finally:
            self.cpu_s = time.thread_time() - started

    def stop(self) -> list[tuple[int, bytes]]:
        self._stop.set()
        self._thread.join(10)
        _received, self.drops = struct.unpack("II", self._sock.getsockopt(
            SOL_PACKET, PACKET_STATISTICS, 8))  # fmt: skip
        self._sock.close()
        return self.packets


@dataclass
class Turn:
    at: float  # when the gateway sent its command (s since the epoch)
    latency_s: float  # since Asterisk's last segment before it
    kind: str


@dataclass
class AgiSession:
    """One AGI connection as seen on the wire."""

    start: float
    script: str = "?"
    end: float | None = None
    turns: list[Turn] = field(default_factory=list)
    head: bytes = b""  # Asterisk's first bytes (the environment), for the script name
    last_in: float | None = None  # Asterisk's latest segment not yet answered by the gateway
    answered_env: bool = False
    seq: dict[bool, int] = field(default_factory=dict)  # next sequence number, per direction

    @property
    def length_s(self) -> float | None:
        return None if self.end is None else self.end - self.start


SCRIPT_LINE = re.compile(rb"agi_network_script: ([^\n]*)\n")


def turn_kind(session: AgiSession, command: bytes | None) -> str:
    """What the gateway did in a turn, from the command it sent after it (None: its FIN)."""
    if not session.answered_env:
        return "first command"
    if command is None:
        return "close"
    if command.startswith(b"GET VARIABLE"):
        return "after Read"  # the IVR's GET VARIABLE L19_KEY follows each Read()
    if b'"L19_LANG"' in command:
        return "outcome written"  # the IVR's database write came just before
    return "other"


def sessions_of(packets: list[tuple[int, bytes]], agi_port: int) -> list[AgiSession]:
    """The AGI connections and the gateway's turns, from the captured IPv4 packets."""
    open_: dict[tuple[bytes, int], AgiSession] = {}
    done: list[AgiSession] = []
    for at_ns, ip in sorted(packets, key=lambda p: p[0]):
        if len(ip) < 40 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        header = (ip[0] & 0x0F) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        sport, dport, seq = struct.unpack_from("!HHI", ip, header)
        offset, flags = ip[header + 12] >> 4, ip[header + 13]
        payload = ip[header + offset * 4 : total]
        at = at_ns / 1e9
        if dport == agi_port:
            to_gateway, key = True, (ip[12:16], sport)
        elif sport == agi_port:
            to_gateway, key = False, (ip[16:20], dport)
        else:
            continue
        syn, fin = bool(flags & 0x02), bool(flags & 0x01)
        session = open_.get(key)
        if syn and to_gateway and not flags & 0x10:  # a new connection from Asterisk
            if session is not None:
                done.append(session)
            session = open_[key] = AgiSession(start=at)
            session.seq[True] = seq + 1
            continue
        if session is None:
            continue  # began before the capture
        if payload:
            expected = session.seq.get(to_gateway)
            if expected is not None and (seq - expected) & 0xFFFFFFFF >= 0x80000000:
                continue  # a retransmission of what was already seen
            session.seq[to_gateway] = (seq + len(payload)) & 0xFFFFFFFF
        if to_gateway:
            if payload:
                if session.script == "?" and len(session.head) < 4096:
                    session.head += payload
                    match = SCRIPT_LINE.search(session.head)
                    if match:
                        session.script = match.group(1).decode(errors="replace")
                session.last_in = at
        elif (payload or fin) and session.last_in is not None:
            kind = turn_kind(session, payload if payload else None)
            session.turns.append(Turn(at, at - session.last_in, kind))
            session.last_in = None
            session.answered_env = True
        if fin and session.end is None:
            session.end = at
        if flags & 0x04:  # RST
            session.end = session.end or at
    return done + list(open_.values())


def nearest_rank(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
