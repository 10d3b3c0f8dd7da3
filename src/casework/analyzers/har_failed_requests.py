"""HAR requests that failed: status 0 with the browser's reason (net::ERR_…), and 4xx/5xx, per host."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding, Severity
from casework.net.casedata import Req, count_of, entries, requests, window

#: Auth failures have their own analyzer (har_auth), with the server's reason.
AUTH_STATUSES = frozenset((401, 403, 407))
#: Failures of one kind to one host from which a 5xx or network failure is ranked high.
MIN_REPEATED = 3


def failure(req: Req) -> str | None:
    """``net::ERR_…`` (or "no response") for status 0, ``HTTP 503`` for 4xx/5xx, else None."""
    if req.status in (None, 0, -1):
        return str(req.attrs.get("error") or "no response (status 0)")
    if req.status >= 400 and req.status not in AUTH_STATUSES:
        return f"HTTP {req.status}"
    return None


@analyzer(key="har_failed_requests", needs=("har",))
def har_failed_requests(case: Case) -> Iterator[Finding]:
    """Failed HAR requests: status 0 with the browser's error, and 4xx/5xx, per host."""
    reqs = requests(case, "har")
    per_host: dict[tuple[str, str], int] = defaultdict(int)
    groups: dict[tuple[str, str, str], list[Req]] = defaultdict(list)
    for r in reqs:
        per_host[(r.file, r.host)] += 1
        kind = failure(r)
        if kind is not None:
            groups[(r.file, kind, r.host)].append(r)
    for (file, kind, host), failed in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        total = per_host[(file, host)]
        share = len(failed) / total
        # One failed request (an ad blocker's, a beacon's) is a lead; a server or network
        # failure that repeats is a problem of that host.
        repeated = len(failed) >= MIN_REPEATED
        severity: Severity = "high" if repeated and not kind.startswith("HTTP 4") else "medium"
        sample = failed[0]
        title = (
            f"{len(failed)} of {total} requests to {host or '?'} failed with {kind}"
            f" (first: {sample.method} {sample.route})"
        )
        summary = (
            f"In {file}, {count_of(len(failed), 'request')} ({share:.0%} of those to {host or '?'}) ended in"
            f" {kind}. "
            + (
                "Status 0 means the browser got no HTTP response: the reason is the browser's"
                " (TLS, DNS, blocked, offline), not the server's."
                if not kind.startswith("HTTP")
                else "Compare the failing URLs with the ones that succeed on the same host."
            )
        )
        yield Finding(
            key="HAR_FAILED_REQUESTS",
            analyzer="har_failed_requests",
            subject=f"{file}|{kind}|{host}",
            severity=severity,
            score=min(1.0, 0.3 + 0.4 * share * min(1.0, len(failed) / 5) + 0.02 * len(failed)),
            title=title,
            summary=summary,
            window=window([r.ts for r in failed]),
            entities={"host": host, "failure": kind},
            stats={"failed": len(failed), "requests_to_host": total, "share": round(share, 4)},
            evidence=(entries(file, failed, f"{sample.method} {sample.url[:200]}"),),
            next_steps=(
                "Open the listed entries in the HAR viewer and compare request headers with a"
                " successful request to the same host.",
            ),
        )
