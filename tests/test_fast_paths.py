"""The scan's fast paths (access logs, text logs) store exactly what the record path stores, secrets redacted."""

from __future__ import annotations

import dataclasses
import gzip
import io
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from casework.formats import access, textlog
from casework.formats.base import Format, ParseContext
from casework.model import LogLines, LogRecord
from casework.redact import RedactionPolicy
from casework.scan import worker
from casework.scan.task import ScanTask
from formats_support import fixture

SECRETS = ["ghp_9aK2mZ4qP7rT1vX8bN3cD6fH0jL5sW2yE4uQ", "hunter2hunter2", "s3cr3t-Pa55w0rd!"]
ROUTES = ["/v1/orders", "/v1/refunds/881", "/api/export", "/healthz", "/", ""]
AGENTS = ['"curl/8.5.0"', '"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"', '"-"', '""',
          '"sdk \\"quoted\\" 1.0"']  # fmt: skip


def _line(rng: random.Random, i: int) -> str:
    """One line of a messy real-world access log: mostly nginx combined, with every variant."""
    ip = rng.choice(["10.0.3.7", "2001:db8::7", "203.0.113.9", "-"])
    user = rng.choice(["-"] * 12 + ["alice", "svc-batch"])
    when = f"{rng.randint(1, 28):02d}/Mar/2026:{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 60):02d} {rng.choice(['+0000', '+0530', '-0800'])}"
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "get", "PROPFIND"])
    path = rng.choice(ROUTES)
    query = rng.choice(["", "", "?page=2", "?q=caf%C3%A9", f"?token={rng.choice(SECRETS)}",
                        f"?password={rng.choice(SECRETS)}", "?email=jane.doe@example.com", "?a=1&b="])  # fmt: skip
    target = rng.choice([path + query] * 9 + [f"https://shop.example.com{path}{query}", "*"])
    request = rng.choice(
        [f"{method} {target} HTTP/1.1"] * 12 + [f"{method} {target}", "-", "\\x16\\x03\\x01"]
    )
    status = rng.choice(["200"] * 10 + ["404", "500", "502", "304", "-", "000", "999"])
    size = rng.choice([str(rng.randint(0, 90000)), "-", "0"])
    combined = f' "{rng.choice(["-", "https://app.example.com/p?x=1", f"https://app.example.com/cb?code={SECRETS[0]}"])}" {rng.choice(AGENTS)}'
    tail = rng.choice(["", f" {rng.randint(1, 900) / 1000:.3f}", f" {rng.randint(1, 900) / 1000:.3f} {rng.randint(1, 900) / 1000:.3f}",
                       f" {rng.randint(100, 999999)}", " 0.004, 0.120", ' rt=0.120 urt="0.118"', " 0.5 ", " 1e-05", ' "198.51.100.4"'])  # fmt: skip
    line = f'{ip} - {user} [{when}] "{request}" {status} {size}{rng.choice([combined] * 4 + [""])}{tail}'
    return rng.choice(
        [line] * 40
        + [
            "",
            "garbage that is not an access log line",
            line.replace(" ", "\t", 1),
            line + "\u00e9",
        ]
    )


@pytest.fixture(scope="module")
def access_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(11)
    path = tmp_path_factory.mktemp("access") / "access.log"
    body = "\n".join(_line(rng, i) for i in range(6000))
    path.write_bytes(
        body.encode() + b"\n" + fixture("nginx_access.log") + fixture("apache_access.log")
    )
    return path


def _scan(
    path: Path, out: Path, kind: str = "access-log"
) -> tuple[worker.ScanResult, dict[str, list[dict[str, object]]]]:
    task = ScanTask(
        index=0, file=path.name, name=path.name, disk=str(path), size=path.stat().st_size,
        kind=kind, part=0, parts=1, start=0, end=None, key=b"k" * 32,
        policy=RedactionPolicy(), tz="UTC", tz_given=False, year=None, out=str(out),
    )  # fmt: skip
    result = worker.scan(task)
    tables = {p.stem: pq.read_table(p).to_pylist() for p in sorted(out.glob("*.parquet"))}
    # Cluster ids are the worker's own; the merge stores each row's template by its text.
    texts = {f"c{cid}": text for cid, text in result.templates}
    for row in tables.get("events", []):
        row["template_id"] = texts[str(row["template_id"])]
    return result, tables


def _both_paths(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: Format
) -> tuple[worker.ScanResult, dict[str, list[dict[str, object]]], worker.ScanResult,
           dict[str, list[dict[str, object]]]]:  # fmt: skip
    assert fmt.scan is not None
    fast, fast_rows = _scan(log, tmp_path / "fast", fmt.kind)
    monkeypatch.setitem(worker._BY_KIND, fmt.kind, dataclasses.replace(fmt, scan=None))
    slow, slow_rows = _scan(log, tmp_path / "slow", fmt.kind)
    return fast, fast_rows, slow, slow_rows


def _same(
    fast: worker.ScanResult,
    fast_rows: dict[str, list[dict[str, object]]],
    slow: worker.ScanResult,
    slow_rows: dict[str, list[dict[str, object]]],
) -> None:
    assert fast_rows.keys() == slow_rows.keys() and "events" in fast_rows
    # The rows, in file order (the aggregates are computed from them).
    for table in {"events", "requests", "changes"} & set(slow_rows):
        assert fast_rows[table] == slow_rows[table], table
    for field in ("records", "first_ts", "last_ts", "assumed", "bad_records", "first_problem",
                  "templates", "redactions", "notes", "stopped"):  # fmt: skip
        assert getattr(fast, field) == getattr(slow, field), field


def test_a_truncated_gzip_keeps_what_was_read_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        f'10.0.0.{i % 250} - - [01/Mar/2026:12:{i // 60 % 60:02d}:{i % 60:02d} +0000] '
        f'"GET /a/{i} HTTP/1.1" 200 {i} "-" "curl/8.5.0" 0.{i % 1000:03d}'
        for i in range(3000)
    ]  # fmt: skip
    packed = gzip.compress("\n".join(lines).encode())
    log = tmp_path / "access.log.gz"
    log.write_bytes(packed[: len(packed) * 2 // 3])
    fast, fast_rows, slow, slow_rows = _both_paths(log, tmp_path, monkeypatch, access.FORMAT)
    assert fast.stopped and "truncated" in fast.stopped
    assert 1000 < fast.records < 3000 and fast.records == len(fast_rows["events"])
    _same(fast, fast_rows, slow, slow_rows)


def test_most_lines_of_a_default_nginx_log_take_the_fast_path() -> None:
    rng = random.Random(3)
    lines = [
        f'10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)} - - [01/Mar/2026:10:{i // 60 % 60:02d}:'
        f'{i % 60:02d} +0000] "GET {rng.choice(ROUTES)}?page={i % 9} HTTP/1.1" '
        f'{rng.choice(["200", "404", "502"])} {rng.randint(100, 9000)} "-" "{rng.choice(AGENTS[:3])[1:-1]}"'
        f" {rng.randint(1, 900) / 1000:.3f}"
        for i in range(2000)
    ]  # fmt: skip
    lines[100] = lines[100].replace("- -", "- alice", 1)  # a user: its name could be a secret's
    data = "\n".join(lines).encode()
    batches = list(access.scan(io.BytesIO(data), ParseContext("access.log")))
    items = [item for batch in batches if isinstance(batch, LogLines) for item in batch.items]
    fast = sum(1 for item in items if isinstance(item, tuple))
    assert len(items) == 2000
    assert fast >= 0.95 * len(items), fast
    assert isinstance(items[100], LogRecord)


LOGGERS = ["c.e.billing.LedgerService", "o.s.web.servlet.DispatcherServlet", "refunds.api",
           "com.example.Auth$Inner", "app"]  # fmt: skip
THREADS = ["main", "pool-4-thread-25", "http-nio-8080-exec-3", " worker 7 ", 'q"uote', "tr\\ail",
           "caf\u00e9-1", ""]  # fmt: skip
MESSAGES = [
    "posted entry {hex} amount={n}.25 currency=EUR",
    "login ok for user jane.doe@example.com",
    "calling upstream with Authorization: Bearer {secret}",
    "db password={secret} rejected",
    "Starting billing version 2.{n}.0",
    '10.0.0.7 "GET /v1/orders/{n} HTTP/1.1" status: 200 len: 812 time: 0.0{n}',
    "stdout F container said hi",
    "tab\tseparated\tfields",
    "r\u00e9sum\u00e9 {n} upload",
    "plain message {n}",
]


def _text_line(rng: random.Random, i: int, second: int) -> list[str]:
    """A record of a messy Java/Python text log: common headers, odd ones, traces, noise."""
    stamp = f"2026-03-01 10:{second // 60 % 60:02d}:{second % 60:02d}"
    stamp += rng.choice([f",{i % 1000:03d}", f".{i % 1000:03d}", "", f",{i % 1000:03d}Z"] * 3
                        + [f",{i % 1000:03d} +0200", "T"])  # fmt: skip
    level = rng.choice(["INFO"] * 8 + ["WARN", "ERROR", "DEBUG", "warning", "SEVERE", "NOTALEVEL"])
    logger = rng.choice(LOGGERS)
    thread = rng.choice([*THREADS, f"req-{SECRETS[0]}"])  # a token the catalogue knows
    message = rng.choice(MESSAGES).format(
        hex=f"{rng.getrandbits(40):x}", n=rng.randint(1, 999), secret=rng.choice(SECRETS)
    )
    header = rng.choice([
        f"{stamp} {level:5} [{thread}] {logger} - {message}",
        f"{stamp} {level} {rng.randint(1, 99999)} --- [{thread}] {logger} : {message}",
        f"{stamp} - {logger} - {level} - {message}",
        f"{stamp} [{thread}] {level} {logger}: {message}",
        f"[{stamp}] {level} {logger} - {message}",
        f"{stamp} {level}\t{logger}\t{message}",
        f"{stamp} {message}",
        f"{stamp} {level} {logger} - {message}",
        f"{stamp} {rng.randint(1, 99999)} {level} {logger}: {message}",
    ] * 3 + [f"2026-13-45 10:00:00,000 {level} [{thread}] {logger} - {message}",
             f"{level}:{logger}:{message}", f"{message}", ""])  # fmt: skip
    lines = [header]
    if level == "ERROR" and rng.random() < 0.7:
        lines += [
            rng.choice(["java.lang.IllegalStateException: ledger partition missing",
                        f"Caused by: java.io.IOException: token={rng.choice(SECRETS)}"]),
            "\tat c.e.billing.LedgerService.post(LedgerService.java:88)",
            "\tat c.e.billing.Worker.run(Worker.java:41)",
        ]  # fmt: skip
    if rng.random() < 0.01:
        lines.append("Traceback (most recent call last):")
        lines.append('  File "/srv/app.py", line 9, in <module>')
    return lines


@pytest.fixture(scope="module")
def text_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(5)
    path = tmp_path_factory.mktemp("text") / "service.log"
    lines = [line for i in range(6000) for line in _text_line(rng, i, i // 3)]
    lines[3000:3000] = ["Mar  1 10:20:00 host app[7]: another app's lines from here"] * 3
    body = "\n".join(lines).encode() + b"\n"
    for name in ("logback_stack.log", "log4j.log", "python_app.log", "logback_default.log"):
        body += fixture(name)
    path.write_bytes(body)
    return path


@pytest.mark.parametrize(
    ("log", "fmt"), [("access_log", access.FORMAT), ("text_log", textlog.JAVA)]
)
def test_fast_path_stores_what_the_record_path_stores(
    log: str, fmt: Format, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    fast, fast_rows, slow, slow_rows = _both_paths(
        request.getfixturevalue(log), tmp_path, monkeypatch, fmt
    )
    _same(fast, fast_rows, slow, slow_rows)
    assert len(fast_rows["events"]) > 5000
    # Both logs hold requests (the text log quotes some); only the text log's times lack a zone.
    assert "requests" in fast_rows
    assert fast.assumed == (fmt is textlog.JAVA)
    stored = repr(fast_rows)
    assert not any(secret in stored for secret in SECRETS)
    assert "jane.doe@example.com" not in stored


def test_a_truncated_text_gzip_keeps_what_was_read_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(8)
    lines = [line for i in range(4000) for line in _text_line(rng, i, i)]
    packed = gzip.compress("\n".join(lines).encode())
    log = tmp_path / "service.log.gz"
    log.write_bytes(packed[: len(packed) // 2])
    fast, fast_rows, slow, slow_rows = _both_paths(log, tmp_path, monkeypatch, textlog.JAVA)
    assert fast.stopped and "truncated" in fast.stopped
    assert 1000 < fast.records < 4000 and fast.records == len(fast_rows["events"])
    _same(fast, fast_rows, slow, slow_rows)


def test_most_records_of_a_logback_log_take_the_fast_path() -> None:
    rng = random.Random(4)
    lines = []
    for i in range(2000):
        level = rng.choice(["INFO"] * 6 + ["WARN", "ERROR"])
        lines.append(f"2026-03-01 10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d} {level:5} "
                     f"[{rng.choice(THREADS[:3])}] {rng.choice(LOGGERS[:3])} - posted {i}")  # fmt: skip
        if level == "ERROR":
            lines += ["java.lang.IllegalStateException: boom", "\tat a.B.c(B.java:1)"]
    data = "\n".join(lines).encode()
    batches = list(textlog.scan(io.BytesIO(data), ParseContext("app.log")))
    items = [item for batch in batches if isinstance(batch, LogLines) for item in batch.items]
    records = [item for item in items if isinstance(item, LogRecord)]
    assert len(items) == 2000
    # Only records with a stack trace (and the first line, which teaches the clock) are records.
    assert all(r.end_line is not None and r.end_line > r.line for r in records[1:])
    assert len(records) <= 1 + sum(1 for line in lines if line.startswith("java.lang"))
