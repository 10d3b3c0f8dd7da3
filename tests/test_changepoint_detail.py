"""A rise says what its records are, beyond their count. A template shift names the HTTP
status its new records have when the template's records carry several: a gateway's "request
rejected" is 401s on the box whose clock went wrong and a partner's 429s on the others (found
by a new-user check on a clock-skew bundle). A latency shift gives the slow requests' median
and the route's before: a pool that times out after 30 s makes them 30 s (the pool bundle)."""

from __future__ import annotations

import json
import random
import re
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.findings import Finding
from casework.pipeline import investigate

T0 = datetime(2026, 5, 14, 8, 0, tzinfo=UTC)
ONSET_401 = T0 + timedelta(minutes=100)
ONSET_429 = T0 + timedelta(minutes=140)


def gateway(rng: random.Random, box: str, *, skewed: bool) -> str:
    """Three hours of one gateway's JSON access log: ordinary traffic; a background of
    rejections (mostly 401s, some 429s); from ONSET_401 a quarter of this box's logins fail
    with 401 when ``skewed``; from ONSET_429 a partner's batch is throttled on every box."""
    lines, t = [], T0
    while t < T0 + timedelta(hours=3):
        t += timedelta(milliseconds=rng.randint(200, 1200))
        path, status, msg, err = (
            rng.choice(["/v1/orders", "/v1/me", "/v1/cart"]),
            200,
            "request ok",
            None,
        )
        roll = rng.random()
        if roll < 0.006:
            status, msg = rng.choice([401, 401, 401, 429]), "request rejected"
            err = "token expired" if status == 401 else "rate limited"
        elif skewed and t >= ONSET_401 and path == "/v1/me" and roll < 0.3:
            status, msg, err = 401, "request rejected", "iat in the future"
        client = "web"
        if t >= ONSET_429 and rng.random() < 0.12:
            path, status, msg, err, client = (
                "/v1/reports",
                429,
                "request rejected",
                "rate limited",
                "partner-batch",
            )
        record = {"ts": t.isoformat(), "level": "warn" if status >= 400 else "info", "msg": msg,
                  "gateway": box, "http": {"method": "GET", "path": path, "status": status},
                  "latency_ms": rng.randint(2, 90), "client_id": client}  # fmt: skip
        if err:
            record["error"] = err
        lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


def _template_shifts(tmp_path: Path) -> dict[str, Finding]:
    rng = random.Random(5)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for box in ("gw-1", "gw-2", "gw-3"):
        (bundle / f"{box}.access.jsonl").write_text(gateway(rng, box, skewed=box == "gw-3"))
    found = investigate(bundle, tmp_path / "case").findings
    return {
        str(f.entities["file"]): f
        for f in found
        if f.key == "CHANGEPOINT_TEMPLATE"
        and "request rejected" in f.title
        and f.stats["increased"]
    }


def test_each_box_s_rise_of_rejections_names_its_own_status(tmp_path: Path) -> None:
    shifts = _template_shifts(tmp_path)
    skewed = shifts["gw-3.access.jsonl"]
    assert abs(skewed.stats["onset_epoch"] - ONSET_401.timestamp()) < 300
    assert "HTTP 401 in the first 30 minutes" in skewed.title
    for box in ("gw-1", "gw-2"):
        throttled = shifts[f"{box}.access.jsonl"]
        assert abs(throttled.stats["onset_epoch"] - ONSET_429.timestamp()) < 300
        assert "HTTP 429 in the first 30 minutes" in throttled.title
        assert "HTTP 401" not in throttled.title


def test_a_latency_rise_gives_the_slow_requests_median_and_the_route_s_before(
    tmp_path: Path,
) -> None:
    """Orders are read in 20-80 ms until a release shrinks the pool; from then a third of them
    wait for a connection until the pool gives up, about 30 s later."""
    rng = random.Random(8)
    onset = T0 + timedelta(minutes=150)  # the last half hour: the p90 stays the fast ones'
    lines, slow, fast_before, t = [], [], [], T0
    while t < T0 + timedelta(hours=3):
        t += timedelta(milliseconds=rng.randint(100, 700))
        ms = rng.randint(20, 80)
        if t >= onset and rng.random() < 0.33:
            ms = 30_000 + rng.randint(-40, 40)
            if t < onset + timedelta(minutes=30):
                slow.append(ms)
        elif t < onset:
            fast_before.append(ms)
        status = 500 if ms >= 30_000 else 200
        lines.append(json.dumps({"@timestamp": t.isoformat(), "level": "INFO", "message": "handled",
                                 "http": {"method": "GET", "route": "/api/orders/{id}",
                                          "status_code": status}, "duration_ms": ms}))  # fmt: skip
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "orders.jsonl").write_text("\n".join(lines) + "\n")
    found = investigate(bundle, tmp_path / "case").findings
    shift = next(f for f in found if f.key == "CHANGEPOINT_LATENCY")
    m = re.search(
        r"the slow ones' median ([\d,]+) ms in the first 30 minutes, all requests' ([\d,]+) ms before",
        shift.title,
    )
    assert m is not None, shift.title
    # The found onset may differ from ours by a few seconds, so the medians are over nearly
    # the same requests: within the slow ones' spread (±40 ms), and 2 ms for the fast ones.
    assert abs(int(m[1].replace(",", "")) - statistics.median(slow)) <= 40
    assert abs(int(m[2].replace(",", "")) - statistics.median(fast_before)) <= 2
