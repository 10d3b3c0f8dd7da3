"""Case 1: refunds return 500 since yesterday, only for accounts created on or after a date.

Two days of API traffic. Since an onset about 30 hours in, refund requests
from accounts created on or after a cut-off date fail with HTTP 500 (most of
them); everything else is fine. Red herrings: a constant 0.5% of 502s on
another route, a few random 500s everywhere, 404s on lookups, a deploy of an
unrelated service, ids and emails that are unique per request.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from generators.common import (
    HTTP_NAMES,
    JsonWriter,
    LogfmtWriter,
    Rec,
    arrivals,
    day_start,
    iso,
    nginx_line,
    pick,
    request_id,
    trace_id,
    write_lines,
)

CREATED_KEYS = ("acct_created", "account.created_at", "customerSince", "account_created_on")
ACCOUNT_KEYS = ("account_id", "acct", "customer.id", "merchant_account")
PLAN_KEYS = ("plan", "tier", "account.plan")
REGION_KEYS = ("region", "dc", "cloud.region")


@dataclass(frozen=True)
class Truth:
    route: str
    created_key: str
    cutoff: datetime
    onset: datetime
    background_route: str


def generate(out: Path, seed: int, rate: float = 0.12) -> Truth:
    rng = random.Random(seed)
    start = day_start(rng)
    end = start + timedelta(days=2)
    onset = start + timedelta(hours=30, minutes=rng.randrange(0, 50), seconds=rng.randrange(60))
    cutoff = start - timedelta(days=rng.randrange(30, 120))
    names = pick(rng, HTTP_NAMES)
    created_key, account_key = pick(rng, CREATED_KEYS), pick(rng, ACCOUNT_KEYS)
    plan_key, region_key = pick(rng, PLAN_KEYS), pick(rng, REGION_KEYS)
    created_as_date = rng.random() < 0.5
    refund = pick(rng, ("/v1/refunds", "/api/refunds", "/payments/refund"))
    background = pick(rng, ("/v1/transfers", "/api/payouts", "/v2/transfers"))
    routes = [
        ("GET", "/v1/accounts"),
        ("POST", "/v1/charges"),
        ("POST", refund),
        ("GET", "/v1/balance"),
        ("POST", background),
        ("GET", "/healthz"),
    ]
    weights = [25, 30, 8, 15, 10, 12]
    accounts = []
    for i in range(3000):
        # New accounts are a minority: most customers are old.
        days = rng.expovariate(1 / 400)
        created = start - timedelta(days=days, seconds=rng.randrange(86400))
        accounts.append(
            (
                f"acct_{i:05d}{rng.randrange(100):02d}",
                created,
                pick(rng, ("free", "pro", "business", "enterprise")),
                pick(rng, ("eu-west-1", "us-east-1", "us-west-2", "ap-south-1")),
            )
        )
    recs: list[Rec] = []
    access: list[tuple[datetime, str]] = []
    for ts in arrivals(rng, start, end, rate):
        method, path = rng.choices(routes, weights)[0]
        acct, created, plan, region = pick(rng, accounts)
        status, dur = 200, max(1.0, rng.lognormvariate(3.4, 0.5))
        if path == "/v1/accounts" and rng.random() < 0.02:
            status = 404
        if path == background and rng.random() < 0.005:
            status, dur = 502, 30000.0 * rng.random()
        if rng.random() < 0.0005:
            status = 500
        if path == refund and ts >= onset and created >= cutoff and rng.random() < 0.92:
            status, dur = 500, dur * 0.4
        created_text = created.strftime("%Y-%m-%d") if created_as_date else iso(created, 0)
        fields = {
            names["method"]: method,
            names["path"]: path,
            names["status"]: status,
            names["duration"]: round(dur, 1),
            "request_id": request_id(rng),
            "trace_id": trace_id(rng),
            account_key: acct,
            created_key: created_text,
            plan_key: plan,
            region_key: region,
            "user.email": f"user{rng.randrange(10**6)}@example.com",
            "amount": round(rng.lognormvariate(3.5, 1.2), 2),
            "currency": pick(rng, ("EUR", "USD", "GBP")),
            "pod": f"api-{rng.randrange(6)}",
        }
        level = "error" if status >= 500 else "info"
        recs.append(Rec(ts, level, "request completed", fields))
        if status == 500 and path == refund:
            recs.append(
                Rec(
                    ts + timedelta(milliseconds=1),
                    "error",
                    f"refund failed for {acct}: NullPointerException in LedgerClient.reverse",
                    {"request_id": fields["request_id"]},
                )
            )
        ip = f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(256)}"
        access.append(
            (
                ts,
                nginx_line(
                    ts,
                    ip,
                    method,
                    path,
                    status,
                    rng.randrange(200, 4000),
                    "Mozilla/5.0",
                    dur / 1000,
                ),
            )
        )
    if rng.random() < 0.5:
        writer: JsonWriter | LogfmtWriter = JsonWriter(rng)
        write_lines(out / "app" / "api.jsonl", (writer.line(r) for r in recs))
    else:
        writer = LogfmtWriter(rng)
        write_lines(out / "app" / "api.log", (writer.line(r) for r in recs))
    if rng.random() < 0.5:
        write_lines(out / "nginx" / "access.log", (line for _, line in access))
    _releases(out, rng, start, onset)
    return Truth(refund, created_key, cutoff, onset, background)


def _releases(out: Path, rng: random.Random, start: datetime, onset: datetime) -> None:
    """A deploy list with an unrelated service released a day before the onset."""
    rows = ["service,version,deployed_at"]
    t = start + timedelta(hours=2)
    for i in range(3):
        rows.append(f"search,1.{i + 3}.0,{iso(t, 0)}")
        t += timedelta(hours=rng.randrange(6, 12))
    rows.append(f"notifications,4.2.{rng.randrange(9)},{iso(onset - timedelta(hours=20), 0)}")
    write_lines(out / "deploys.csv", rows)


if __name__ == "__main__":  # pragma: no cover - manual inspection
    import sys

    print(generate(Path(sys.argv[1]), int(sys.argv[2])), datetime.now(UTC))
