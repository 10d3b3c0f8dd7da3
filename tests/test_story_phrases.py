"""The story's headline gives one onset; counts taken from another minute say from when they are."""

from __future__ import annotations

from datetime import UTC, datetime

from casework.findings import Finding
from casework.story import merge
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


def _shift(key: str, series: str, subject: str, before: float, after: float) -> Finding:
    return Finding(
        key=key,
        analyzer="changepoints",
        subject=f"router.log|{series}",
        severity="high",
        score=1.0,
        title=f"At 14:40 UTC the rate of {subject} rose from {before:.2%} to {after:.2%}",
        summary="",
        entities={"series": series, "subject": subject, "what": f"rate of {subject}",
                  "file": "router.log", "onset": "2026-11-27 14:40 UTC"},
        stats={"onset_epoch": SINCE, "before_rate": before, "after_rate": after,
               "increased": True},
    )  # fmt: skip


def test_a_story_anchored_on_a_route_shift_states_that_route_s_rates() -> None:
    """The 5xx series of one route anchors the story; the share of error records of the whole
    log (lower, since other routes dilute it) is a member, not the story's numbers."""
    route = _shift("CHANGEPOINT_5XX", "5xx", "HTTP 503 on GET /api/reports/export", 0.0, 0.42)
    errors = _shift("CHANGEPOINT_ERRORS", "errors", "error-level records", 0.0, 0.1095)
    story = next(f for f in merge([route, errors]) if f.key == "INCIDENT")
    assert story.title.startswith("HTTP 503 on GET /api/reports/export")
    assert story.title.endswith("0.00% → 42.00%")
    # Also when the log's errors are many more records than the route's 503s.
    route.stats.update(excess=105.0, failure=True)
    errors.stats.update(excess=795.0, failure=True)
    story = next(f for f in merge([route, errors]) if f.key == "INCIDENT")
    assert story.title.endswith("0.00% → 42.00%"), story.title


def test_a_story_states_the_shift_with_the_most_failures_beside_a_small_one() -> None:
    """A template shift of 223 failed logins anchors the story; a dozen error lines in the
    log's last minute (a member) do not give its numbers, though the error share comes first
    among shifts of equal size."""
    logins = _shift("CHANGEPOINT_TEMPLATE", "template", "failed logins", 0.06, 0.2875)
    logins.entities["file"] = "router.log"
    errors = _shift("CHANGEPOINT_ERRORS", "errors", "error-level records", 0.0025, 0.10)
    logins.stats.update(excess=223.0, failure=True)
    errors.stats.update(excess=13.7, failure=True)
    story = next(f for f in merge([logins, errors]) if f.key == "INCIDENT")
    assert story.title.endswith("6.00% → 28.75%"), story.title
    errors.stats.update(excess=230.0)
    story = next(f for f in merge([logins, errors]) if f.key == "INCIDENT")
    assert story.title.endswith("0.25% → 10.00%"), story.title


def test_a_cohort_without_an_onset_joins_the_story_of_its_failure() -> None:
    """A cohort true all along ("where statusDetails = backend_timeout") and the shift of the
    same failure in the same file are one incident: one story, the cohort as another view."""
    route = _shift("CHANGEPOINT_5XX", "5xx", "HTTP 504 on GET /v2/invoices/{id}/pdf", 0.0, 0.32)
    always = Finding(
        key="FAILURE_COHORT", analyzer="cohort", subject="router.log:HTTP 504:details",
        severity="high", score=0.99, title="100% of requests where details = timeout fail",
        summary="", entities={"details": "= timeout", "file": "router.log", "failure": "HTTP 504"},
        stats={"rate": 1.0, "failing": 123, "total": 123, "baseline_rate": 0.0},
    )  # fmt: skip
    errors = _shift("CHANGEPOINT_ERRORS", "errors", "error-level records", 0.0, 0.08)
    new_5xx = Finding(
        key="HTTP_5XX_ROUTE", analyzer="http_status", subject="router.log|GET|pdf",
        severity="high", score=0.8, title="32.5% of GET /v2/invoices/{id}/pdf return 5xx",
        summary="", entities={"route": "GET /v2/invoices/{id}/pdf", "file": "router.log"},
        stats={"new": True},
    )  # fmt: skip
    stories = [f for f in merge([always, route, errors, new_5xx]) if f.key == "INCIDENT"]
    assert len(stories) == 1
    assert set(stories[0].related) == {always.id, route.id, errors.id, new_5xx.id}


def test_a_small_cohort_rate_keeps_its_digits() -> None:
    """0.3% of payments failing is not "0% of them fail"."""
    small = _cohort(rate=0.0027, failing=27, total=10000, baseline_rate=0.0001)
    assert how_much(small, None, None).startswith("0.27% of them fail (27 of 10,000")


def test_a_story_names_no_change_the_evidence_never_mentions() -> None:
    route = _shift("CHANGEPOINT_5XX", "5xx", "HTTP 401 on GET /v1/me", 0.0, 0.25)
    errors = _shift("CHANGEPOINT_ERRORS", "errors", "error-level records", 0.0, 0.08)

    def deploy(named: bool) -> Finding:
        return Finding(
            key="CHANGE_BEFORE_ONSET", analyzer="what_changed",
            subject="router.log:5xx:x:deploy notifications-svc v3.8.1", severity="medium",
            score=0.6, title="The rate of HTTP 401 rose …, 5 minutes after deploy notifications-svc",
            summary="", entities={"change": "deploy notifications-svc v3.8.1", "file": "router.log",
                                  "subject": "HTTP 401 on GET /v1/me"},
            stats={"change_epoch": SINCE - 300, "onset_epoch": SINCE, "chance": 0.05,
                   "gap_seconds": 300.0, "named": named},
        )  # fmt: skip

    told = next(f for f in merge([route, errors, deploy(True)]) if f.key == "INCIDENT")
    assert "after deploy notifications-svc" in told.title
    untold = next(f for f in merge([route, errors, deploy(False)]) if f.key == "INCIDENT")
    assert "notifications-svc" not in untold.title, untold.title


def test_a_gap_under_a_minute_and_a_half_is_said_in_seconds() -> None:
    from casework.story_phrases import gap_text

    assert [gap_text(s) for s in (8.0, -40.0, 95.0, 7200.0, None)] == [
        "8 s after", "40 s before", "2 minutes after", "2.0 hours after", "after",
    ]  # fmt: skip
