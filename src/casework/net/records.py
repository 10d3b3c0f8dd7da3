"""Turning an analyzed capture into store records: one FlowRecord per conversation, one RequestRecord per HTTP exchange."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from casework.model import FlowRecord, RequestRecord
from casework.net import facts, tcp
from casework.net.capture import Capture
from casework.net.dns import RCODE_NAMES, Transaction
from casework.net.http1 import Exchange, HttpConversation, Message
from casework.net.streams import App

#: DNS transactions kept per flow row; the counts stay complete.
MAX_DNS_PER_FLOW = 200


def flow_records(cap: Capture) -> Iterator[FlowRecord]:
    """Every TCP conversation and UDP flow, with its protocol facts in ``attrs``."""
    by_flow: dict[object, list[Transaction]] = {}
    for trans in cap.dns.transactions:
        by_flow.setdefault(trans.flow, []).append(trans)
    for conv in cap.conversations:
        summary = facts.tcp_summary(conv)
        attrs = _tcp_attrs(conv, summary)
        dns = by_flow.get(conv)
        if dns:
            attrs["dns"] = _dns_attrs(dns)
        yield FlowRecord(
            line=conv.first_frame,
            proto="tcp",
            src=summary["client"],
            sport=summary["client_port"],
            dst=summary["server"],
            dport=summary["server_port"],
            start=facts.utc(conv.first_ts),
            end=facts.utc(conv.last_ts),
            packets=summary["packets"],
            bytes=summary["bytes"],
            attrs=attrs,
        )
    for key, flow in cap.udp.items():
        summary = facts.udp_summary(flow)
        attrs = {}
        dns = by_flow.get(key)
        if dns:
            attrs["dns"] = _dns_attrs(dns)
        yield FlowRecord(
            line=flow.first_frame,
            proto="udp",
            src=summary["client"],
            sport=summary["client_port"],
            dst=summary["server"],
            dport=summary["server_port"],
            start=facts.utc(flow.first_ts),
            end=facts.utc(flow.last_ts),
            packets=flow.packets,
            bytes=flow.bytes,
            attrs=attrs,
        )


def _tcp_attrs(conv: tcp.Conversation, summary: dict[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "stream": conv.stream,
        "handshake": summary["handshake"],
        "syn_frames": summary["syn_frames"],
        "irtt_ms": _ms(summary["irtt_s"]),
        "ack_rtt_max_ms": _ms(summary["ack_rtt_max_s"]),
        "client_payload": summary["client_payload"],
        "server_payload": summary["server_payload"],
        "analysis": summary["analysis"],
        "analysis_frames": {
            tcp.FLAG_NAMES[bit]: frames
            for bit, frames in sorted(conv.frames.items())
            if bit in tcp.FLAG_NAMES
        },
        "resets": summary["resets"],
    }
    if "zero_windows" in summary:
        attrs["zero_windows"] = summary["zero_windows"]
    if "app" in summary:
        attrs["app"] = summary["app"]
    if "tls" in summary:
        attrs["tls"] = summary["tls"]
    return attrs


def _dns_attrs(transactions: list[Transaction]) -> dict[str, Any]:
    return {
        "queries": len(transactions),
        "transactions": [
            {
                "name": t.qname,
                "type": t.qtype,
                "rcode": None if t.rcode is None else RCODE_NAMES.get(t.rcode, str(t.rcode)),
                "rtt_ms": _ms(t.rtt),
                "query_frames": t.frames[:10],
                "response_frame": t.response_frame or None,
            }
            for t in transactions[:MAX_DNS_PER_FLOW]
        ],
    }


def request_records(cap: Capture) -> Iterator[RequestRecord]:
    """Plaintext HTTP/1.x exchanges per conversation, then responses whose request was unreadable."""
    for conv in cap.conversations:
        app = conv.app
        if not isinstance(app, App) or not isinstance(app.conv_state, HttpConversation):
            continue
        summary = facts.tcp_summary(conv)
        for ex in app.conv_state.exchanges:
            yield _request(ex, summary)
        for resp in app.conv_state.orphans:
            yield _orphan(resp, summary)


def _orphan(resp: Message, summary: dict[str, Any]) -> RequestRecord:
    """A response without a request Wireshark would recognise: its status still counts."""
    return RequestRecord(
        line=resp.frame,
        ts=facts.utc(resp.ts),
        method=None,
        url=None,
        host=summary["server"],
        route=None,
        status=resp.status,
        duration_ms=None,
        bytes=resp.body_bytes,
        client=summary["client"],
        attrs={
            "source": "pcap",
            "stream": summary["stream"],
            "response_frame": resp.frame,
            "orphan_response": True,
            "server": f"{summary['server']}:{summary['server_port']}",
        },
    )


def _request(ex: Exchange, summary: dict[str, Any]) -> RequestRecord:
    req, resp = ex.request, ex.response
    host = req.headers.get("host") or summary["server"]
    target = req.target or "/"
    url = (
        target
        if "://" in target
        else f"http://{host}{target if target.startswith('/') else '/' + target}"
    )
    attrs: dict[str, Any] = {
        "source": "pcap",
        "stream": summary["stream"],
        "request_frame": req.frame,
        "server": f"{summary['server']}:{summary['server_port']}",
    }
    for name in ("user-agent", "content-type", "authorization"):
        if name in req.headers:
            attrs[f"request.{name}"] = req.headers[name]
    status = duration = size = None
    if resp is not None:
        status = resp.status
        duration = round((resp.ts - req.ts) * 1000, 3)
        size = resp.body_bytes
        attrs["response_frame"] = resp.frame
        for name in ("location", "www-authenticate", "content-type", "server"):
            if name in resp.headers:
                attrs[f"response.{name}"] = resp.headers[name]
    return RequestRecord(
        line=req.frame,
        ts=facts.utc(req.ts),
        method=req.method,
        url=url,
        host=host,
        route=target.split("?", 1)[0],
        status=status,
        duration_ms=duration,
        bytes=size,
        client=summary["client"],
        attrs=attrs,
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
