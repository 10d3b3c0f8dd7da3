"""Bug reports on the example bundle: golden Markdown, Jira and GitHub output, and impact numbers re-counted.

The goldens pin the analyzers to ``http_status`` and ``error_signatures`` so
a change in another analyzer does not churn them (tests/test_update.py runs
the default analyzers and checks the bug report still counts its impact).
Regenerate with ``CASEWORK_REGEN=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from casework.analyzers.error_signatures import error_signatures
from casework.analyzers.http_status import http_status
from casework.bugreport import BugReport, load_case, render, report_for_case
from casework.bugreport.scope import inline
from casework.pipeline import investigate

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "checkout-incident"
GOLDEN = Path(__file__).parent / "fixtures" / "bugreport"
REGEN = os.environ.get("CASEWORK_REGEN") == "1"
#: Planted (fake) secrets of the example bundle; none may reach a bug report or a script.
PLANTED = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "eyJhbGciOi", "hunter2", "s3cr3t")
ERROR_LEVELS = {"ERROR", "FATAL", "CRITICAL", "SEVERE", "ALERT", "EMERG", "PANIC"}


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bugreport") / "case"
    investigate(EXAMPLE, out, analyzers=[http_status, error_signatures])
    return out


@pytest.fixture(scope="module")
def report(case: Path) -> BugReport:
    return report_for_case(case)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("md", "checkout.md"), ("jira", "checkout.jira"), ("github", "checkout.github.md")],
)
def test_golden(report: BugReport, fmt: str, name: str) -> None:
    text = render(report, fmt)  # type: ignore[arg-type]
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), (
        f"{name} changed; rerun with CASEWORK_REGEN=1 and review the diff"
    )


def test_investigate_writes_the_markdown_report(case: Path, report: BugReport) -> None:
    assert (case / "bugreport.md").read_text() == render(report, "md")


def test_formats_use_their_own_markup(report: BugReport) -> None:
    jira, github = render(report, "jira"), render(report, "github")
    assert (
        jira.startswith("h1. ")
        and "\nh2. Impact\n" in jira
        and "||number||value||meaning||" in jira
    )
    assert "{code:sql}" in jira and "```" not in jira
    assert (
        github.startswith("<!-- title: ")
        and "<details><summary>" in github
        and "### Steps to reproduce" in github
    )


def test_report_is_specific_and_complete(report: BugReport) -> None:
    assert (
        "/v1/refunds" in report.title
        and "500" in report.title
        and any(c.isdigit() for c in report.title)
    )
    md = render(report, "md")
    for heading in (
        "Summary",
        "Impact",
        "Environment",
        "Steps to reproduce",
        "Expected vs actual",
        "Evidence",
        "Timeline",
        "Hypothesis",
        "Workaround",
    ):
        assert f"## {heading}" in md
    assert "refund-service version | 2.14.3" in md  # what ran when the failures started
    assert "IllegalStateException" in md  # the stack trace from the corroborating finding
    assert "Roll back refund-service to 2.14.2" in md
    assert report.repro is not None and report.repro.script_py in md


def test_no_secret_reaches_the_report_or_scripts(case: Path, report: BugReport) -> None:
    texts = [render(report, f) for f in ("md", "jira", "github")]
    texts += [p.read_text() for p in (case / "repro").iterdir()]
    assert not [s for s in PLANTED for t in texts if s in t]


def test_every_stored_query_gives_its_number(case: Path, report: BugReport) -> None:
    _, con = load_case(case)
    with con:
        for n in report.impact.numbers:
            value = _one(con, n.sql, n.params)
            if n.name == "ongoing":
                value = bool(value)
            elif isinstance(value, datetime):
                value = value.isoformat().replace("+00:00", "Z")
            elif isinstance(value, float):
                value = round(value, 6)
            assert _norm(value) == _norm(n.value), n.name
            # The query shown in the report runs as printed.
            assert _norm(_shown(con, n.sql, n.params, n.name)) == _norm(n.value), n.name


def test_impact_numbers_match_an_independent_count(case: Path, report: BugReport) -> None:
    """Re-count every impact number with queries written here, from the finding's route alone."""
    doc = json.loads((case / "findings.json").read_text())
    top = next(f for f in doc["findings"] if f["id"] == report.finding.id)
    method, path = top["entities"]["route"].split(" ", 1)
    file = top["entities"]["file"]
    con = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    with con:
        rows = con.execute(
            "SELECT ts, status FROM requests WHERE method = ? AND route = ? AND file = ?",
            [method, path, file],
        ).fetchall()
        all_requests = _one(con, "SELECT count(*) FROM requests")
        end = max(
            _one(con, "SELECT max(ts) FROM events"),
            _one(con, "SELECT max(ts) FROM requests"),
        )
        events = con.execute("SELECT level, attrs FROM events WHERE attrs IS NOT NULL").fetchall()
        in_scope = con.execute(
            "SELECT attrs FROM requests WHERE method = ? AND route = ? AND file = ?",
            [method, path, file],
        ).fetchall()
    failed = sorted(ts for ts, status in rows if status >= 500)
    first, last = failed[0], failed[-1]
    since = sum(1 for ts, _ in rows if ts >= first)
    expected: dict[str, Any] = {
        "failing": len(failed),
        "volume": len(rows),
        "volume_since_first_failure": since,
        "share_since_first_failure": round(len(failed) / since, 6),
        "share_of_all": round(len(failed) / all_requests, 6),
        "first_failure": first,
        "last_failure": last,
        "evidence_end": end,
        "failing_in_last_15_min": sum(1 for ts in failed if ts > end - timedelta(minutes=15)),
        "succeeded_before_first_failure": sum(1 for ts, s in rows if ts < first and s < 500),
        "ongoing": any(ts > end - timedelta(minutes=15) for ts in failed),
    }
    on_route, failing_logs = [], []
    for level, attrs in events:
        a = json.loads(attrs)
        if not any(k.endswith("path") and v == path for k, v in a.items()):
            continue
        on_route.append(a)
        codes = [
            v for k, v in a.items() if k.split(".")[-1] in ("status", "code") and isinstance(v, int)
        ]
        if (level or "").upper() in ERROR_LEVELS or any(c >= 500 for c in codes):
            failing_logs.append(a)
    expected["correlated_log_records"] = len(failing_logs)
    expected["distinct:ctx.account.id"] = len(
        {a["ctx.account.id"] for a in failing_logs if "ctx.account.id" in a}
    )
    on_route += [json.loads(attrs) for (attrs,) in in_scope if attrs]
    expected["population:ctx.account.id"] = len(
        {a["ctx.account.id"] for a in on_route if "ctx.account.id" in a}
    )
    got = {n.name: n.value for n in report.impact.numbers}
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert _norm(got[name]) == _norm(value), name
    assert sum(report.impact.series) == expected["failing"]  # the chart counts the same records
    # The headline numbers in the text are these numbers.
    assert f"{expected['failing']} of {since}" in render(report, "md")


def test_unknown_finding_is_one_clear_error(case: Path) -> None:
    from click.testing import CliRunner

    from casework.cli import main

    result = CliRunner().invoke(main, ["bugreport", str(case), "--finding", "nope", "--no-repro"])
    assert result.exit_code == 1 and result.output.startswith("casework: no finding 'nope'")
    ok = CliRunner().invoke(main, ["bugreport", str(case), "--format", "jira", "--no-repro"])
    assert ok.exit_code == 0 and ok.output.startswith("h1. ")


def _shown(con: duckdb.DuckDBPyConnection, sql: str, params: tuple[Any, ...], name: str) -> Any:
    value = _one(con, inline(sql, params))
    if name == "ongoing":
        return bool(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return round(value, 6) if isinstance(value, float) else value


def _norm(value: Any) -> Any:
    """Timestamps as aware datetimes and floats to 6 places, so both sides compare alike."""
    if isinstance(value, str) and value[:4].isdigit() and "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, float):
        return round(value, 6)
    return value


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = con.execute(sql, list(params)).fetchone()
    assert row is not None
    return row[0]


def test_a_directory_that_is_not_a_case_exits_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from casework.cli import main

    for command in ("bugreport", "update"):
        result = CliRunner().invoke(main, [command, str(tmp_path)])
        assert result.exit_code == 2 and "not a case directory" in result.output
    (tmp_path / "findings.json").write_text("{not json")
    (tmp_path / "case.duckdb").write_bytes(b"")
    result = CliRunner().invoke(main, ["bugreport", str(tmp_path)])
    assert result.exit_code == 2 and "findings.json is not valid JSON" in result.output


@pytest.mark.parametrize("route", ["/v1/refunds", '/v1/say "hi"', "/v1/naïve\\path", "/v1/a\tb"])
def test_correlated_events_are_the_ones_whose_route_attribute_matches(
    tmp_path: Path, route: str, request: pytest.FixtureRequest
) -> None:
    """The correlated records' predicate first searches the JSON text for the route as JSON
    writes it (escapes included); it selects exactly the events a route attribute matches."""
    from casework.bugreport.scope import _correlated
    from casework.store import Store

    store = Store(tmp_path / "case.duckdb")
    rows = [
        ({"http.path": route, "http.status": 503}, "INFO"),  # correlated
        ({"ctx.http.path": route}, "ERROR"),  # correlated
        ({"http.path": route + "/x", "http.status": 500}, "ERROR"),  # another route
        ({"note": route, "http.path": "/other"}, "ERROR"),  # mentions it, other route
        ({"http.path": route, "http.status": 200}, "INFO"),  # on the route, no failure
    ]
    for line, (attrs, level) in enumerate(rows, 1):
        store.add("events", ("app.log", line, line, None, level, None, None, "m", None, attrs))
    store.close()
    con = duckdb.connect(str(tmp_path / "case.duckdb"), read_only=True)
    request.addfinalizer(con.close)
    related, correlated, params = _correlated(con, route)
    lines = [
        r[0] for r in con.execute(f"SELECT line FROM events WHERE {correlated}", params).fetchall()
    ]
    on_route = [
        r[0] for r in con.execute(f"SELECT line FROM events WHERE {related}", params).fetchall()
    ]
    assert sorted(lines) == [1, 2] and sorted(on_route) == [1, 2, 5]
