"""Generate the example bundle ``examples/checkout-incident/`` deterministically from a seed.

The bundle is what a customer of a payments platform would send: an nginx
access log, the checkout API's JSON-lines log (current and a gzip-rotated
older file), the refund service's Java log with stack traces, a logfmt worker
log, the release list and the case description. It holds one real incident
and a few red herrings; ``examples/README.md`` states the ground truth.

    python examples/make_example.py            # writes examples/checkout-incident/
    python examples/make_example.py --out DIR  # somewhere else
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

SEED = 20261120
DAY = datetime(2026, 11, 20, tzinfo=UTC)
OLD_START, START, END = DAY.replace(hour=9), DAY.replace(hour=11), DAY.replace(hour=15)
RELEASE = DAY.replace(hour=13, minute=4)  # refund-service 2.14.3 deployed
RESTART = (DAY.replace(hour=13, minute=4, second=20), DAY.replace(hour=13, minute=4, second=41))
COHORT = date(2026, 10, 15)  # accounts created on or after this date lack a fee schedule
MEAN_GAP_S = 4.0
CATALOG_502 = 0.005
# Planted secrets, so the demo shows redaction. The AWS pair is AWS's own documentation example.
FAKE_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtY2hlY2tvdXQiLCJpYXQiOjE3NjM2MjU2MDB9"
    ".Zm9yLWRlbW8tb25seS1ub3QtYS1yZWFsLXNpZ25hdHVyZQ"
)
DB_PASSWORD = "Pr0d-Refunds-2026!"
AWS_KEY, AWS_SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
UAS = ("checkout-web/4.12.0 (iOS 18.1)", "checkout-web/4.12.0 (Android 15)", "Mozilla/5.0 (X11)")


@dataclass(frozen=True)
class Account:
    id: str
    created: date


@dataclass(frozen=True)
class Request:
    ts: datetime
    method: str
    path: str
    status: int
    ms: float
    client: str
    account: Account | None


def _accounts(rng: random.Random) -> list[Account]:
    old = [_account(rng, date(2023, 3, 1), COHORT - timedelta(days=1)) for _ in range(240)]
    new = [_account(rng, COHORT, date(2026, 11, 18)) for _ in range(160)]
    return old + new


def _account(rng: random.Random, lo: date, hi: date) -> Account:
    created = lo + timedelta(days=rng.randint(0, (hi - lo).days))
    return Account(f"acct_{rng.getrandbits(40):010x}", created)


def _requests(
    rng: random.Random, start: datetime, end: datetime, accounts: list[Account]
) -> Iterator[Request]:
    ts = start
    clients = [f"10.20.{rng.randint(1, 9)}.{rng.randint(2, 250)}" for _ in range(60)]
    while True:
        ts += timedelta(seconds=rng.expovariate(1 / MEAN_GAP_S))
        if ts >= end:
            return
        r = rng.random()
        client = rng.choice(clients)
        if r < 0.55:
            path = f"/v1/catalog?page={rng.randint(1, 12)}"
            bad = rng.random() < CATALOG_502
            yield Request(
                ts, "GET", path, 502 if bad else 200, 30000.0 if bad else _ms(rng, 35), client, None
            )
        elif r < 0.65:
            acct = rng.choice(accounts)
            yield Request(
                ts, "POST", "/v1/refunds", _refund_status(ts, acct), _ms(rng, 120), client, acct
            )
        elif r < 0.77:
            acct = rng.choice(accounts)
            status = 422 if rng.random() < 0.02 else 201
            yield Request(ts, "POST", "/v1/checkout", status, _ms(rng, 240), client, acct)
        elif r < 0.90:
            status = 404 if rng.random() < 0.03 else 200
            yield Request(
                ts,
                "GET",
                f"/v1/orders/ord_{rng.getrandbits(32):08x}",
                status,
                _ms(rng, 25),
                client,
                None,
            )
        else:
            yield Request(ts, "GET", "/healthz", 200, _ms(rng, 2), "10.20.0.1", None)


def _refund_status(ts: datetime, acct: Account) -> int:
    if RESTART[0] <= ts < RESTART[1]:
        return 502  # nginx has no upstream while the service restarts
    if ts >= RESTART[1] and acct.created >= COHORT:
        return 500
    return 201


def _ms(rng: random.Random, median: float) -> float:
    return round(rng.lognormvariate(0, 0.45) * median, 1)


def nginx_line(q: Request, rng: random.Random) -> str:
    ua = "kube-probe/1.30" if q.path == "/healthz" else rng.choice(UAS)
    size = 87 if q.status >= 500 else rng.randint(200, 4800)
    return (
        f'{q.client} - - [{q.ts:%d/%b/%Y:%H:%M:%S} +0000] "{q.method} {q.path} HTTP/1.1" '
        f'{q.status} {size} "-" "{ua}" {q.ms / 1000:.3f}'
    )


def api_lines(q: Request, rng: random.Random) -> list[dict[str, object]]:
    """The checkout API logs its own endpoints (not catalog or health checks)."""
    if q.path.startswith(("/v1/catalog", "/healthz")):
        return []
    failed = q.status >= 500
    entry: dict[str, object] = {
        "@timestamp": _iso(q.ts + timedelta(milliseconds=3)),
        "severity": "ERROR" if failed else ("WARN" if q.status >= 400 else "INFO"),
        "msg": _api_message(q),
        "svc": "checkout-api",
        "trace": {"id": f"{rng.getrandbits(64):016x}"},
        "ctx": {
            "http": {"verb": q.method, "path": q.path, "code": q.status, "elapsed_ms": q.ms},
            "client": {"ip": q.client},
        },
    }
    ctx = entry["ctx"]
    assert isinstance(ctx, dict)
    if q.account:
        ctx["account"] = {"id": q.account.id, "created_at": q.account.created.isoformat()}
    if q.path == "/v1/refunds":
        ctx["refund"] = {"amount_cents": rng.randint(300, 25000), "currency": "EUR"}
        if failed:
            ctx["upstream"] = {"service": "refund-service", "status": q.status}
    return [entry]


def _api_message(q: Request) -> str:
    if q.path == "/v1/refunds":
        return (
            "refund failed: upstream refund-service error" if q.status >= 500 else "refund created"
        )
    if q.status >= 400:
        return f"request rejected with {q.status}"
    return "request completed"


def java_lines(q: Request, rng: random.Random) -> list[tuple[datetime, str]]:
    if q.path != "/v1/refunds" or q.account is None or q.status == 502:
        return []
    ts = q.ts + timedelta(milliseconds=1)
    thread = f"http-nio-8080-exec-{rng.randint(1, 12)}"
    if q.status == 201:
        msg = f"Refund rf_{rng.getrandbits(36):09x} created for account {q.account.id}"
        return [(ts, f"{_naive(ts)} [{thread}] INFO  c.e.refunds.api.RefundController - {msg}")]
    head = (
        f"{_naive(ts)} [{thread}] ERROR c.e.refunds.api.RefundController - Refund processing failed"
        f" for account {q.account.id} (created {q.account.created.isoformat()})"
    )
    trace = [
        "java.lang.IllegalStateException: No fee schedule registered for pricing tier 'standard-v2'",
        "\tat com.example.refunds.fees.FeeScheduleRegistry.forTier(FeeScheduleRegistry.java:88)",
        "\tat com.example.refunds.fees.RefundFeeCalculator.calculate(RefundFeeCalculator.java:41)",
        "\tat com.example.refunds.service.RefundService.process(RefundService.java:127)",
        "\tat com.example.refunds.api.RefundController.create(RefundController.java:64)",
        "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke("
        "DirectMethodHandleAccessor.java:103)",
        "\t... 48 common frames omitted",
    ]
    return [(ts, "\n".join([head, *trace]))]


def java_background(rng: random.Random) -> list[tuple[datetime, str]]:
    out = []
    ts = START + timedelta(seconds=7)
    while ts < END:  # a GC line every 30 s: noise that is always there
        young = rng.randint(6, 24)
        before, after = rng.randint(420, 700), rng.randint(200, 400)
        out.append(
            (
                ts,
                f"{_naive(ts)} [gc-monitor] INFO  c.e.refunds.ops.GcLogger - GC pause"
                f" (G1 Evacuation Pause) young {young}ms, heap {before}M->{after}M(1024M)",
            )
        )
        ts += timedelta(seconds=30)
    stop, start = RESTART
    boot = [
        (stop, "INFO  o.s.b.SpringApplication - Stopping RefundServiceApplication v2.14.2"),
        (
            stop + timedelta(seconds=9),
            "INFO  o.s.b.SpringApplication - Starting"
            " RefundServiceApplication v2.14.3 using Java 21.0.5 with PID 1",
        ),
        (
            stop + timedelta(seconds=12),
            "INFO  com.zaxxer.hikari.HikariDataSource - HikariPool-1 -"
            f" Starting with url=postgresql://refund_app:{DB_PASSWORD}@db-primary.internal:5432/refunds",
        ),
        (
            stop + timedelta(seconds=15),
            "WARN  c.e.refunds.fees.FeeScheduleRegistry - Loaded 3 fee"
            " schedules (tiers: legacy, standard, enterprise); tier registry source=v2",
        ),
        (
            start - timedelta(seconds=1),
            "INFO  o.s.b.SpringApplication - Started RefundServiceApplication in 9.8 seconds",
        ),
    ]
    out += [(ts, f"{_naive(ts)} [main] {text}") for ts, text in boot]
    return out


def worker_lines(rng: random.Random) -> list[tuple[datetime, str]]:
    out = [
        (
            START + timedelta(seconds=2),
            f"{_logfmt_ts(START + timedelta(seconds=2))} level=info"
            f' msg="connected to settlement bucket" aws_access_key_id={AWS_KEY}'
            f" aws_secret_access_key={AWS_SECRET} region=eu-west-1",
        ),
    ]
    ts = START + timedelta(seconds=5)
    while ts < END:
        ts += timedelta(seconds=rng.expovariate(1 / 20))
        if rng.random() < 0.18:  # the always-there warning (a red herring)
            line = f'level=warn msg="ledger sync lagging" lag_s={rng.randint(8, 40)} shard={rng.randint(0, 7)}'
        else:
            line = (
                f'level=info msg="settled batch" batch_id=b_{rng.getrandbits(32):08x}'
                f" items={rng.randint(5, 80)} duration_ms={rng.randint(80, 900)}"
            )
        out.append((ts, f"{_logfmt_ts(ts)} {line}"))
    return out


def api_background(rng: random.Random, start: datetime, end: datetime) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    ts = start
    while ts < end:  # slow inventory calls: a warning that was always there
        ts += timedelta(seconds=rng.expovariate(1 / 45))
        out.append(
            {
                "@timestamp": _iso(ts),
                "severity": "WARN",
                "svc": "checkout-api",
                "msg": f"inventory-svc slow response: {rng.randint(510, 1400)} ms (threshold 500 ms)",
                "ctx": {
                    "downstream": {"name": "inventory-svc", "pool": {"active": rng.randint(20, 50)}}
                },
            }
        )
        if rng.random() < 0.02:
            out.append(
                {
                    "@timestamp": _iso(ts),
                    "severity": "DEBUG",
                    "svc": "checkout-api",
                    "msg": "outgoing call to refund-service",
                    "ctx": {"headers": {"authorization": f"Bearer {FAKE_JWT}"}},
                }
            )
    return out


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds")


def _naive(ts: datetime) -> str:
    return f"{ts:%Y-%m-%d %H:%M:%S}.{ts.microsecond // 1000:03d}"


def _logfmt_ts(ts: datetime) -> str:
    return f"ts={ts:%Y-%m-%dT%H:%M:%S}.{ts.microsecond // 1000:03d}Z"


def _jsonl(entries: list[dict[str, object]]) -> str:
    entries.sort(key=lambda e: str(e["@timestamp"]))
    return "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _write_gz(path: Path, text: str) -> None:
    buf = io.BytesIO()
    # mtime=0 and no file name in the header: the same seed gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        gz.write(text.encode())
    path.write_bytes(buf.getvalue())


def generate(out: Path, seed: int = SEED) -> None:
    rng = random.Random(seed)
    accounts = _accounts(rng)
    if out.exists():
        shutil.rmtree(out)
    old = list(_requests(rng, OLD_START, START, accounts))
    current = list(_requests(rng, START, END, accounts))
    _write(out / "nginx/access.log", "".join(nginx_line(q, rng) + "\n" for q in current))
    older = [e for q in old for e in api_lines(q, rng)] + api_background(rng, OLD_START, START)
    now = [e for q in current for e in api_lines(q, rng)] + api_background(rng, START, END)
    _write(out / "checkout-api/api.log", _jsonl(now))
    _write_gz(out / "checkout-api/api.log.1.gz", _jsonl(older))
    java = [x for q in current for x in java_lines(q, rng)] + java_background(rng)
    java.sort(key=lambda x: x[0])
    _write(out / "refund-service/refund-service.log", "".join(t + "\n" for _, t in java))
    worker = sorted(worker_lines(rng), key=lambda x: x[0])
    _write(out / "settlement-worker/worker.log", "".join(t + "\n" for _, t in worker))
    _write(out / "releases.csv", RELEASES)
    _write(out / "case.md", CASE)


RELEASES = """service,version,deployed_at,author,notes
checkout-api,5.8.0,2026-11-18T09:12:00Z,mhoffmann,Catalog paging cache
refund-service,2.14.2,2026-11-19T16:40:00Z,asantos,Refund reason codes
settlement-worker,1.9.1,2026-11-20T10:15:00Z,jli,Ledger sync batching
refund-service,2.14.3,2026-11-20T13:04:00Z,asantos,Fee schedules read from tier registry (REF-2291)
"""

CASE = """# Case 48213: refunds failing for some merchants' customers

**Customer**: Lindqvist Outdoor AB (Enterprise plan) · **Severity**: S2 · **Opened**: 2026-11-20 15:20 CET

Since this afternoon, roughly 14:00 Stockholm time, some of our support agents
get "Something went wrong, please try again" when they issue refunds from the
dashboard. Retrying does not help. It does not happen for every customer: a
refund for a long-standing customer went through fine a minute later.

Checkout itself seems fine. We also noticed catalog pages occasionally failing
with 502, but I think that has been going on for weeks.

Attached: nginx access log, the checkout API log (incl. the rotated one), the
refund service log, the settlement worker log and your release notes export.
All servers log in UTC.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--out", type=Path, default=here / "checkout-incident")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    generate(args.out, args.seed)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {args.out} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
