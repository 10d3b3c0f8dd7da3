"""CORS-shaped failures in a HAR: preflights the server did not allow, and status 0 right after a preflight."""

from __future__ import annotations

from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.net.casedata import Req, entries, requests, window


def preflight_problem(req: Req) -> str | None:
    """Why a preflight (OPTIONS with Access-Control-Request-Method) would make the browser refuse."""
    wanted = str(req.attrs.get("request.access-control-request-method", "")).upper()
    if req.method != "OPTIONS" or not wanted:
        return None
    if req.status is None or not 200 <= req.status < 300:
        return f"preflight answered {req.status or 'nothing'}"
    if "response.access-control-allow-origin" not in req.attrs:
        return "no Access-Control-Allow-Origin"
    methods = str(req.attrs.get("response.access-control-allow-methods", "")).upper()
    if wanted not in ("GET", "HEAD", "POST") and wanted not in methods and "*" not in methods:
        return f"{wanted} not in Access-Control-Allow-Methods"
    asked = str(req.attrs.get("request.access-control-request-headers", "")).lower()
    allowed = str(req.attrs.get("response.access-control-allow-headers", "")).lower()
    missing = [h.strip() for h in asked.split(",") if h.strip() and h.strip() not in allowed]
    if missing and "*" not in allowed:
        return f"header {missing[0]} not in Access-Control-Allow-Headers"
    return None


@analyzer(key="har_cors", needs=("har",))
def har_cors(case: Case) -> Iterator[Finding]:
    """Preflights without the allow headers, and requests that died (status 0) after a preflight."""
    reqs = requests(case, "har")
    for i, r in enumerate(reqs):
        wanted = r.attrs.get("request.access-control-request-method")
        if r.method != "OPTIONS" or not wanted:
            continue
        problem = preflight_problem(r)
        actual = next(
            (
                x
                for x in reqs[i + 1 :]
                if x.file == r.file and x.url == r.url and x.method != "OPTIONS"
            ),
            None,
        )
        died = actual is not None and actual.status in (None, 0)
        if problem is None and not died:
            continue
        reason = problem or "the actual request got no response (status 0)"
        origin = r.attrs.get("request.origin", "?")
        chain = [r] + ([actual] if actual else [])
        yield Finding(
            key="HAR_CORS_REJECTED",
            analyzer="har_cors",
            subject=f"{r.file}|{r.line}",
            severity="high",
            score=0.8 if problem and died else 0.65,
            title=f"CORS: {wanted} {r.host}{r.route} from {origin} blocked: {reason}",
            summary=(
                f"The browser sent a preflight for {wanted} {r.url[:120]} from origin {origin};"
                f" {reason}. A browser that refuses CORS shows the request as status 0 with no"
                " body, while the server may have logged a success."
            ),
            window=window([x.ts for x in chain]),
            entities={"origin": str(origin), "url": r.url[:200], "method": str(wanted)},
            stats={
                "preflight_status": r.status,
                "actual_status": actual.status if actual else None,
            },
            evidence=(entries(r.file, chain, f"OPTIONS {r.url[:120]} -> {r.status}"),),
            next_steps=(
                "Allow the origin, method and headers in the server's CORS configuration"
                " (on the OPTIONS response too).",
            ),
        )
