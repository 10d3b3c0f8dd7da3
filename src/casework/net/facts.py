"""Per-capture facts shaped like the tshark oracle (``counts``, ``timing``) plus one entry per conversation.

The keys of ``counts`` and ``timing`` are exactly the columns of
``ORACLE_COUNTS.tsv`` and ``ORACLE_TIMING.tsv``, so ``casework inspect --json``
can be compared with Wireshark mechanically; breakdowns use the oracle's
``key:count`` text, sorted by key.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from casework.net import tcp
from casework.net.capture import Capture, UdpFlow
from casework.net.decode import address
from casework.net.http1 import HttpConversation
from casework.net.pcap_reader import ReadStats
from casework.net.streams import App
from casework.net.tls import ALERT_NAMES, TlsSession, version_name

RETRANS_ANY = (tcp.RETRANS, tcp.FAST_RETRANS, tcp.SPURIOUS)


def breakdown(counter: Counter[Any] | dict[Any, int]) -> str:
    """``"k:n,k:n"`` sorted by key, the oracle's breakdown format."""
    return ",".join(f"{k}:{v}" for k, v in sorted(counter.items(), key=lambda kv: str(kv[0])))


def counts(cap: Capture, stats: ReadStats) -> dict[str, Any]:
    """The oracle's count columns (plus the reader's damage report)."""
    fc = cap.flag_counts
    http_frames: dict[int, int] = {}
    for app in _apps(cap, "http"):
        assert isinstance(app.conv_state, HttpConversation)
        for frame, code in app.conv_state.response_frames.items():
            http_frames.setdefault(frame, code)
    http_codes = Counter(c for c in http_frames.values() if c >= 400)
    alert_records: set[int] = set()
    alert_plain: set[int] = set()
    alert_descs: Counter[str] = Counter()
    for session in _tls(cap):
        alert_records |= session.alert_frames
        for alert in session.alerts:
            if alert.level is not None:
                alert_plain.add(alert.frame)
                alert_descs[f"{alert.level}/{alert.description}"] += 1
    dns = cap.dns
    return {
        "frames": cap.frames,
        "tcp_retrans": sum(fc.get(b, 0) for b in RETRANS_ANY),
        "tcp_fast_retrans": fc.get(tcp.FAST_RETRANS, 0),
        "tcp_spurious_retrans": fc.get(tcp.SPURIOUS, 0),
        "tcp_dup_ack": fc.get(tcp.DUP_ACK, 0),
        "tcp_out_of_order": fc.get(tcp.OUT_OF_ORDER, 0),
        "tcp_lost_segment": fc.get(tcp.LOST_SEGMENT, 0),
        "tcp_ack_unseen": fc.get(tcp.ACK_UNSEEN, 0),
        "tcp_zero_window": fc.get(tcp.ZERO_WINDOW, 0),
        "tcp_zw_probe": fc.get(tcp.ZW_PROBE, 0),
        "tcp_window_full": fc.get(tcp.WINDOW_FULL, 0),
        "tcp_keep_alive": fc.get(tcp.KEEP_ALIVE, 0),
        "tcp_rst": cap.rst_count,
        "tcp_syn_no_synack": sum(
            len(c.syn_frames) for c in cap.conversations if not c.synack_frame
        ),
        "dns_resp": dns.responses,
        "dns_rcode_err": sum(dns.rcode_errors.values()),
        "dns_rcodes": breakdown(dns.rcode_errors),
        "dns_unanswered": dns.unanswered,
        "http_resp": len(http_frames),
        "http_4xx_5xx": sum(http_codes.values()),
        "http_codes": breakdown(http_codes),
        "tls_alert_records": len(alert_records),
        "tls_alert_plain": len(alert_plain),
        "tls_alert_descs": breakdown(alert_descs),
        "bad_records": stats.bad_records,
        "cut_frames": stats.cut_frames,
        "truncated": stats.truncated,
        "non_ip_frames": cap.non_ip,
        "ip_fragments": cap.fragments,
        "malformed": cap.malformed,
    }


def timing(cap: Capture) -> dict[str, Any]:
    """The oracle's timing columns; ``None`` where tshark prints ``-``."""
    irtts = [c.irtt for c in cap.conversations if c.irtt]
    acks = [c.ack_rtt_max for c in cap.conversations if c.ack_rtt_max >= 0]
    http_times = [t for t in _http_times(cap)]
    return {
        "tcp_streams": len(cap.conversations),
        "irtt_max_s": _round(max(irtts)) if irtts else None,
        "dns_time_max_s": _round(cap.dns.time_max) if cap.dns.time_max is not None else None,
        "http_time_max_s": _round(max(http_times)) if http_times else None,
        "http_slow_gt1s": sum(1 for t in http_times if t > 1),
        "ack_rtt_max_s": _round(max(acks)) if acks else None,
    }


def conversations(cap: Capture, limit: int = 1000) -> list[dict[str, Any]]:
    """One summary per TCP conversation and per UDP flow (first ``limit`` of each)."""
    out = [tcp_summary(c) for c in cap.conversations[:limit]]
    out.extend(udp_summary(f) for f in list(cap.udp.values())[:limit])
    return out


def tcp_summary(conv: tcp.Conversation) -> dict[str, Any]:
    """What a network engineer wants to know about one TCP conversation."""
    client_is_a = _client_is_a(conv)
    src, sport, dst, dport = conv.addr if client_is_a else (*conv.addr[2:], *conv.addr[:2])
    cflow, sflow = (conv.a, conv.b) if client_is_a else (conv.b, conv.a)
    counts = {tcp.FLAG_NAMES[b]: n for b, n in sorted(conv.counts.items()) if b in tcp.FLAG_NAMES}
    if conv.synack_frame:
        handshake = "complete" if conv.irtt else "syn-ack seen"
    elif conv.syn_frames and any(r[2] != client_is_a for r in conv.resets):
        handshake = "refused"
    elif conv.syn_frames:
        handshake = "unanswered"
    else:
        handshake = "not captured"
    out: dict[str, Any] = {
        "proto": "tcp",
        "stream": conv.stream,
        "client": address(src),
        "client_port": sport,
        "server": address(dst),
        "server_port": dport,
        "start": conv.first_ts,
        "end": conv.last_ts,
        "first_frame": conv.first_frame,
        "packets": cflow.packets + sflow.packets,
        "bytes": cflow.bytes + sflow.bytes,
        "client_payload": cflow.payload,
        "server_payload": sflow.payload,
        "handshake": handshake,
        "syn_frames": conv.syn_frames[:20],
        "irtt_s": _round(conv.irtt) if conv.irtt else None,
        "ack_rtt_max_s": _round(conv.ack_rtt_max) if conv.ack_rtt_max >= 0 else None,
        "analysis": counts,
        "resets": [
            {
                "frame": f,
                "by": "client" if by_a == client_is_a else "server",
                "idle_s": _round(idle),
                "idle_before_last_s": _round(before),
            }
            for f, _ts, by_a, idle, before in conv.resets[:20]
        ],
    }
    if conv.stalls:
        out["zero_windows"] = [
            {
                "by": "client" if st.by_a == client_is_a else "server",
                "frame": st.frame,
                "advertisements": st.advertisements,
                "probes": st.probes,
                "reopened_frame": st.reopened_frame or None,
                # Until the window reopened, else until this conversation's last packet.
                "stalled_s": _round((conv.last_ts if st.end is None else st.end) - st.start),
            }
            for st in conv.stalls
        ]
    app = conv.app
    if isinstance(app, App):
        out["app"] = app.kind
        if isinstance(app.conv_state, TlsSession):
            out["tls"] = tls_summary(app.conv_state, 0 if client_is_a else 1)
        elif isinstance(app.conv_state, HttpConversation):
            out["http_exchanges"] = len(app.conv_state.exchanges)
    return out


def _client_is_a(conv: tcp.Conversation) -> bool:
    """The client: the SYN sender, else the side that spoke first in TLS/HTTP, else the higher port."""
    if conv.syn_frames:
        return True
    state = conv.app.conv_state if isinstance(conv.app, App) else None
    side = getattr(state, "client_side", None)
    if side is not None:
        return bool(side == 0)
    return conv.addr[1] >= conv.addr[3]


def tls_summary(session: TlsSession, client_side: int) -> dict[str, Any]:
    """Versions offered and chosen, SNI, and alerts of one TLS connection."""
    offered = [version_name(v) for v in session.offered] or (
        [version_name(session.client_version)] if session.client_version else []
    )
    return {
        "client_hello_frame": session.client_hello_frame or None,
        "offered": offered,
        "version": version_name(session.server_version) if session.server_version else None,
        "sni": session.sni,
        "alerts": [
            {
                "frame": a.frame,
                "from": "client" if a.side == client_side else "server",
                "level": {1: "warning", 2: "fatal"}.get(a.level or 0) if a.level else None,
                "description": ALERT_NAMES.get(a.description, str(a.description))
                if a.description is not None
                else "encrypted",
            }
            for a in session.alerts[:20]
        ],
    }


def udp_summary(flow: UdpFlow) -> dict[str, Any]:
    src, sport, dst, dport = flow.addr
    return {
        "proto": "udp",
        "client": address(src),
        "client_port": sport,
        "server": address(dst),
        "server_port": dport,
        "start": flow.first_ts,
        "end": flow.last_ts,
        "first_frame": flow.first_frame,
        "packets": flow.packets,
        "bytes": flow.bytes,
    }


def utc(ts: float) -> datetime | None:
    """A capture timestamp as an aware UTC datetime; None for a corrupt one."""
    try:
        return datetime.fromtimestamp(ts, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _apps(cap: Capture, kind: str) -> list[App]:
    return [c.app for c in cap.conversations if isinstance(c.app, App) and c.app.kind == kind]


def _tls(cap: Capture) -> list[TlsSession]:
    return [a.conv_state for a in _apps(cap, "tls") if isinstance(a.conv_state, TlsSession)]


def _http_times(cap: Capture) -> list[float]:
    times: list[float] = []
    for app in _apps(cap, "http"):
        assert isinstance(app.conv_state, HttpConversation)
        for ex in app.conv_state.exchanges:
            if ex.response is not None:
                times.append(ex.response.ts - ex.request.ts)
    return times


def _round(value: float) -> float:
    return round(value, 6)
