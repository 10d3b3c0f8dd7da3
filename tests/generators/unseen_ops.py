"""Cases 3 and 4 of issue 5 in unseen formats: Apache ``%D`` with PostgreSQL and JVM GC logs, and API gateways.

The latency case writes an Apache access log with ``%D`` microseconds, a
PostgreSQL log as stderr (another ``log_line_prefix``), jsonlog or csvlog,
and a JVM GC log in unified or JDK 8 form; the rate-limit case a Kong
file-log or an nginx log with ``key=value`` tails. ``generators.unseen``
exports both with cases 1 and 2.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from generators.common import arrivals, day_start, pick, request_id, write_lines


def _clf(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


@dataclass(frozen=True)
class Latency:
    period_s: int
    first_spike: datetime
    spike_s: int


def latency(out: Path, seed: int, hours: int = 8, rate: float = 0.3) -> Latency:
    """Apache ``%D`` access log, a PostgreSQL log, a JVM unified GC log every 30 s."""
    rng = random.Random(seed)
    start = day_start(rng) + timedelta(hours=rng.randrange(12))
    end = start + timedelta(hours=hours)
    period = pick(rng, (600, 720, 900))
    phase = rng.randrange(period)
    spike = rng.randrange(25, 45)
    access = []
    for ts in arrivals(rng, start, end, rate, seasonal=False):
        path = rng.choices(("/shop/item", "/shop/search", "/shop/cart", "/server-status"),
                           (40, 30, 20, 10))[0]  # fmt: skip
        us = int(18000 * rng.lognormvariate(0, 0.5))
        if ((ts - start).total_seconds() - phase) % period < spike and path != "/server-status":
            us += int(3_000_000 * rng.lognormvariate(0, 0.15))
        status = 500 if rng.random() < 0.002 else 200
        access.append(
            f"192.168.{rng.randrange(4)}.{rng.randrange(256)} - - [{_clf(ts)}] "
            f'"GET {path}?q={rng.randrange(999)} HTTP/1.1" {status} {rng.randrange(500, 9000)} '
            f'"-" "Mozilla/5.0 (X11; Linux x86_64)" {us}'
        )
    write_lines(out / "httpd" / "access_log", access)
    unified = rng.random() < 0.5  # JDK 9+ unified logging, else JDK 8 -XX:+PrintGCDateStamps
    gc, t, n = [], start + timedelta(seconds=rng.randrange(30)), 0
    while t < end:
        stamp = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"
        before, after = rng.randrange(90, 200), rng.randrange(20, 60)
        gc.append(
            f"[{stamp}][info][gc] GC({n}) Pause Young (Normal) (G1 Evacuation Pause) "
            f"{before}M->{after}M(512M) {rng.uniform(2, 30):.3f}ms"
            if unified
            else f"{stamp}: {(t - start).total_seconds() + 4.2:.3f}: [GC pause (G1 Evacuation"
            f" Pause) (young) {before}M->{after}M(512M), {rng.uniform(0.002, 0.03):.7f} secs]"
        )
        t += timedelta(seconds=30, milliseconds=rng.randrange(-50, 50))
        n += 1
    write_lines(out / "jvm" / "gc.log", gc)
    rows = _pg(rng, start, end, period, phase, spike)
    style = rng.randrange(3)
    if style == 0:
        write_lines(out / "pg" / "postgresql-Fri.log", _pg_stderr(rng, rows))
    elif style == 1:
        write_lines(out / "pg" / "postgresql-Fri.json", _pg_json(rng, rows))
    else:
        write_lines(out / "pg" / "postgresql-Fri.csv", _pg_csv(rng, rows))
    return Latency(period, start + timedelta(seconds=phase), spike)


def _pg(rng: random.Random, start: datetime, end: datetime, period: int, phase: int,
        spike: int) -> list[tuple[datetime, str]]:  # fmt: skip
    """Checkpoints on the period, an autovacuum at the opposite phase, statements at random."""
    rows: list[tuple[datetime, str]] = []
    t = start + timedelta(seconds=phase - 1)
    while t < end:
        rows.append((t, "LOG:  checkpoint starting: time"))
        rows.append(
            (
                t + timedelta(seconds=spike),
                f"LOG:  checkpoint complete: wrote "
                f"{rng.randrange(9000, 60000)} buffers (9.1%); 0 WAL file(s) added, 0 removed,"
                f" 2 recycled; write={spike - 3}.1 s, sync=0.9 s, total={spike}.0 s",
            )
        )
        vac = t + timedelta(seconds=period // 2 + rng.randrange(5))
        rows.append((vac, 'LOG:  automatic analyze of table "shop.public.cart_items"'))
        t += timedelta(seconds=period)
    t = start
    while t < end:
        t += timedelta(seconds=rng.expovariate(1 / 25))
        rows.append((t, f"LOG:  duration: {rng.lognormvariate(1.5, 1):.3f} ms  execute <unnamed>:"
                     " SELECT * FROM items WHERE sku = $1"))  # fmt: skip
    rows.sort(key=lambda r: r[0])
    return rows


def _pg_stderr(rng: random.Random, rows: list[tuple[datetime, str]]) -> list[str]:
    """``log_line_prefix = '%t [%p]: [%l-1] user=%u,db=%d '``."""
    out = []
    for i, (ts, text) in enumerate(rows):
        user = "user=shop,db=shop " if "duration" in text else "user=,db= "
        out.append(f"{ts.strftime('%Y-%m-%d %H:%M:%S')} UTC [{rng.choice((811, 812, 2093))}]: "
                   f"[{i + 1}-1] {user}{text}")  # fmt: skip
    return out


def _pg_csv(rng: random.Random, rows: list[tuple[datetime, str]]) -> list[str]:
    """``log_destination = csvlog`` (PostgreSQL 14+: 26 columns)."""
    out = []
    for i, (ts, text) in enumerate(rows):
        severity, message = text.split(":  ", 1)
        stamp = ts.strftime("%Y-%m-%d %H:%M:%S.") + f"{ts.microsecond // 1000:03d} UTC"
        client = "duration" in text
        who = '"shop","shop"' if client else ","
        cells = (
            f"{stamp},{who},{rng.choice((811, 812, 2093))},{'10.0.3.7:51000' if client else ''},"
            f"66d3a1f0.32b,{i + 1},{'SELECT' if client else ''},2026-01-01 00:00:00 UTC,,0,"
            f'{severity},00000,"{message.replace(chr(34), chr(34) * 2)}",,,,,,,,,'
            f'"{"api" if client else ""}","{"client backend" if client else "checkpointer"}",,0'
        )
        out.append(cells)
    return out


def _pg_json(rng: random.Random, rows: list[tuple[datetime, str]]) -> list[str]:
    """``log_destination = jsonlog`` (PostgreSQL 15+)."""
    out = []
    for i, (ts, text) in enumerate(rows):
        severity, message = text.split(":  ", 1)
        stamp = ts.strftime("%Y-%m-%d %H:%M:%S.") + f"{ts.microsecond // 1000:03d} UTC"
        doc: dict[str, Any] = {"timestamp": stamp, "pid": rng.choice((811, 812, 2093)),
                               "session_id": "66d3a1f0.32b", "line_num": i + 1,
                               "error_severity": severity, "message": message,
                               "backend_type": "checkpointer" if "checkpoint" in text
                               else "client backend", "query_id": 0}  # fmt: skip
        if "duration" in text:
            doc |= {"user": "shop", "dbname": "shop", "application_name": "api"}
        out.append(json.dumps(doc, separators=(",", ":")))
    return out


@dataclass(frozen=True)
class RateLimit:
    client: str  # the id that names the misbehaving client
    agent: str


def ratelimit(out: Path, seed: int, hours: int = 2) -> RateLimit:
    """A Kong file-log (consumer ids, epoch-ms ``started_at``) or nginx with a ``key=value`` tail."""
    rng = random.Random(seed)
    start = day_start(rng) + timedelta(hours=rng.randrange(6, 14))
    end = start + timedelta(hours=hours)
    # Several clients share one HTTP library's user agent: only the consumer id tells them apart.
    clients = [(request_id(rng), pick(rng, ("python-requests/2.31.0", "okhttp/4.12.0")))
               for _ in range(8)]  # fmt: skip
    bad = pick(rng, clients)
    rows: list[tuple[datetime, str, str, int, int | None]] = []  # ts, consumer, agent, status, wait
    for cid, agent in clients:
        t, blocked = start, start
        while t < end:
            t += timedelta(seconds=rng.expovariate(0.15))
            if t < blocked or rng.random() < 0.01:
                wait = rng.randrange(2, 20)
                rows.append((t, cid, agent, 429, wait))
                blocked = t + timedelta(seconds=wait)
                t = blocked + timedelta(seconds=rng.random())  # waits as told
            rows.append((t, cid, agent, 503 if rng.random() < 0.002 else 200, None))
        if (cid, agent) == bad:
            t = start + timedelta(minutes=rng.randrange(3, 15))
            while t < end:
                s, until = t, t + timedelta(seconds=rng.randrange(20, 60))
                while s < until:
                    rows.append((s, cid, agent, 429, rng.randrange(5, 30)))
                    s += timedelta(milliseconds=rng.randrange(40, 200))
                t += timedelta(minutes=rng.randrange(12, 25))
    rows.sort(key=lambda r: r[0])
    if rng.random() < 0.5:
        write_lines(out / "kong" / "file-log.json", (_kong(rng, *r) for r in rows))
    else:
        write_lines(out / "nginx" / "api_access.log", (_nginx(rng, *r) for r in rows))
    return RateLimit(bad[0], bad[1])


def _kong(rng: random.Random, ts: datetime, cid: str, agent: str, status: int,
          wait: int | None) -> str:  # fmt: skip
    path = pick(rng, ("/v2/orders", "/v2/orders", "/v2/customers"))
    headers: dict[str, Any] = {"content-type": "application/json", "x-ratelimit-limit-second": "10"}
    if wait is not None:
        headers |= {"retry-after": str(wait), "x-ratelimit-remaining-second": "0"}
    lat = rng.randrange(1, 40)
    return json.dumps({
        "request": {"method": "POST" if path == "/v2/orders" else "GET", "uri": path,
                    "url": f"https://api.example.com:443{path}", "size": rng.randrange(200, 900),
                    "headers": {"host": "api.example.com", "user-agent": agent}},
        "response": {"status": status, "size": rng.randrange(100, 2000), "headers": headers},
        "latencies": {"request": lat + 2, "kong": 2, "proxy": lat},
        "client_ip": f"203.0.113.{rng.randrange(256)}",
        "consumer": {"id": cid, "username": f"partner-{cid[:4]}"},
        "route": {"id": "9f3e1c7a-0c5e-4c1a-9d3e-2f1b7d9c6a11", "paths": ["/v2"]},
        "service": {"name": "orders-api", "port": 8080},
        "started_at": int(ts.timestamp() * 1000),
    }, separators=(",", ":"))  # fmt: skip


def _nginx(rng: random.Random, ts: datetime, cid: str, agent: str, status: int,
           wait: int | None) -> str:  # fmt: skip
    path = pick(rng, ("/v2/orders", "/v2/orders", "/v2/customers"))
    method = "POST" if path == "/v2/orders" else "GET"
    return (
        f'203.0.113.{rng.randrange(256)} - - [{_clf(ts)}] "{method} {path} HTTP/1.1" {status} '
        f'{rng.randrange(100, 2000)} "-" "{agent}" rt={rng.uniform(0.001, 0.05):.3f} '
        f"key_id={cid} retry_after={wait if wait is not None else '-'}"
    )
