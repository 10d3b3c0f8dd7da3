"""TLS alerts in a capture: failed handshakes (handshake_failure, unknown_ca, certificate_expired…) and version mismatches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.net.casedata import Flow, flow_lines, flows, frames, window

#: Alerts that end a healthy connection, not a failure.
BENIGN = frozenset(("close_notify", "user_canceled", "encrypted"))
ADVICE = {
    "protocol_version": "client and server share no TLS version: compare the versions offered"
    " with the server's minimum (an old client against a TLS 1.2+ server, or the reverse)",
    "handshake_failure": "no common cipher suite or a required client certificate was missing",
    "unknown_ca": "the peer does not trust the issuing CA: install the intermediate chain or the"
    " CA in the trust store",
    "certificate_expired": "a certificate in the chain has expired",
    "bad_certificate": "the certificate was rejected (wrong host, bad signature or usage)",
    "unrecognized_name": "the server has no certificate for the SNI name sent",
    "certificate_required": "the server requires a client certificate that was not sent",
}


@analyzer(key="net_tls_alerts", needs=("flows",))
def net_tls_alerts(case: Case) -> Iterator[Finding]:
    """TLS alerts other than close_notify, grouped by server and alert."""
    groups: dict[tuple[str, str, int, str], list[tuple[Flow, dict[str, Any]]]] = defaultdict(list)
    for f in flows(case, "(attrs->'$.tls.alerts') IS NOT NULL"):
        for alert in f.attrs.get("tls", {}).get("alerts", []):
            if alert.get("description") not in BENIGN:
                groups[(f.file, f.dst, f.dport, str(alert.get("description")))].append((f, alert))
    for (file, server, port, desc), items in groups.items():
        tls = items[0][0].attrs.get("tls", {})
        sni = tls.get("sni") or server
        offered = sorted({v for f, _ in items for v in f.attrs.get("tls", {}).get("offered", [])})
        level = items[0][1].get("level") or "?"
        sender = items[0][1].get("from", "?")
        mismatch = desc == "protocol_version"
        yield Finding(
            key="NET_TLS_VERSION_MISMATCH" if mismatch else "NET_TLS_ALERT",
            analyzer="net_tls_alerts",
            subject=f"{file}|{server}|{port}|{desc}",
            severity="high" if level == "fatal" else "medium",
            score=0.85 if level == "fatal" else 0.4,
            title=f"TLS to {sni} ({server}:{port}) failed {len(items)} times: {sender} sent"
            f" {level} {desc}" + (f"; client offered {', '.join(offered)}" if mismatch else ""),
            summary=(
                f"{len(items)} connections ended with a {level} {desc} alert from the {sender}."
                f" Likely cause: {ADVICE.get(desc, 'see RFC 8446 section 6 for this alert')}."
            ),
            window=window([f.start for f, _ in items]),
            entities={"server": f"{server}:{port}", "sni": str(sni), "alert": desc},
            stats={"alerts": len(items), "offered": ", ".join(offered)},
            evidence=(
                frames(
                    file,
                    [int(a["frame"]) for _, a in items],
                    flow_lines([(f, _alert(f, a)) for f, a in items]),
                ),
            ),
        )


def _alert(f: Flow, alert: dict[str, Any]) -> str:
    sni = f.attrs.get("tls", {}).get("sni")
    return (
        f"{alert.get('level', '?')} {alert.get('description')} from the {alert.get('from', '?')}"
        f" (frame {alert.get('frame')})" + (f", SNI {sni}" if sni else "")
    )
