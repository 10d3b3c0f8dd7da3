"""OOMKilled containers: the limit, how often, and what the workload was doing just before.

For each container killed for memory, the finding states the memory limit,
the kill and restart counts, the last memory figures logged before a kill
where the logs carry any, and the log template that precedes the kills more
consistently than chance (a batch import, a cache warm-up): for each template
the share of kills it preceded within ``LOOKBACK`` is compared with the share
of random moments it precedes (its time coverage).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import orjson

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Window, iso
from casework.workloads import workload

LOOKBACK = timedelta(minutes=15)
_MEMORY = re.compile(
    r"(?i)\b(?:heap|rss|memory|mem)\b[^\d\n]{0,30}(\d+(?:\.\d+)?)\s*(ki|mi|gi|kb|mb|gb|k|m|g)?b?"
)
_UNIT = {"k": 1 / 1024, "ki": 1 / 1024, "kb": 1 / 1024, "m": 1.0, "mi": 1.0, "mb": 1.0, "g": 1024.0, "gi": 1024.0,
         "gb": 1024.0, "": 1 / (1 << 20)}  # fmt: skip


@analyzer(key="k8s_oom", needs=("k8s",))
def k8s_oom(case: Case) -> Iterator[Finding]:
    """Containers killed for exceeding their memory limit, with the limit and what preceded each kill."""
    rows = case.rows(
        "SELECT ts, object, container, count, attrs, file, line FROM k8s "
        "WHERE reason = 'OOMKilled' OR reason = 'OOMKilling' OR message ILIKE '%OOMKilled%' ORDER BY ts NULLS LAST"
    )
    # The pods of one workload are killed for the same reason: one finding for them all.
    by_workload: dict[tuple[str, str], dict[str, list[tuple[Any, ...]]]] = defaultdict(dict)
    for row in rows:
        by_workload[(workload(row[1]), row[2] or "")].setdefault(row[1], []).append(row)
    for (name, container), pods in sorted(by_workload.items()):
        yield _finding(case, name, container, pods)


def _finding(
    case: Case, group: str, container: str, pods: dict[str, list[tuple[Any, ...]]]
) -> Finding:
    limit: Any = None
    restarts = count = 0
    every: set[datetime] = set()
    for obj, rows in pods.items():
        pod_attrs = [orjson.loads(k[4]) if isinstance(k[4], str) else (k[4] or {}) for k in rows]
        limit = limit or next(
            (a["limits"]["memory"] for a in pod_attrs if a.get("limits", {}).get("memory")), None
        )
        restarts += max((int(a.get("restarts") or 0) for a in pod_attrs), default=0)
        dated = {k[0] for k in rows if k[0] is not None}
        pod_times = dated | _restarts(case, obj, container, dated)
        every |= pod_times
        undated = sum(int(k[3] or 1) for k in rows if k[0] is None)
        count += max(len(pod_times), undated or len(rows))
    times = sorted(every)
    cause = _preceding_template(case, times) if len(times) >= 2 else None
    memory = _memory_before(case, times[-1]) if times else None
    obj = next(iter(pods)) if len(pods) == 1 else f"{group} ({len(pods)} pods)"
    name = f"{obj}" + (f" container {container}" if container else "")
    title = f"{name} was OOMKilled {count} time{'s' if count != 1 else ''}"
    title += (
        f" at a memory limit of {limit}" if limit else " (no memory limit found in the evidence)"
    )
    if cause:
        title += f'; {cause["hits"]} of {len(times)} kills came within {int(LOOKBACK.total_seconds() // 60)} min after "{cause["pattern"]}"'
    stats: dict[str, int | float | str | bool | None] = {
        "kills": count,
        "restarts": restarts,
        "pods": len(pods),
        "limit": limit,
    }
    evidence = [
        Evidence(
            k[5], (k[6], k[6]), f"{k[1]} {k[2] or ''} OOMKilled {iso(k[0]) if k[0] else ''}".strip()
        )
        for k in [rows[0] for rows in pods.values()][:3]
    ]
    summary = f"The kernel killed {name} for exceeding its memory limit ({limit or 'unknown'}); restart count {restarts}."
    if len(pods) > 1:
        summary += f" The pods: {', '.join(pods)}."
    if memory:
        stats["memory_mib_before"] = round(memory[0], 1)
        summary += f" The last memory figure logged before a kill was {memory[0]:.0f} MiB."
        evidence.append(memory[1])
    if cause:
        stats.update({"preceded_by": cause["pattern"], "preceded_share": round(cause["hits"] / len(times), 3),
                      "baseline_share": round(cause["baseline"], 3)})  # fmt: skip
        summary += (
            f' "{cause["pattern"]}" preceded {cause["hits"]} of {len(times)} kills, while it covers '
            f"{cause['baseline']:.0%} of the time: the kills follow that workload."
        )
        evidence.append(cause["evidence"])
    steps = [
        f"Compare the container's peak memory during \"{cause['pattern']}\" with the limit {limit}." if cause else
        "Chart the container's memory (kubectl top / metrics) up to each kill.",
        "Raise the limit for a test run, or cap the workload's batch size, and see whether the kills stop.",
    ]  # fmt: skip
    return Finding(
        key="K8S_OOMKILLED", analyzer="k8s_oom", subject=f"{obj}/{container}", severity="high",
        score=min(0.6 + 0.05 * count + (0.2 if cause else 0.0), 0.97), title=title, summary=summary,
        window=Window(times[0], times[-1]) if times else None,
        entities={"object": obj, "container": container, **({"limit": str(limit)} if limit else {}),
                  **({"objects": ", ".join(pods)} if len(pods) > 1 else {})},
        stats=stats, evidence=tuple(evidence), next_steps=tuple(steps),
    )  # fmt: skip


def _restarts(case: Case, obj: str, container: str, dated: set[datetime]) -> set[datetime]:
    """When the container started again after a kill no record dates: each start after the
    first follows a kill.

    The pod status keeps only the last termination (``dated``); the kubelet's
    ``Started`` events date the earlier ones. The first start at or after a dated
    kill is that kill's own restart, not another kill.
    """
    starts = [
        t for (t,) in case.rows(
            "SELECT ts FROM k8s WHERE object = ? AND reason = 'Started' AND coalesce(container, '') = ? "
            "AND ts IS NOT NULL ORDER BY ts", [obj, container],
        )
    ]  # fmt: skip
    later = starts[1:]
    for kill in dated:
        after = [s for s in later if s >= kill]
        if after:
            later.remove(after[0])
    return set(later)


def _preceding_template(case: Case, times: list[datetime]) -> dict[str, Any] | None:
    window = case.window
    if window is None:
        return None
    span = max((window.end - window.start).total_seconds(), 1.0)
    best: dict[str, Any] | None = None
    rows = case.rows(
        "SELECT e.template_id, any_value(t.pattern), list(e.ts ORDER BY e.ts), min(e.file), min(e.line) "
        "FROM events e LEFT JOIN templates t USING (template_id) "
        "WHERE e.ts IS NOT NULL GROUP BY e.template_id HAVING count(*) <= 500"
    )
    for _tid, pattern, stamps, file, line in rows:
        hits = sum(1 for t in times if any(t - LOOKBACK <= s <= t for s in stamps))
        if hits < max(2, int(0.75 * len(times) + 0.5)):
            continue
        covered = min(len(stamps) * LOOKBACK.total_seconds() / span, 1.0)
        if covered >= 0.5:
            continue  # too frequent to say anything about the kills
        lift = (hits / len(times)) / max(covered, 1e-6)
        if best is None or lift > best["lift"]:
            best = {"pattern": pattern or "(unknown template)", "hits": hits, "baseline": covered, "lift": lift,
                    "evidence": Evidence(file, (line, line), pattern or "")}  # fmt: skip
    return best


def _memory_before(case: Case, kill: datetime) -> tuple[float, Evidence] | None:
    rows = case.rows(
        "SELECT file, line, message FROM events WHERE ts BETWEEN ? AND ? "
        "AND regexp_matches(message, '(?i)(heap|rss|memory|mem)') ORDER BY ts DESC LIMIT 50",
        [kill - LOOKBACK, kill],
    )
    for file, line, message in rows:
        m = _MEMORY.search(message)
        if m:
            value = float(m.group(1)) * _UNIT.get((m.group(2) or "").lower(), 1.0)
            return value, Evidence(file, (line, line), message[:200])
    return None
