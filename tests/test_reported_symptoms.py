"""The case description's reported wait and statuses, checked against the evidence.

The bundles: a real Firefox HAR (``../shared/data/har``) beside a ticket that
reports a 20-second page load; generated nginx logs (request times last) where
some exports do take half a minute, or where the gateway answers 502 while the
ticket says 500; and application logs that time nothing.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from casework.bugreport import report_for_case
from casework.bugreport.render_md import render as render_md
from casework.described import GAP_KEYS, durations, failures, statuses
from casework.findings import Finding
from casework.pipeline import investigate
from casework.update import draft, jargon_in
from casework.update import render as render_update
from tracegen import SERVER, TraceMaker

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
HAR = SHARED / "har"
FIREFOX = HAR / "mitmproxy__har_files_firefox.har"


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("the dashboard takes 20+ seconds to load since Monday", [20_000.0]),
        ("a 3-second latency spike every 12 minutes", [3_000.0]),
        ("requests time out after 30s", [30_000.0]),
        ("p99 went from 200ms to 4.5 s after the deploy. Fine otherwise.", [200.0, 4_500.0]),
        ("exports hang for 2 minutes, then fail", [120_000.0]),
        ("it has been slow for the last 2 hours", []),  # a span of time, not a wait
        ("checkout is slow; 5 minutes ago it was fine", []),
        ("0.3% of payments fail since a maintenance release", []),
        ("we deploy every 15 minutes and run 3 s health checks", []),  # no slowness named
        ("the report query now takes minutes instead of seconds", [60_000.0, 1_000.0]),
        ("the nightly export takes 2 hours to load", [7_200_000.0]),
        ("page loads hang for a few seconds", [1_000.0]),
        ("slow in the last few minutes; fine a few hours ago", []),  # spans of time
        ("it takes several minutes, and it froze every few minutes", [60_000.0]),
        # a period's range is not a wait; a wait's range is read at its upper end
        ("pages freeze for about 3 seconds, maybe every 10-15 minutes", [3_000.0]),
        ("the export takes 10-15 minutes to load", [900_000.0]),
    ],
)
def test_reported_waits_are_read(text: str, ms: list[float]) -> None:
    assert [c.value for c in durations(text)] == ms


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("refunds return 500, but only for accounts created after March 1st", [500.0]),
        ("500 users got 502s from the gateway", [502.0]),
        ("We see HTTP 503 and some 5xx errors", [503.0, 500.0]),
        ("error 404 on /login", [404.0]),
        ("404 ms response time", []),
        ("we process 1,500 orders, about 500,000 rows", []),
        ("the SDK works in dev and fails silently in prod", []),
    ],
)
def test_reported_statuses_are_read(text: str, codes: list[float]) -> None:
    assert [c.value for c in statuses(text)] == codes


def _run(tmp_path: Path, files: dict[str, str], har: Path | None = None) -> list[Finding]:
    bundle = tmp_path / "bundle"
    bundle.mkdir(parents=True)
    for name, text in files.items():
        (bundle / name).write_text(text)
    if har is not None:
        shutil.copy(har, bundle / "browser.har")
    return investigate(bundle, tmp_path / "out").findings


def _mine(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.analyzer == "reported_symptoms"]


def _page_span_ms(entries: list[dict[str, Any]]) -> float:
    """From a page's first request to its last response, as the HAR's entries time it."""
    starts = [datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00")) for e in entries]
    first = min(starts)
    return max(
        (t - first).total_seconds() * 1000 + max(float(e["time"]), 0.0)
        for t, e in zip(starts, entries, strict=True)
    )


def test_a_wait_the_evidence_never_shows_leads_the_report(tmp_path: Path) -> None:
    ticket = "Dashboard page takes 20+ seconds to load since Monday. HAR attached.\n"
    found = _run(tmp_path, {"ticket.md": ticket}, har=FIREFOX)
    entries = json.loads(FIREFOX.read_text())["log"]["entries"]
    # the slowest thing measured: its page, from the first request to the last response
    slowest = _page_span_ms(entries)
    assert slowest < 10_000  # the premise: this real HAR has no slow request or page
    top = found[0]
    assert top.key == "REPORTED_WAIT_NOT_SEEN"
    assert top.stats["slowest_ms"] == pytest.approx(slowest, abs=1.0)
    assert top.stats["requests"] == len(entries) and top.stats["page_loads"] == 1
    assert top.stats["reported_ms"] == 20_000.0
    assert {e.file for e in top.evidence} == {"browser.har"}  # its slowest request, its page
    # The customer is told what their files show and asked for files that show the wait.
    update = draft(tmp_path / "out")
    assert update.known[0].endswith(f"is {top.stats['slowest_ms']:.0f} milliseconds.")
    assert update.asks and "HAR" in update.asks[0]
    assert not jargon_in(render_update(update))


def access_log(rng: random.Random, slow_share: float, statuses: list[int]) -> tuple[str, int]:
    """Two hours of nginx lines with request times; returns the log and how many took 15 s+."""
    ts, lines, slow = datetime(2026, 4, 7, 13, 0, tzinfo=UTC), [], 0
    for _ in range(3000):
        ts += timedelta(milliseconds=rng.randint(200, 4000))
        export = rng.random() < 0.2
        path = f"/api/exports/{rng.randint(1000, 9999)}" if export else "/api/items"
        seconds = rng.uniform(0.01, 0.9)
        if export and rng.random() < slow_share:
            seconds = rng.uniform(15.0, 45.0)
        slow += seconds >= 15.0
        when = ts.strftime("%d/%b/%Y:%H:%M:%S +0000")
        lines.append(
            f'10.1.{rng.randint(0, 9)}.{rng.randint(1, 250)} - - [{when}] "GET {path} HTTP/1.1"'
            f' {rng.choice(statuses)} {rng.randint(200, 90000)} "-" "okhttp/4.12.0" {seconds:.3f}'
        )
    return "\n".join(lines) + "\n", slow


def test_a_wait_the_evidence_shows_is_counted(tmp_path: Path) -> None:
    log, slow = access_log(random.Random(8), 0.1, [200] * 20 + [404])
    ticket = "Exports time out after 30 seconds for several customers.\n"
    mine = _mine(_run(tmp_path, {"case.md": ticket, "access.log": log}))
    assert [f.key for f in mine] == ["REPORTED_WAIT_SEEN"]
    assert slow > 0 and mine[0].stats["near"] == slow
    assert all("/api/exports/{id}" in (e.excerpt or "") for e in mine[0].evidence)


def test_a_status_the_evidence_never_shows_is_named_with_what_it_shows(tmp_path: Path) -> None:
    log, _ = access_log(random.Random(9), 0.0, [200] * 30 + [502, 404])
    ticket = "Checkout returns 500 errors since the morning.\n"
    mine = _mine(_run(tmp_path, {"case.md": ticket, "access.log": log}))
    assert [f.key for f in mine] == ["REPORTED_STATUS_NOT_SEEN"]
    assert mine[0].stats["responses"] == 3000 and "502" in mine[0].title
    assert all(
        "→ 502" in (e.excerpt or "") or "→ 404" in (e.excerpt or "") for e in mine[0].evidence
    )
    # The bug report is about a problem found, and cautions that the reported one is not seen.
    report = report_for_case(tmp_path / "out")
    assert report.finding.key not in GAP_KEYS
    assert report.caveats == (mine[0].title,) and "Caution" in render_md(report)
    # The status the gateway does send is not questioned.
    assert not _mine(_run(tmp_path / "again", {"case.md": "We get 502s.\n", "access.log": log}))


def test_a_status_server_spans_answered_with_is_seen(tmp_path: Path) -> None:
    """Traces record the status each server span answered: a 504 there is in the evidence."""
    m = TraceMaker(seed=2)
    for i in range(40):
        m.new_trace()
        status = 504 if i % 8 == 0 else 200
        m.span("frontend", "POST /api/checkout", 0, 30, kind=SERVER,
               attrs={"http.route": "/api/checkout", "http.response.status_code": status})  # fmt: skip
    m.write_lines(tmp_path / "traces.jsonl")
    traces = (tmp_path / "traces.jsonl").read_text()
    assert not _mine(
        _run(
            tmp_path / "a",
            {"case.md": "Checkout returns 504 errors since noon.\n", "t.jsonl": traces},
        )
    )
    # A status they never answered with is named with what they did answer.
    mine = _mine(
        _run(
            tmp_path / "b",
            {"case.md": "Checkout returns 500 errors since noon.\n", "t.jsonl": traces},
        )
    )
    assert [f.key for f in mine] == ["REPORTED_STATUS_NOT_SEEN"]
    assert mine[0].stats["responses"] == 40 and "504 ×5" in mine[0].title
    assert mine[0].evidence and all(e.kind == "spans" for e in mine[0].evidence)


def test_durations_log_records_carry_are_measured_waits(tmp_path: Path) -> None:
    """A service that logs how long each call took (``elapsed_ms``, ``took``) measures the
    wait; its request lines are counted once, as requests."""
    rng = random.Random(3)
    lines, slow = [], 0
    for i in range(400):
        ts = f"2026-04-07T13:{i // 60:02d}:{i % 60:02d}Z"
        ms = 10_000 if i % 9 == 0 else round(rng.uniform(20, 300), 1)
        slow += ms >= 10_000
        key = "elapsed_ms" if i % 2 else "took_ms"
        lines.append(json.dumps({"time": ts, "level": "error" if ms >= 10_000 else "info",
                                 "msg": "partner call failed" if ms >= 10_000 else "partner call ok",
                                 key: ms}))  # fmt: skip
        lines.append(json.dumps({"time": ts, "level": "info", "msg": "request done", "status": 200,
                                 "latency_ms": 20_000}))  # fmt: skip
    ticket = "Calls to the partner time out after 10 seconds since this morning.\n"
    mine = _mine(_run(tmp_path, {"case.md": ticket, "svc.jsonl": "\n".join(lines) + "\n"}))
    assert [f.key for f in mine] == ["REPORTED_WAIT_SEEN"]
    assert mine[0].stats["logged_durations"] == 400 and mine[0].stats["requests"] == 400
    assert mine[0].stats["near"] == slow + 400  # the 20 s request lines, and the 10 s calls


def test_a_page_load_in_a_har_is_a_measured_wait(tmp_path: Path) -> None:
    """No request of this real page load takes a second, but the page took ~5 s from its first
    request to its last response: a reported 5 s wait is in the evidence."""
    har = HAR / "haralyzer__cnn-chrome.har"
    entries = json.loads(har.read_text())["log"]["entries"]
    span_ms = _page_span_ms(entries)
    assert max(e["time"] for e in entries) < 0.5 * 5000  # the premise: no slow request
    ticket = "Our homepage takes more than 5 seconds to load in Chrome for some users.\n"
    (mine,) = _mine(_run(tmp_path, {"ticket.md": ticket}, har=har))
    assert mine.key == "REPORTED_WAIT_SEEN" and mine.stats["page_loads"] == 1
    assert mine.stats["slowest_ms"] == pytest.approx(span_ms, abs=1.0)


def test_a_query_said_to_take_minutes_with_a_plan_of_milliseconds_leads(tmp_path: Path) -> None:
    """The attached EXPLAIN ANALYZE is not the slow run: the reporter's "minutes" against the
    plan's own execution time."""
    plan = SHARED / "plans" / "pev2_samples" / "03_three_joins_missing_an_index.json"
    executed = json.loads(plan.read_text())[0]["Execution Time"]
    ticket = "The monthly report query now takes minutes instead of seconds. Plan attached.\n"
    found = _run(tmp_path, {"ticket.md": ticket, "report.json": plan.read_text()})
    assert found[0].key == "REPORTED_WAIT_NOT_SEEN" and found[0].stats["plans"] == 1
    assert found[0].stats["reported_ms"] == 60_000.0
    assert found[0].stats["slowest_ms"] == pytest.approx(executed, rel=0.05)


def test_logs_that_time_nothing_say_the_wait_cannot_be_checked(tmp_path: Path) -> None:
    app = "".join(
        f"2026-04-07 13:{m:02d}:00,000 INFO  [main] c.e.Export - export {m} done\n"
        for m in range(50)
    )
    mine = _mine(_run(tmp_path, {"case.md": "Exports are slow: 40 s each.\n", "app.log": app}))
    assert [f.key for f in mine] == ["REPORTED_WAIT_UNMEASURED"]


def test_without_a_description_nothing_is_claimed(tmp_path: Path) -> None:
    log, _ = access_log(random.Random(3), 0.0, [200])
    assert not _mine(_run(tmp_path, {"access.log": log}))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Our nightly job is slow. Some tasks seem to fail.", ["Some tasks seem to fail."]),
        ("Checkout errors since 9:40, users get kicked out.", ["Checkout errors since 9:40, users get kicked out."]),
        ("It runs without errors in dev. Prod is just slow.", []),
        ("No failures, only latency of 3 seconds.", []),
    ],
)  # fmt: skip
def test_reported_failures_are_read(text: str, said: list[str]) -> None:
    assert failures(text) == said


def _log_with_ticket(tmp_path: Path, log: Path) -> list[Finding]:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(log, bundle / log.name.lower())
    (bundle / "ticket.md").write_text(
        "Our nightly job has been slow and some tasks seem to fail; what is going on?\n"
    )
    return investigate(bundle, tmp_path / "case").findings


def test_failures_the_evidence_never_shows_are_said_to_be_elsewhere(tmp_path: Path) -> None:
    """loghub's Spark log: one executor's 2,000 INFO lines over half a minute, nothing failing."""
    log = SHARED / "loghub2k" / "Spark" / "Spark_2k.log"
    found = {f.key: f for f in _log_with_ticket(tmp_path, log)}
    unseen = found["REPORTED_FAILURE_NOT_SEEN"]
    lines = len(log.read_text().splitlines())
    assert unseen.stats["records"] == lines
    assert "some tasks seem to fail" in unseen.title and f"{lines:,} records" in unseen.title
    assert unseen.rank == 1, unseen.rank
    # No record failed, so the bug report calls none of them a failure.
    report = report_for_case(tmp_path / "case")
    assert report.finding.key == "REPORTED_FAILURE_NOT_SEEN"
    assert 'Error "' not in render_md(report)


def test_failures_in_the_evidence_are_not_said_to_be_missing(tmp_path: Path) -> None:
    """loghub's OpenSSH log: failed logins (no level) and sshd's own error lines."""
    found = _log_with_ticket(tmp_path, SHARED / "loghub2k" / "OpenSSH" / "OpenSSH_2k.log")
    assert not any(f.key == "REPORTED_FAILURE_NOT_SEEN" for f in found)
