"""The 301/302 POST→GET trap: a redirected POST that the browser re-sent as a GET, dropping its body."""

from __future__ import annotations

from collections.abc import Iterator

from casework.analyzers.har_redirects import redirect_target
from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.net.casedata import entries, requests, window

TRAP_STATUSES = frozenset((301, 302))


@analyzer(key="har_post_redirect", needs=("har",))
def har_post_redirect(case: Case) -> Iterator[Finding]:
    """POST (or PUT/PATCH/DELETE) answered 301/302, followed by a GET of the new location."""
    reqs = requests(case, "har")
    for r in reqs:
        if r.method not in ("POST", "PUT", "PATCH", "DELETE") or r.status not in TRAP_STATUSES:
            continue
        target = redirect_target(r)
        follow = next(
            (x for x in reqs if x.file == r.file and x.line > r.line and x.url == target), None
        )
        became_get = follow is not None and follow.method == "GET"
        failed = follow is not None and (follow.status or 0) >= 400
        chain = [r] + ([follow] if follow else [])
        outcome = (
            f"re-sent as GET {follow.route} → {follow.status}"
            if follow is not None and became_get
            else "follow-up not in the HAR"
        )
        yield Finding(
            key="HAR_POST_REDIRECT_TRAP",
            analyzer="har_post_redirect",
            subject=f"{r.file}|{r.line}",
            severity="high" if became_get and failed else "medium",
            score=0.85 if became_get and failed else 0.6 if became_get else 0.4,
            title=f"{r.method} {r.route} got {r.status}; the browser {outcome}, the body was lost",
            summary=(
                f"Browsers turn a {r.method} answered with {r.status} into a GET of the Location"
                f" ({(target or '?')[:120]}) and drop the request body. "
                "Use 307/308 to keep the method, or post to the final URL directly"
                " (often http→https or a missing trailing slash)."
            ),
            window=window([x.ts for x in chain]),
            entities={"route": f"{r.method} {r.route}", "location": (target or "")[:200]},
            stats={
                "status": r.status,
                "follow_up_status": follow.status if follow else None,
                "became_get": became_get,
            },
            evidence=(entries(r.file, chain, f"{r.method} {r.url[:120]} -> {r.status}"),),
            next_steps=("Answer with 307/308, or fix the client to call the canonical URL.",),
        )
