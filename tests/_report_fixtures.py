"""A small synthetic case store for the analyzer and renderer tests (built with the Store writer).

Four hours of traffic: ``GET /v1/catalog`` fails with 502 at a constant
background rate; ``POST /v1/refunds`` starts failing with 500 for a share of
requests at ``onset``; the app log has one error per refund failure, a warning
that is always there (with a mined template id) and info lines.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.analyzers.error_signatures import error_signatures
from casework.analyzers.http_status import http_status
from casework.case import Case
from casework.engine import AnalyzerRun, run_analyzers
from casework.findings import Finding, Window
from casework.inventory import FileEntry
from casework.investigation import Investigation
from casework.rank import rank
from casework.store import Store

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOURS = 4
WARN_TEMPLATE = "t-slowcall"


def build_case(
    path: Path,
    *,
    background_502: float = 0.005,
    burst_500: float = 0.4,
    onset_fraction: float = 0.6,
    refund_502: float = 0.0,
    seed: int = 7,
) -> Window:
    rng = random.Random(seed)
    store = Store(path)
    end = T0 + timedelta(hours=HOURS)
    onset = T0 + (end - T0) * onset_fraction
    ts, line, app_line = T0, 0, 0
    while ts < end:
        line += 1
        app_line += 1
        if rng.random() < 0.85:
            status = 502 if rng.random() < background_502 else 200
            _request(store, ts, line, "GET", "/v1/catalog", status)
        else:
            failing = ts >= onset and rng.random() < burst_500
            background = refund_502 > 0 and not failing and rng.random() < refund_502
            status = 500 if failing else (502 if background else 201)
            _request(store, ts, line, "POST", "/v1/refunds", status)
            if failing:
                account = f"acct_{rng.getrandbits(24):06x}"
                message = (
                    f"Refund failed for account {account} after {rng.randint(20, 90)} ms\n"
                    "java.lang.IllegalStateException: no fee schedule\n"
                    "\tat com.example.Fees.forTier(Fees.java:88)"
                )
                _event(store, ts, app_line, "ERROR", message, lines=3)
                app_line += 2
        if line % 30 == 0:
            app_line += 1
            text = f"inventory-svc slow response: {rng.randint(510, 990)} ms"
            _event(store, ts, app_line, "WARN", text, template=WARN_TEMPLATE)
        app_line += 1
        _event(store, ts, app_line, "INFO", "request completed")
        ts += timedelta(seconds=rng.expovariate(1 / 2.0))
    store.add(
        "templates",
        (WARN_TEMPLATE, "inventory-svc slow response: <NUM> ms", "WARN", 0, T0, end, False),
    )
    store.add(
        "changes",
        (
            onset - timedelta(minutes=1),
            "release",
            "refund-service",
            "2.14.3",
            "releases.csv",
            5,
            None,
        ),
    )
    store.close()
    return Window(T0, end)


def _request(store: Store, ts: datetime, line: int, method: str, route: str, status: int) -> None:
    store.add(
        "requests",
        (
            ts,
            "nginx",
            "nginx/access.log",
            line,
            method,
            "shop",
            route,
            route,
            status,
            12.5,
            512,
            "10.0.0.1",
            None,
        ),
    )


def _event(
    store: Store,
    ts: datetime,
    line: int,
    level: str,
    message: str,
    template: str | None = None,
    lines: int = 1,
) -> None:
    store.add(
        "events",
        (
            "app/app.log",
            line,
            line + lines - 1,
            ts,
            level,
            "checkout",
            "app",
            message,
            template,
            {"k": "v"},
        ),
    )


def analyze(path: Path) -> tuple[list[Finding], list[AnalyzerRun]]:
    case = Case.open(str(path))
    try:
        findings, runs = run_analyzers(case, (http_status, error_signatures))
    finally:
        case.con.close()
    return rank(findings), runs


def investigation(path: Path, out: Path, window: Window) -> Investigation:
    findings, runs = analyze(path)
    # A fixed clock: run times are set so rendered output is the same on every run.
    runs = [AnalyzerRun(r.key, r.status, 0.0125, r.findings, r.reason) for r in runs]
    runs.append(AnalyzerRun("trace_latency", "skipped", 0.0, 0, "no spans in this bundle"))
    inventory = [
        FileEntry(
            path="nginx/access.log",
            bytes=812_345,
            kind="nginx-access",
            category="http",
            status="parsed",
            records=7000,
            first_ts=window.start,
            last_ts=window.end,
            tz="from the file",
            redactions=Counter({"jwt": 2}),
        ),
        FileEntry(
            path="app/app.log",
            bytes=402_000,
            kind="jsonlines",
            category="log",
            status="partial",
            reason="line 17: invalid JSON (1 record skipped)",
            records=7300,
            tz="UTC (assumed)",
            first_ts=window.start,
            last_ts=window.end,
            redactions=Counter({"password": 1, "jwt": 1}),
        ),
        FileEntry(
            path="core.bin",
            bytes=4096,
            status="skipped",
            reason="binary content, not a known format",
        ),
    ]
    return Investigation(
        bundle="bundle-48213.zip",
        out=out,
        case_path=path,
        inventory=inventory,
        findings=findings,
        runs=runs,
        window=window,
        redactions=Counter({"jwt": 3, "password": 1}),
        seconds=1.5,
        phases={"read": 0.9, "merge": 0.25, "analysis": 0.35},
    )
