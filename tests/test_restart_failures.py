"""Failures that come and go with a dependency's restarts are named, with why it restarts.

Found by a new-user check (checkout 504s "come and go" since a release of the
inventory service; its pods were killed for memory): the story said when the
504s began and which release preceded them, but not that every 504 came while
an inventory pod was down; the kills were three separate findings, one per pod,
each counting its last kill twice; a route's steady 404s joined the story.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import restartcases
from casework.pipeline import investigate


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_failures_at_restarts_are_counted_and_told_with_why(tmp_path: Path, seed: int) -> None:
    truth = restartcases.make(tmp_path / "bundle", seed)
    result = investigate(tmp_path / "bundle", tmp_path / "case")
    found = [f for f in result.findings if f.key == "FAILURES_AT_RESTARTS"]
    assert len(found) == 1, [f.title for f in found]
    at = found[0]
    assert at.entities["route"] == truth.route and at.entities["failure"] == f"HTTP {truth.status}"
    assert truth.workload in str(at.entities["restarted"])
    # every failure came while a pod was down: all of them are inside the windows
    assert at.stats["failures_in"] == truth.failures and at.stats["failures_out"] == 0
    assert float(str(at.stats["rate_in"])) > 10 * float(str(at.stats["rate_out"]))
    top = result.findings[0]
    assert top.key == "INCIDENT" and at.id in top.related, [f.title for f in result.findings[:3]]
    assert f"It fails at restarts: {at.title}" in top.summary
    if truth.k8s:
        oom = [f for f in result.findings if f.key == "K8S_OOMKILLED"]
        # the pods of one workload are one finding; each kill counted once
        assert len(oom) == 1 and oom[0].stats["kills"] == truth.kills
        assert oom[0].stats["pods"] == len({p for p in truth.pods})
        assert oom[0].id in top.related and f"Why they restart: {oom[0].title}" in top.summary
    # The steady trickle of 500s on another route and the 404s are not about the restarts.
    assert all("recommendations" not in f.title and "items" not in f.title for f in found)
    by_id = {f.id: f for f in result.findings}
    assert all("/api/items/" not in by_id[r].title for r in top.related if r in by_id)


@pytest.mark.parametrize("seed", [0, 2])
def test_failures_at_random_times_are_not_put_on_the_restarts(tmp_path: Path, seed: int) -> None:
    restartcases.make(tmp_path / "bundle", seed, tied=False)
    result = investigate(tmp_path / "bundle", tmp_path / "case")
    assert not [f.title for f in result.findings if f.key == "FAILURES_AT_RESTARTS"]
