"""A Google Cloud load balancer's request log (Cloud Logging export) investigated end to end.

Its ``httpRequest`` fields are requests; ``jsonPayload.statusDetails`` says how
each ended (``backend_timeout`` for every 504, ``response_sent_by_backend``
otherwise), which restates the failure: the story names the route, not it.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from casework.contrast import OUTCOME_NAME
from casework.pipeline import investigate

ONSET = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def lb_log(rng: random.Random) -> tuple[str, int, int]:
    """Eighty minutes of requests; PDF downloads time out at the backend from ONSET."""
    ts, lines, timeouts = ONSET - timedelta(hours=1), [], 0
    for _ in range(6000):
        ts += timedelta(milliseconds=rng.randint(100, 1500))
        path = rng.choice(["/v2/invoices", "/v2/customers", "/v2/invoices/{}/pdf", "/healthz"])
        path = path.format(rng.randint(10000, 99999))
        status, latency, details = 200, rng.uniform(0.01, 0.4), "response_sent_by_backend"
        if path.endswith("/pdf") and ts >= ONSET and rng.random() < 0.35:
            status, latency, details = 504, 60.0 + rng.uniform(0, 0.01), "backend_timeout"
            timeouts += 1
        elif rng.random() < 0.01:
            status = 404
        lines.append(json.dumps({
            "insertId": f"{rng.getrandbits(48):012x}",
            "httpRequest": {"requestMethod": "GET", "requestUrl": f"https://billing.example.com{path}",
                            "status": status, "responseSize": str(rng.randint(100, 90000)),
                            "userAgent": rng.choice(["Mozilla/5.0", "billing-cli/2.1"]),
                            "remoteIp": f"198.51.100.{rng.randint(1, 250)}",
                            "latency": f"{latency:.6f}s", "protocol": "HTTP/1.1"},
            "resource": {"type": "http_load_balancer", "labels": {"project_id": "billing-prod"}},
            "timestamp": ts.isoformat().replace("+00:00", "Z"),
            "severity": "ERROR" if status >= 500 else "INFO",
            "jsonPayload": {"statusDetails": details},
        }))  # fmt: skip
    return "\n".join(lines) + "\n", len(lines), timeouts


def test_a_load_balancer_log_tells_the_route_that_times_out(tmp_path: Path) -> None:
    log, total, timeouts = lb_log(random.Random(17))
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "lb-requests.json").write_text(log)
    found = investigate(tmp_path / "bundle", tmp_path / "case").findings
    con = duckdb.connect(str(tmp_path / "case" / "case.duckdb"), read_only=True)
    requests, slow = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE duration_ms >= 60000) FROM requests"
    ).fetchone()  # type: ignore[misc]
    con.close()
    assert (requests, slow) == (total, timeouts)
    top = found[0]
    assert top.key == "INCIDENT" and "HTTP 504 on GET /v2/invoices/{id}/pdf" in top.title
    assert f"({timeouts} of " in top.title
    # How a request ended is not whom the failure hits.
    assert not [f for f in found if f.key == "FAILURE_COHORT" and "statusDetails" in f.title]
    assert [f.key for f in found].count("INCIDENT") == 1


@pytest.mark.parametrize(
    ("key", "outcome"),
    [
        ("jsonPayload.statusDetails", True),
        ("error.type", True),
        ("ctx.err.code", True),
        ("result", True),
        ("http.response_code", True),
        ("merchant.country_code", False),  # may select whom it hits: stays a cohort candidate
        ("refund_reason", False),
        ("customer.tier", False),
    ],
)
def test_outcome_fields_are_named_for_how_a_request_ended(key: str, outcome: bool) -> None:
    assert bool(re.search(OUTCOME_NAME, key)) is outcome
