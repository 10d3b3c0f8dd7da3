"""Authentication failures in a HAR: 401/403 with the server's stated reason, and JWTs expired or not yet valid when sent."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.net.casedata import Req, entries, requests, window

_PARAM = re.compile(r'(error|error_description)\s*=\s*"([^"]*)"|(error)\s*=\s*([\w.-]+)')


def challenge(req: Req) -> str:
    """``error`` and ``error_description`` from WWW-Authenticate, or the scheme alone."""
    header = str(req.attrs.get("response.www-authenticate", ""))
    parts: dict[str, str] = {}
    for m in _PARAM.finditer(header):
        key = m.group(1) or m.group(3)
        parts.setdefault(key, m.group(2) if m.group(1) else m.group(4))
    if parts:
        return ": ".join(parts[k] for k in ("error", "error_description") if k in parts)
    return header.split(" ", 1)[0] if header else ""


def jwt_problem(req: Req) -> tuple[str, float] | None:
    """("expired"|"not yet valid", seconds) for the bearer JWT at the request's own time."""
    if req.ts is None:
        return None
    now = req.ts.timestamp()
    exp, nbf = req.attrs.get("jwt.exp"), req.attrs.get("jwt.nbf")
    if isinstance(exp, int | float) and now >= exp:
        return "expired", now - exp
    if isinstance(nbf, int | float) and now < nbf:
        return "not yet valid", nbf - now
    return None


@analyzer(key="har_auth", needs=("har",))
def har_auth(case: Case) -> Iterator[Finding]:
    """401/403 responses grouped by route and reason; expired or future JWTs at request time."""
    reqs = requests(case, "har")
    groups: dict[tuple[str, str, str, int, str], list[Req]] = defaultdict(list)
    for r in reqs:
        if r.status in (401, 403):
            groups[(r.file, r.host, r.route, r.status or 0, challenge(r))].append(r)
    for (file, host, route, status, reason), failed in groups.items():
        yield Finding(
            key="HAR_AUTH_FAILED",
            analyzer="har_auth",
            subject=f"{file}|{host}|{route}|{status}|{reason}",
            severity="high",
            score=min(1.0, 0.55 + 0.05 * len(failed)),
            title=f"{len(failed)} × HTTP {status} from {host}{route}"
            + (f": {reason}" if reason else ""),
            summary=(
                f"{host}{route} refused {len(failed)} requests with {status}"
                + (
                    f'; the server said "{reason}"'
                    if reason
                    else " without a WWW-Authenticate reason"
                )
                + ". Check the token the client sent (scope, audience, expiry)."
            ),
            window=window([r.ts for r in failed]),
            entities={"host": host, "route": route, "reason": reason},
            stats={"failures": len(failed), "status": status},
            evidence=(entries(file, failed, f"{failed[0].method} {failed[0].url[:150]}"),),
        )
    bad: dict[tuple[str, str], list[tuple[Req, float]]] = defaultdict(list)
    for r in reqs:
        problem = jwt_problem(r)
        if problem is not None:
            bad[(r.file, problem[0])].append((r, problem[1]))
    for (file, kind), items in bad.items():
        worst = max(s for _, s in items)
        rejected = sum(1 for r, _ in items if r.status in (401, 403))
        yield Finding(
            key="HAR_JWT_EXPIRED" if kind == "expired" else "HAR_JWT_NOT_YET_VALID",
            analyzer="har_auth",
            subject=f"{file}|{kind}",
            severity="high",
            score=0.75 if rejected else 0.5,
            title=f"{len(items)} requests sent a bearer JWT {kind} by up to {worst:.0f} s"
            f" ({rejected} rejected with 401/403)",
            summary=(
                f"At the time each request was sent, its JWT was {kind} (by up to {worst:.0f} s)."
                + (
                    " A token used before its nbf points at clock skew between the issuer and"
                    " the client or server."
                    if kind != "expired"
                    else " The client did not refresh the token before it expired."
                )
            ),
            window=window([r.ts for r, _ in items]),
            entities={"token_state": kind},
            stats={"requests": len(items), "max_seconds": round(worst, 1), "rejected": rejected},
            evidence=(entries(file, [r for r, _ in items]),),
        )
