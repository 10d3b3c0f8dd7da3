"""A server node whose clock runs behind, seen from the browser: its Date headers lag."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from casework.analyzers.har_clock_skew import MIN_SKEW_S, har_clock_skew
from netgen import har_entry, load_case, write_har

T0 = datetime(2024, 5, 14, 10, 11, 36, 118000, tzinfo=UTC)


def _entry(at: timedelta, url: str, status: int, node: str, lag: float, **headers: str) -> dict:
    sent = T0 + at
    date = format_datetime((sent + timedelta(seconds=lag)).replace(microsecond=0), usegmt=True)
    started = sent.strftime("%Y-%m-%dT%H:%M:%S.") + f"{sent.microsecond // 1000:03d}Z"
    return har_entry(started, "GET", url, status, time=45.0,
                     resp_headers={"Date": date, "X-Served-By": node, **headers})  # fmt: skip


def test_the_node_whose_date_lags_is_named_with_its_lag(tmp_path: Path) -> None:
    api = "https://api.example.com/v1/me"
    good = [_entry(timedelta(seconds=10 * i), api, 200, f"gw-{1 + i % 2}", 0.0) for i in range(8)]
    bad = [_entry(timedelta(seconds=5 + 20 * i), api, 401, "gw-3", -89.0) for i in range(3)]
    # A CDN's cached copy keeps the Date of when it was stored: not a clock.
    cached = _entry(timedelta(seconds=2), "https://api.example.com/logo.png", 200, "cdn-1",
                    -3600.0, Age="3600")  # fmt: skip
    case = load_case(tmp_path, [write_har(tmp_path / "login.har", [*good, *bad, cached])])
    found = list(har_clock_skew.run(case))
    assert [f.entities["node"] for f in found] == ["gw-3"], [f.title for f in found]
    f = found[0]
    # Sent at hh:mm:ss.118 and dated 89 s before the whole second: 89.1 s behind.
    assert f.stats["skew_seconds"] == -89.1
    assert (f.stats["off"], f.stats["responses"], f.stats["refused"]) == (3, 3, 3)
    assert (f.stats["peers_in_sync"], f.stats["peers"]) == (8, 8)
    assert f.severity == "high" and "behind" in f.title


def test_dates_within_the_request_s_second_are_in_sync(tmp_path: Path) -> None:
    """A Date truncated to the second, from a slow response ending in the next second: in sync."""
    api = "https://api.example.com/v1/feed"
    entries = [_entry(timedelta(seconds=i, milliseconds=950), api, 200, "gw-1", 0.9)
               for i in range(5)]  # fmt: skip
    case = load_case(tmp_path, [write_har(tmp_path / "feed.har", entries)])
    assert list(har_clock_skew.run(case)) == []


def test_a_real_har_names_the_servers_whose_dates_lag_by_what_the_file_says(tmp_path: Path) -> None:
    """cnn.com's HAR (Chrome, 2017): most servers date their answers within the request's
    second; the oracle reads each response's Date and start from the file."""
    real = Path(__file__).resolve().parents[2] / "shared/data/har/haralyzer__cnn-chrome.har"
    doc = json.loads(real.read_text(encoding="utf-8-sig"))
    lags: dict[str, list[float]] = defaultdict(list)
    for e in doc["log"]["entries"]:
        headers = {h["name"].lower(): h["value"] for h in e["response"]["headers"]}
        if "date" not in headers or "age" in headers:
            continue
        start = datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00")).timestamp()
        said = parsedate_to_datetime(headers["date"]).timestamp()
        if said - start <= -MIN_SKEW_S:  # behind; no response here is ahead
            lags[urlsplit(e["request"]["url"]).hostname or ""].append(said - start)
    case = load_case(tmp_path, [real])
    found = {f.entities["host"]: f for f in har_clock_skew.run(case)}
    assert lags and set(found) == set(lags)
    for host, f in found.items():
        assert f.stats["off"] == len(lags[host])
        assert f.severity in ("low", "medium")  # no server refused anything for it
