"""TCP sequence analysis that follows Wireshark's ``tcp_analyze_sequence_number`` (4.0).

Each segment gets a bit set of the same "suspected" conditions Wireshark's
expert info shows (retransmission, fast/spurious retransmission, duplicate
ACK, out-of-order, previous segment not captured, ACKed unseen segment, zero
window, zero-window probe, window full, keep-alive), computed from per-direction
state in the same order and with the same 32-bit sequence arithmetic, so the
counts agree with ``tcp.analysis.*`` display filters. Where this differs from
Wireshark on purpose, ``bench/RESULTS.md`` says so.
"""

from __future__ import annotations

from typing import Any

from casework.net.tcp_state import Conversation as Conversation
from casework.net.tcp_state import Flow as Flow
from casework.net.tcp_state import Stall

M32 = 0xFFFFFFFF
HALF = 0x80000000

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

RETRANS = 1 << 0
FAST_RETRANS = 1 << 1
SPURIOUS = 1 << 2
DUP_ACK = 1 << 3
OUT_OF_ORDER = 1 << 4
LOST_SEGMENT = 1 << 5
ACK_UNSEEN = 1 << 6
ZERO_WINDOW = 1 << 7
ZW_PROBE = 1 << 8
WINDOW_FULL = 1 << 9
KEEP_ALIVE = 1 << 10
KEEP_ALIVE_ACK = 1 << 11
ZW_PROBE_ACK = 1 << 12
PORTS_REUSED = 1 << 13

#: Names used in ``inspect`` output and flow attrs, one per bit that Wireshark reports.
FLAG_NAMES: dict[int, str] = {
    RETRANS: "retrans",
    FAST_RETRANS: "fast_retrans",
    SPURIOUS: "spurious_retrans",
    DUP_ACK: "dup_ack",
    OUT_OF_ORDER: "out_of_order",
    LOST_SEGMENT: "lost_segment",
    ACK_UNSEEN: "ack_unseen",
    ZERO_WINDOW: "zero_window",
    ZW_PROBE: "zw_probe",
    WINDOW_FULL: "window_full",
    KEEP_ALIVE: "keep_alive",
}

#: Wireshark 4.0 stores -1 in its unsigned duplicate-ACK counter after an "ACKed unseen
#: segment" to silence repeats; as unsigned it also reads as ">= 2 duplicate ACKs".
DISARMED = M32

#: Wireshark stops remembering unacknowledged segments past this many (TCP_MAX_UNACKED_SEGMENTS).
MAX_UNACKED = 10000
#: Out-of-order threshold before the handshake RTT is known (Wireshark: 3 ms).
OOO_DEFAULT = 0.003
#: A retransmission this soon after the last duplicate ACK is "fast" (Wireshark: 20 ms).
FAST_RETRANS_WINDOW = 0.020


def _gt(a: int, b: int) -> bool:
    return ((b - a) & M32) >= HALF


def _lt(a: int, b: int) -> bool:
    return ((a - b) & M32) >= HALF


def _le(a: int, b: int) -> bool:
    d = (a - b) & M32
    return d == 0 or d >= HALF


def handshake(conv: Conversation, num: int, ts: float, flags: int) -> None:
    """Track SYN, SYN/ACK and the first ACK after a SYN (Wireshark's ``initial_rtt``)."""
    if flags & SYN:
        if flags & ACK:
            if not conv.synack_frame:
                conv.synack_frame = num
        else:
            conv.syn_frames.append(num)
            conv.mru_syn = ts
    elif flags & ACK and conv.mru_syn and not conv.irtt:
        conv.irtt = (ts - conv.mru_syn) or 1e-9


def window_scale(fwd: Flow, rev: Flow, flags: int, shift: int | None) -> None:
    """Record the window-scale option of a SYN or SYN/ACK (``verify_tcp_window_scaling``)."""
    if shift is not None:
        fwd.win_scale = min(shift, 14)
        return
    if fwd.win_scale == -1:
        fwd.win_scale = rev.win_scale = -2
    elif flags & ACK and rev.win_scale == -2:
        fwd.win_scale = -2


def analyze(
    conv: Conversation,
    fwd: Flow,
    rev: Flow,
    ts: float,
    seq: int,
    ack: int,
    flags: int,
    window: int,
    seglen: int,
) -> int:
    """Wireshark's per-segment sequence analysis; returns the segment's condition bits.

    The order of the checks is Wireshark's; equality tests guard the 32-bit
    comparisons because in-order segments are by far the most common.
    """
    fl = 0
    if not fwd.base_set:
        fwd.base_seq = seq if flags & SYN else (seq - 1) & M32
        fwd.base_set = True
    if not rev.base_set and flags & ACK:
        rev.base_seq = (ack - 1) & M32
        rev.base_set = True
    nextseq = fwd.nextseq
    plain = not flags & (SYN | FIN | RST)
    if seglen == 1 and seq == nextseq and rev.window == 0:
        fl = ZW_PROBE
    else:
        if window == 0 and plain:
            fl = ZERO_WINDOW
        if seq != nextseq and nextseq:
            if (nextseq - seq) & M32 >= HALF and not flags & RST:
                fl |= LOST_SEGMENT
            if seglen <= 1 and plain and seq == (nextseq - 1) & M32:
                fl |= KEEP_ALIVE
        if seglen and plain and rev.win_scale != -1:
            shift = 0 if rev.is_first_ack or rev.win_scale < 0 else rev.win_scale
            if (seq + seglen) & M32 == (rev.lastack + (rev.window << shift)) & M32:
                fl |= WINDOW_FULL
        if not seglen and plain and seq == nextseq and ack == fwd.lastack:
            fl |= _repeated_ack(fwd, rev, ack, window)
    if ack != fwd.lastack:
        fwd.dupacknum = 0
    rmax = rev.maxseqtobeacked
    if ack != rmax and rmax and flags & ACK and (rmax - ack) & M32 >= HALF:
        fl |= _ack_unseen(rev)
    if seglen or flags & (SYN | FIN):
        if fl & KEEP_ALIVE:
            pass
        elif seq == nextseq:  # in order: at most a spurious retransmission
            rl = rev.lastack
            if seglen and rl and (rl - seq - seglen) & M32 < HALF:
                fl |= SPURIOUS
        else:
            fl |= _retransmission(conv, fwd, rev, ts, seq, flags, seglen)
        end = (seq + seglen + 1) & M32 if flags & (SYN | FIN) else (seq + seglen) & M32
        if len(fwd.segments) < MAX_UNACKED:
            fwd.segments.append([seq, end, ts])
    else:
        end = seq
    if not fl & ZW_PROBE:
        if end != nextseq and ((nextseq - end) & M32 >= HALF or not nextseq):
            fwd.nextseq = end
            fwd.nextseqtime = ts
        if seq == fwd.maxseqtobeacked or not fwd.maxseqtobeacked:
            fwd.maxseqtobeacked = fwd.nextseq
    fwd.window = window
    fwd.lastack = ack
    fwd.lastacktime = ts
    fwd.lastsegflags = fl
    if rev.segments:
        _acked(conv, rev, ack, ts)
    return fl


#: Zero-window stalls kept per conversation (every advertisement is still counted in ``counts``).
MAX_STALLS = 20


def stalls(conv: Conversation, fwd: Flow, rev: Flow, by_a: bool, num: int, ts: float,
           fl: int, flags: int, window: int) -> None:  # fmt: skip
    """Track zero-window stalls: the segment's sender (``fwd``) advertising a zero window opens
    one (its receive buffer is full: its application stopped reading), a later window from
    it closes it; the peer's zero-window probes count toward it. Called only for segments
    that advertise a zero window, probe one, or come from a side with a stall open."""
    stall = fwd.stall
    if fl & ZERO_WINDOW:
        if stall is None:
            if len(conv.stalls) >= MAX_STALLS:
                return
            stall = fwd.stall = Stall(by_a, num, ts)
            conv.stalls.append(stall)
        stall.advertisements += 1
    elif stall is not None and window and not flags & (SYN | RST):
        stall.reopened_frame, stall.end = num, ts
        fwd.stall = None
    if fl & ZW_PROBE and rev.stall is not None:
        rev.stall.probes += 1


def _repeated_ack(fwd: Flow, rev: Flow, ack: int, window: int) -> int:
    """A bare ACK repeating the last one: keep-alive ACK, zero-window-probe ACK or duplicate ACK."""
    if window and window == fwd.window and rev.lastsegflags & KEEP_ALIVE:
        return KEEP_ALIVE_ACK
    if window == 0 and fwd.window == 0 and rev.lastsegflags & ZW_PROBE:
        return ZW_PROBE_ACK
    if window and window == fwd.window:
        fwd.dupacknum = 1 if fwd.dupacknum == DISARMED else fwd.dupacknum + 1
        return DUP_ACK
    return 0


def _ack_unseen(rev: Flow) -> int:
    """An ACK beyond what the peer was seen to send (Wireshark 4.0's two cases)."""
    if _lt(rev.maxseqtobeacked, rev.nextseq):  # data seen beyond a hole: the hole is acked
        rev.maxseqtobeacked = rev.nextseq
        return ACK_UNSEEN
    # Acked beyond anything seen: reported once until the peer acks anew.
    fl = ACK_UNSEEN if rev.dupacknum == 0 else 0
    rev.dupacknum = DISARMED
    return fl


def _retransmission(
    conv: Conversation, fwd: Flow, rev: Flow, ts: float, seq: int, flags: int, seglen: int
) -> int:
    nextseq = fwd.nextseq
    not_advanced = bool(nextseq) and _lt(seq, nextseq)
    if seglen > 1 and (nextseq - 1) & M32 == seq:
        not_advanced = False  # new data right after a zero-window probe byte
    if seglen and rev.lastack and _le((seq + seglen) & M32, rev.lastack):
        return SPURIOUS
    if (
        not_advanced
        and rev.dupacknum >= 2
        and rev.lastack == seq
        and ts - rev.lastacktime < FAST_RETRANS_WINDOW
    ):
        return FAST_RETRANS
    threshold = conv.irtt or OOO_DEFAULT
    syn_fin = 1 if flags & (SYN | FIN) else 0
    if (
        not_advanced
        and ts - fwd.nextseqtime < threshold
        and nextseq != (seq + seglen + syn_fin) & M32
    ):
        return OUT_OF_ORDER
    if not_advanced:
        return RETRANS
    return 0


def _acked(conv: Conversation, rev: Flow, ack: int, ts: float) -> None:
    """Drop the segments this ACK covers; an exact match gives the ACK RTT."""
    segments = rev.segments
    if ack == segments[-1][1] and all((ack - u[1]) & M32 < HALF for u in segments):
        # The usual case: the ACK covers every segment waiting; the oldest exact match times it.
        rtt = next(ts - u[2] for u in segments if u[1] == ack)
        rev.segments = []
    else:
        keep: list[list[Any]] = []
        rtt = -1.0
        for ual in segments:
            useq, unext = ual[0], ual[1]
            if ack == unext:
                if rtt < 0:  # Wireshark walks newest first, so the oldest match wins
                    rtt = ts - ual[2]
            elif _gt(ack, useq) and _le(ack, unext):
                ual[0] = ack
                keep.append(ual)
            elif _gt(unext, ack):
                keep.append(ual)
        rev.segments = keep
    if rtt > conv.ack_rtt_max:
        conv.ack_rtt_max = rtt
