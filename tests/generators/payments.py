"""Case 2: 0.3% of payments fail for some merchants after one release, over 30 days of rotated logfmt logs.

After one release (listed among several in a releases file, and announced
by a "Starting payments version X" line), payments of two merchant category
codes fail with a timestamp parse error: the acquirer's timestamps for them
now carry 7 fractional digits. A daily burst of upstream timeouts at a fixed
hour is unrelated and larger.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from generators.common import (
    LogfmtWriter,
    Rec,
    arrivals,
    day_start,
    iso,
    lognormal_ms,
    pick,
    request_id,
    write_lines,
    write_rotated,
)

MCC_KEYS = ("mcc", "merchant_category", "merchant.mcc", "category_code")
MERCHANT_KEYS = ("merchant_id", "merchant", "mid")
AUTH_TS_KEYS = ("network_ts", "acquirer_time", "auth.timestamp")
MCCS = (
    "5411",
    "5812",
    "5814",
    "5912",
    "4111",
    "5541",
    "5999",
    "7011",
    "5732",
    "5311",
    "4814",
    "5651",
    "5691",
    "5942",
    "7832",
    "5462",
    "5499",
    "8099",
    "4121",
    "5813",
)


@dataclass(frozen=True)
class Truth:
    mcc_key: str
    bad_codes: tuple[str, ...]
    version: str
    release_at: datetime
    onset: datetime
    burst_hour: int


def generate(out: Path, seed: int, rate: float = 0.015) -> Truth:
    rng = random.Random(seed)
    start = day_start(rng)
    end = start + timedelta(days=30)
    mcc_key, merchant_key = pick(rng, MCC_KEYS), pick(rng, MERCHANT_KEYS)
    auth_key = pick(rng, AUTH_TS_KEYS)
    bad = tuple(sorted(rng.sample(MCCS[1:], 2)))
    weights = [0.0 if m in bad else 1.0 for m in MCCS]
    releases = _releases(rng, start)
    candidates = [
        i
        for i, (v, _) in enumerate(releases)
        if v.startswith("payments ") and 2 <= i < len(releases) - 1
    ]
    culprit_i = pick(rng, candidates)
    version, release_at = releases[culprit_i]
    onset = release_at + timedelta(minutes=rng.randrange(4, 25))
    burst_hour = rng.randrange(0, 24)
    merchants = [f"m_{rng.randrange(10**6):06d}" for _ in range(1500)]
    mcc_of = {m: rng.choices(MCCS, weights)[0] for m in merchants}
    # The failing codes' merchants must exist in numbers; give each its own merchants.
    for code in bad:
        for _ in range(12):
            m = f"m_{rng.randrange(10**6):06d}"
            merchants.append(m)
            mcc_of[m] = code
    cum, acc = [], 0.0
    for m in merchants:
        # Merchants of the two codes carry about 0.7% of payments.
        acc += 0.45 if mcc_of[m] in bad else 1.0
        cum.append(acc)
    recs: list[Rec] = []
    for ts in arrivals(rng, start, end, rate):
        m = rng.choices(merchants, cum_weights=cum)[0]
        code = mcc_of[m]
        digits = 7 if code in bad and ts >= onset else 3
        auth = iso(ts - timedelta(milliseconds=rng.randrange(50, 900)), digits)
        fields = {
            "method": "POST",
            "path": "/v1/payments",
            "status": 200,
            "duration_ms": lognormal_ms(rng, 120),
            merchant_key: m,
            mcc_key: code,
            "amount": f"{rng.lognormvariate(3.2, 1.1):.2f}",
            "currency": pick(rng, ("EUR", "USD")),
            "card_brand": pick(rng, ("visa", "mastercard", "amex")),
            auth_key: auth,
            "req_id": request_id(rng),
        }
        level, msg = "info", "payment authorized"
        if digits == 7:
            level, msg = "error", "payment failed"
            fields["status"] = 500
            fields["err"] = (
                f'parsing time "{auth}" as "2006-01-02T15:04:05.000Z07:00": cannot parse "4Z" as "Z07:00"'
            )
        elif ts.hour == burst_hour and ts.minute < 12 and rng.random() < 0.5:
            level, msg = "error", "payment failed"
            fields["status"] = 504
            fields["duration_ms"] = 30000.0
            fields["err"] = "upstream timeout after 30s (acquirer)"
        recs.append(Rec(ts, level, msg, fields))
    for v, at in releases:
        if v.startswith("payments "):
            recs.append(
                Rec(
                    at + timedelta(seconds=40),
                    "info",
                    f"Starting payments version {v.split()[1]}",
                    {"pid": rng.randrange(10**4)},
                )
            )
    writer = LogfmtWriter(rng)
    lines = [(r.ts, writer.line(r)) for r in recs]
    write_rotated(out / "logs", "payments.log", lines, files=5)
    _write_releases(out, rng, releases)
    return Truth(mcc_key, bad, version.split()[1], release_at, onset, burst_hour)


def _releases(rng: random.Random, start: datetime) -> list[tuple[str, datetime]]:
    out = []
    t = start + timedelta(days=1, hours=rng.randrange(8, 18))
    minor = rng.randrange(5, 15)
    while t < start + timedelta(days=29):
        service = "payments" if rng.random() < 0.7 else pick(rng, ("ledger", "gateway"))
        minor += 1
        out.append((f"{service} 2.{minor}.{rng.randrange(4)}", t))
        t += timedelta(days=rng.randrange(2, 5), hours=rng.randrange(-4, 5))
    # The culprit must be a payments release.
    return [
        (v if i % 2 else v.replace("ledger", "payments").replace("gateway", "payments"), at)
        for i, (v, at) in enumerate(out)
    ]


def _write_releases(out: Path, rng: random.Random, releases: list[tuple[str, datetime]]) -> None:
    if rng.random() < 0.5:
        rows = ["version,service,released_at,author"]
        rows += [
            f"{v.split()[1]},{v.split()[0]},{iso(at, 0)},dev{rng.randrange(9)}"
            for v, at in releases
        ]
        write_lines(out / "releases.csv", rows)
    else:
        rows = [
            json.dumps(
                {
                    "service": v.split()[0],
                    "tag": "v" + v.split()[1],
                    "deployed_at": iso(at, 0),
                    "env": "prod",
                }
            )
            for v, at in releases
        ]
        write_lines(out / "releases.jsonl", rows)
