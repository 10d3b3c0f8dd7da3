"""The four escalations of issue 5 in formats no other test generates: rank 1 still states the answer.

pino and Envoy logs, zap JSON with lumberjack rotation and a GitHub
deployment list or changelog, an Apache ``%D`` log with a PostgreSQL log
(stderr, jsonlog or csvlog) and a JVM GC log, a Kong file-log or nginx ``key=value`` tails
(``generators/unseen.py``). The assertions compare rank 1 with what the
generator planted, never with constants.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from casework.findings import Finding
from casework.formats import ParseContext, sniff
from casework.model import ChangeRecord
from casework.pipeline import investigate
from casework.shifts import STREAM_SQL
from generators import unseen

SEEDS = (1, 2)


def _top(tmp: Path, generate: object, seed: int) -> tuple[object, Finding, list[Finding]]:
    truth = generate(tmp / "bundle", seed)  # type: ignore[operator]
    result = investigate(tmp / "bundle", tmp / "out")
    assert result.findings, "no findings at all"
    return truth, result.findings[0], result.findings


def _text(f: Finding) -> str:
    return f.title + " " + " ".join(f"{k}={v}" for k, v in f.entities.items())


def _float(f: Finding, key: str) -> float:
    value = f.stats.get(key)
    assert isinstance(value, float), f"{key} missing from the rank-1 finding"
    return value


@pytest.mark.parametrize("seed", SEEDS)
def test_pino_and_envoy_refunds_cohort_by_epoch_signup(tmp_path: Path, seed: int) -> None:
    truth, top, found = _top(tmp_path, unseen.refunds, seed)
    assert isinstance(truth, unseen.Refunds)
    assert top.key == "INCIDENT"
    assert truth.route in _text(top)
    # The creation time is an epoch number: the cut is named as a date, not as 1.7e+12.
    assert top.stats["cut_attr"] == truth.created_key
    assert str(truth.cutoff.year) in top.entities[truth.created_key]
    assert _float(top, "cut_low") < truth.cutoff.timestamp() <= _float(top, "cut_high")
    background = [f for f in found if truth.background_route in f.title]
    assert all(f.rank is not None and f.rank > 1 for f in background)


@pytest.mark.parametrize("seed", SEEDS)
def test_zap_payments_codes_and_release_from_a_deployment_list(tmp_path: Path, seed: int) -> None:
    truth, top, found = _top(tmp_path, unseen.payments, seed)
    assert isinstance(truth, unseen.Payments)
    text = _text(top)
    assert truth.mcc_key in text
    assert all(code in text for code in truth.bad_codes)
    # The release is named by its version tag (a deployment's ``ref``), not by its commit.
    assert truth.version in text
    assert "after" in top.title and "before" not in top.title
    # The source line of a log call (zap's caller) is no cohort.
    assert not any(f.key == "FAILURE_COHORT" and "caller" in f.title for f in found[:5])
    # Rotated files are one stream: nothing is said of one rotation alone.
    assert all(".gz" not in str(f.entities.get("file", "")) for f in found)


# Seeds 1, 2 and 4 write the PostgreSQL log as csvlog, jsonlog and stderr, the GC log both ways.
@pytest.mark.parametrize("seed", (1, 2, 4))
def test_apache_latency_period_aligned_with_postgres_checkpoints(tmp_path: Path, seed: int) -> None:
    truth, top, found = _top(tmp_path, unseen.latency, seed)
    assert isinstance(truth, unseen.Latency)
    assert top.key == "PERIODIC_LATENCY"
    period = _float(top, "period_seconds")
    assert abs(period - truth.period_s) <= 0.02 * truth.period_s
    assert "checkpoint" in top.title
    assert "GC" not in top.title and "analyze" not in top.title
    offset = (_float(top, "phase_epoch") - truth.first_spike.timestamp()) % truth.period_s
    assert min(offset, truth.period_s - offset) < truth.spike_s + 60
    # A counter gaining a digit (PostgreSQL's session line number) is no new format.
    assert not any(f.key == "FIELD_FORMAT" for f in found)


@pytest.mark.parametrize("seed", (1, 2, 3))
def test_gateway_client_ignoring_retry_after_by_consumer_id(tmp_path: Path, seed: int) -> None:
    truth, top, _ = _top(tmp_path, unseen.ratelimit, seed)
    assert isinstance(truth, unseen.RateLimit)
    assert top.key == "RETRY_STORM"
    # Clients share user agents: only the consumer / key id names the one at fault.
    assert truth.client in top.title
    fast, throttled = top.stats["retried_at_once"], top.stats["throttled"]
    assert isinstance(fast, int) and isinstance(throttled, int) and fast > 0.5 * throttled


# The shapes above, one record at a time: what each reader must make of them.


def _parse(fmt_kind: str, data: bytes) -> list[Any]:
    fmt, _ = sniff(data)
    assert fmt is not None and fmt.kind == fmt_kind
    ctx = ParseContext("f")
    records = list(fmt.parse(io.BytesIO(data), ctx))
    assert ctx.bad_records == 0, ctx.first_problem
    return records


GITHUB_CREATOR = {k: "x" for k in ("login", "node_id", "avatar_url", "gravatar_id", "url",
                  "html_url", "followers_url", "following_url", "gists_url", "starred_url",
                  "subscriptions_url", "organizations_url", "repos_url", "events_url",
                  "received_events_url", "type")}  # fmt: skip


@pytest.mark.parametrize("layout", ("array", "lines"))
def test_github_deployments_are_releases_named_by_their_tag(layout: str) -> None:
    tags = [f"v3.{i}.0" for i in range(3)]
    docs = [
        {"url": "https://api.github.com/repos/o/r/deployments/1", "id": i, "node_id": "D1",
         "sha": f"{i:040x}", "ref": tag, "task": "deploy", "payload": {},
         "original_environment": "staging", "environment": "production", "description": "",
         "creator": GITHUB_CREATOR, "created_at": f"2026-09-0{i + 1}T10:00:00Z",
         "updated_at": f"2026-09-0{i + 1}T10:01:00Z", "statuses_url": "x",
         "repository_url": "x", "transient_environment": False, "production_environment": True}
        for i, tag in enumerate(tags)
    ]  # fmt: skip
    data = (
        json.dumps(docs, indent=2) if layout == "array" else "\n".join(map(json.dumps, docs))
    ).encode()
    records = _parse("releases", data)
    assert [r.version for r in records] == tags
    assert all(isinstance(r, ChangeRecord) and r.ts.day == i + 1 for i, r in enumerate(records))


def test_envoy_and_istio_access_lines() -> None:
    default = (
        b'[2026-09-01T10:00:00.120Z] "GET /a?b=1 HTTP/1.1" 502 UF 0 91 30000 29990 "10.0.0.9"'
        b' "curl/8.5.0" "7d3c" "api.example.com" "10.4.1.9:8080"\n'
    )
    istio = (
        b'[2026-09-01T10:00:01.500Z] "POST /v1/pay HTTP/2" 200 - via_upstream - "-" 120 45 37 36'
        b' "-" "okhttp/4.12.0" "9a1f" "pay.svc:8080" "10.4.2.2:8080"'
        b" outbound|8080||pay.svc 10.4.0.1:5100 10.4.2.2:8080 10.4.0.1:5099 - default\n"
    )
    first, second = _parse("envoy-access-log", default + istio)
    assert (first.attrs["http.status"], first.attrs["http.duration_ms"]) == (502, 30000.0)
    assert first.attrs["envoy.response_flags"] == "UF" and first.attrs["client.ip"] == "10.0.0.9"
    assert (second.attrs["http.method"], second.attrs["http.path"]) == ("POST", "/v1/pay")
    assert second.attrs["http.duration_ms"] == 37.0
    assert second.attrs["http.user_agent"] == "okhttp/4.12.0"
    assert second.ts is not None and second.ts.microsecond == 500_000


def test_gateway_json_lines_carry_time_status_duration_and_client() -> None:
    kong = {"request": {"method": "GET", "uri": "/v2/x"}, "response": {"status": 429},
            "latencies": {"request": 12, "kong": 1, "proxy": 10},
            "consumer": {"id": "c-1", "username": "p"}, "started_at": 1788937200262}  # fmt: skip
    traefik = {"DownstreamStatus": 502, "Duration": 120_000_000, "RequestMethod": "GET",
               "RequestPath": "/api/x", "StartUTC": "2026-09-01T10:00:00.1Z",
               "request_User-Agent": "curl/8"}  # fmt: skip
    k = _parse("jsonl", ((json.dumps(kong) + "\n") * 3).encode())[0]
    assert k.ts is not None and int(k.ts.timestamp() * 1000) == kong["started_at"]
    assert (k.attrs["http.status"], k.attrs["http.duration_ms"], k.attrs["client.id"]) == (
        429, 12.0, "c-1",
    )  # fmt: skip
    t = _parse("jsonl", ((json.dumps(traefik) + "\n") * 3).encode())[0]
    assert (t.attrs["http.status"], t.attrs["http.path"]) == (502, "/api/x")
    assert t.attrs["http.duration_ms"] == pytest.approx(120.0)


def test_rotated_names_with_a_time_of_day_are_one_stream() -> None:
    names = ["var/log/pay/payments.log", "var/log/pay/payments-2026-09-11T12-51-59.000.log.gz",
             "var/log/pay/payments.log.2026-09-11_12-00-00", "var/log/pay/payments.log.2.gz"]  # fmt: skip
    con = duckdb.connect()
    rows = con.execute(f"SELECT DISTINCT {STREAM_SQL} FROM (SELECT unnest(?) AS file)", [names])
    streams = {r[0] for r in rows.fetchall()}
    assert streams == {"var/log/pay/payments.log"}


def test_alb_lines_and_header_lists() -> None:
    alb = (
        b"https 2026-09-01T10:00:00.250000Z app/web/50dc 192.0.2.7:2817 - -1 -1 -1 503 - 34 366"
        b' "GET https://api.example.com:443/v1/x?y=1 HTTP/1.1" "curl/8.5.0" ECDHE-RSA TLSv1.2'
        b' arn:aws:tg "Root=1-5833" "api.example.com" "-" 0 2026-09-01T10:00:00.249000Z'
        b' "forward" "-" "-" "-" "-" "-" "-" TID_1\n'
    )
    rec = _parse("alb-access-log", alb * 3)[0]
    assert (rec.attrs["http.status"], rec.attrs["http.path"]) == (503, "/v1/x")
    # No target answered (-1 times): no duration rather than a made-up one.
    assert "http.duration_ms" not in rec.attrs and rec.attrs["client.ip"] == "192.0.2.7"
    caddy = {"level": "info", "ts": 1788937200.5, "msg": "handled request", "status": 429,
             "request": {"method": "GET", "uri": "/v1/x", "headers": {"User-Agent": ["sdk/1.2"]}}}  # fmt: skip
    line = _parse("jsonl", ((json.dumps(caddy) + "\n") * 3).encode())[0]
    assert line.attrs["http.user_agent"] == "sdk/1.2"
