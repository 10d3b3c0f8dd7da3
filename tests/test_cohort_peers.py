"""Instances of one service behind a balancer write one log each: their failures are one
population, and the cohort counts them all."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.pipeline import Options, investigate

START = datetime(2025, 9, 3, 13, 0, tzinfo=UTC)


def test_a_cohort_over_peer_instances_counts_every_instance_s_failures(tmp_path: Path) -> None:
    """Four checkout-api instances; from 14:05 enterprise quotes with three items or more fail
    with 502. One instance was rolled out with a renamed field (``latency_ms``) and still is a
    peer; an nginx log in front records the same failures with fewer fields."""
    rng = random.Random(8)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    logs: list[list[str]] = [[] for _ in range(4)]
    edge: list[str] = []
    failing = 0
    t = START
    while t < START + timedelta(hours=2):
        t += timedelta(milliseconds=rng.randint(50, 400))
        plan = rng.choice(["free"] * 5 + ["pro"] * 4 + ["enterprise"] * 2)
        items = rng.randint(1, 6)
        broken = plan == "enterprise" and items >= 3 and t >= START + timedelta(minutes=65)
        status = 502 if broken or rng.random() < 0.0005 else 200
        failing += broken
        k = rng.randrange(4)
        took = "latency_ms" if k == 3 else "duration_ms"
        logs[k].append(json.dumps({
            "level": "error" if status >= 500 else "info", "ts": t.timestamp(),
            "msg": "request completed", "method": "POST", "path": "/v2/checkout/quote",
            "status": status, took: round(rng.uniform(20, 90), 1), "plan": plan, "items": items,
            "account_id": f"acc_{rng.randint(1000, 9999)}", "instance": f"checkout-api-{k + 1}",
        }))  # fmt: skip
        edge.append(f'10.0.{rng.randint(0, 9)}.{rng.randint(2, 250)} - - [{t:%d/%b/%Y:%H:%M:%S}'
                    f' +0000] "POST /v2/checkout/quote HTTP/1.1" {status} 120 "-" "shop-web/4.2"')  # fmt: skip
    for k, lines in enumerate(logs, start=1):
        (bundle / f"checkout-api-{k}.jsonl").write_text("\n".join(lines) + "\n")
    (bundle / "ingress-access.log").write_text("\n".join(edge) + "\n")
    found = investigate(bundle, tmp_path / "out", Options(workers=1)).findings
    cohorts = [f for f in found if f.key == "FAILURE_COHORT" and "plan" in f.entities]
    assert cohorts, [f.title for f in found[:10]]
    top = cohorts[0]
    assert top.entities["file"] == ", ".join(f"checkout-api-{k}.jsonl" for k in range(1, 5))
    assert int(top.stats["failing"] or 0) >= 0.95 * failing
    assert top.entities["plan"] == "enterprise" and "items" in top.entities
    # One cohort per failure, not one per instance; the story of the failures tells it.
    assert len({f.entities["file"] for f in cohorts}) == 1
    story = found[0]
    assert story.key == "INCIDENT" and (story.subject == top.id or top.id in story.related)
