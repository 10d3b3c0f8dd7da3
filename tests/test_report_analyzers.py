"""The first analyzers (error signatures, HTTP status per route), ranking and time buckets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from _report_fixtures import HOURS, T0, WARN_TEMPLATE, _request, analyze, build_case
from casework.analyzers.error_signatures import error_signatures
from casework.analyzers.http_status import http_status
from casework.case import Case
from casework.engine import run_analyzers
from casework.findings import Finding, Window
from casework.rank import rank
from casework.store import Store
from casework.timegroups import time_groups
from casework.timeline import bucket_count, bucket_seconds, fell, halves, onset, relation


def _by(findings: list[Finding], key: str, text: str) -> Finding:
    matches = [f for f in findings if f.key == key and text in f.subject]
    assert len(matches) == 1, [f.subject for f in findings]
    return matches[0]


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    path = tmp_path_factory.mktemp("case") / "case.duckdb"
    build_case(path)
    findings, runs = analyze(path)
    assert [r.status for r in runs] == ["ok", "ok"]
    return findings


def test_new_500_burst_ranks_above_constant_background_502(incident: list[Finding]) -> None:
    burst = _by(incident, "HTTP_5XX_ROUTE", "/v1/refunds")
    background = _by(incident, "HTTP_5XX_ROUTE", "/v1/catalog")
    assert burst.rank is not None and background.rank is not None
    assert burst.rank < background.rank
    assert burst.severity in ("high", "critical")
    assert background.severity == "low"
    assert burst.stats["new"] is True and background.stats["new"] is False
    assert burst.stats["top_status"] == 500 and background.stats["top_status"] == 502


def test_burst_onset_and_rates_are_measured(incident: list[Finding]) -> None:
    burst = _by(incident, "HTTP_5XX_ROUTE", "/v1/refunds")
    # Built with the onset at 60% of a 4 h window and 40% of refunds failing after it.
    onset_at = datetime(2026, 3, 2, 14, 24, tzinfo=UTC)
    reported = datetime.strptime(str(burst.stats["onset"]), "%Y-%m-%d %H:%M UTC")
    assert abs(reported.replace(tzinfo=UTC) - onset_at) <= timedelta(minutes=3)
    assert 0.3 < float(str(burst.stats["rate_after"])) < 0.5
    assert float(str(burst.stats["baseline_rate"])) < 0.01
    assert "POST /v1/refunds" in burst.title and "500" in burst.title
    assert str(burst.stats["onset"]) in burst.title
    # The fixture's release one minute before the onset is named as what changed.
    assert "release of refund-service 2.14.3" in str(burst.stats["change"])
    assert "just after the release of refund-service 2.14.3" in burst.title
    assert burst.evidence and all(e.file == "nginx/access.log" for e in burst.evidence)


def test_title_names_the_code_that_rose_not_the_window_commonest(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    build_case(path, background_502=0.0, burst_500=0.5, onset_fraction=0.9, refund_502=0.1)
    findings, _ = analyze(path)
    burst = _by(findings, "HTTP_5XX_ROUTE", "/v1/refunds")
    assert burst.stats["top_status"] == 502  # over the whole window the background wins
    assert "mostly 500" in burst.title, burst.title


def test_constant_background_alone_stays_low(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    build_case(path, background_502=0.02, burst_500=0.0, seed=3)
    findings, _ = analyze(path)
    route = [f for f in findings if f.key.startswith("HTTP_")]
    assert route and all(f.severity in ("low", "info") for f in route)
    assert all(f.stats["new"] is False for f in route)


def test_error_signature_groups_variable_messages_and_finds_the_onset(
    incident: list[Finding],
) -> None:
    errors = [f for f in incident if f.key == "ERROR_SIGNATURE"]
    assert len(errors) == 1  # account ids and durations differ; the signature does not
    sig = errors[0]
    assert sig.stats["new"] is True and sig.severity in ("high", "medium")
    assert "<*>" in sig.entities["signature"]
    assert sig.evidence[0].file == "app/app.log"
    assert sig.evidence[0].lines is not None
    assert sig.evidence[0].lines[1] == sig.evidence[0].lines[0] + 2  # the stack trace
    assert sig.window is not None and sig.window.start >= datetime(2026, 3, 2, 14, tzinfo=UTC)


def test_warning_signature_uses_the_mined_template(incident: list[Finding]) -> None:
    warn = _by(incident, "WARN_SIGNATURE", WARN_TEMPLATE)
    assert warn.entities["signature"] == "inventory-svc slow response: <NUM> ms"
    assert warn.stats["new"] is False and warn.severity == "info"
    assert 0 < float(str(warn.stats["share"])) < 0.1
    assert int(str(warn.stats["peak_per_bucket"])) >= 1


def test_the_route_finding_leads_the_incident(incident: list[Finding]) -> None:
    assert incident[0].key == "HTTP_5XX_ROUTE" and "/v1/refunds" in incident[0].subject
    assert [f.rank for f in incident] == list(range(1, len(incident) + 1))


def test_analyzers_survive_rows_without_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    store = Store(path)
    for i in range(20):
        store.add(
            "requests",
            (None, "har", "a.har", i, "GET", "h", None, "/x?id=1", 503, None, None, None, None),
        )
        store.add("events", ("a.log", i, i, None, "error", None, None, f"boom {i}", None, None))
    store.close()
    case = Case.open(str(path))
    findings, runs = run_analyzers(case, (http_status, error_signatures))
    case.con.close()
    assert [r.status for r in runs] == ["ok", "ok"], runs
    assert {f.key for f in findings} == {"HTTP_5XX_ROUTE", "ERROR_SIGNATURE"}
    http = next(f for f in findings if f.key == "HTTP_5XX_ROUTE")
    assert http.entities["path"] == "/x" and http.stats["failures"] == 20


def test_empty_tables_are_skipped_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    Store(path).close()
    case = Case.open(str(path))
    _, runs = run_analyzers(case, (http_status, error_signatures))
    case.con.close()
    assert [(r.status, r.reason) for r in runs] == [
        ("skipped", "no requests in this bundle"),
        ("skipped", "no events in this bundle"),
    ]


def _finding(key: str, subject: str, severity: str, score: float) -> Finding:
    return Finding(key, "t", subject, severity, score, "t", "s")  # type: ignore[arg-type]


def test_rank_orders_by_weighted_score_with_stable_ties() -> None:
    a = _finding("B_KEY", "x", "high", 0.5)
    b = _finding("A_KEY", "y", "high", 0.5)
    c = _finding("A_KEY", "a", "low", 0.9)
    d = _finding("C_KEY", "z", "critical", 0.6)
    for order in ([a, b, c, d], [d, c, b, a]):
        ranked = rank(order)
        assert [(f.key, f.subject) for f in ranked] == [
            ("C_KEY", "z"),
            ("A_KEY", "y"),
            ("B_KEY", "x"),
            ("A_KEY", "a"),
        ]
        assert [f.rank for f in ranked] == [1, 2, 3, 4]
        assert ranked[0].score == 0.6  # the analyzer's own score is kept


@pytest.mark.parametrize("seconds", [60, 600, 3600, 4 * 3600, 86400, 3 * 86400, 30 * 86400])
def test_bucket_width_gives_60_to_200_buckets(seconds: int) -> None:
    # From one minute up (widths stop at one second, so shorter windows get fewer buckets).
    start = datetime(2026, 1, 1, tzinfo=UTC)
    window = Window(start, start + timedelta(seconds=seconds))
    n = bucket_count(window, bucket_seconds(window))
    assert 60 <= n <= 201


def test_rate_change_tests() -> None:
    totals = [50] * 100
    steady = [1 if i % 4 == 0 else 0 for i in range(100)]
    assert halves(steady, totals).p_value > 0.05
    step = [0] * 70 + [20] * 30
    change = onset(step, totals)
    assert change is not None and change.split == 70 and change.p_value < 1e-12
    assert change.before_rate == 0.0 and change.after_rate == pytest.approx(0.4)
    assert not fell(change)
    # A fall: an episode that ended. A 1% dip over millions of records is significant
    # by Fisher's test and still steady.
    ended = onset([20] * 30 + [0] * 70, totals)
    assert fell(ended) and ended.split == 30
    big = [100_000] * 2
    assert halves([50_500, 49_500], big).p_value > 0.5
    assert not fell(halves([50_500, 49_500], big))
    assert fell(halves([50_500, 20_000], big))


def test_new_4xx_burst_is_reported_and_steady_404s_are_not(tmp_path: Path) -> None:
    path = tmp_path / "case.duckdb"
    store = Store(path)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    for i in range(6000):
        ts = start + timedelta(seconds=i)
        late = i >= 4000
        auth = 401 if late and i % 3 == 0 else 200  # a third of logins rejected after i=4000
        orders = 404 if i % 100 == 0 else 200  # a steady 1% of unknown orders
        for line, (method, route, status) in enumerate(
            (("POST", "/login", auth), ("GET", "/orders", orders)), start=2 * i
        ):
            store.add(
                "requests",
                (
                    ts,
                    "nginx",
                    "a.log",
                    line,
                    method,
                    "h",
                    route,
                    route,
                    status,
                    5.0,
                    10,
                    None,
                    None,
                ),
            )
    store.close()
    case = Case.open(str(path))
    findings, _ = run_analyzers(case, (http_status,))
    case.con.close()
    assert [f.subject for f in findings] == ["4xx POST /login"]
    login = findings[0]
    assert login.key == "HTTP_4XX_ROUTE" and login.severity == "medium"
    assert login.stats["top_status"] == 401 and login.stats["new"] is True


def test_signature_share_is_of_its_own_files(tmp_path: Path) -> None:
    """Another service's quiet log in the bundle must not dilute this one's error share."""
    import json

    from casework.pipeline import investigate

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    t0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    rows = [
        {"ts": (t0 + timedelta(seconds=i)).isoformat(), "level": "error" if i % 5 == 0 else "info",
         "msg": "ledger write refused by replica" if i % 5 == 0 else f"posted entry {i}"}
        for i in range(200)
    ]  # fmt: skip
    (bundle / "ledger.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (bundle / "gateway.jsonl").write_text(
        "".join(
            json.dumps(
                {"ts": (t0 + timedelta(seconds=i)).isoformat(), "level": "info", "msg": f"ok {i}"}
            )
            + "\n"
            for i in range(600)
        )
    )
    result = investigate(bundle, tmp_path / "case")
    sig = next(f for f in result.findings if f.analyzer == "error_signatures")
    assert sig.stats["share"] == 40 / 200


def test_signature_buckets_follow_its_files_not_an_old_log_beside_them(tmp_path: Path) -> None:
    """A month-old rotated log widens the case window; today's error keeps fine buckets."""
    import json

    from casework.pipeline import investigate

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    t0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    onset_at = t0 + timedelta(hours=2, minutes=17)

    def line(ts: datetime, level: str, msg: str) -> str:
        return json.dumps({"ts": ts.isoformat(), "level": level, "msg": msg}) + "\n"

    today = [line(t0 + timedelta(seconds=10 * i), "info", f"posted entry {i}") for i in range(1800)]
    today += [
        line(onset_at + timedelta(seconds=30 * i), "error", f"ledger write refused after {i} ms")
        for i in range(60)
    ]
    (bundle / "ledger.jsonl").write_text("".join(today))
    old = t0 - timedelta(days=40)
    (bundle / "ledger.jsonl.1").write_text(
        "".join(line(old + timedelta(minutes=i), "info", f"posted entry {i}") for i in range(300))
    )
    result = investigate(bundle, tmp_path / "case")
    sig = next(f for f in result.findings if f.analyzer == "error_signatures")
    width = int(str(sig.stats["bucket_seconds"]))
    assert width <= 5 * 60  # the 5-hour log's own buckets, not a 40-day window's
    assert bucket_seconds(result.window) >= 3600  # which would have been hours wide
    onset = datetime.strptime(str(sig.stats["onset"]), "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    assert abs((onset - onset_at).total_seconds()) <= width


def test_time_groups_chain_rotations_and_set_far_files_apart() -> None:
    day = datetime(2026, 3, 2, tzinfo=UTC)
    spans = {
        f"app.log.{i}": Window(day - timedelta(days=i + 1), day - timedelta(days=i))
        for i in range(3)
    }
    spans["old.log"] = Window(day - timedelta(days=60), day - timedelta(days=59, hours=20))
    spans["dump.txt"] = Window(day - timedelta(days=200), day - timedelta(days=200))  # one instant
    groups = time_groups(spans)
    assert groups["app.log.0"] == groups["app.log.2"] == Window(day - timedelta(days=3), day)
    assert groups["old.log"] == spans["old.log"] and groups["dump.txt"] == spans["dump.txt"]
    # A series spanning two groups gets one window over both.
    linked = time_groups(spans, [["app.log.1", "old.log"], ["unknown.log"]])
    assert linked["old.log"] == linked["app.log.0"] == Window(day - timedelta(days=60), day)
    assert linked["dump.txt"] == spans["dump.txt"]


def test_a_change_inside_the_onset_bucket_is_not_called_before_it() -> None:
    onset_at = datetime(2026, 1, 28, 6, 0, tzinfo=UTC)
    release = "release of export-svc 4.2.0 at 09:00:00 UTC"
    inside = relation(onset_at, (onset_at + timedelta(hours=3), release), 6 * 3600)
    assert inside == f"in the 6h bucket of the {release}"
    before = relation(onset_at, (onset_at - timedelta(minutes=1), release), 6 * 3600)
    assert before == f"just after the {release}"


def _request_row(ts: datetime, file: str, line: int, route: str, status: int) -> tuple[object, ...]:
    return (ts, "log", file, line, "GET", None, route, None, status, 120.0, 512, None, None)


def test_a_short_log_beside_year_old_evidence_gets_its_own_buckets(tmp_path: Path) -> None:
    """A 13-minute API log in a bundle that also holds a year-old capture: its route is bucketed
    over its own 13 minutes, not over the year."""
    path = tmp_path / "case.duckdb"
    store = Store(path)
    year_ago = datetime(2025, 3, 1, tzinfo=UTC)
    store.add("requests", _request_row(year_ago, "old.har", 1, "/", 200))
    start = datetime(2026, 3, 1, 10, tzinfo=UTC)
    for i in range(400):
        store.add("requests", _request_row(start + timedelta(seconds=2 * i), "api.log", i + 1,
                                           "/v2/servers/detail", 404 if i % 2 else 200))  # fmt: skip
    store.close()
    case = Case.open(str(path))
    findings, _ = run_analyzers(case, (http_status,))
    case.con.close()
    (found,) = findings
    assert found.stats["failures"] == 200 and found.stats["bucket_seconds"] <= 60
    assert found.window.start >= start and found.stats["first_half_rate"] == pytest.approx(0.5)


def test_a_route_seen_in_one_half_of_its_window_claims_no_trend(tmp_path: Path) -> None:
    """A route logged only in the last hour of two days of its file group's requests: its 404s
    are reported, but no 0% first half and no 'did not rise' verdict are made up."""
    path = tmp_path / "case.duckdb"
    store = Store(path)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(48 * 6):
        store.add(
            "requests", _request_row(start + timedelta(minutes=10 * i), "web.log", i + 1, "/", 200)
        )
    late = start + timedelta(hours=47)
    for i in range(100):
        store.add("requests", _request_row(late + timedelta(seconds=30 * i), "api.log", i + 1,
                                           "/v2/servers/detail", 404))  # fmt: skip
    store.close()
    case = Case.open(str(path))
    findings, _ = run_analyzers(case, (http_status,))
    case.con.close()
    (found,) = findings
    assert found.stats["failures"] == 100 and found.stats["first_half_rate"] is None
    assert "steady" not in found.title and "0.00%" not in found.summary
    assert "not compared" in found.summary and "likely background" not in found.summary


def test_a_5xx_episode_that_ended_is_not_called_steady(tmp_path: Path) -> None:
    """A route that failed for its first 40 minutes, then recovered: its rate fell."""
    path = tmp_path / "case.duckdb"
    rng = random.Random(2)
    store = Store(path)
    ts, line = T0, 0
    while ts < T0 + timedelta(hours=HOURS):
        line += 1
        failing = ts < T0 + timedelta(minutes=40) and rng.random() < 0.3
        _request(store, ts, line, "GET", "/v1/search", 503 if failing else 200)
        ts += timedelta(seconds=rng.expovariate(1 / 2.0))
    store.close()
    findings, _ = analyze(path)
    episode = _by(findings, "HTTP_5XX_ROUTE", "/v1/search")
    assert episode.stats["fell"] is True and episode.stats["new"] is False
    assert "fell within the window" in episode.title and "steady" not in episode.title
    first, second = episode.stats["first_half_rate"], episode.stats["second_half_rate"]
    assert isinstance(first, float) and isinstance(second, float) and first > 0.05 > second
    assert "ended or eased" in episode.summary


def _fell_late(tmp_path: Path) -> list[Finding]:
    """One hour of a service: a route fails (503) and a warning repeats at 12% of its
    records for 50 minutes, then at 0.5%. The halves of the hour differ by less than half,
    so the fall shows only at the change point."""
    import json

    from casework.pipeline import investigate

    rng = random.Random(4)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    lines = []
    for i in range(3600):
        ts = T0 + timedelta(seconds=i)
        bad = rng.random() < (0.12 if i < 3000 else 0.005)
        lines.append(json.dumps({
            "time": ts.isoformat(), "severity": "warning" if bad else "info",
            "message": "replica lag above threshold" if bad else f"served page {rng.randint(1, 50)}",
            "http": {"method": "GET", "route": "/v1/orders", "status_code": 503 if bad else 200},
        }))  # fmt: skip
    (bundle / "orders.jsonl").write_text("\n".join(lines) + "\n")
    return investigate(bundle, tmp_path / "case").findings


def test_a_fall_is_told_at_the_split_where_it_fell(tmp_path: Path) -> None:
    """Titles name the split that fell, with its rates: the halves' counts of a series that
    fell at its change point could hold nearly as many hits in the second half."""
    findings = _fell_late(tmp_path)
    route = _by(findings, "HTTP_5XX_ROUTE", "/v1/orders")
    warning = next(
        f for f in findings if f.analyzer == "error_signatures" and "replica lag" in f.title
    )
    for f in (route, warning):
        assert f.stats["fell"] is True, f.title
        at, start, end = f.stats["fell_at"], f.stats["fell_from"], f.stats["fell_to"]
        assert isinstance(at, str) and "12:49" <= at.split()[1] <= "12:51", at
        assert isinstance(start, float) and isinstance(end, float) and end <= start / 2
        assert f"{start:.1%}" in f.title and f"before {at}, {end:.1%} after" in f.title
    first, second = warning.stats["first_half"], warning.stats["second_half"]
    assert isinstance(first, int) and isinstance(second, int) and second > first / 2
