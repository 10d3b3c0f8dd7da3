"""Error origin across failing traces: where the errors of failing requests start.

For every trace whose root failed, the origin is found by following failed
children down (``traces.origin``). Origins are grouped per endpoint by
service, operation and reason, so one finding reads "82% of failing
checkout traces originate in inventory → redis GET: TimeoutError".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity
from casework.traces import query, tree
from casework.traces.origin import origin, reason

MAX_TRACES = 20_000
MIN_FAILING = 3
MAX_FINDINGS = 10
MAX_EVIDENCE = 3


@dataclass
class _Group:
    """Failing traces of one endpoint, and their origins."""

    failing: int = 0
    origins: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    samples: dict[tuple[str, str, str, str], list[list[tree.Span]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    trace_ids: dict[tuple[str, str, str, str], list[str]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: Start (µs) of the first and last failing trace of each origin.
    first_us: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    last_us: dict[tuple[str, str, str, str], float] = field(default_factory=dict)


@analyzer(key="trace_error_origin", needs=("spans",))
def trace_error_origin(case: Case) -> Iterator[Finding]:
    """Where the errors of failing traces originate, per endpoint."""
    failing_roots = f"trace_id IN (SELECT trace_id FROM spans WHERE error AND {query.ROOTS})"
    chains: list[tuple[str, list[tree.Span]]] = []
    for trace in tree.load(case, f"{failing_roots} AND {query.sample_clause(MAX_TRACES)}"):
        chain = origin(trace)
        if chain:
            chains.append((trace.trace_id, chain))
    attrs = query.attrs_of(case, ((t, c[-1].span_id) for t, c in chains))
    groups: dict[tuple[str, str], _Group] = defaultdict(_Group)
    for trace_id, chain in chains:
        root, last = chain[0], chain[-1]
        found = attrs.get((trace_id, last.span_id), {})
        key = (last.service, last.name, reason(found), query.peer(found) or "")
        group = groups[(root.service, root.name)]
        group.failing += 1
        group.first_us[key] = min(group.first_us.get(key, root.start), root.start)
        group.last_us[key] = max(group.last_us.get(key, root.start), root.start)
        group.origins[key] += 1
        if len(group.samples[key]) < MAX_EVIDENCE:
            group.samples[key].append(chain)
            group.trace_ids[key].append(trace_id)
    findings = [
        _finding(case, endpoint, group, attrs)
        for endpoint, group in groups.items()
        if group.failing >= MIN_FAILING
    ]
    findings.sort(key=lambda f: (-f.score, f.subject))
    yield from findings[:MAX_FINDINGS]


def _finding(
    case: Case,
    endpoint: tuple[str, str],
    group: _Group,
    attrs: dict[tuple[str, str], dict[str, object]],
) -> Finding:
    origin_key, count = group.origins.most_common(1)[0]
    service, op, why, peer = origin_key
    share = count / group.failing
    total = case.one(
        f"SELECT count(DISTINCT trace_id) FROM spans WHERE {query.ROOTS} AND service = ? AND name = ?",
        endpoint,
    )
    traces = int(total[0]) if total else group.failing
    chain = group.samples[origin_key][0]
    # The uninstrumented peer (redis, a database) is a hop too: that is where the error began.
    hops = len({s.service for s in chain}) - 1 + (1 if peer and peer != service else 0)
    where = f"{service} → {op}" + (f" ({peer})" if peer and peer not in op else "")
    at_root = service == endpoint[0] and len(chain) == 1
    title = (
        f"{share:.0%} of failing `{endpoint[1]}` traces ({count} of {group.failing}) "
        f"originate in {where}: {why}"
    )
    summary = (
        f"{group.failing} of {traces} `{endpoint[0]} {endpoint[1]}` traces failed. In {count} of them "
        f"the error starts at {service} `{op}` ({why}), {hops} hop(s) below the entry point, "
        f"and propagates up through {' → '.join(s.service + ' ' + s.name for s in chain[:-1]) or 'nothing'}. "
        + _others(group)
        + "Confirm with the logs of that span's service at those times; refute if the origin spans "
        "only wrap errors they received from an uninstrumented dependency."
    )
    severity: Severity = "high" if share >= 0.5 and not at_root else "medium"
    evidence = tuple(
        Evidence(
            file=str(attrs.get((tid, c[-1].span_id), {}).get("_file", "spans")),
            refs=(f"trace {tid}", *(f"span {s.span_id}" for s in c)),
            kind="spans",
            excerpt=" → ".join(f"{s.service} {s.name}" + (" ✗" if s.error else "") for s in c),
        )
        for tid, c in zip(
            group.trace_ids[origin_key],
            group.samples[origin_key],
            strict=True,
        )
    )
    return Finding(
        key="TRACE_ERROR_ORIGIN",
        analyzer="trace_error_origin",
        subject=f"{endpoint[0]}\x00{endpoint[1]}",
        severity=severity,
        score=min(1.0, 0.45 + 0.45 * share) * (0.6 + 0.4 * min(1.0, group.failing / 20)),
        title=title,
        summary=summary,
        window=case.window,
        entities={
            "endpoint": f"{endpoint[0]} {endpoint[1]}",
            "origin_service": service,
            "origin_operation": op,
            "reason": why,
            **({"peer": peer} if peer else {}),
        },
        stats={
            "traces": traces,
            "failing_traces": group.failing,
            "failure_rate": group.failing / traces if traces else 0.0,
            "origin_traces": count,
            "share": share,
            "hops": hops,
            "onset_epoch": group.first_us[origin_key] / 1e6,
            "latest_epoch": group.last_us[origin_key] / 1e6,
            "distinct_origins": len(group.origins),
        },
        evidence=evidence,
        next_steps=(
            f"Open one of the listed traces and read {service}'s logs for `{op}` at that time.",
            f"Check {peer or service}'s health (timeouts, saturation, recent deploys) for the window.",
        ),
    )


def _others(group: _Group) -> str:
    rest = group.origins.most_common(3)[1:]
    if not rest:
        return ""
    parts = [f"{s} `{o}` ({r}): {n}" for (s, o, r, _), n in rest]
    return f"Other origins: {'; '.join(parts)}. "
