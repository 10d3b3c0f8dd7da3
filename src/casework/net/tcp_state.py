"""Per-conversation TCP state: what Wireshark keeps per flow (``tcp_flow_t``) and per stream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

M32 = 0xFFFFFFFF


@dataclass(slots=True)
class Stall:
    """One side's zero window: from its first zero-window advertisement to the segment in which
    it offers a window again (``reopened_frame`` 0 and ``end`` None while it has not)."""

    by_a: bool
    frame: int
    start: float
    advertisements: int = 0
    probes: int = 0
    reopened_frame: int = 0
    end: float | None = None


class Flow:
    """One direction of a TCP conversation: what Wireshark keeps in ``tcp_flow_t``."""

    __slots__ = (
        "base_seq",
        "base_set",
        "bytes",
        "dupacknum",
        "fin_frame",
        "is_first_ack",
        "lastack",
        "lastacktime",
        "lastsegflags",
        "maxseqtobeacked",
        "nextseq",
        "nextseqtime",
        "packets",
        "payload",
        "segments",
        "stall",
        "win_scale",
        "window",
    )

    def __init__(self) -> None:
        self.base_set = False
        self.base_seq = 0
        self.nextseq = 0
        self.nextseqtime = 0.0
        self.maxseqtobeacked = 0
        self.lastack = 0
        self.lastacktime = 0.0
        self.dupacknum = 0
        self.window = M32  # Wireshark starts with G_MAXUINT32: no window seen yet
        self.win_scale = -1  # -1 unknown, -2 no scaling, else the shift
        self.is_first_ack = True
        self.lastsegflags = 0
        self.segments: list[list[Any]] = []  # [seq, nextseq, ts] oldest first
        self.packets = 0
        self.bytes = 0
        self.payload = 0
        self.fin_frame = 0
        self.stall: Stall | None = None  # open while this side advertises a zero window


class Conversation:
    """A TCP conversation (Wireshark's ``tcp.stream``): two flows plus handshake facts."""

    __slots__ = (
        "a",
        "ack_rtt_max",
        "addr",
        "app",
        "b",
        "counts",
        "first_frame",
        "first_ts",
        "frames",
        "irtt",
        "last_gap",
        "last_ts",
        "mru_syn",
        "resets",
        "stalls",
        "stream",
        "syn_frames",
        "synack_frame",
    )

    def __init__(self, stream: int, num: int, ts: float) -> None:
        self.stream = stream
        self.a = Flow()  # the direction of the first packet seen
        self.b = Flow()
        self.first_frame = num
        self.first_ts = ts
        self.last_ts = ts
        self.mru_syn = 0.0
        self.irtt = 0.0
        self.ack_rtt_max = -1.0
        self.syn_frames: list[int] = []
        self.synack_frame = 0
        self.addr: tuple[bytes, int, bytes, int] = (
            b"",
            0,
            b"",
            0,
        )  # a's address and port, then b's
        self.app: object = None  # None: not decided yet; False: no application decoder
        self.counts: dict[int, int] = {}
        self.frames: dict[int, list[int]] = {}  # condition bit -> first frame numbers
        # frame, ts, sent by a, silence before the RST, silence before the packet preceding it
        self.resets: list[tuple[int, float, bool, float, float]] = []
        self.stalls: list[Stall] = []
        self.last_gap = 0.0
