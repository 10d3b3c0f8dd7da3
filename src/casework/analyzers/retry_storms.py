"""Retry storms: which client answers 429/503 by retrying at once, ignoring Retry-After.

The client identity is not assumed to live in one field: the contrast
engine picks the attribute (user agent with its SDK version, key id, client
id) whose values best separate throttled requests from the rest. Per value
of it, the gap from each 429/503 to that client's next request is measured
with SQL window functions and compared with the Retry-After the server
sent (the header's value, wherever the log put it). The client whose gaps
are far below it is the one that ignores back-off; polite clients that are
throttled too are its contrast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from casework.case import Case
from casework.contrast import contrast
from casework.contrast_tables import TableRows
from casework.engine import analyzer
from casework.findings import Evidence, Finding
from casework.formats.httpfields import canonical_key
from casework.shifts import STREAM_SQL
from casework.timeline import minute

THROTTLED = "status IN (429, 503)"
MIN_THROTTLED = 20
#: Without a Retry-After, a retry sooner than this is "at once".
DEFAULT_WAIT_S = 1.0
STORM_GAP_S = 60.0
#: Header names are protocol, not customer vocabulary: Retry-After in any spelling.
RETRY_AFTER_KEY = r"(?i)(^|[._-])retry[._-]?after([._-]?s(ec(onds)?)?)?$"
CLIENT_IP = "json_extract_string(attrs, '$.\"client.ip\"')"
USER_AGENT = "json_extract_string(attrs, '$.\"http.user_agent\"')"
#: What a request's attributes may say of who sent it; the others (path, route, method,
#: status, size, referer) describe the request, and a path that draws 503s is not a client.
WHO = ("http.user_agent", "client.ip", "client.id")


@dataclass(frozen=True, slots=True)
class _Client:
    value: str
    throttled: int
    fast: int
    median_gap: float | None  # None: no request followed a throttled one
    pace: float | None  # the median gap after its other requests (None: it had none)
    retry_after: float | None
    statuses: str  # the throttling codes it got: "429", "503" or "429 and 503"
    storms: int
    first: object
    last: object


@analyzer(key="retry_storms", needs=("requests",))
def retry_storms(case: Case) -> Iterator[Finding]:
    """The client that retries 429/503 at once, ignoring Retry-After, and its storms."""
    identities: dict[tuple[str, str], tuple[str | None, list[str]]] = {}
    for (stream,) in case.rows(
        f"SELECT {STREAM_SQL} s FROM requests WHERE {THROTTLED} GROUP BY s HAVING count(*) >= ?"
        " ORDER BY count(*) DESC LIMIT 3",
        (MIN_THROTTLED,),
    ):
        rows = TableRows("requests", f"{STREAM_SQL} = '{_q(stream)}'")
        keys = _throttled_keys(case, rows.sql())
        retry_key = next((k for k in keys if re.search(RETRY_AFTER_KEY, k)), None)
        outcome = ("status", "duration_ms", "bytes", "route", "method", "url")
        splits = contrast(
            case.con,
            rows,
            THROTTLED,
            columns=("client",),
            outcome=outcome,
            exclude=[k for k in keys if k == retry_key or canonical_key(k) not in (None, *WHO)],
            time_column=None,
            max_terms=1,
            max_results=3,
        )
        best = next((s for s in splits if s.terms[0].op in ("=", "in")), None)
        if best is None:
            continue
        term = best.terms[0]
        # Attributes that select exactly the same requests name the same client (agent and key).
        aliases = [
            s.terms[0].label
            for s in splits
            if s is not best
            and s.terms[0].op == "="
            and (s.failing_in, s.total_in) == (best.failing_in, best.total_in)
        ]
        identities.setdefault((term.attr, term.expr), (retry_key, aliases))
    for (attr, expr), (retry_key, aliases) in identities.items():
        yield from _storms(case, attr, expr, retry_key, aliases)


def _storms(
    case: Case, attr: str, expr: str, retry_key: str | None, aliases: list[str]
) -> Iterator[Finding]:
    """The clients of one identity that retry at once, over every file the identity was
    throttled in: a client behind a load balancer is throttled by each instance, and its next
    request may reach another one (seen one log at a time, its retries look seconds apart)."""
    streams = [
        str(s)
        for (s,) in case.rows(
            f"SELECT DISTINCT {STREAM_SQL} s FROM requests WHERE {expr} IS NOT NULL"
            f" AND {THROTTLED} ORDER BY s"
        )
    ]
    listed = ", ".join(f"'{_q(s)}'" for s in streams)
    clients = _clients(case, TableRows("requests", f"{STREAM_SQL} IN ({listed})").sql(), expr,
                       retry_key)  # fmt: skip
    offenders = [c for c in clients if c.throttled >= MIN_THROTTLED and _ignores(c)]
    if not offenders:
        return
    worst = max(offenders, key=lambda c: (c.fast, c.value))
    total = sum(c.throttled for c in clients)
    polite = [c for c in clients if c is not worst and c.throttled and not _ignores(c)]
    files = [
        str(s)
        for (s,) in case.rows(
            f"SELECT DISTINCT {STREAM_SQL} s FROM requests WHERE {expr} = ? AND {THROTTLED}"
            " ORDER BY s",
            (worst.value,),
        )
    ]
    yield _finding(case, files, attr, expr, worst, total, polite, aliases)


def _throttled_keys(case: Case, source: str) -> list[str]:
    """The attribute keys of (up to 2,000 of) the throttled requests, commonest first."""
    rows = case.rows(
        f"SELECT k FROM (SELECT unnest(json_keys(attrs)) k FROM ({source}) WHERE {THROTTLED} LIMIT 2000)"
        " GROUP BY k ORDER BY count(*) DESC, k"
    )
    return [str(k) for (k,) in rows]


def _ignores(c: _Client) -> bool:
    """Retries at once: most throttled requests followed sooner than the wait asked, and in
    half the client's usual pace at most (an identity many users share, a browser's user
    agent, sends its next request at once after any answer)."""
    wait = c.retry_after if c.retry_after else DEFAULT_WAIT_S
    if c.median_gap is None or not c.fast >= 0.5 * c.throttled:
        return False
    return c.median_gap < 0.5 * wait and (c.pace is None or c.median_gap < 0.5 * c.pace)


def _clients(case: Case, source: str, expr: str, retry_key: str | None) -> list[_Client]:
    # A user agent is shared by everyone running that browser or library: where the identity
    # is one (the requests' ``client`` column is, for want of a client id), the client is one
    # address sending it.
    client = f"{expr}, CASE WHEN {expr} = {USER_AGENT} THEN {CLIENT_IP} END"
    after = (
        f"TRY_CAST(json_extract_string(attrs, '$.\"{retry_key}\"') AS DOUBLE)"
        if retry_key
        else "NULL"
    )
    rows = case.rows(
        f"WITH r AS (SELECT ts, status, {expr} AS who, {after} AS ra,"
        f" lead(ts) OVER (PARTITION BY {client} ORDER BY ts) AS nxt"
        f" FROM ({source}) s WHERE {expr} IS NOT NULL),"
        " g AS (SELECT *, epoch(nxt) - epoch(ts) AS gap FROM r),"
        f" t AS (SELECT *, lag(ts) OVER (PARTITION BY who ORDER BY ts) AS prev_throttled"
        f" FROM g WHERE {THROTTLED}),"
        f" p AS (SELECT who, median(gap) AS pace FROM g WHERE NOT ({THROTTLED}) GROUP BY who)"
        " SELECT who, count(*), count(*) FILTER (WHERE gap < coalesce(ra, ?)),"
        " median(gap), any_value(p.pace), median(ra), count(*) FILTER (WHERE prev_throttled IS NULL"
        " OR epoch(ts) - epoch(prev_throttled) > ?), min(ts), max(ts),"
        " string_agg(DISTINCT status::VARCHAR, ' and ' ORDER BY status::VARCHAR)"
        " FROM t LEFT JOIN p USING (who) GROUP BY who ORDER BY count(*) DESC, who LIMIT 50",
        (DEFAULT_WAIT_S, STORM_GAP_S),
    )
    return [
        _Client(
            str(w),
            int(n),
            int(fast),
            float(gap) if gap is not None else None,
            float(pace) if pace is not None else None,
            float(ra) if ra is not None else None,
            str(codes),
            int(storms),
            first,
            last,
        )
        for w, n, fast, gap, pace, ra, storms, first, last, codes in rows
    ]


def _finding(
    case: Case,
    streams: list[str],
    attr: str,
    expr: str,
    c: _Client,
    total: int,
    polite: list[_Client],
    aliases: list[str],
) -> Finding:
    wait = f"Retry-After {c.retry_after:g} s" if c.retry_after else "no Retry-After"
    also = f" ({', '.join(aliases)})" if aliases else ""
    # The requests' own client column needs no name ("Client client = ..." says nothing).
    who = c.value if attr == "client" else f"{attr} = {c.value}"
    title = (
        f"Client {who}{also} ignores back-off: {c.fast:,} of its {c.throttled:,} HTTP {c.statuses}"
        f" were retried after a median {c.median_gap or 0:.2f} s ({wait}), in {c.storms} storm(s);"
        f" {c.throttled / total:.0%} of all throttled requests"
    )
    others = ", ".join(
        f"{p.value} ({'no retry' if p.median_gap is None else f'median wait {p.median_gap:.1f} s'})"
        for p in polite[:3]
    )
    return Finding(
        key="RETRY_STORM",
        analyzer="retry_storms",
        subject=f"{streams[0]}:{attr}:{c.value}",
        severity="high",
        score=round(min(1.0, 0.6 + 0.4 * c.fast / max(c.throttled, 1)), 4),
        title=title,
        summary=(
            f"In {', '.join(streams)}, requests are identified by {attr}. {c.value} received {c.throttled:,}"
            f" throttling responses and retried {c.fast:,} of them sooner than the server asked"
            f" ({wait}), so each burst over the limit turns into a storm of HTTP {c.statuses}."
            + (f" Other throttled clients wait as told: {others}." if others else "")
        ),
        entities={"client": c.value, "identity": attr, "file": ", ".join(streams)}
        | ({"same_client": "; ".join(aliases)} if aliases else {}),
        stats={
            "throttled": c.throttled,
            "retried_at_once": c.fast,
            "median_gap_s": c.median_gap,
            "retry_after_s": c.retry_after,
            "storms": c.storms,
            "share_of_throttled": c.throttled / total,
            "polite_clients": len(polite),
        },
        evidence=_evidence(case, streams, expr, c.value),
        next_steps=(
            f"Ask the owner of {c.value} to honour Retry-After (exponential back-off with jitter).",
            "Confirm by plotting this client's request times around one storm: retries should cluster within milliseconds.",
            "Refute: if the server sent no Retry-After or sent 0, the client is not at fault.",
        ),
    )


def _evidence(case: Case, streams: list[str], expr: str, value: str) -> tuple[Evidence, ...]:
    rows = case.rows(
        f"SELECT file, line, ts, status FROM requests WHERE list_contains(?, {STREAM_SQL})"
        f" AND {expr} = ? AND {THROTTLED} ORDER BY ts LIMIT 3",
        (streams, value),
    )
    return tuple(
        Evidence(
            file=str(f),
            lines=(int(n), int(n)) if n is not None else None,
            excerpt=f"{minute(ts)} HTTP {status} to {value}",
        )
        for f, n, ts, status in rows
    )


def _q(text: str) -> str:
    return str(text).replace("'", "''")
