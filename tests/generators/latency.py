"""Case 3: a 3-second latency spike every 12 minutes, aligned with the database's checkpoints.

Eight hours of API traffic. Every ``period`` seconds, at a fixed phase, the
database runs a checkpoint (logged in its PostgreSQL server log) and requests
in the next ~40 s take about 3 s more. Red herrings: the JVM logs a GC pause
every 30 s (periodic, but it divides the period and has no phase), a metrics
flush runs on the same 12-minute period at the opposite phase, a cache
refresh every 5 minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from generators.common import (
    HTTP_NAMES,
    JsonWriter,
    Rec,
    arrivals,
    day_start,
    nginx_line,
    pick,
    request_id,
    write_lines,
)


@dataclass(frozen=True)
class Truth:
    period_s: int
    first_spike: datetime
    spike_s: int


def generate(out: Path, seed: int, rate: float = 0.3, hours: int = 8) -> Truth:
    rng = random.Random(seed)
    start = day_start(rng) + timedelta(hours=rng.randrange(0, 12))
    end = start + timedelta(hours=hours)
    period = 720
    phase = rng.randrange(0, period)
    spike = rng.randrange(30, 50)
    names = pick(rng, HTTP_NAMES)
    routes = [
        ("GET", "/api/search"),
        ("GET", "/api/items"),
        ("POST", "/api/orders"),
        ("GET", "/healthz"),
    ]
    recs: list[Rec] = []
    access: list[tuple[datetime, str]] = []
    for ts in arrivals(rng, start, end, rate, seasonal=False):
        method, path = rng.choices(routes, (40, 30, 15, 15))[0]
        dur = 25.0 * rng.lognormvariate(0, 0.5)
        offset = (ts - start).total_seconds() - phase
        if offset % period < spike and path != "/healthz":
            dur += 3000.0 * rng.lognormvariate(0, 0.15)
        status = 200 if rng.random() > 0.002 else 500
        fields = {
            names["method"]: method,
            names["path"]: path,
            names["status"]: status,
            names["duration"]: round(dur, 1),
            "request_id": request_id(rng),
            "user_id": f"u{rng.randrange(50000)}",
        }
        recs.append(Rec(ts, "info", "request finished", fields))
        access.append(
            (
                ts,
                nginx_line(
                    ts,
                    f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
                    method,
                    path,
                    status,
                    rng.randrange(300, 9000),
                    "okhttp/4.12.0",
                    dur / 1000,
                ),
            )
        )
    t = start + timedelta(seconds=rng.randrange(30))
    while t < end:
        pause = rng.randrange(3, 40)
        recs.append(Rec(t, "info", f"GC pause (G1 Evacuation Pause) young {pause}ms", {"gc": "G1"}))
        t += timedelta(seconds=30)
    flush_phase = (phase + period // 2) % period
    _every(recs, start, end, period, flush_phase, "metrics flushed to collector", rng)
    _every(recs, start, end, 300, rng.randrange(300), "cache refresh completed", rng)
    recs.sort(key=lambda r: r.ts)
    writer = JsonWriter(rng)
    write_lines(out / "app" / "service.log.json", (writer.line(r) for r in recs))
    if rng.random() < 0.5:
        write_lines(out / "nginx" / "access.log", (line for _, line in access))
    write_lines(out / "db" / "postgresql.log", _postgres(rng, start, end, period, phase, spike))
    return Truth(period, start + timedelta(seconds=phase), spike)


def _every(
    recs: list[Rec],
    start: datetime,
    end: datetime,
    period: int,
    phase: int,
    msg: str,
    rng: random.Random,
) -> None:
    t = start + timedelta(seconds=phase)
    while t < end:
        recs.append(
            Rec(
                t + timedelta(milliseconds=rng.randrange(900)), "info", msg, {"job": msg.split()[0]}
            )
        )
        t += timedelta(seconds=period)


def _postgres(
    rng: random.Random, start: datetime, end: datetime, period: int, phase: int, spike: int
) -> list[str]:
    lines: list[tuple[datetime, str]] = []
    t = start + timedelta(seconds=phase - 2)
    while t < end:
        lines.append((t, "LOG:  checkpoint starting: time"))
        done = t + timedelta(seconds=spike - 3, milliseconds=rng.randrange(999))
        bufs = rng.randrange(20000, 90000)
        lines.append(
            (
                done,
                f"LOG:  checkpoint complete: wrote {bufs} buffers ({bufs / 1638.4:.1f}%);"
                f" 0 WAL file(s) added, 0 removed, 3 recycled; write={spike - 5}.{rng.randrange(999):03d} s,"
                f" sync=1.{rng.randrange(999):03d} s, total={spike - 3}.{rng.randrange(999):03d} s",
            )
        )
        t += timedelta(seconds=period)
    t = start
    while t < end:
        t += timedelta(seconds=rng.expovariate(1 / 40))
        kind = rng.random()
        if kind < 0.5:
            lines.append(
                (
                    t,
                    f"LOG:  connection received: host=10.0.3.{rng.randrange(255)} port={rng.randrange(30000, 60000)}",
                )
            )
        elif kind < 0.8:
            lines.append(
                (
                    t,
                    f"LOG:  duration: {rng.lognormvariate(2, 1):.3f} ms  statement: SELECT * FROM items WHERE id = $1",
                )
            )
        else:
            lines.append(
                (t, 'LOG:  automatic vacuum of table "shop.public.orders": index scans: 1')
            )
    lines.sort(key=lambda x: x[0])
    out = []
    for ts, text in lines:
        stamp = (
            ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{ts.microsecond // 1000:03d} UTC"
        )
        out.append(f"{stamp} [{rng.choice((4123, 4124, 5001))}] {text}")
    return out


__all__ = ["Truth", "generate"]
