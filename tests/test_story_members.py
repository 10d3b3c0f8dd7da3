"""One line of inquiry is told once: a story holds what restates it, and names what is new at its onset.

Found by a new-user check (0.3% of payment captures fail after a release changed how a
timestamp is written): the summary listed the story and then four of its own members, a
logger that writes nothing but errors was offered as "who fails", and the field whose
new format caused it all was counted on a sample, dated 26 minutes late and shown with
records that did not hold the new format.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from casework.analyzers.novelty import novelty
from casework.case import Case
from casework.contrast import contrast
from casework.findings import Evidence, Finding, Window, rate_text
from casework.report.text import headlines
from casework.store import Store
from casework.story import merge

START = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)
ONSET = START + timedelta(hours=6, minutes=43)


def _shift(file: str, key: str = "CHANGEPOINT_5XX") -> Finding:
    return Finding(
        key=key, analyzer="changepoints", subject=f"{file}|{key}", severity="high",
        score=1.0, title="At 06:43 UTC the rate of HTTP 500 on POST /v2/pay rose", summary="",
        entities={"series": "5xx", "subject": "HTTP 500 on POST /v2/pay", "file": file},
        stats={"onset_epoch": ONSET.timestamp(), "earliest_epoch": ONSET.timestamp() - 1800,
               "latest_epoch": ONSET.timestamp(), "increased": True,
               "before_rate": 0.0, "after_rate": 0.0027},
    )  # fmt: skip


def _format(field: str, file: str) -> Finding:
    return Finding(
        key="FIELD_FORMAT", analyzer="novelty", subject=f"{file}:{field}", severity="medium",
        score=0.7, title=f'Field "{field}" in {file} has a new format since 06:43', summary="",
        entities={"field": field, "file": file, "shape": "x", "previous_shape": "y"},
        stats={"onset_epoch": ONSET.timestamp() + 30, "new": True},
    )  # fmt: skip


def _time_cohort(file: str, low: float, high: float) -> Finding:
    return Finding(
        key="FAILURE_COHORT", analyzer="cohort", subject=f"{file}:errors:{high}", severity="low",
        score=0.72, title="Since 06:43:30 UTC, 0.28% of events fail", summary="",
        entities={"time": ">= 2026-11-03 06:43:30 UTC", "file": file, "failure": "error records"},
        stats={"since_epoch": high, "since_low": low, "since_high": high},
    )  # fmt: skip


def test_a_story_names_a_field_s_new_format_at_its_onset_but_not_its_error_text() -> None:
    api = "payments/api.jsonl"
    shift, cause, error_text = _shift(api), _format("captured_at", api), _format("error", api)
    errors = _shift(api, "CHANGEPOINT_ERRORS")
    story = next(f for f in merge([shift, errors, cause, error_text]) if f.key == "INCIDENT")
    assert {cause.id, error_text.id} <= set(story.related)
    new = story.summary.split("New at the onset: ", 1)[1]
    assert cause.title in new and error_text.title not in new.split(" findings agree")[0]


def test_a_cohort_that_names_only_a_time_joins_the_story_it_overlaps_from_any_file() -> None:
    shift = _shift("payments/api.jsonl")
    at = ONSET.timestamp()
    overlapping = _time_cohort("ledger/ledger.log", at - 1500, at + 10)
    a_day_later = _time_cohort("ledger/ledger.log", at + 86400, at + 86500)
    errors = _shift("payments/api.jsonl", "CHANGEPOINT_ERRORS")
    merged = merge([shift, errors, overlapping, a_day_later])
    story = next(f for f in merged if f.key == "INCIDENT")
    assert overlapping.id in story.related and a_day_later.id not in story.related
    # A cohort that names someone is not swallowed by time alone.
    named = Finding(
        key="FAILURE_COHORT", analyzer="cohort", subject="ledger:tier", severity="low",
        score=0.7, title="Since 06:43:30 UTC, 40% of events where tier = gold fail", summary="",
        entities={**overlapping.entities, "tier": "= gold"}, stats=overlapping.stats,
    )  # fmt: skip
    story = next(f for f in merge([shift, errors, named]) if f.key == "INCIDENT")
    assert named.id not in story.related


def _route_rising(file: str, route: str) -> Finding:
    """An http_status finding without an onset: its rate rose from the first half to the second."""
    method, path = route.split(" ", 1)
    return Finding(
        key="HTTP_4XX_ROUTE", analyzer="http_status", subject=f"{file}|{route}|4xx",
        severity="low", score=0.3, title=f"{route}: 0.7% of requests return 4xx, rising", summary="",
        entities={"route": route, "method": method, "path": path, "file": file, "status_class": "4xx"},
        stats={"new": True, "p_halves": 0.004},
    )  # fmt: skip


def test_an_undated_finding_joins_a_story_only_about_the_same_route_not_the_same_file() -> None:
    api = "payments/api.jsonl"
    shift, errors = _shift(api), _shift(api, "CHANGEPOINT_ERRORS")
    other_route = _route_rising(api, "GET /v1/cart/items/{id}")
    same_route = _route_rising(api, "POST /v2/pay")
    story = next(f for f in merge([shift, errors, other_route, same_route]) if f.key == "INCIDENT")
    assert same_route.id in story.related and other_route.id not in story.related


def test_a_cohort_that_restates_the_anchor_s_subject_names_no_one_and_joins() -> None:
    api = "payments/api.jsonl"
    shift, errors = _shift(api), _shift(api, "CHANGEPOINT_ERRORS")
    at = ONSET.timestamp()
    restating = Finding(
        key="FAILURE_COHORT", analyzer="cohort", subject="api:path", severity="medium", score=0.75,
        title="Between 06:42 and 06:44, 66% of requests where http.path = /v2/pay fail", summary="",
        entities={"http.path": "/v2/pay", "time": "< 2026-11-03 06:44:00 UTC", "file": api,
                  "failure": "HTTP 500"},
        stats={"since_epoch": at, "since_low": at - 100, "since_high": at},
    )  # fmt: skip
    someone = Finding(
        key="FAILURE_COHORT", analyzer="cohort", subject="api:tier", severity="medium", score=0.75,
        title="Between 06:42 and 06:44, 66% of requests where tier = gold fail", summary="",
        entities={**restating.entities, "tier": "= gold"}, stats=restating.stats,
    )  # fmt: skip
    story = next(f for f in merge([shift, errors, restating, someone]) if f.key == "INCIDENT")
    assert restating.id in story.related and someone.id not in story.related


def test_what_the_kubelet_says_of_the_restarting_pods_joins_the_story_as_why() -> None:
    api = "payments/api.jsonl"
    shift, errors = _shift(api), _shift(api, "CHANGEPOINT_ERRORS")
    at_restarts = Finding(
        key="FAILURES_AT_RESTARTS", analyzer="restart_failures", subject="r", severity="high",
        score=0.9, title="40 of 40 HTTP 500 on POST /v2/pay came within 60 s of a restart of ledger",
        summary="", entities={"route": "POST /v2/pay", "file": api, "failure": "HTTP 500",
                              "restarted": "ledger", "objects": "Pod/ledger-5d8-abcde, Pod/ledger-5d8-fghij"},
        stats={"onset_epoch": ONSET.timestamp() + 20},
    )  # fmt: skip

    def k8s(key: str, obj: str, score: float, **more: str) -> Finding:
        return Finding(key=key, analyzer="k8s", subject=f"{key}:{obj}", severity="high", score=score,
                       title=f"{key} {obj}", summary="", entities={"object": obj, **more})  # fmt: skip

    crash = k8s("K8S_CRASHLOOP", "Pod/ledger-5d8-abcde", 0.9)
    oom = k8s("K8S_OOMKILLED", "ledger (2 pods)", 0.8,
              objects="Pod/ledger-5d8-abcde, Pod/ledger-5d8-fghij")  # fmt: skip
    elsewhere = k8s("K8S_OOMKILLED", "Pod/search-7f9-zzzzz", 0.95)
    story = next(f for f in merge([shift, errors, at_restarts, crash, oom, elsewhere])
                 if f.key == "INCIDENT")  # fmt: skip
    assert {at_restarts.id, crash.id, oom.id} <= set(story.related)
    assert elsewhere.id not in story.related
    assert f"It fails at restarts: {at_restarts.title}" in story.summary
    # a kill for memory says why before a crash loop does
    assert f"Why they restart: {oom.title}" in story.summary


def test_a_server_a_capture_shows_unreachable_since_the_onset_joins_from_another_file() -> None:
    api = "payments/api.jsonl"
    shift, errors = _shift(api), _shift(api, "CHANGEPOINT_ERRORS")
    at = ONSET.timestamp()

    def unanswered(since: bool, first: float) -> Finding:
        return Finding(
            key="NET_SYN_UNANSWERED", analyzer="net_connect_failures", subject=f"node.pcap|{first}",
            severity="high" if since else "medium", score=0.9,
            title=f"9 connections to 10.2.0.12:443 never answered (36 SYNs) ({since}, {first})",
            summary="", entities={"server": "10.2.0.12:443"},
            stats={"since": since, **({"onset_epoch": first, "latest_epoch": first,
                                       "earliest_epoch": first - 4} if since else {})},
        )  # fmt: skip

    same_moment, a_day_later = unanswered(True, at - 2), unanswered(True, at + 86400)
    scattered = unanswered(False, at)
    story = next(
        f
        for f in merge([shift, errors, same_moment, a_day_later, scattered])
        if f.key == "INCIDENT"
    )
    assert same_moment.id in story.related
    assert a_day_later.id not in story.related and scattered.id not in story.related
    assert f"On the network: {same_moment.title}" in story.summary


def test_the_summary_names_each_line_of_inquiry_once() -> None:
    api = "payments/api.jsonl"
    shift, cause = _shift(api), _format("captured_at", api)
    other = Finding(
        key="WARN_SIGNATURE", analyzer="error_signatures", subject="warn:fx", severity="info",
        score=0.17, title='WARN "fx rate cache stale" ×628, steady', summary="",
    )  # fmt: skip
    errors = _shift(api, "CHANGEPOINT_ERRORS")
    ranked = sorted(merge([shift, errors, cause, other]), key=lambda f: f.key != "INCIDENT")
    shown = headlines(ranked, 5)
    assert [f.key for f in shown] == ["INCIDENT", "WARN_SIGNATURE"]
    # Without a story every finding is its own line.
    assert headlines([shift, cause, other], 2) == [shift, cause]


def test_failure_rates_keep_two_significant_digits() -> None:
    assert [rate_text(x) for x in (1.0, 0.4518, 0.045, 0.0027, 0.0)] == [
        "100%", "45%", "4.5%", "0.27%", "0.00%",
    ]  # fmt: skip


def test_a_logger_that_writes_only_errors_is_where_they_are_logged_not_who_fails() -> None:
    """Errors come from a parser class that logs nothing else, and concentrate in one region;
    a second logger writes both and fails more often than the rest (a real concentration)."""
    rng = random.Random(5)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE r (id INTEGER, ts TIMESTAMPTZ, logger VARCHAR, region VARCHAR, ok BOOLEAN)"
    )
    rows = []
    for i in range(6000):
        region = rng.choice(["eu", "us", "ap"])
        fails = region == "eu" and rng.random() < 0.3
        logger = "EntryParser" if fails else rng.choice(["EntryWriter", "Scheduler"])
        rows.append((i, START + timedelta(seconds=i), logger, region, not fails))
    con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", rows)
    plain = contrast(con, "SELECT * FROM r", "NOT ok", columns=("logger", "region"), attrs=None)
    assert any("EntryParser" in s.describe() for s in plain)  # the trap, without the rule
    splits = contrast(
        con,
        "SELECT * FROM r",
        "NOT ok",
        columns=("logger", "region"),
        attrs=None,
        writers=("logger",),
    )
    assert splits and all("EntryParser" not in s.describe() for s in splits)
    assert "region" in splits[0].describe()


def _format_case(path: Path, n: int, new_every: int, onset_at: int) -> tuple[Case, list[int]]:
    """``n`` records a second apart; from ``onset_at`` on, every ``new_every``-th writes
    ``captured_at`` without milliseconds and with an offset."""
    store = Store(path)
    new_lines = []
    for i in range(n):
        ts = START + timedelta(seconds=i)
        if i >= onset_at and i % new_every == 0:
            value = f"{ts:%Y-%m-%dT%H:%M:%S}+00:00"
            new_lines.append(i + 1)
        else:
            value = f"{ts:%Y-%m-%dT%H:%M:%S}.{i % 1000:03d}Z"
        attrs = f'{{"captured_at":"{value}","amount":{i % 97}}}'
        store.add("events", ("api.jsonl", i + 1, i + 1, ts, "info", None, None,
                             "payment captured", "t1", attrs))  # fmt: skip
    store.close()
    return Case.open(str(path)), new_lines


def test_a_new_format_is_counted_and_dated_on_every_record_when_the_stream_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sample of 2,000 of 20,000 records: the first new values are likely not in it.
    monkeypatch.setattr(sys.modules["casework.analyzers.novelty"], "SAMPLE_EVENTS", 2000)
    case, new_lines = _format_case(tmp_path / "case.duckdb", 20000, 20, 12000)
    found = [f for f in novelty.run(case) if f.key == "FIELD_FORMAT"]
    assert len(found) == 1
    f = found[0]
    first = START + timedelta(seconds=new_lines[0] - 1)
    assert f.stats["count"] == len(new_lines)
    assert f.stats["onset_epoch"] == first.timestamp()
    assert f.stats["before"] == new_lines[0] - 1
    # The evidence holds the new format, from its first record on.
    assert [e.lines for e in f.evidence] == [(n, n) for n in new_lines[:2]]
    assert all("+00:00" in e.excerpt for e in f.evidence)
    # Above the exact bound the counts are the sample's, and the finding says so.
    monkeypatch.setattr(sys.modules["casework.analyzers.novelty"], "EXACT_EVENTS", 10000)
    sampled = next(f for f in novelty.run(case) if f.key == "FIELD_FORMAT")
    assert "in the sample" in sampled.title and "count_in_sample" in sampled.stats
    assert int(sampled.stats["count_in_sample"] or 0) < len(new_lines)


def test_a_duration_the_failures_all_ran_to_is_a_limit_not_who_fails() -> None:
    """Partner calls time out at exactly 10,000 ms, more often in one region; the successes
    took 20-900 ms. A second case's failures are slow database reads spread over 3-9 s: that
    duration can be a cause, and stays a cohort."""
    rng = random.Random(8)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE r (id INTEGER, ts TIMESTAMPTZ, region VARCHAR, elapsed_ms DOUBLE,"
        " db_ms DOUBLE, ok BOOLEAN)"
    )
    rows = []
    for i in range(5000):
        region = rng.choice(["eu", "us", "ap"])
        fails = rng.random() < (0.25 if region == "eu" else 0.01)
        elapsed = 10000.0 if fails else round(rng.uniform(20, 900), 1)
        slow_db = round(rng.uniform(3000, 9000), 1) if fails else round(rng.uniform(1, 400), 1)
        rows.append((i, START + timedelta(seconds=i), region, elapsed, slow_db, not fails))
    con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?)", rows)
    timeouts = contrast(
        con, "SELECT * FROM r", "NOT ok", columns=("region", "elapsed_ms"), attrs=None
    )
    assert timeouts and all("elapsed_ms" not in s.describe() for s in timeouts)
    assert "region" in timeouts[0].describe()
    slow = contrast(con, "SELECT * FROM r", "NOT ok", columns=("region", "db_ms"), attrs=None)
    assert slow and "db_ms" in slow[0].describe()


def test_a_duration_written_as_one_value_from_the_onset_is_not_a_new_format(
    tmp_path: Path,
) -> None:
    """From the onset every 10th call times out and logs ``elapsed_ms: 10000`` (before, every
    duration had a fraction), and every 10th payment writes ``amount: "0E-8"`` (a number
    serializer's zero): one value each, but only the amount is a new way of writing values."""
    rng = random.Random(4)
    records = []
    for i in range(3000):
        late = i >= 2000 and i % 10 == 0
        elapsed = 10000 if late else round(rng.uniform(20, 900), 1) + 0.1
        amount = "0E-8" if late else f"{rng.randint(1, 900)}.{rng.randint(10, 99)}"
        records.append(f'{{"elapsed_ms":{elapsed},"amount":"{amount}"}}')
    assert _new_formats(tmp_path, records) == ["amount"]


def _new_formats(tmp_path: Path, records: list[str]) -> list[str]:
    """The fields novelty finds a new format of in a stream of records a second apart, each
    given as its attributes' JSON."""
    store = Store(tmp_path / "case.duckdb")
    for i, attrs in enumerate(records):
        store.add("events", ("app.log", i + 1, i + 1, START + timedelta(seconds=i), "info",
                             None, None, "record", "t1", attrs))  # fmt: skip
    store.close()
    found = novelty.run(Case.open(str(tmp_path / "case.duckdb")))
    return [str(f.entities["field"]) for f in found if f.key == "FIELD_FORMAT"]


def _at(key: str, file: str, subject: str, lo: float, hi: float, **entities: str) -> Finding:
    """A shift of ``key`` in ``file`` whose data place its onset between ``lo`` and ``hi``
    seconds after ONSET."""
    at = ONSET.timestamp()
    return Finding(
        key=key, analyzer="changepoints", subject=f"{file}|{subject}", severity="high",
        score=0.9, title=f"{subject} rose in {file}", summary="",
        entities={"series": "template" if "TEMPLATE" in key else "5xx", "subject": subject,
                  "file": file, **entities},
        stats={"onset_epoch": at + hi, "earliest_epoch": at + lo, "latest_epoch": at + hi,
               "increased": True, "failure": True, "excess": 100.0},
    )  # fmt: skip


def test_shifts_at_the_same_moment_elsewhere_join_the_story_with_what_joins_them() -> None:
    """A service's pool runs dry at 06:43: the ingress log's 500s on one route and 503s on
    another rise in the same minute, the service's log shows a new exception template then, and
    its error signature two minutes later; the failing environment's config lowered the pool's
    size and the exception's records state it. A third route's 500s rise 50 minutes later:
    another incident."""
    ingress, service = "logs/ingress.log", "logs/orders-service.log"
    anchor = _at("CHANGEPOINT_5XX", ingress, "HTTP 500 on GET /api/orders/{id}", -60, 0)
    peer = _at("CHANGEPOINT_5XX", ingress, "HTTP 503 on POST /api/checkout", -40, 10)
    pool = _at("CHANGEPOINT_TEMPLATE", service, "Connection is not available", -30, 5,
               template_id="t-pool")  # fmt: skip
    signature = Finding(
        key="ERROR_SIGNATURE", analyzer="error_signatures", subject="t-pool", severity="high",
        score=0.8, title="ERROR Connection is not available ×590", summary="",
        entities={"template_id": "t-pool", "file": service},
        stats={"onset_epoch": ONSET.timestamp() + 120},
    )  # fmt: skip
    later = _at("CHANGEPOINT_5XX", ingress, "HTTP 500 on GET /api/search", 3000, 3060)
    cited = (Evidence(file="config/after/app.yml", lines=(3, 3)),
             Evidence(file=service, lines=(7138, 7138)))  # fmt: skip
    config = [
        Finding(
            key="ENV_CONFIG_DIFF",
            analyzer="env_diff",
            subject=key,
            severity="high",
            score=0.9,
            title=f"after sets {key}",
            summary="",
            entities={"key": key},
            stats={"promoted": promoted},
            evidence=cited,
        )
        for key, promoted in (("hikari.maximum-pool-size", True), ("logging.level", False))
    ]
    story = next(
        f
        for f in merge([anchor, peer, pool, signature, later, *config])
        if f.key == "INCIDENT" and f.subject == anchor.id
    )
    assert {peer.id, pool.id, signature.id, config[0].id} <= set(story.related)
    assert not {later.id, config[1].id} & set(story.related)
    assert f"In the configuration: {config[0].title}." in story.summary


def _slow(statement: str, start: datetime, plan: str) -> Finding:
    return Finding(
        key="SLOW_QUERY_FINGERPRINT", analyzer="plan_slow_queries", subject=statement,
        severity="high", score=0.8, title=f"355 slow executions of `{statement}`", summary="",
        window=Window(start, start + timedelta(hours=1)),
        entities={"statement": statement, "plan": plan}, stats={"count": 355},
    )  # fmt: skip


def _regression(after: str) -> Finding:
    return Finding(
        key="PLAN_REGRESSION", analyzer="plan_regression", subject=f"before->{after}",
        severity="high", score=0.95, title=f"Query plan regressed 36.2x: {after}", summary="",
        entities={"before": "plans/before.json", "after": after}, stats={"ratio": 36.2},
    )  # fmt: skip


def test_a_statement_slow_since_the_onset_and_its_plan_s_regression_join_the_story() -> None:
    """The reports route fails from 06:43; the database log's monthly-report statement is slow
    from 40 s later, its plan regressed; a search statement is slow all day, and another
    plan regressed that no slow statement ran."""
    api = "reports/app.jsonl"
    shift, latency = _shift(api), _shift(api, "CHANGEPOINT_LATENCY")
    report = _slow(
        "select date_trunc(?, created_at) …", ONSET + timedelta(seconds=40), "after.json"
    )
    search = _slow("select id from products …", ONSET - timedelta(hours=3), "search.json")
    why, other = _regression("after.json"), _regression("other.json")
    story = next(
        f for f in merge([shift, latency, report, search, why, other]) if f.key == "INCIDENT"
    )
    assert {report.id, why.id} <= set(story.related)
    assert not {search.id, other.id} & set(story.related)
    database = story.summary.split("In the database: ", 1)[1]
    assert database.startswith(report.title) and why.title in database


def test_fields_that_take_new_formats_together_are_one_finding(tmp_path: Path) -> None:
    """Two gateways log browsers' requests; from one minute on a partner's batch job calls
    both, writing its own client id, user and agent. Hours later one gateway's release starts
    writing a duration as text. The job is one finding naming its fields and both files; the
    release is a finding of its own."""
    rng = random.Random(12)
    store = Store(tmp_path / "case.duckdb")
    agents = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0", "Mozilla/5.0 (Macintosh) Safari/17"]
    job_from, release_from = 1800, 5400
    for file in ("gw-1.access.jsonl", "gw-2.access.jsonl"):
        for i in range(7200):
            ts = START + timedelta(seconds=i, milliseconds=rng.randint(0, 999))
            job = i >= job_from and rng.random() < 0.1
            attrs = {
                "client_id": "partner-reporting-batch" if job else f"web-{rng.randint(1, 40)}",
                "user": f"svc_partner_{rng.randint(1000, 1002)}" if job else f"u{rng.randint(10**5, 10**6)}",
                "user_agent": "python-requests/2.31.0" if job else rng.choice(agents),
                "took": f"{rng.randint(1, 900)}ms" if file == "gw-1.access.jsonl" and i >= release_from else rng.randint(1, 900),
                "status": 200,
            }  # fmt: skip
            store.add("events", (file, i + 1, i + 1, ts, "info", None, None, "request completed",
                                 "t1", json.dumps(attrs)))  # fmt: skip
    store.close()
    found = [
        f for f in novelty.run(Case.open(str(tmp_path / "case.duckdb"))) if f.key == "FIELD_FORMAT"
    ]
    by_fields = {str(f.entities["field"]): f for f in found}
    assert set(by_fields) == {"client_id, user, user_agent", "took"}, by_fields.keys()
    job = by_fields["client_id, user, user_agent"]
    assert job.entities["file"] == "gw-1.access.jsonl, gw-2.access.jsonl"
    assert job.stats["fields"] == 3 and job.stats["files"] == 2
    assert abs(float(job.stats["onset_epoch"] or 0) - (START.timestamp() + job_from)) < 60
    assert '"partner-reporting-batch"' in job.title and "3 fields" in job.title
    assert {e.file for e in job.evidence} == {"gw-1.access.jsonl", "gw-2.access.jsonl"}
    release = by_fields["took"]
    assert release.entities["file"] == "gw-1.access.jsonl"
    assert abs(float(release.stats["onset_epoch"] or 0) - (START.timestamp() + release_from)) < 2


def test_clients_with_one_failure_each_are_no_set_that_fails() -> None:
    """Checkout fails 2% of the time whoever calls it; 2,500 clients make a few calls each. The
    clients with a failure, picked for their rate, would look like a cohort (one failure in
    four calls is 25%); the route is what the failures share."""
    rng = random.Random(9)
    con = duckdb.connect()
    con.execute("CREATE TABLE r (id INTEGER, ts TIMESTAMPTZ, client VARCHAR, route VARCHAR,"
                " ok BOOLEAN)")  # fmt: skip
    rows = []
    for i in range(40000):
        route = rng.choice(["/api/checkout"] + ["/api/products"] * 9)
        fails = route == "/api/checkout" and rng.random() < 0.02
        client = f"10.2.{rng.randint(0, 9)}.{rng.randint(2, 251)}"
        rows.append((i, START + timedelta(seconds=i), client, route, not fails))
    con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", rows)
    splits = contrast(con, "SELECT * FROM r", "NOT ok", columns=("client", "route"), attrs=None)
    assert splits and all("client" not in s.describe() for s in splits)
    assert "route = /api/checkout" in splits[0].describe()


def test_a_number_that_needs_one_more_digit_is_not_a_new_format(tmp_path: Path) -> None:
    """Process ids pass 9999 partway through the log (written as text, as a syslog header
    does); a year written with two digits instead of four from some point is a new format."""
    records = [
        f'{{"pid":"{9000 + i // 2}","year":"{"26" if i >= 2000 and i % 10 == 0 else "2026"}"}}'
        for i in range(3000)
    ]
    assert _new_formats(tmp_path, records) == ["year"]


def test_process_ids_after_a_reboot_are_not_a_new_format(tmp_path: Path) -> None:
    """loghub's Linux syslog: five-digit process ids, then a reboot, after which new processes
    get four-digit ids among the long-lived daemons' five-digit ones."""
    rng = random.Random(14)
    records = [
        f'{{"pid":"{rng.randint(10000, 32000) if i < 1500 or rng.random() < 0.8 else rng.randint(1000, 9999)}"}}'
        for i in range(3000)
    ]  # fmt: skip
    assert _new_formats(tmp_path, records) == []


def _origin(endpoint: str, first: datetime) -> Finding:
    return Finding(
        key="TRACE_ERROR_ORIGIN", analyzer="trace_error_origin", subject=endpoint,
        severity="high", score=0.8, title=f"96% of failing `{endpoint}` traces originate in pricing-svc",
        summary="", entities={"endpoint": f"checkout-api {endpoint}", "origin_service": "pricing-svc"},
        stats={"onset_epoch": first.timestamp(), "latest_epoch": first.timestamp() + 3000},
    )  # fmt: skip


def _new_message(text: str, at: datetime, file: str) -> Finding:
    return Finding(
        key="NEW_TEMPLATE", analyzer="novelty", subject=f"{file}:{text}", severity="high",
        score=0.9, title=f'New log message since {at:%H:%M}: "{text}"', summary="",
        entities={"template": text, "template_id": text, "file": file},
        stats={"onset_epoch": at.timestamp(), "new": True},
    )  # fmt: skip


def test_where_the_traces_fail_joins_and_what_began_later_is_not_new_at_the_onset() -> None:
    """Quotes fail from 06:43 and their traces' errors begin in pricing-svc; another route's
    traces fail elsewhere. A message new at 06:43 is new at the onset; one that began half an
    hour later (a throttled client's) is not."""
    api = "logs/checkout-api.jsonl"
    shift = _at("CHANGEPOINT_5XX", api, "HTTP 502 on POST /v2/checkout/quote", -60, 0)
    errors = _at("CHANGEPOINT_ERRORS", api, "error-level records", -60, 0)
    origin = _origin("POST /v2/checkout/quote", ONSET + timedelta(seconds=90))
    other = _origin("GET /v2/search", ONSET + timedelta(seconds=90))
    now = _new_message("upstream pricing error", ONSET, api)
    later = _new_message("rate limited", ONSET + timedelta(minutes=30), api)
    story = next(
        f for f in merge([shift, errors, origin, other, now, later]) if f.key == "INCIDENT"
    )
    assert origin.id in story.related and other.id not in story.related
    assert f"Where the traces fail: {origin.title}." in story.summary
    new = story.summary.split("New at the onset: ", 1)[1].split(" findings agree")[0]
    assert now.title in new and later.title not in new


def test_a_cohort_over_peer_instances_is_the_failure_of_a_shift_in_one_of_them() -> None:
    from casework.story import _one_incident

    peers = "logs/checkout-api-1.jsonl, logs/checkout-api-2.jsonl"
    cohort = Finding(
        key="FAILURE_COHORT", analyzer="cohort", subject="c", severity="high", score=0.9,
        title="47% of requests where plan = enterprise fail (HTTP 502: 96 of 203)", summary="",
        entities={"plan": "enterprise", "file": peers, "failure": "HTTP 502"},
    )  # fmt: skip
    shift = _at(
        "CHANGEPOINT_5XX", "logs/checkout-api-2.jsonl", "HTTP 502 on POST /v2/quote", -60, 0
    )
    elsewhere = _at("CHANGEPOINT_5XX", "logs/search.jsonl", "HTTP 502 on GET /v2/search", -60, 0)
    assert _one_incident(shift, cohort) and not _one_incident(elsewhere, cohort)


def test_a_hex_id_whose_digits_hold_a_letter_is_no_new_format(tmp_path: Path) -> None:
    """request_id is a zero-padded hex counter: each time it reaches a value with a letter in a
    new place (``req-0000a00``) a shape is seen for the first time. order_id gains a prefix at
    record 2,000: that one is a new way of writing it."""
    rng = random.Random(21)
    records = []
    for i in range(4000):
        number = rng.randint(10**7, 10**8 - 1)
        order = str(number) if i < 2000 else f"ORD-{number}"
        records.append(json.dumps({"request_id": f"req-{3 * i:07x}", "order_id": order}))
    assert _new_formats(tmp_path, records) == ["order_id"]


def _guessing(file: str, start: datetime, end: datetime) -> Finding:
    return Finding(
        key="AUTH_GUESSING", analyzer="auth_failures", subject=f"{file} {start}", severity="high",
        score=0.83, title="Password guessing: 8 sources failed to log in 10 or more times within 10"
        " minutes; the busiest, 183.62.140.253, failed 568 times in 10 minutes", summary="",
        window=Window(start, end), entities={"source": "183.62.140.253"},
        evidence=(Evidence(file, (10, 10), "authentication failure; rhost=183.62.140.253"),),
    )  # fmt: skip


def test_password_guessing_while_auth_failures_rise_is_who_fails_to_log_in() -> None:
    """The failed logins of an SSH host rise at 06:43; guessing from the same log during it is
    who fails; guessing in another host's log, or over a day before, is not this incident."""
    log = "logs/sshd.log"
    shift = _at("CHANGEPOINT_TEMPLATE", log, "authentication failure; rhost=<*>", -60, 0)
    errors = _at("CHANGEPOINT_ERRORS", log, "error-level records", -60, 0)
    during = _guessing(log, ONSET - timedelta(hours=2), ONSET + timedelta(minutes=30))
    elsewhere = _guessing("logs/other-host.log", ONSET, ONSET + timedelta(minutes=30))
    before = _guessing(log, ONSET - timedelta(days=2), ONSET - timedelta(days=1))
    story = next(
        f for f in merge([shift, errors, during, elsewhere, before]) if f.key == "INCIDENT"
    )
    assert during.id in story.related
    assert elsewhere.id not in story.related and before.id not in story.related
    assert f"Who fails to log in: {during.title}." in story.summary
