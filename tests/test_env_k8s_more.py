"""More Kubernetes findings (schedules, image pulls, scheduling, probes), version fingerprints, and traces end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tracegen
from casework.pipeline import investigate
from k8scases import _event

T0 = datetime(2026, 7, 1, 2, tzinfo=UTC)


def _write(root: Path, name: str, items: list[dict[str, object]]) -> None:
    (root / "k8s").mkdir(parents=True, exist_ok=True)
    (root / "k8s" / name).write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    )


def test_restarts_on_a_schedule_name_the_cronjob(tmp_path: Path) -> None:
    pod = "reports-6c9d7f5b8-q2wzt"
    events = [_event("Pod", pod, "Started", "Started container reports", T0, container="reports")]
    for i in range(1, 6):
        run = T0 + timedelta(hours=i)
        events.append(
            _event(
                "CronJob",
                "cache-flush",
                "SuccessfulCreate",
                f"Created job cache-flush-{i}",
                run - timedelta(minutes=2),
            )
        )
        events.append(
            _event(
                "Pod",
                pod,
                "Started",
                "Started container reports",
                run + timedelta(seconds=i * 7),
                container="reports",
            )
        )
    events.append(
        _event(
            "CronJob",
            "nightly-report",
            "SuccessfulCreate",
            "Created job nightly-report-1",
            T0 + timedelta(hours=3, minutes=30),
        )
    )
    _write(tmp_path / "b", "events.json", events)
    top = investigate(tmp_path / "b", tmp_path / "case").findings[0]
    assert top.key == "K8S_PERIODIC_RESTARTS", top.title
    assert top.stats["restarts"] == 5 and abs(float(str(top.stats["interval_s"])) - 3600) < 60
    assert top.stats["job"] == "CronJob/cache-flush"


def test_irregular_restarts_are_not_called_a_schedule(tmp_path: Path) -> None:
    pod = "api-6c9d7f5b8-q2wzt"
    events = [_event("Pod", pod, "Started", "Started container api", T0, container="api")]
    for minutes in (13, 95, 101, 260, 262):
        events.append(
            _event(
                "Pod",
                pod,
                "Started",
                "Started container api",
                T0 + timedelta(minutes=minutes),
                container="api",
            )
        )
    _write(tmp_path / "b", "events.json", events)
    keys = {f.key for f in investigate(tmp_path / "b", tmp_path / "case").findings}
    assert "K8S_PERIODIC_RESTARTS" not in keys


def test_image_pull_scheduling_and_probe_warnings(tmp_path: Path) -> None:
    events = [
        _event("Pod", "web-1", "Failed", "Failed to pull image", T0, type_="Warning"),
        _event(
            "Pod",
            "web-1",
            "ErrImagePull",
            'rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/web:4.0.1": not found',
            T0,
            count=4,
            type_="Warning",
        ),
        _event(
            "Pod",
            "batch-7",
            "FailedScheduling",
            "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available",
            T0,
            count=12,
            type_="Warning",
        ),
    ]
    events += [_event("Pod", "api-2", "Unhealthy", "Liveness probe failed: Get \"http://10.0.1.4:8080/healthz\": context deadline exceeded",
                      T0 + timedelta(seconds=30 * i), container="api", type_="Warning") for i in range(6)]  # fmt: skip
    _write(tmp_path / "b", "events.json", events)
    found = {f.key: f for f in investigate(tmp_path / "b", tmp_path / "case").findings}
    assert "not found" in found["K8S_IMAGE_PULL"].title
    assert "Insufficient memory" in found["K8S_FAILED_SCHEDULING"].title
    assert found["K8S_FAILED_SCHEDULING"].stats["count"] == 12
    probe = found["K8S_PROBE_FAILED"]
    assert probe.stats["probe"] == "liveness" and probe.stats["interval_s"] == 30.0


def test_versions_differ_between_environments(tmp_path: Path) -> None:
    root = tmp_path / "b"
    for env, sdk, py in (("dev", "2.4.0", "3.12.1"), ("prod", "2.3.1", "3.11.4")):
        (root / env).mkdir(parents=True)
        lines = [json.dumps({"ts": (T0 + timedelta(seconds=i)).isoformat(), "level": "info", "msg": "call",
                             "status": 200, "path": "/v1/charges", "method": "POST",
                             "user_agent": f"acme-sdk-python/{sdk} CPython/{py} Linux/6.1"}) for i in range(20)]  # fmt: skip
        (root / env / "sdk.jsonl").write_text("\n".join(lines) + "\n")
        (root / env / "values.yaml").write_text(
            f"image:\n  repository: registry.example.com/acme/api\nworker:\n  image: registry.example.com/acme/worker:1.{4 if env == 'dev' else 3}.0\n"
        )
    found = {
        f.subject: f
        for f in investigate(root, tmp_path / "case").findings
        if f.key == "VERSION_DIFF"
    }
    assert found["acme-sdk-python"].entities["version_prod"] == "2.3.1"
    assert found["acme-sdk-python"].entities["version_dev"] == "2.4.0"
    assert found["cpython"].entities["version_prod"] == "3.11.4"
    assert found["worker"].entities["version_dev"] == "1.4.0"
    assert "linux" not in found  # same in both environments: not a difference


def test_traces_end_to_end_through_investigate(tmp_path: Path) -> None:
    m = tracegen.TraceMaker(seed=3)
    tracegen.checkout(m, n=30)
    (tmp_path / "b").mkdir()
    m.write_lines(tmp_path / "b" / "otel-traces.jsonl")
    result = investigate(tmp_path / "b", tmp_path / "case")
    entry = next(e for e in result.inventory if e.path == "otel-traces.jsonl")
    assert entry.kind == "otlp-json" and entry.status == "parsed" and entry.records > 0
    origin = next(f for f in result.findings if f.analyzer == "trace_error_origin")
    assert "inventory" in origin.title and "redis" in origin.title.lower()


def test_a_setting_the_failing_records_name_is_the_difference_promoted(tmp_path: Path) -> None:
    """A consumer's release raised max-poll-records tenfold; its Kafka client warns that polls
    take longer than max.poll.interval.ms and names max.poll.records as the fix. The release
    also logs the Hikari pool at INFO (a logger whose name every pool warning carries) and
    doubles a cache's TTL. The setting the warnings name is promoted; the logger is not."""
    bundle = tmp_path / "bundle"
    before, after = bundle / "config" / "before-4.7.3", bundle / "config" / "after-4.8.0"
    before.mkdir(parents=True)
    after.mkdir(parents=True)
    common = "spring:\n  kafka:\n    consumer:\n      group-id: ledger\n"
    (before / "application.yml").write_text(
        common + "      max-poll-records: 200\nledger:\n  cache-ttl: 5s\n"
    )
    (after / "application.yml").write_text(
        common + "      max-poll-records: 2000\nledger:\n  cache-ttl: 10s\nlogging:\n  level:\n"
        "    com.zaxxer.hikari.pool.HikariPool: INFO\n"
    )
    poll = (
        "[Consumer clientId=consumer-ledger-1, groupId=ledger] consumer poll timeout has expired."
        " This means the time between subsequent calls to poll() was longer than the configured"
        " max.poll.interval.ms, which typically implies that the poll loop is spending too much"
        " time processing messages. You can address this either by increasing"
        " max.poll.interval.ms or by reducing the maximum size of batches returned in poll()"
        " with max.poll.records."
    )
    hikari = "HikariPool-1 - Failed to validate connection org.postgresql.jdbc.PgConnection@5e1a (This connection has been closed.)."  # fmt: skip
    start = datetime(2025, 6, 12, 13, 0, tzinfo=UTC)
    lines = []
    for i in range(3000):
        t = start + timedelta(seconds=2 * i)
        stamp = f"{t:%Y-%m-%d %H:%M:%S}.{i % 1000:03d}"
        if i % 400 == 399:
            lines.append(f"{stamp}  WARN 1 --- [ntainer#0-0-C-1] o.a.k.c.c.internals.ConsumerCoordinator  : {poll}")  # fmt: skip
        elif i % 300 == 7:
            lines.append(f"{stamp}  WARN 1 --- [onnection adder] com.zaxxer.hikari.pool.PoolBase        : {hikari}")  # fmt: skip
        else:
            lines.append(f"{stamp}  INFO 1 --- [ntainer#0-0-C-1] c.p.ledger.SettlementListener        : Settled payment pay_{i:06d} in 3 ms")  # fmt: skip
    (bundle / "ledger-consumer.log").write_text("\n".join(lines) + "\n")
    found = [
        f for f in investigate(bundle, tmp_path / "out").findings if f.key == "ENV_CONFIG_DIFF"
    ]
    by_key = {f.entities["key"]: f for f in found}
    polls = by_key["spring.kafka.consumer.max-poll-records"]
    assert polls.severity == "high" and polls.stats["promoted"] is True
    warned = sum(1 for line in lines if "max.poll.records" in line)
    assert (
        f"{warned} warning or error record(s)" in polls.title and "max.poll.records" in polls.title
    )
    assert all(
        f.stats["promoted"] is False for k, f in by_key.items() if k != polls.entities["key"]
    )
