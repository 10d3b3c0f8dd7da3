"""DNS names that failed in a capture: error rcodes (NXDOMAIN, SERVFAIL, …) and queries never answered."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding, Severity
from casework.net.casedata import Flow, flow_lines, flows, frame_list, frames, window


@analyzer(key="net_dns_failures", needs=("flows",))
def net_dns_failures(case: Case) -> Iterator[Finding]:
    """Per queried name: how many queries failed and how (rcode, or no answer), with frames."""
    per_name: dict[tuple[str, str], list[tuple[Flow, dict[str, Any]]]] = defaultdict(list)
    # Unicast DNS only: mDNS/LLMNR questions go to a multicast group and often get no answer.
    for f in flows(case, "(attrs->'$.dns') IS NOT NULL AND (dport = 53 OR sport = 53)"):
        for t in f.attrs.get("dns", {}).get("transactions", []):
            per_name[(f.file, str(t.get("name") or "(root)"))].append((f, t))
    for (file, name), items in per_name.items():
        failed = [(f, t) for f, t in items if t.get("rcode") != "NOERROR"]
        if not failed:
            continue
        codes: dict[str, int] = defaultdict(int)
        for _, t in failed:
            codes[t.get("rcode") or "no answer"] += 1
        servers = sorted({f.dst for f, _ in failed})
        worst = max(codes.items(), key=lambda kv: kv[1])[0]
        numbers = [n for _, t in failed for n in t.get("query_frames", [])] + [
            t["response_frame"] for _, t in failed if t.get("response_frame")
        ]
        yield Finding(
            key="NET_DNS_FAILURE",
            analyzer="net_dns_failures",
            subject=f"{file}|{name}",
            severity=_severity(worst, len(failed)),
            score=min(0.9, 0.5 + 0.05 * len(failed)),
            title=f"DNS for {name} failed {len(failed)} of {len(items)} times: "
            + ", ".join(f"{c} ×{n}" for c, n in sorted(codes.items())),
            summary=(
                f"Queries for {name} to {', '.join(servers)} got "
                + ", ".join(f"{c} {n} times" for c, n in sorted(codes.items()))
                + ". NXDOMAIN: the name does not exist in that resolver's view (typo, split"
                " horizon, search domain); SERVFAIL: the resolver could not reach or validate the"
                " authority; no answer: the resolver is unreachable or filtered."
            ),
            window=window([f.start for f, _ in failed]),
            entities={"name": name, "resolvers": ", ".join(servers)},
            stats={
                "failed": len(failed),
                "queries": len(items),
                **{k: v for k, v in codes.items()},
            },
            evidence=(frames(file, numbers, flow_lines([(f, _answer(t)) for f, t in failed])),),
        )


def _severity(worst: str, failed: int) -> Severity:
    """A resolver that fails (SERVFAIL, no answer) matters more than a name that does not exist;
    once is weak either way: a lost datagram is retried, and one NXDOMAIN is everyday noise
    (a search-domain expansion, a browser probing a random name)."""
    if worst in ("SERVFAIL", "no answer"):
        return "high" if failed >= 2 else "medium"
    return "medium" if failed >= 2 else "low"


#: Record types by number (RFC 1035 and successors), for the excerpt; others show as "type N".
_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
          33: "SRV", 64: "SVCB", 65: "HTTPS"}  # fmt: skip


def _answer(t: dict[str, Any]) -> str:
    number = t.get("type")
    qtype = _TYPES.get(number or 0, f"type {number}" if number is not None else "")
    asked = frame_list(t.get("query_frames", []))
    asked = f" ({asked})" if asked else ""
    name = " ".join(x for x in (str(t.get("name")), qtype) if x)
    if not t.get("response_frame"):
        return f"{name}{asked}: no answer"
    rtt = f" in {t['rtt_ms']} ms" if t.get("rtt_ms") is not None else ""
    return f"{name}{asked} -> {t.get('rcode')}{rtt} (frame {t['response_frame']})"
