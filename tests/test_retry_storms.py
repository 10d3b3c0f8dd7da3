"""A retry storm is one client sending the same request again at once, not a busy identity.

An nginx access log stamps whole seconds and names a client by its user agent: in the
minutes a database pool runs dry, thousands of browsers sharing five user agents get 503s
and their next requests follow within the second, which is traffic, not retries."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.findings import Finding
from casework.pipeline import Options, investigate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generators.common import nginx_line

START = datetime(2026, 5, 4, 13, 0, tzinfo=UTC)
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/125.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.4.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/125.0 Mobile",
)
ROUTES = ("/api/v1/cart", "/api/v1/orders", "/api/v1/checkout", "/api/v1/products/{n}")
SDK = "acme-orders-sdk/2.3.1 (python 3.12)"
HOST = "198.51.100.20"


def _shop(path: Path, rng: random.Random, storm: bool, instances: int = 1) -> int:
    """An hour of shop traffic from 400 browsers, with two 4-minute windows in which half the
    requests that need the database get 503 after 30 s (no Retry-After). With ``storm``, an SDK client also calls
    every few seconds from one host and answers each 503 by sending the same request again
    five times within the second. With ``instances``, a balancer spreads the requests over
    that many servers, each writing its own log (``access-1.log`` …). Returns the SDK's 503s."""
    lines: list[tuple[datetime, str]] = []
    dry = [(START + timedelta(minutes=m), START + timedelta(minutes=m + 4)) for m in (17, 41)]

    def status(t: datetime, route: str) -> int:
        # The routes that need the database fail; product pages come from a cache.
        db = route in ("/api/v1/checkout", "/api/v1/orders")
        return 503 if db and any(a <= t < b for a, b in dry) and rng.random() < 0.5 else 200

    t = START
    while t < START + timedelta(hours=1):
        t += timedelta(milliseconds=rng.randint(20, 180))
        ip = f"10.{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(2, 11)}"
        route = rng.choice(ROUTES).replace("{n}", str(rng.randint(1, 5000)))
        code = status(t, route)
        rt = 30.0 if code == 503 else rng.uniform(0.02, 0.3)
        lines.append((t, nginx_line(t, ip, "GET", route, code, 512, rng.choice(BROWSERS), rt)))
    failed = 0
    t = START
    while storm and t < START + timedelta(hours=1):
        t += timedelta(seconds=rng.uniform(3, 8))
        code = status(t, "/api/v1/orders")
        lines.append((t, nginx_line(t, HOST, "POST", "/api/v1/orders", code, 80, SDK,
                                    30.0 if code == 503 else 0.1)))  # fmt: skip
        if code == 503:
            failed += 1
            for k in range(5):
                again = t + timedelta(milliseconds=120 * (k + 1))
                lines.append((again, nginx_line(again, HOST, "POST", "/api/v1/orders",
                                                503, 80, SDK, 30.0)))  # fmt: skip
                failed += 1
    lines.sort(key=lambda x: x[0])
    if instances == 1:
        path.write_text("".join(text + "\n" for _, text in lines))
        return failed
    logs: list[list[str]] = [[] for _ in range(instances)]
    for _, text in lines:
        logs[rng.randrange(instances)].append(text + "\n")
    for k, written in enumerate(logs, start=1):
        path.with_name(f"{path.stem}-{k}{path.suffix}").write_text("".join(written))
    return failed


def _storms(tmp: Path, storm: bool, instances: int = 1) -> tuple[list[Finding], int]:
    bundle = tmp / "bundle"
    bundle.mkdir()
    failed = _shop(bundle / "access.log", random.Random(4), storm, instances)
    found = investigate(bundle, tmp / "out", Options(workers=1)).findings
    return [f for f in found if f.key == "RETRY_STORM"], failed


def test_browsers_sharing_a_user_agent_are_not_a_retry_storm(tmp_path: Path) -> None:
    storms, _ = _storms(tmp_path, storm=False)
    assert storms == [], [f.title for f in storms]


def test_a_client_sending_the_same_request_again_at_once_is_one(tmp_path: Path) -> None:
    storms, failed = _storms(tmp_path, storm=True)
    # Its user agent and its address select the same requests: either names it.
    assert [f.entities["client"] in (SDK, HOST) for f in storms] == [True], [
        f.title for f in storms
    ]
    f = storms[0]
    assert f.stats["throttled"] == failed
    # Five of each six 503s are followed by the same request within the second.
    assert f.stats["retried_at_once"] >= 0.8 * failed * 5 / 6
    assert "HTTP 503" in f.title and "429" not in f.title + f.summary
    # The browsers are throttled too; none is said to wait a billion seconds.
    assert "1000000000" not in f.summary


def test_a_client_behind_a_balancer_is_one_client_over_every_server_s_log(tmp_path: Path) -> None:
    """The same storm, its requests spread over three servers' logs: its next request often
    reaches another server than the one that throttled it. One finding counts all its 503s."""
    storms, failed = _storms(tmp_path, storm=True, instances=3)
    assert len(storms) == 1, [f.title for f in storms]
    f = storms[0]
    assert f.stats["throttled"] == failed
    assert f.entities["file"] == "access-1.log, access-2.log, access-3.log"
    assert f.stats["retried_at_once"] >= 0.8 * failed * 5 / 6
