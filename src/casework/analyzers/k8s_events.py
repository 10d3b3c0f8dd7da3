"""Kubernetes warnings that stop a workload: failed scheduling, image pulls, evictions, failed probes.

Each kind of warning becomes one finding per object with the scheduler's,
kubelet's or registry's own reason, the count and, for probes, the timing
(first and last failure, and the interval between failures).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Window


@dataclass(frozen=True, slots=True)
class _Kind:
    key: str
    reasons: tuple[str, ...]
    what: str
    severity: Severity
    step: str


KINDS = (
    _Kind("K8S_FAILED_SCHEDULING", ("FailedScheduling",), "cannot be scheduled", "high",
          "Free or add the resource the scheduler names, or relax the pod's requests, affinity or taints."),
    _Kind("K8S_IMAGE_PULL", ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"),
          "cannot pull its image", "high",
          "Check the image name and tag exist in the registry and the pull secret is valid for it."),
    _Kind("K8S_EVICTED", ("Evicted", "Evicting", "EvictionThresholdMet", "NodeHasDiskPressure",
                          "NodeHasMemoryPressure", "NodeHasPIDPressure"),
          "was evicted or its node is under pressure", "high",
          "Look at the node's resource use at the eviction time; set requests so the pod is not first to go."),
    _Kind("K8S_PROBE_FAILED", ("Unhealthy",), "fails its probes", "medium",
          "Compare the probe's timeout and period with the endpoint's real latency at startup and under load."),
)  # fmt: skip
_PROBE = re.compile(r"(?i)(liveness|readiness|startup) probe failed")
_NORMAL = re.compile(r"\b\d+\b|[0-9a-f]{8,}")


@analyzer(key="k8s_events", needs=("k8s",))
def k8s_events(case: Case) -> Iterator[Finding]:
    """Scheduling failures, image pull errors, evictions and failed probes, each with its own reason."""
    for kind in KINDS:
        placeholders = ", ".join("?" for _ in kind.reasons)
        rows = case.rows(
            f"SELECT object, reason, message, count, ts, file, line FROM k8s WHERE reason IN ({placeholders}) "
            "ORDER BY object, ts NULLS LAST, line",
            list(kind.reasons),
        )
        by_object: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            by_object.setdefault(str(row[0]), []).append(row)
        for obj, items in by_object.items():
            yield _finding(kind, obj, items)


def _finding(kind: _Kind, obj: str, items: list[tuple[Any, ...]]) -> Finding:
    count = sum(int(i[3] or 1) for i in items)
    messages: dict[str, int] = {}
    for i in items:
        text = str(i[2])
        messages[text] = messages.get(text, 0) + int(i[3] or 1)
    top_message = max(messages.items(), key=lambda kv: kv[1])[0] if messages else ""
    times = sorted(t for t in (i[4] for i in items) if t is not None)
    stats: dict[str, int | float | str | bool | None] = {
        "count": count,
        "distinct_messages": len(messages),
    }
    title = f"{obj} {kind.what} ({count}x): {top_message[:180]}"
    if kind.key == "K8S_PROBE_FAILED":
        probe = _PROBE.search(top_message)
        if probe:
            stats["probe"] = probe.group(1).lower()
        if len(times) >= 2:
            gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
            stats["interval_s"] = round(sorted(gaps)[len(gaps) // 2], 1)
            title += f"; failures every {stats['interval_s']:.0f} s"
    evidence = tuple(
        Evidence(str(i[5]), (int(i[6]), int(i[6])), f"{i[1]}: {str(i[2])[:200]}") for i in items[:3]
    )
    window = Window(times[0], times[-1]) if times else None
    return Finding(
        key=kind.key, analyzer="k8s_events", subject=obj, severity=kind.severity,
        score=min(0.55 + 0.03 * count, 0.85), title=title,
        summary=f"{obj} {kind.what}: {count} events, the most common message being \"{top_message[:300]}\".",
        window=window, entities={"object": obj, "reason": str(items[0][1])}, stats=stats,
        evidence=evidence, next_steps=(kind.step,),
    )  # fmt: skip
