"""OAuth refresh-token problems in a HAR: invalid_grant answers and a refresh token used more than once (a refresh race)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.net.casedata import Req, entries, requests, window


@analyzer(key="har_oauth_refresh", needs=("har",))
def har_oauth_refresh(case: Case) -> Iterator[Finding]:
    """The same refresh token (same placeholder) sent twice, and token requests failing with invalid_grant."""
    reqs = requests(case, "har")
    by_token: dict[tuple[str, str], list[Req]] = defaultdict(list)
    reported: set[int] = set()
    for r in reqs:
        token = r.attrs.get("oauth.refresh_token")
        if r.attrs.get("oauth.grant_type") == "refresh_token" and token:
            by_token[(r.file, str(token))].append(r)
    for (file, token), uses in by_token.items():
        if len(uses) < 2:
            continue
        failed = [r for r in uses[1:] if r.attrs.get("oauth.error") or (r.status or 0) >= 400]
        gap = (uses[1].ts - uses[0].ts).total_seconds() if uses[0].ts and uses[1].ts else None
        reported.update(id(r) for r in uses)
        yield Finding(
            key="HAR_OAUTH_REFRESH_REUSED",
            analyzer="har_oauth_refresh",
            subject=f"{file}|{token}",
            severity="high",
            score=0.9 if failed else 0.6,
            title=f"One refresh token sent {len(uses)} times"
            + (f" {gap * 1000:.0f} ms apart" if gap is not None else "")
            + (
                f"; {len(failed)} answered {failed[0].attrs.get('oauth.error') or failed[0].status}"
                if failed
                else ""
            ),
            summary=(
                "Two token refreshes raced with the same refresh token. With refresh-token"
                " rotation the first use invalidates it, so the second fails (invalid_grant) and"
                " the client logs the user out. Serialize refreshes in the client (one in flight,"
                " others wait for its result)."
            ),
            window=window([r.ts for r in uses]),
            entities={"token_endpoint": f"{uses[0].host}{uses[0].route}", "refresh_token": token},
            stats={
                "uses": len(uses),
                "failed": len(failed),
                "gap_ms": round(gap * 1000, 1) if gap is not None else None,
            },
            evidence=(entries(file, uses),),
        )
    grants = [
        r for r in reqs if r.attrs.get("oauth.error") == "invalid_grant" and id(r) not in reported
    ]
    if grants:
        first = grants[0]
        yield Finding(
            key="HAR_OAUTH_INVALID_GRANT",
            analyzer="har_oauth_refresh",
            subject=f"{first.file}|invalid_grant",
            severity="high",
            score=0.6,
            title=f"{len(grants)} token requests to {first.host}{first.route} failed with invalid_grant",
            summary=(
                "The authorization server rejected the grant (expired, revoked or already used"
                f" refresh token or code): {first.attrs.get('oauth.error_description', 'no description')}."
            ),
            window=window([r.ts for r in grants]),
            entities={"token_endpoint": f"{first.host}{first.route}"},
            stats={"failures": len(grants)},
            evidence=(entries(first.file, grants),),
        )
