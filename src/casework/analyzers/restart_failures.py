"""Failures at restarts: a route's 5xx or a template's errors that come within a minute of a
workload's restarts, and hardly ever otherwise.

"It comes and goes" is often a dependency restarting: pods killed for memory, a
crash loop, a rolling deploy. A restart is a pod's kill, back-off or start the
kubelet reports (grouped by workload: the pod's name without its ReplicaSet and
pod suffixes), or a start a service logs ("Starting X version Y"). Each restart
opens a window of ``WINDOW`` either side; overlapping windows are one. For each
failure series (a route's 5xx responses; a template's error records, in files
without requests) the rate inside the windows is compared with the rate outside,
per request or record of the same stream (one-sided Fisher test): the failures
must be mostly inside, many times likelier there, and in more than one window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from casework.case import ROUTE_SQL, Case
from casework.contrast_terms import fisher_greater
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Window, count_text, iso, rate_text
from casework.levels import ERROR_LEVELS
from casework.workloads import workload

#: How far either side of a restart its failures may fall (a kill, the pod's start, readiness).
WINDOW = timedelta(seconds=60)
#: A series needs this many failures inside the windows, and this share of all its failures.
MIN_FAILURES = 5
MIN_SHARE = 0.5
#: ...a rate inside this many times the rate outside, in this many windows, at this p-value.
MIN_RATIO = 5.0
MIN_EPISODES = 2
MAX_P = 1e-6
#: Workloads restarting more often than this are not episodes but a state (a crash loop of
#: seconds); their windows would cover the whole time.
MAX_EPISODES = 500
MAX_FINDINGS = 3
#: The kubelet's words for a container going down or coming up.
_REASONS = ("Killing", "OOMKilled", "OOMKilling", "BackOff", "Started")


@dataclass(frozen=True, slots=True)
class _Episode:
    """Merged restart windows: when, how many restart events (kills, starts), and the first's line."""

    lo: datetime
    hi: datetime
    restarts: int
    file: str
    line: int | None
    excerpt: str


@dataclass(frozen=True, slots=True)
class _Group:
    name: str
    members: tuple[str, ...]  # the pods (Pod/name) or the log files that restarted
    episodes: tuple[_Episode, ...]
    sources: frozenset[str]  # files that logged the restarts themselves

    @property
    def restarts(self) -> int:
        return sum(e.restarts for e in self.episodes)

    @property
    def unit(self) -> str:
        return "starts it logged" if self.sources else "kills, back-offs and starts"


@dataclass(frozen=True, slots=True)
class _Series:
    file: str
    label: str
    entities: dict[str, str]
    n_in: int
    f_in: int
    n_out: int
    f_out: int
    hit: frozenset[int]  # the episodes with failures
    first: datetime
    lines: tuple[int, ...]  # the first failures inside windows

    @property
    def rates(self) -> tuple[float, float]:
        return self.f_in / max(self.n_in, 1), self.f_out / max(self.n_out, 1)


@analyzer(key="restart_failures", needs=())
def restart_failures(case: Case) -> Iterator[Finding]:
    """Failures that come within a minute of a workload's restarts and hardly ever otherwise."""
    # Fewer episodes than a series must fail in cannot explain one: no scan for them.
    groups = [g for g in _groups(case) if MIN_EPISODES <= len(g.episodes) <= MAX_EPISODES]
    # Per series, the workload whose restarts explain it best.
    best: dict[tuple[str, str], tuple[float, _Series, _Group]] = {}
    for group in groups:
        for s in _request_series(case, group) + _error_series(case, group):
            p = _qualifies(s)
            key = (s.file, s.label)
            if p is not None and (
                key not in best or (p, -s.f_in) < (best[key][0], -best[key][1].f_in)
            ):
                best[key] = (p, s, group)
    # One finding per file and workload: a route's 5xx before the errors logged with them.
    kept: dict[tuple[str, str], tuple[float, _Series, _Group]] = {}
    for p, s, group in sorted(
        best.values(), key=lambda b: (b[1].file, "route" not in b[1].entities, b[0], b[1].label)
    ):
        kept.setdefault((s.file, group.name), (p, s, group))
    made = [_finding(s, g, p) for p, s, g in kept.values()]
    made.sort(key=lambda f: (-f.score, f.subject))
    yield from made[:MAX_FINDINGS]


def _qualifies(s: _Series) -> float | None:
    """The one-sided p-value when the series fails at the restarts, else None."""
    total = s.f_in + s.f_out
    inside, outside = s.rates
    if s.f_in < MIN_FAILURES or s.f_in < MIN_SHARE * total or len(s.hit) < MIN_EPISODES:
        return None
    if inside < MIN_RATIO * outside:
        return None
    p = fisher_greater(s.f_in, s.n_in - s.f_in, s.f_out, s.n_out - s.f_out)
    return p if p <= MAX_P else None


def _groups(case: Case) -> list[_Group]:
    """The restarts of each workload the kubelet reports, and of each service that logs its own."""
    moments: dict[str, list[tuple[datetime, str, int | None, str]]] = defaultdict(list)
    members: dict[str, set[str]] = defaultdict(set)
    sources: dict[str, set[str]] = defaultdict(set)
    reasons = ", ".join(f"'{r}'" for r in _REASONS)
    if case.count("k8s"):
        for obj, reason, ts, file, line in case.rows(
            f"SELECT object, reason, ts, file, line FROM k8s WHERE ts IS NOT NULL AND reason IN ({reasons})"
            " AND object LIKE 'Pod/%' ORDER BY ts, file, line"
        ):  # fmt: skip
            name = workload(str(obj))
            moments[name].append((ts, str(file), line, f"{obj} {reason} at {iso(ts)}"))
            members[name].add(str(obj))
    if case.count("changes"):
        for what, ts, source, line, version in case.rows(
            "SELECT what, ts, source, line, version FROM changes WHERE kind = 'restart' AND ts IS NOT NULL"
            " AND what IS NOT NULL ORDER BY ts, source, line"
        ):  # fmt: skip
            name = str(what)
            if name in moments:  # a workload and a service of one name: the kubelet's view is kept
                continue
            moments[f"{name} (its log)"].append(
                (
                    ts,
                    str(source),
                    line,
                    f"Starting {name}" + (f" version {version}" if version else ""),
                )
            )
            members[f"{name} (its log)"].add(str(source))
            sources[f"{name} (its log)"].add(str(source))
    return [
        _Group(name, tuple(sorted(members[name])), _episodes(found), frozenset(sources[name]))
        for name, found in sorted(moments.items())
    ]


def _episodes(moments: list[tuple[datetime, str, int | None, str]]) -> tuple[_Episode, ...]:
    out: list[_Episode] = []
    for ts, file, line, excerpt in sorted(moments, key=lambda m: m[0]):
        if out and ts - WINDOW <= out[-1].hi:
            last = out[-1]
            out[-1] = _Episode(last.lo, max(last.hi, ts + WINDOW), last.restarts + 1, last.file,
                               last.line, last.excerpt)  # fmt: skip
        else:
            out.append(_Episode(ts - WINDOW, ts + WINDOW, 1, file, line, excerpt))
    return tuple(out)


def _windows_sql(group: _Group) -> tuple[str, list[object]]:
    """The group's windows as a relation (id, lo, hi), for an ASOF join on the start."""
    sql = "SELECT unnest(?::INTEGER[]) AS id, unnest(?::TIMESTAMPTZ[]) AS lo, unnest(?::TIMESTAMPTZ[]) AS hi"
    eps = group.episodes
    return sql, [list(range(len(eps))), [e.lo for e in eps], [e.hi for e in eps]]


def _request_series(case: Case, group: _Group) -> list[_Series]:
    if not case.count("requests"):
        return []
    windows, params = _windows_sql(group)
    rows = case.rows(
        f"""
        WITH w AS ({windows}),
        r AS (SELECT file, line, ts, status, method, {ROUTE_SQL} AS route FROM requests
              WHERE ts IS NOT NULL AND status IS NOT NULL),
        t AS (SELECT r.*, CASE WHEN r.ts <= w.hi THEN w.id END AS wid
              FROM r ASOF LEFT JOIN w ON r.ts >= w.lo)
        SELECT file, coalesce(method, ''), route,
            count(*) FILTER (WHERE wid IS NOT NULL),
            count(*) FILTER (WHERE wid IS NOT NULL AND status >= 500),
            count(*) FILTER (WHERE wid IS NULL),
            count(*) FILTER (WHERE wid IS NULL AND status >= 500),
            list(DISTINCT wid) FILTER (WHERE wid IS NOT NULL AND status >= 500),
            min(ts) FILTER (WHERE wid IS NOT NULL AND status >= 500),
            list(line ORDER BY ts, line) FILTER (WHERE wid IS NOT NULL AND status >= 500)[1:2],
            histogram(status) FILTER (WHERE status >= 500)
        FROM t GROUP BY ALL
        HAVING count(*) FILTER (WHERE wid IS NOT NULL AND status >= 500) >= ?
        ORDER BY 1, 2, 3
        """,
        [*params, MIN_FAILURES],
    )
    out = []
    for file, method, route, n_in, f_in, n_out, f_out, hit, first, lines, codes in rows:
        top, n = max(codes.items(), key=lambda kv: (kv[1], -kv[0]))
        code = str(top) if n >= 0.5 * sum(codes.values()) else "5xx"
        route_text = f"{method} {route}".strip()
        out.append(_Series(
            str(file), f"HTTP {code} on {route_text}",
            {"route": route_text, "file": str(file), "failure": f"HTTP {code}"},
            int(n_in), int(f_in), int(n_out), int(f_out), frozenset(hit), first, tuple(lines),
        ))  # fmt: skip
    return out


def _error_series(case: Case, group: _Group) -> list[_Series]:
    """Error records by template, in files that hold no requests (there the 5xx say it)."""
    windows, params = _windows_sql(group)
    levels = ", ".join(f"'{lv}'" for lv in ERROR_LEVELS)
    rows = case.rows(
        f"""
        WITH w AS ({windows}),
        e AS (SELECT file, line, ts, template_id, lower(level) IN ({levels}) AS bad FROM events
              WHERE ts IS NOT NULL AND file NOT IN (SELECT DISTINCT file FROM requests)),
        t AS (SELECT e.*, CASE WHEN e.ts <= w.hi THEN w.id END AS wid
              FROM e ASOF LEFT JOIN w ON e.ts >= w.lo),
        per_file AS (SELECT file, count(*) FILTER (WHERE wid IS NOT NULL) AS n_in,
                            count(*) FILTER (WHERE wid IS NULL) AS n_out FROM t GROUP BY file)
        SELECT t.file, t.template_id, any_value(p.n_in), any_value(p.n_out),
            count(*) FILTER (WHERE wid IS NOT NULL), count(*) FILTER (WHERE wid IS NULL),
            list(DISTINCT wid) FILTER (WHERE wid IS NOT NULL),
            min(ts) FILTER (WHERE wid IS NOT NULL),
            list(line ORDER BY ts, line) FILTER (WHERE wid IS NOT NULL)[1:2],
            any_value(tp.pattern)
        FROM t JOIN per_file p USING (file) LEFT JOIN templates tp USING (template_id)
        WHERE t.bad AND t.template_id IS NOT NULL
        GROUP BY t.file, t.template_id
        HAVING count(*) FILTER (WHERE wid IS NOT NULL) >= ?
        ORDER BY 1, 2
        """,
        [*params, MIN_FAILURES],
    )
    out = []
    for file, tid, n_in, n_out, f_in, f_out, hit, first, lines, pattern in rows:
        if str(file) in group.sources:
            continue  # a service's own errors as it restarts say nothing about who depends on it
        text = str(pattern or tid)
        shown = text if len(text) <= 80 else text[:77] + "…"
        out.append(_Series(
            str(file), f'errors "{shown}"',
            {"template": shown, "template_id": str(tid), "file": str(file), "failure": "error records"},
            int(n_in), int(f_in), int(n_out), int(f_out), frozenset(hit), first, tuple(lines),
        ))  # fmt: skip
    return out


def _finding(s: _Series, group: _Group, p: float) -> Finding:
    inside, outside = s.rates
    total = s.f_in + s.f_out
    seconds = int(WINDOW.total_seconds())
    pods = len(group.members)
    whose = f"{group.name} ({pods} pods)" if pods > 1 and not group.sources else group.name
    title = (
        f"{count_text(s.f_in)} of {count_text(total)} {s.label} came within {seconds} s of a restart of "
        f"{whose}: {rate_text(inside)} failed then, {rate_text(outside)} at other times "
        f"({len(s.hit)} of {len(group.episodes)} restart episodes had failures)"
    )
    unit = "requests" if "route" in s.entities else "records"
    summary = (
        f"In {s.file}, {rate_text(inside)} of {unit} within {seconds} s of a restart of {whose} failed "
        f"({count_text(s.f_in)} of {count_text(s.n_in)}), against {rate_text(outside)} at other times "
        f"({count_text(s.f_out)} of {count_text(s.n_out)}; one-sided Fisher "
        f"{f'p = {p:.2g}' if p >= 1e-300 else 'p < 1e-300'}). {len(group.episodes)} restart "
        f"episodes ({group.restarts} {group.unit}); {len(s.hit)} had failures. "
        "It is refuted if the failures keep coming while the workload runs without restarting."
    )
    hit = sorted(s.hit)
    evidence = [
        Evidence(e.file, (e.line, e.line) if e.line else None, e.excerpt)
        for e in (group.episodes[i] for i in hit[:2])
    ]
    evidence += [Evidence(s.file, (line, line), s.label) for line in s.lines]
    objects = {} if group.sources else {"objects": ", ".join(group.members)}
    return Finding(
        key="FAILURES_AT_RESTARTS",
        analyzer="restart_failures",
        subject=f"{s.file}|{s.label}|{group.name}",
        severity="high",
        score=round(min(0.6 + 0.3 * s.f_in / total + 0.02 * len(s.hit), 0.95), 4),
        title=title,
        summary=summary,
        window=Window(group.episodes[hit[0]].lo, group.episodes[hit[-1]].hi),
        entities={**s.entities, "restarted": group.name, **objects},
        stats={
            "failures_in": s.f_in, "requests_in": s.n_in, "failures_out": s.f_out,
            "requests_out": s.n_out, "rate_in": round(inside, 6), "rate_out": round(outside, 6),
            "restarts": group.restarts, "episodes": len(group.episodes),
            "episodes_with_failures": len(s.hit), "window_seconds": seconds, "p_value": p,
            "onset_epoch": s.first.timestamp(),
        },
        evidence=tuple(evidence),
        next_steps=(
            f"Find why {group.name} restarts (kills, probes, deploys) and whether the callers retry "
            "or fail over while it is down.",
            "Count the restarts against the failures after a fix: both should stop together.",
        ),
    )  # fmt: skip
