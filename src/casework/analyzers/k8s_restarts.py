"""Container restarts on a schedule: restarts that repeat at a regular interval, and the Job or CronJob that lines up.

Restart times are the kubelet's ``Started`` events after a container's first
start. When at least ``MIN_RESTARTS`` intervals are regular (coefficient of
variation below ``MAX_CV``), the restarts follow a schedule rather than load;
a Job or CronJob created within ``ALIGN`` before most restarts is named.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import pairwise

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Window

MIN_RESTARTS = 3
MAX_CV = 0.15
ALIGN = timedelta(minutes=10)


@analyzer(key="k8s_restarts", needs=("k8s",))
def k8s_restarts(case: Case) -> Iterator[Finding]:
    """Restarts at a regular interval, and the scheduled job that precedes them."""
    rows = case.rows(
        "SELECT object, coalesce(container, ''), list(ts ORDER BY ts), min(file), min(line) FROM k8s "
        "WHERE reason = 'Started' AND ts IS NOT NULL GROUP BY object, coalesce(container, '') ORDER BY 1, 2"
    )
    jobs = case.rows(
        "SELECT object, ts, file, line FROM k8s WHERE ts IS NOT NULL AND (object LIKE 'CronJob/%' OR "
        "object LIKE 'Job/%') AND reason IN ('SuccessfulCreate', 'SawCompletedJob', 'Completed') ORDER BY ts"
    )
    for obj, container, starts, file, line in rows:
        restarts: list[datetime] = starts[1:]
        if len(restarts) < MIN_RESTARTS:
            continue
        gaps = [(b - a).total_seconds() for a, b in pairwise(restarts)]
        mean = statistics.fmean(gaps)
        if mean <= 0 or statistics.pstdev(gaps) / mean > MAX_CV:
            continue
        job = _aligned_job(jobs, restarts)
        who = obj + (f" container {container}" if container else "")
        title = (
            f"{who} restarted {len(restarts)} times at a regular interval of {mean / 60:.1f} min"
        )
        stats: dict[str, int | float | str | bool | None] = {
            "restarts": len(restarts), "interval_s": round(mean, 1), "cv": round(statistics.pstdev(gaps) / mean, 3),
        }  # fmt: skip
        evidence = [Evidence(file, (line, line), f"{obj} Started x{len(starts)}")]
        if job:
            name, hits, jfile, jline = job
            title += f"; {hits} of {len(restarts)} restarts came within {int(ALIGN.total_seconds() // 60)} min after {name} ran"
            stats.update({"job": name, "job_aligned": hits})
            evidence.append(Evidence(jfile, (jline, jline), f"{name} created a job"))
        yield Finding(
            key="K8S_PERIODIC_RESTARTS", analyzer="k8s_restarts", subject=f"{obj}/{container}", severity="medium",
            score=0.7 if job else 0.5, title=title,
            summary=(f"The restarts of {who} are {mean / 60:.1f} min apart with a spread of {stats['cv']:.0%}: a schedule, "
                     "not load, drives them" + (f", and {job[0]} runs just before them." if job else ".")),
            window=Window(restarts[0], restarts[-1]), entities={"object": obj, "container": container},
            stats=stats, evidence=tuple(evidence),
            next_steps=("Look at what the scheduled job does to this workload (a migration, a cache flush, a config reload) "
                        "and whether the restarts stop when it is suspended.",),
        )  # fmt: skip


def _aligned_job(
    jobs: list[tuple[str, datetime, str, int]], restarts: list[datetime]
) -> tuple[str, int, str, int] | None:
    best: tuple[str, int, str, int] | None = None
    for name in sorted({j[0] for j in jobs}):
        times = [j for j in jobs if j[0] == name]
        hits = sum(1 for r in restarts if any(r - ALIGN <= t <= r for _, t, _, _ in times))
        if hits >= max(2, int(0.75 * len(restarts) + 0.5)) and (best is None or hits > best[1]):
            best = (name, hits, times[0][2], times[0][3])
    return best
