"""The four escalations of issue 5 written in formats the other generators never use.

pino (Node) with an Envoy or AWS ALB access log for the refunds case, zap
(Go) JSON with lumberjack-rotated ``.gz`` files and GitHub-deployment or
changelog release lists for the payments case, an Apache ``%D`` access log,
a PostgreSQL log (stderr with another ``log_line_prefix``, jsonlog or
csvlog) and a JVM GC log (unified or JDK 8) for the latency case, a Kong
file-log or an nginx log with a ``key=value`` tail for the rate-limit case.
Each seed picks names and shapes, so nothing downstream can be fitted to
one spelling; the returned truth says what rank 1 must name. Cases 3 and 4
live in ``generators.unseen_ops`` and are exported here with 1 and 2.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from generators.common import arrivals, day_start, iso, pick, request_id, write_lines
from generators.unseen_ops import Latency, RateLimit, latency, ratelimit

__all__ = ["Latency", "Payments", "RateLimit", "Refunds", "latency", "payments", "ratelimit",
           "refunds"]  # fmt: skip

#: Where a customer's creation time lives in a pino record, and its unit (1: s, 1000: ms).
CREATED = (("customer.signup_ts", 1), ("account.createdAt", 1000), ("tenant.registered", 1))


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


@dataclass(frozen=True)
class Refunds:
    route: str
    created_key: str
    cutoff: datetime
    onset: datetime
    background_route: str


def refunds(out: Path, seed: int, rate: float = 0.1) -> Refunds:
    """pino-http JSON (epoch-ms ``time``, numeric levels) and an Envoy access log."""
    rng = random.Random(seed)
    start = day_start(rng)
    end = start + timedelta(days=2)
    onset = start + timedelta(hours=rng.randrange(26, 34), minutes=rng.randrange(60))
    cutoff = start - timedelta(days=rng.randrange(20, 90), seconds=rng.randrange(86400))
    created_key, unit = pick(rng, CREATED)
    refund = pick(rng, ("/v1/refunds", "/api/v2/refunds", "/billing/refund"))
    background = pick(rng, ("/v1/payouts", "/api/v2/transfers"))
    routes = [("GET", "/v1/customers/me"), ("POST", "/v1/charges"), ("POST", refund),
              ("GET", "/v1/invoices"), ("POST", background), ("GET", "/health")]  # fmt: skip
    customers = []
    for _ in range(2500):
        created = start - timedelta(days=rng.expovariate(1 / 300), seconds=rng.randrange(86400))
        customers.append((f"cus_{rng.getrandbits(48):012x}", created, pick(rng, ("basic", "pro"))))
    pino: list[str] = []
    edge: list[str] = []
    host = f"api-{rng.getrandbits(24):06x}"
    alb = rng.random() < 0.5  # the edge is an AWS load balancer, else an Envoy sidecar
    for ts in arrivals(rng, start, end, rate):
        method, path = rng.choices(routes, (25, 30, 8, 15, 10, 12))[0]
        cid, created, plan = pick(rng, customers)
        status, dur = 200, max(1, int(rng.lognormvariate(3.3, 0.5)))
        err: dict[str, Any] | None = None
        if path == background and rng.random() < 0.005:
            status, dur = 502, rng.randrange(5000, 30000)
        elif path == refund and ts >= onset and created >= cutoff and rng.random() < 0.9:
            status = 500
            err = {"type": "TypeError", "message": "Cannot read properties of undefined "
                   "(reading 'ledgerId')", "stack": "TypeError: Cannot read properties of "
                   "undefined\n    at reverseCharge (/app/src/ledger.js:88:21)"}  # fmt: skip
        elif rng.random() < 0.0005:
            status = 500
        elif path.startswith("/v1/customers") and rng.random() < 0.03:
            status = 404
        rid = request_id(rng)
        url = path + (f"?expand=items&page={rng.randrange(5)}" if method == "GET" else "")
        doc: dict[str, Any] = {
            "level": 50 if status >= 500 else 30,
            "time": int(ts.timestamp() * 1000),
            "pid": 17,
            "hostname": host,
            "req": {"id": rid, "method": method, "url": url,
                    "remoteAddress": f"::ffff:10.2.{rng.randrange(256)}.{rng.randrange(256)}"},
            "res": {"statusCode": status},
            "responseTime": dur,
            "msg": "request errored" if status >= 500 else "request completed",
        } | _nest({created_key: int(created.timestamp() * unit),
                   created_key.split(".")[0] + ".id": cid,
                   created_key.split(".")[0] + ".plan": plan})  # fmt: skip
        if err:
            doc["err"] = err
        pino.append(json.dumps(doc, separators=(",", ":")))
        edge.append(
            _alb(rng, ts, method, url, status, dur)
            if alb
            else _envoy(rng, ts, method, url, status, dur, rid)
        )
    write_lines(out / "node" / "api.log", pino)
    write_lines(out / ("alb" if alb else "envoy") / "access.log", edge)
    return Refunds(refund, created_key, cutoff, onset, background)


def _envoy(rng: random.Random, ts: datetime, method: str, url: str, status: int, dur: int,
           rid: str) -> str:  # fmt: skip
    flags = "UF" if status == 502 else "-"
    return (
        f'[{iso(ts)}] "{method} {url} HTTP/1.1" {status} {flags} 0 {rng.randrange(90, 4000)} '
        f'{dur} {max(0, dur - 1)} "10.2.0.{rng.randrange(256)}" "okhttp/4.12.0" "{rid}" '
        f'"api.example.com" "10.4.1.{rng.randrange(30)}:8080"'
    )


def _alb(rng: random.Random, ts: datetime, method: str, url: str, status: int, dur: int) -> str:
    target = f"10.4.1.{rng.randrange(30)}:8080"
    return (
        f"https {ts.strftime('%Y-%m-%dT%H:%M:%S.%fZ')} app/api-prod/50dc6c495c0c9188"
        f" 198.51.100.{rng.randrange(256)}:{rng.randrange(1024, 65000)} {target} 0.001"
        f" {dur / 1000:.3f} 0.000 {status} {status} {rng.randrange(200, 900)}"
        f' {rng.randrange(90, 4000)} "{method} https://api.example.com:443{url} HTTP/1.1"'
        f' "okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2'
        f" arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/api/73e2d6bc"
        f' "Root=1-{rng.getrandbits(32):08x}-{rng.getrandbits(96):024x}" "api.example.com" "-" 0'
        f' {ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")} "forward" "-" "-" "{target}" "{status}" "-" "-"'
    )


@dataclass(frozen=True)
class Payments:
    mcc_key: str
    bad_codes: tuple[str, ...]
    version: str
    release_at: datetime
    onset: datetime


MCC_KEYS = ("merchant.mcc", "mccCode", "card_acceptor.category_code")
MCCS = ("5411", "5812", "5814", "5912", "4111", "5541", "5999", "7011", "5732", "5311",
        "4814", "5651", "5691", "5942", "7832", "5462")  # fmt: skip


def payments(out: Path, seed: int, days: int = 5, rate: float = 0.08) -> Payments:
    """zap JSON (float epoch ``ts``, ``caller``), lumberjack rotation, a deployment list."""
    rng = random.Random(seed)
    start = day_start(rng)
    end = start + timedelta(days=days)
    mcc_key = pick(rng, MCC_KEYS)
    bad = tuple(sorted(rng.sample(MCCS[1:], 2)))
    releases = []
    t = start + timedelta(hours=rng.randrange(6, 14))
    minor = rng.randrange(10, 30)
    while t < end - timedelta(hours=12):
        minor += 1
        releases.append(
            (pick(rng, ("payments", "payments", "ledger")), f"2.{minor}.{rng.randrange(3)}", t)
        )
        t += timedelta(hours=rng.randrange(14, 30))
    # The culprit is a payments release with others before and after it.
    culprit = rng.randrange(1, len(releases) - 1)
    _, version, release_at = releases[culprit]
    releases[culprit] = ("payments", version, release_at)
    onset = release_at + timedelta(minutes=rng.randrange(3, 20))
    burst_hour = rng.randrange(24)
    good = [c for c in MCCS if c not in bad]
    merchants = [(f"mer_{rng.getrandbits(32):08x}", pick(rng, good)) for _ in range(900)]
    merchants += [(f"mer_{rng.getrandbits(32):08x}", code) for code in bad for _ in range(10)]
    # The two codes' merchants carry about 0.7% of payments (the issue's "0.3% fail").
    weights = [0.3 if code in bad else 1.0 for _, code in merchants]
    lines: list[tuple[datetime, str]] = []

    def zap(ts: datetime, level: str, caller: str, msg: str, **fields: Any) -> None:
        doc = {"level": level, "ts": round(ts.timestamp(), 6), "caller": caller, "msg": msg}
        lines.append((ts, json.dumps(doc | fields, separators=(",", ":"))))

    for ts in arrivals(rng, start, end, rate):
        mid, code = rng.choices(merchants, weights)[0]
        digits = 7 if code in bad and ts >= onset else 3
        auth = iso(ts - timedelta(milliseconds=rng.randrange(40, 800)), digits)
        fields: dict[str, Any] = _nest({"merchant.id": mid, mcc_key: code}) | {
            "payment_id": f"pay_{rng.getrandbits(64):016x}",
            "amount_minor": int(rng.lognormvariate(7, 1.2)),
            "currency": pick(rng, ("EUR", "USD", "GBP")),
            "network": pick(rng, ("visa", "mastercard")),
            "acquirer_ts": auth,
            "latency": f"{rng.lognormvariate(4.6, 0.4):.3f}ms",
        }
        if digits == 7:
            zap(ts, "error", "authorize/handler.go:214", "authorization failed",
                error=f'parsing time "{auth}" as "2006-01-02T15:04:05.000Z07:00": '
                'cannot parse "1Z" as "Z07:00"',
                stacktrace="main.(*Handler).Authorize\n\t/src/authorize/handler.go:214",
                **fields)  # fmt: skip
        elif ts.hour == burst_hour and ts.minute < 15 and rng.random() < 0.5:
            zap(ts, "error", "acquirer/client.go:97", "authorization failed",
                error="context deadline exceeded", **fields)  # fmt: skip
        else:
            zap(ts, "info", "authorize/handler.go:180", "payment authorized", **fields)
    for svc, ver, at in releases:
        if svc == "payments":
            zap(at + timedelta(seconds=35), "info", "cmd/payments/main.go:41", "starting",
                version=ver, commit=f"{rng.getrandbits(28):07x}")  # fmt: skip
    lines.sort(key=lambda x: x[0])
    # lumberjack: the live file plus <name>-<rotation time>.log.gz backups
    per = len(lines) // 4 + 1
    logs = out / "var" / "log" / "payments"
    for i in range(0, len(lines), per):
        chunk = [text for _, text in lines[i : i + per]]
        last = i + per >= len(lines)
        stamp = lines[min(i + per, len(lines) - 1)][0].strftime("%Y-%m-%dT%H-%M-%S.000")
        name = "payments.log" if last else f"payments-{stamp}.log.gz"
        write_lines(logs / name, chunk, gz=not last)
    _deployments(out, rng, releases)
    return Payments(mcc_key, bad, version, release_at, onset)


def _deployments(out: Path, rng: random.Random, releases: list[tuple[str, str, datetime]]) -> None:
    if rng.random() < 0.5:  # GitHub deployments API objects, one per line
        rows = [json.dumps({
            "id": 40000 + i, "sha": f"{rng.getrandbits(160):040x}", "ref": f"v{ver}",
            "task": "deploy", "environment": "production", "description": f"Deploy {svc}",
            "creator": {"login": pick(rng, ("octo-ci", "release-bot"))},
            "created_at": iso(at, 0), "repository": f"acme/{svc}",
        }) for i, (svc, ver, at) in enumerate(releases)]  # fmt: skip
        write_lines(out / "deployments.jsonl", rows)
    else:  # a changelog kept as a spreadsheet
        rows = ["Release,Release Date,Component,Notes"]
        rows += [f'{ver},{at.strftime("%Y-%m-%d %H:%M:%S")},{svc},"fixes, chores"'
                 for svc, ver, at in releases]  # fmt: skip
        write_lines(out / "CHANGELOG.csv", rows)
