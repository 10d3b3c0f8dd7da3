"""Case 4: one API client gets 429s in storms because it retries at once, ignoring Retry-After.

Two hours of gateway traffic from several API clients, each identified by
a user agent with an SDK version and an API key id. A rate limiter answers
429 with a Retry-After. Well-behaved clients wait as told; one client, in
bursts every half hour or so, retries within ~100 ms, so each burst becomes
a storm of hundreds of 429s. Red herrings: other clients that also hit the
limit now and then (and back off), a few 503s during a short maintenance.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from generators.common import (
    HTTP_NAMES,
    JsonWriter,
    Rec,
    day_start,
    nginx_line,
    pick,
    request_id,
    write_lines,
)

SDKS = (
    "acme-python/3.4.1",
    "acme-node/2.1.0",
    "acme-go/1.9.2",
    "acme-java/5.0.3",
    "acme-ruby/0.9.8",
    "acme-php/1.2.0",
    "acme-dotnet/4.0.1",
)
AGENT_KEYS = ("user_agent", "http.user_agent", "userAgent", "ua")
KEY_KEYS = ("api_key_id", "key_id", "auth.key_id", "apiKey")
RETRY_KEYS = ("retry_after", "headers.retry-after", "retry_after_s", "res.headers.Retry-After")


@dataclass(frozen=True)
class Truth:
    agent: str
    key_id: str


def generate(out: Path, seed: int, hours: int = 2) -> Truth:
    rng = random.Random(seed)
    start = day_start(rng) + timedelta(hours=rng.randrange(6, 14))
    end = start + timedelta(hours=hours)
    names = pick(rng, HTTP_NAMES)
    agent_key, key_key, retry_key = (
        pick(rng, AGENT_KEYS),
        pick(rng, KEY_KEYS),
        pick(rng, RETRY_KEYS),
    )
    clients = [(sdk, f"key_{rng.getrandbits(40):010x}") for sdk in SDKS]
    # Each client calls from a few hosts of its own; a request and its retries from one.
    hosts = {key: [f"198.51.100.{rng.randrange(256)}" for _ in range(3)] for _, key in clients}
    bad = pick(rng, clients)
    events: list[tuple[datetime, str, str, bool]] = []  # (ts, agent, key, storm)
    for sdk, key in clients:
        t = start
        while t < end:
            t += timedelta(seconds=rng.expovariate(0.2))
            events.append((t, sdk, key, False))
        if (sdk, key) == bad:
            t = start + timedelta(minutes=rng.randrange(5, 20))
            while t < end:
                events.append((t, sdk, key, True))
                t += timedelta(minutes=rng.randrange(15, 30))
    events.sort()
    recs: list[Rec] = []
    allowed: dict[str, datetime] = {}
    maintenance = start + timedelta(minutes=rng.randrange(30, 90))
    for ts, sdk, key, storm in events:
        if storm:
            recs += _storm(rng, ts, sdk, key, names, agent_key, key_key, retry_key, hosts[key])
            continue
        route = pick(rng, ("/v2/orders", "/v2/orders", "/v2/customers", "/v2/invoices"))
        status, extra = 200, {}
        # Other clients hit the limit sometimes, and wait as told.
        if rng.random() < 0.01 or ts < allowed.get(key, ts):
            wait = rng.randrange(2, 10)
            status, extra = 429, {retry_key: wait}
            host = pick(rng, hosts[key])
            recs.append(
                _rec(rng, ts, sdk, key, route, status, extra, names, agent_key, key_key, host)
            )
            allowed[key] = ts + timedelta(seconds=wait)
            retry = ts + timedelta(seconds=wait + rng.random())
            recs.append(_rec(rng, retry, sdk, key, route, 200, {}, names, agent_key, key_key, host))
            continue
        if maintenance <= ts < maintenance + timedelta(minutes=3):
            status, extra = 503, {retry_key: 30}
        recs.append(
            _rec(rng, ts, sdk, key, route, status, extra, names, agent_key, key_key,
                 pick(rng, hosts[key]))
        )  # fmt: skip
    recs.sort(key=lambda r: r.ts)
    writer = JsonWriter(rng)
    write_lines(out / "gateway" / "gateway.jsonl", (writer.line(r) for r in recs))
    if rng.random() < 0.5:
        write_lines(
            out / "edge" / "access.log",
            (
                nginx_line(
                    r.ts,
                    "203.0.113.7",
                    str(r.fields[names["method"]]),
                    str(r.fields[names["path"]]),
                    int(r.fields[names["status"]]),
                    120,
                    str(r.fields[agent_key]),
                    0.01,
                )
                for r in recs
            ),
        )
    return Truth(bad[0], bad[1])


def _storm(
    rng: random.Random,
    ts: datetime,
    sdk: str,
    key: str,
    names: dict[str, str],
    agent_key: str,
    key_key: str,
    retry_key: str,
    hosts: list[str],
) -> list[Rec]:
    """A burst over the limit, then immediate retries of every 429 for a minute or two."""
    out = []
    host = pick(rng, hosts)
    t, until = ts, ts + timedelta(seconds=rng.randrange(30, 60))
    while t < until:
        wait = rng.randrange(3, 10)
        out.append(
            _rec(rng, t, sdk, key, "/v2/orders", 429, {retry_key: wait}, names, agent_key,
                 key_key, host)
        )  # fmt: skip
        t += timedelta(milliseconds=rng.randrange(60, 250))
    out.append(_rec(rng, t, sdk, key, "/v2/orders", 200, {}, names, agent_key, key_key, host))
    return out


def _rec(
    rng: random.Random,
    ts: datetime,
    sdk: str,
    key: str,
    route: str,
    status: int,
    extra: dict[str, int],
    names: dict[str, str],
    agent_key: str,
    key_key: str,
    host: str,
) -> Rec:
    fields = {
        names["method"]: "POST" if route == "/v2/orders" else "GET",
        names["path"]: route,
        names["status"]: status,
        names["duration"]: round(rng.lognormvariate(3, 0.4), 1),
        agent_key: sdk,
        key_key: key,
        "request_id": request_id(rng),
        "client_ip": host,
    } | extra
    return Rec(ts, "warn" if status == 429 else "info", "request", fields)
