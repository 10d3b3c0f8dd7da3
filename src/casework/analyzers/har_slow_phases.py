"""Where the time of slow HAR requests went: queueing, DNS, TCP connect, TLS, server wait or download."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.net.casedata import Req, entries, requests, window

SLOW_MS = 1000.0
PHASES = {
    "blocked": "queueing in the browser",
    "dns": "DNS lookup",
    "tcp_connect": "TCP connect",
    "ssl": "TLS handshake",
    "send": "sending the request",
    "wait": "server wait (time to first byte)",
    "receive": "download",
}


def phases(req: Req) -> dict[str, float]:
    """Milliseconds per phase, with TLS taken out of connect when the producer nested it."""
    out: dict[str, float] = {}
    for phase in PHASES:
        key = "timings.tcp_connect" if phase == "tcp_connect" else f"timings.{phase}"
        value = req.attrs.get(key)
        if phase == "tcp_connect" and value is None:
            value = req.attrs.get("timings.connect")
        if isinstance(value, int | float) and value > 0:
            out[phase] = float(value)
    return out


@analyzer(key="har_slow_phases", needs=("har",))
def har_slow_phases(case: Case) -> Iterator[Finding]:
    """For requests slower than 1 s, the phase that took most of their time."""
    by_file: dict[str, list[Req]] = defaultdict(list)
    for r in requests(case, "har"):
        if (r.duration_ms or 0) >= SLOW_MS:
            by_file[r.file].append(r)
    for file, slow in by_file.items():
        totals: dict[str, float] = defaultdict(float)
        for r in slow:
            for phase, ms in phases(r).items():
                totals[phase] += ms
        spent = sum(totals.values())
        if not spent:
            continue
        phase, ms = max(totals.items(), key=lambda kv: kv[1])
        share = ms / spent
        worst = max(slow, key=lambda r: r.duration_ms or 0)
        yield Finding(
            key="HAR_SLOW_PHASE",
            analyzer="har_slow_phases",
            subject=f"{file}|{phase}",
            severity="medium" if share >= 0.5 else "low",
            score=min(0.7, 0.3 + 0.4 * share),
            title=f"{PHASES[phase].capitalize()} is {share:.0%} of the time of {len(slow)} requests"
            f" slower than 1 s (slowest {worst.duration_ms:.0f} ms: {worst.method} {worst.route})",
            summary=(
                f"Across {len(slow)} requests of {file} that took 1 s or more, {PHASES[phase]}"
                f" accounts for {ms:.0f} of {spent:.0f} ms. "
                + ", ".join(
                    f"{p} {v:.0f} ms" for p, v in sorted(totals.items(), key=lambda kv: -kv[1])
                )
                + "."
            ),
            window=window([r.ts for r in slow]),
            entities={"phase": phase, "slowest": f"{worst.method} {worst.url[:150]}"},
            stats={
                "slow_requests": len(slow),
                "phase_ms": round(ms, 1),
                "share": round(share, 4),
                "slowest_ms": worst.duration_ms,
            },
            evidence=(entries(file, sorted(slow, key=lambda r: -(r.duration_ms or 0))),),
        )
