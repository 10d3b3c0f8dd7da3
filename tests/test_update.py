"""Customer updates: plain, honest, and free of secrets, internal hostnames and analysis jargon.

Runs the default analyzers on the example bundle, so it also checks that the
bug report every investigation writes counts its impact whatever finding
ranks first.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from casework.bugreport import render as render_report
from casework.bugreport import report_for_case
from casework.cli import main
from casework.pipeline import investigate
from casework.update import draft, jargon_in, render, sanitize, who_fails

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "checkout-incident"
PLANTED = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "eyJhbGciOi", "«secret")
INTERNAL = re.compile(
    r"\.internal\b|\.local\b|\b10\.\d+\.\d+\.\d+|\b192\.168\.|\b172\.(1[6-9]|2\d|3[01])\."
)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("update") / "case"
    investigate(EXAMPLE, out)
    return out


@pytest.fixture(scope="module")
def text(case: Path) -> str:
    return render(draft(case))


def test_update_has_the_four_parts(text: str) -> None:
    for part in (
        "What we know:",
        "What we don't know yet:",
        "What we are doing next:",
        "We will send the next update in 4 hours",
    ):
        assert part in text


def test_update_states_the_counted_facts(case: Path, text: str) -> None:
    report = report_for_case(case, repro=False)
    # Counted from the onset when the route also failed well before it (its earlier failures
    # apart); the example's first failures, right after the deploy and minutes before its
    # cohort's onset, are the incident's own.
    failing, volume, _, _ = report.impact.incident()
    assert failing and f"{failing} of {volume} requests" in text
    assert report.impact.get("failing_before_onset") is None and failing == report.impact.get(
        "failing"
    )
    assert "/v1/refunds" in text and "2.14.3" in text


def test_update_is_free_of_secrets_hosts_and_jargon(text: str) -> None:
    assert not [s for s in PLANTED if s in text]
    assert not INTERNAL.search(text)
    assert jargon_in(text) == []


def test_sanitize_strips_internal_hosts_unless_allowed() -> None:
    raw = "db-1.payments.svc.cluster.local:5432 and api.shop.internal, 10.20.3.4, 192.168.1.9, «secret:jwt:ab12cd» at example.com"
    clean = sanitize(raw)
    assert (
        "svc.cluster" not in clean
        and "shop.internal" not in clean
        and "10.20" not in clean
        and "192.168" not in clean
    )
    assert "«secret" not in clean and "example.com" in clean
    kept = sanitize(raw, allow_internal_hosts=True)
    assert "api.shop.internal" in kept and "10.20.3.4" in kept and "«secret" not in kept


def test_jargon_list_catches_what_the_report_says() -> None:
    assert jargon_in("one-sided Fisher p = 1e-10 in the cohort, worst 2m bucket") != []


def test_cli_takes_the_next_update_time(case: Path) -> None:
    result = CliRunner().invoke(
        main, ["update", str(case), "--next-update", "tomorrow at 09:00 CET"]
    )
    assert result.exit_code == 0 and "next update tomorrow at 09:00 CET" in result.output


def test_every_investigation_writes_a_counted_bug_report(case: Path) -> None:
    report = report_for_case(case)
    assert report.impact.get("failing") and report.impact.get("volume")
    assert "/v1/refunds" in report.title
    assert (case / "bugreport.md").read_text() == render_report(report, "md")


def test_update_says_whom_the_failures_hit(case: Path, text: str) -> None:
    report = report_for_case(case, repro=False)
    assert report.cohort, "the example's incident has a cohort"
    when = report.cohort[0].rsplit(" ", 1)[-1]
    assert f"The failures hit only accounts created on or after {when}." in text
    assert f"Why accounts created on or after {when} fail and the others do not." in text


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ("ctx.account.created_at >= 2026-10-15", "accounts created on or after 2026-10-15"),
        ("user.signup_date < 2025-01-01", "users with a signup before 2025-01-01"),
        ("account.plan = enterprise", "accounts whose plan is enterprise"),
        ("region != eu-west-1", "requests whose region is not eu-west-1"),
        ("cart.items > 50", "carts with items above 50"),
        ("http.method = POST", "requests whose method is POST"),
    ],
)
def test_cohort_conditions_in_plain_words(condition: str, words: str) -> None:
    assert who_fails((condition,)) == words
    assert jargon_in(words) == []
