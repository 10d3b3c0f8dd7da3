"""The story's headline gives one onset; counts taken from another minute say from when they are."""

from __future__ import annotations

from datetime import UTC, datetime

from casework.findings import Finding
from casework.story_phrases import how_much

SINCE = datetime(2026, 6, 27, 9, 0, tzinfo=UTC).timestamp()


def _cohort(**stats: float | int) -> Finding:
    return Finding(
        key="FAILURE_COHORT",
        analyzer="cohort",
        subject="api/api.log:HTTP 500:http.route = /api/export",
        severity="high",
        score=0.9,
        title="Since 2026-06-27 09:00 UTC, 69% of requests where http.route = /api/export fail",
        summary="",
        stats={"rate": 0.698, "failing": 78358, "total": 112228, "baseline_rate": 0.0, **stats},
    )


def test_counts_from_another_minute_than_the_headline_say_when_they_start() -> None:
    cohort = _cohort(since_epoch=SINCE)
    later = SINCE + 12 * 60  # the change point's onset, which the headline states
    assert how_much(cohort, None, later) == (
        "70% of them fail (78,358 of 112,228 counted since 2026-06-27 09:00 UTC, 0.00% elsewhere)"
    )
    # The same minute as the headline, or a cohort without an onset: nothing to add.
    assert "counted since" not in how_much(cohort, None, SINCE + 30)
    assert "counted since" not in how_much(_cohort(), None, later)
    # No onset in the headline: the counts still say where they start.
    assert "counted since 2026-06-27 09:00 UTC" in how_much(cohort, None, None)
