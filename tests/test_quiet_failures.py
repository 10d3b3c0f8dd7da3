"""Failures logged below warning level are found; failures logged loudly, negations and files
without levels are not."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.findings import Finding
from casework.pipeline import investigate

T0 = datetime(2026, 9, 14, 6, 0, tzinfo=UTC)


def _quiet(tmp_path: Path, files: dict[str, str]) -> list[Finding]:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name, text in files.items():
        (bundle / name).write_text(text)
    found = investigate(bundle, tmp_path / "case").findings
    return [f for f in found if f.key == "QUIET_FAILURE"]


def service_log(rng: random.Random) -> tuple[str, int]:
    """A payments worker: captures cancelled at info among ordinary records, a failure it logs
    as an error, one it logs as info and warning both, and a summary that says none failed."""
    ts, lines, quiet = T0, [], 0
    for _ in range(4000):
        ts += timedelta(milliseconds=rng.randint(50, 900))
        pick = rng.random()
        level, msg = (
            "info",
            f"captured payment {rng.randint(10**6, 10**7)} in {rng.randint(20, 400)} ms",
        )
        if pick < 0.08:
            msg = f"capture of payment {rng.randint(10**6, 10**7)} cancelled: deadline exceeded"
            quiet += 1
        elif pick < 0.10:
            level, msg = "error", f"db connection to shard {rng.randint(1, 9)} failed"
        elif pick < 0.12:
            level = rng.choice(["info", "warn"])
            msg = f"webhook delivery to merchant {rng.randint(100, 999)} failed, will retry"
        elif pick < 0.20:
            msg = f"batch {rng.randint(1, 99999)} settled: no failures"
        elif pick < 0.30:
            level, msg = "debug", f"cache miss for merchant {rng.randint(100, 999)}"
        lines.append(json.dumps({"time": ts.isoformat(), "severity": level, "message": msg,
                                 "worker": f"w-{rng.randint(1, 4)}"}))  # fmt: skip
    return "\n".join(lines) + "\n", quiet


def test_failures_logged_at_info_are_found_and_counted(tmp_path: Path) -> None:
    log, quiet = service_log(random.Random(6))
    found = _quiet(tmp_path, {"payments-worker.jsonl": log})
    assert len(found) == 1
    f = found[0]
    assert "cancelled: deadline exceeded" in f.title and f.stats["records"] == quiet
    assert f.entities["levels"] == "INFO"
    assert f.evidence and all("cancelled" in (e.excerpt or "") for e in f.evidence)


def test_a_log_without_levels_says_nothing_of_quiet_failures(tmp_path: Path) -> None:
    rng = random.Random(2)
    lines = []
    for i in range(3000):
        ts = T0 + timedelta(seconds=7 * i)
        host = f"203.0.113.{rng.randint(1, 250)}"
        text = (
            f"Failed password for invalid user admin from {host} port {rng.randint(1024, 65000)} ssh2"
            if rng.random() < 0.3
            else f"Accepted publickey for deploy from {host} port {rng.randint(1024, 65000)} ssh2"
        )
        lines.append(f"{ts:%b %d %H:%M:%S} bastion sshd[{rng.randint(100, 9999)}]: {text}")
    assert not _quiet(tmp_path, {"auth.log": "\n".join(lines) + "\n"})


def test_a_rare_quiet_failure_is_not_reported(tmp_path: Path) -> None:
    """40 failures in 5,000 records: enough records, too small a share (0.8%)."""
    records = (
        {"time": (T0 + timedelta(seconds=i)).isoformat(), "level": "info",
         "msg": "export 7 failed" if i % 125 == 0 else f"exported row {i}"}
        for i in range(5000)
    )  # fmt: skip
    assert not _quiet(tmp_path, {"export.jsonl": "".join(json.dumps(r) + "\n" for r in records)})


def test_the_values_in_a_logged_statement_say_nothing_of_failure(tmp_path: Path) -> None:
    """A PostgreSQL log of slow statements whose SQL filters out cancelled orders, and clients
    that drop their connections (logged at LOG, a quiet failure). Only the second is one."""
    rng = random.Random(3)
    lines, dropped = [], 0
    for i in range(3000):
        ts = T0 + timedelta(seconds=2 * i, milliseconds=rng.randint(0, 999))
        stamp = (
            f"{ts:%Y-%m-%d %H:%M:%S}.{ts.microsecond // 1000:03d} UTC [{rng.randint(1000, 9999)}]"
        )
        if rng.random() < 0.1:
            dropped += 1
            lines.append(
                f"{stamp} LOG:  could not receive data from client: Connection reset by peer"
            )
            continue
        lines.append(
            f"{stamp} LOG:  duration: {rng.uniform(500, 9000):.3f} ms  statement: SELECT count(*)"
            f" FROM orders o WHERE o.customer_ref = 'CR-{rng.randint(1, 9999):06d}'"
            " AND o.status <> 'cancelled'"
        )
    found = _quiet(tmp_path, {"postgresql-2026-09-14.log": "\n".join(lines) + "\n"})
    assert [f.stats["records"] for f in found] == [dropped]
    assert "could not receive data" in found[0].title
