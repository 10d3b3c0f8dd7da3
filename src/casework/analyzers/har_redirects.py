"""Redirect chains and loops in a HAR: how many hops, how long they cost, and whether they cycle."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.net.casedata import Req, entries, requests, window

MIN_HOPS = 3


def redirect_target(req: Req) -> str | None:
    """Where a 3xx sent the browser, absolute; None for other responses."""
    if req.status is None or not 300 <= req.status < 400 or req.status == 304:
        return None
    target = req.attrs.get("redirect_url") or req.attrs.get("response.location")
    return urljoin(req.url, str(target)) if target else None


def chains(reqs: list[Req]) -> list[list[Req]]:
    """Redirect chains of one file: each entry followed to the next entry fetching its target."""
    by_url: dict[str, list[Req]] = {}
    for r in reqs:
        by_url.setdefault(r.url, []).append(r)
    used: set[int] = set()
    out: list[list[Req]] = []
    for r in reqs:
        if r.line in used or redirect_target(r) is None:
            continue
        chain = [r]
        used.add(r.line)
        while (target := redirect_target(chain[-1])) is not None and len(chain) < 50:
            nxt = next((x for x in by_url.get(target, []) if x.line > chain[-1].line), None)
            if nxt is None:
                break
            chain.append(nxt)
            used.add(nxt.line)
        out.append(chain)
    return out


@analyzer(key="har_redirects", needs=("har",))
def har_redirects(case: Case) -> Iterator[Finding]:
    """Redirect chains of three or more hops, and redirect loops, in HAR files."""
    reqs = requests(case, "har")
    files = sorted({r.file for r in reqs})
    for file in files:
        for chain in chains([r for r in reqs if r.file == file]):
            urls = [r.url for r in chain]
            loop = len(set(urls)) < len(urls) or (redirect_target(chain[-1]) in set(urls))
            hops = len(chain) - (0 if redirect_target(chain[-1]) else 1)
            if not loop and hops < MIN_HOPS:
                continue
            cost = sum(r.duration_ms or 0.0 for r in chain if redirect_target(r))
            codes = "→".join(str(r.status) for r in chain)
            first = chain[0]
            title = (
                f"Redirect loop through {len(set(urls))} URLs starting at {first.host}{first.route}"
                if loop
                else f"{hops} redirects ({codes}) before {chain[-1].host}{chain[-1].route},"
                f" costing {cost:.0f} ms"
            )
            yield Finding(
                key="HAR_REDIRECT_LOOP" if loop else "HAR_REDIRECT_CHAIN",
                analyzer="har_redirects",
                subject=f"{file}|{first.line}",
                severity="high" if loop else "low",
                score=0.8 if loop else min(0.5, 0.1 * hops),
                title=title,
                summary=(
                    f"In {file}, {first.method} {first.url[:120]} was redirected {hops} times"
                    f" ({codes}); the redirects alone took {cost:.0f} ms."
                    + (" The chain returns to a URL it already visited." if loop else "")
                ),
                window=window([r.ts for r in chain]),
                entities={"start": first.url[:200], "end": chain[-1].url[:200]},
                stats={"hops": hops, "redirect_ms": round(cost, 1), "loop": loop},
                evidence=(entries(file, chain, " -> ".join(u[:80] for u in urls[:6])),),
                next_steps=("Link directly to the final URL, or fix the rule that bounces back.",),
            )
