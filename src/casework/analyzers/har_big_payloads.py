"""Large HAR responses: payloads big enough to explain slow pages or mobile timeouts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Finding
from casework.net.casedata import Req, count_of, entries, requests, window

BIG_BYTES = 1_000_000


@analyzer(key="har_big_payloads", needs=("har",))
def har_big_payloads(case: Case) -> Iterator[Finding]:
    """Responses of 1 MB or more, per file, biggest first."""
    by_file: dict[str, list[Req]] = defaultdict(list)
    for r in requests(case, "har"):
        if (r.bytes or 0) >= BIG_BYTES:
            by_file[r.file].append(r)
    for file, big in by_file.items():
        big.sort(key=lambda r: -(r.bytes or 0))
        top = big[0]
        total = sum(r.bytes or 0 for r in big)
        yield Finding(
            key="HAR_BIG_PAYLOAD",
            analyzer="har_big_payloads",
            subject=f"{file}|big",
            severity="low",
            score=min(0.5, 0.2 + total / 50e6),
            title=(
                f"1 response of 1 MB or more: {total / 1e6:.1f} MB from"
                if len(big) == 1
                else f"{count_of(len(big), 'response')} of 1 MB or more ({total / 1e6:.1f} MB);"
                f" largest {(top.bytes or 0) / 1e6:.1f} MB from"
            )
            + f" {top.method} {top.host}{top.route}",
            summary=(
                f"The largest response took {top.duration_ms or 0:.0f} ms. Check compression,"
                " pagination and caching of these URLs."
            ),
            window=window([r.ts for r in big]),
            entities={"largest": top.url[:200]},
            stats={"responses": len(big), "bytes": total, "largest_bytes": top.bytes},
            evidence=(entries(file, big),),
        )
