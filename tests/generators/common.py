"""Shared pieces of the test bundle generators: records, field vocabularies, and log writers.

Each generated record keeps its fields under the names one realistic system
would use; a seed picks one vocabulary per role (``acct_created`` or
``account.created_at`` or ``customerSince``), so analyzers cannot be fitted
to one spelling.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


@dataclass
class Rec:
    """One log record: its time, level, message and fields under their chosen names."""

    ts: datetime
    level: str
    msg: str
    fields: dict[str, Any] = field(default_factory=dict)


#: Role -> spellings real systems use. A seed picks one per role.
HTTP_NAMES: tuple[dict[str, str], ...] = (
    {"method": "method", "path": "path", "status": "status", "duration": "duration_ms"},
    {
        "method": "http.method",
        "path": "http.route",
        "status": "http.status_code",
        "duration": "latency_ms",
    },
    {
        "method": "req.method",
        "path": "req.url",
        "status": "res.statusCode",
        "duration": "responseTime",
    },
    {"method": "verb", "path": "uri", "status": "status_code", "duration": "elapsed_ms"},
)
TS_KEYS = ("ts", "time", "timestamp", "@timestamp")
LEVEL_KEYS = ("level", "lvl", "severity", "log.level")
MSG_KEYS = ("msg", "message", "event")


def pick(rng: random.Random, options: Sequence[Any]) -> Any:
    return options[rng.randrange(len(options))]


def iso(ts: datetime, digits: int = 3) -> str:
    base = ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        return base + "Z"
    frac = f"{ts.microsecond:06d}"
    frac = (frac + "0" * digits)[:digits] if digits > 6 else frac[:digits]
    return f"{base}.{frac}Z"


def request_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def trace_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def lognormal_ms(rng: random.Random, median: float, sigma: float = 0.5) -> float:
    return round(median * rng.lognormvariate(0.0, sigma), 2)


def diurnal(rng: random.Random, ts: datetime) -> bool:
    """Thin traffic at night (UTC) so series have realistic seasonality."""
    hour = ts.hour + ts.minute / 60
    weight = 0.35 + 0.65 * max(0.0, 1 - abs(hour - 14) / 10)
    return rng.random() < weight


def arrivals(
    rng: random.Random, start: datetime, end: datetime, per_second: float, seasonal: bool = True
) -> Iterable[datetime]:
    """Poisson arrivals between start and end, thinned by a daily cycle."""
    t = start
    while True:
        t = t + timedelta(seconds=rng.expovariate(per_second))
        if t >= end:
            return
        if not seasonal or diurnal(rng, t):
            yield t


class JsonWriter:
    """JSON lines with a chosen key for time, level and message; nested keys stay nested."""

    def __init__(self, rng: random.Random, nested: bool | None = None) -> None:
        self.ts_key = pick(rng, TS_KEYS)
        self.level_key = pick(rng, LEVEL_KEYS)
        self.msg_key = pick(rng, MSG_KEYS)
        self.nested = rng.random() < 0.5 if nested is None else nested
        self.upper = rng.random() < 0.5

    def line(self, r: Rec) -> str:
        out: dict[str, Any] = {
            self.ts_key: iso(r.ts),
            self.level_key: r.level.upper() if self.upper else r.level,
            self.msg_key: r.msg,
        }
        for k, v in r.fields.items():
            if self.nested and "." in k:
                head, rest = k.split(".", 1)
                node = out.setdefault(head, {})
                if isinstance(node, dict):
                    node[rest] = v
                    continue
            out[k] = v
        return json.dumps(out, separators=(",", ":"))


class LogfmtWriter:
    """logfmt lines: ``ts=... level=... msg="..." key=value``."""

    def __init__(self, rng: random.Random) -> None:
        self.ts_key = pick(rng, ("ts", "time", "t"))
        self.level_key = pick(rng, ("level", "lvl"))

    def line(self, r: Rec) -> str:
        parts = [
            f"{self.ts_key}={iso(r.ts)}",
            f"{self.level_key}={r.level}",
            f"msg={_logfmt_value(r.msg)}",
        ]
        parts += [f"{k}={_logfmt_value(v)}" for k, v in r.fields.items()]
        return " ".join(parts)


def _logfmt_value(v: Any) -> str:
    text = str(v)
    if text == "" or any(c in text for c in ' "=\\'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def nginx_line(
    ts: datetime,
    ip: str,
    method: str,
    path: str,
    status: int,
    size: int,
    agent: str,
    request_time_s: float,
) -> str:
    """nginx ``combined`` plus ``$request_time``, as many sites configure it."""
    stamp = ts.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (
        f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "-" "{agent}" '
        f"{request_time_s:.3f}"
    )


def write_lines(path: Path, lines: Iterable[str], gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(line + "\n" for line in lines)
    if gz:
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text)


def write_rotated(
    directory: Path, name: str, lines: list[tuple[datetime, str]], files: int
) -> None:
    """Split time-ordered lines into ``name``, ``name.1``, ``name.2.gz``... (oldest highest)."""
    lines.sort(key=lambda x: x[0])
    per = max(1, len(lines) // files + 1)
    chunks = [lines[i : i + per] for i in range(0, len(lines), per)]
    for age, chunk in enumerate(reversed(chunks)):
        target = directory / (name if age == 0 else f"{name}.{age}" + (".gz" if age >= 2 else ""))
        write_lines(target, (t for _, t in chunk), gz=age >= 2)


def day_start(rng: random.Random) -> datetime:
    """A start date that differs per seed, so no analyzer can know the dates."""
    base = datetime(2026, 9, 1, tzinfo=UTC)
    return base + timedelta(days=rng.randrange(0, 60))
