"""Renderers: findings.json contract, inventory.json, report.md, report.html and the terminal."""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from _report_fixtures import build_case, investigation
from casework.engine import AnalyzerRun
from casework.findings import SCHEMA, Evidence
from casework.inventory import FileEntry
from casework.investigation import Investigation
from casework.report import html, markdown, write_all
from casework.report.series import load_series
from casework.report.terminal import print_summary
from casework.report.text import coverage_sentence

GOLDEN = Path(__file__).parent / "fixtures" / "report"
REGEN = os.environ.get("CASEWORK_REGEN") == "1"
CONTRACT_KEYS = {
    "rank",
    "id",
    "analyzer",
    "severity",
    "score",
    "title",
    "summary",
    "window",
    "entities",
    "stats",
    "evidence",
    "next_steps",
}


@pytest.fixture(scope="module")
def inv(tmp_path_factory: pytest.TempPathFactory) -> Investigation:
    root = tmp_path_factory.mktemp("report")
    window = build_case(root / "case.duckdb")
    return investigation(root / "case.duckdb", root / "out", window)


@pytest.fixture(scope="module")
def written(inv: Investigation) -> dict[str, Path]:
    return {p.name: p for p in write_all(inv)}


def test_write_all_writes_the_four_files(written: dict[str, Path], inv: Investigation) -> None:
    assert set(written) == {"findings.json", "report.md", "report.html", "inventory.json"}
    assert all(p.parent == inv.out and p.stat().st_size > 0 for p in written.values())


def test_findings_json_follows_the_contract(written: dict[str, Path], inv: Investigation) -> None:
    doc = json.loads(written["findings.json"].read_text())
    assert doc["schema"] == SCHEMA == "casework.findings/1"
    assert doc["bundle"] == {"path": "bundle-48213.zip", "files": 3, "parsed": 2, "skipped": 1}
    assert doc["window"] == {"start": "2026-03-02T12:00:00Z", "end": "2026-03-02T16:00:00Z"}
    assert [f["rank"] for f in doc["findings"]] == list(range(1, len(inv.findings) + 1))
    for f in doc["findings"]:
        assert set(f) >= CONTRACT_KEYS
        assert f["severity"] in {"critical", "high", "medium", "low", "info"}
        assert 0.0 <= f["score"] <= 1.0
        assert all("file" in e and "excerpt" in e for e in f["evidence"])
    top = doc["findings"][0]
    assert top["entities"]["route"] == "POST /v1/refunds"
    assert isinstance(top["stats"]["rate_after"], float)
    assert {r["status"] for r in doc["runs"]} == {"ok", "skipped"}
    assert doc["redactions"]["total"] == 4
    assert doc["redactions"]["by_file"]["app/app.log"] == {"jwt": 1, "password": 1}


def test_inventory_json_lists_every_file(written: dict[str, Path]) -> None:
    doc = json.loads(written["inventory.json"].read_text())
    assert doc["schema"] == "casework.inventory/1"
    assert [f["path"] for f in doc["files"]] == ["app/app.log", "core.bin", "nginx/access.log"]
    assert doc["totals"] == {
        "files": 3,
        "parsed": 1,
        "partial": 1,
        "skipped": 1,
        "records": 14300,
        "bytes": 1218441,
    }
    skipped = next(f for f in doc["files"] if f["status"] == "skipped")
    assert skipped["reason"].startswith("binary content")


def test_html_is_self_contained_and_has_the_charts(written: dict[str, Path]) -> None:
    page = written["report.html"].read_text()
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"\bsrc\s*=", page)
    links = re.findall(r"\bhref\s*=\s*[\"']([^\"']*)", page)
    assert links and all(link.startswith("#") for link in links), "only in-page links"
    assert "<script" not in page and "@import" not in page and "url(" not in page
    assert page.count("<svg") >= 2
    assert "Events per 2m bucket, by level" in page
    assert "5xx share of requests" in page and "error share of events" in page
    assert "refund-service 2.14.3" in page  # the release marker
    assert "<polyline" in page and "<rect" in page


def test_html_has_a_section_per_finding(written: dict[str, Path], inv: Investigation) -> None:
    page = written["report.html"].read_text()
    for f in inv.findings:
        assert f'id="{f.id}"' in page
    assert "nginx/access.log:" in page  # evidence location
    assert "skipped: no spans in this bundle" in page
    assert "read as UTC (assumed; pass --tz to change it) in: app/app.log." in page


def test_html_escapes_evidence(inv: Investigation) -> None:
    hostile = Evidence("x.log", (1, 1), '<script>alert(1)</script><img src="https://evil">')
    f = replace(inv.findings[0], evidence=(hostile,), title="<b>t</b>")
    page = html.render(replace(inv, findings=[f]))
    assert "<script>" not in page and '<img src="https' not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;t&lt;/b&gt;" in page


def test_markdown_report_sections(written: dict[str, Path], inv: Investigation) -> None:
    text = written["report.md"].read_text()
    for heading in (
        "## Summary",
        "## Top findings",
        "## Analyzer runs",
        "## Inventory",
        "## Redactions",
        "## Time zones",
    ):
        assert heading in text
    assert inv.findings[0].title in text
    assert re.search(r"`app/app\.log:\d+-\d+`", text)  # a stack trace's line range
    assert "| trace_latency | skipped: no spans in this bundle |" in text
    assert "`app/app.log`: jwt ×1, password ×1" in text


def test_markdown_fence_survives_backticks(inv: Investigation) -> None:
    f = replace(inv.findings[0], evidence=(Evidence("x.md", (3, 3), "a ``` b"),))
    text = markdown.render(replace(inv, findings=[f]))
    assert "  ````text\n  a ``` b\n  ````" in text


def test_pointer_only_evidence_gets_no_empty_block(inv: Investigation) -> None:
    pointer = Evidence("capture.pcap", refs=("4", "9"), kind="frames")
    f = replace(inv.findings[0], evidence=(pointer,))
    text = markdown.render(replace(inv, findings=[f]))
    block = text[text.index("**Evidence**") :]
    assert "`capture.pcap (4, 9)`" in block and "```" not in block.split("**Next steps**")[0]
    page = html.render(replace(inv, findings=[f]))
    assert "<pre></pre>" not in page and "capture.pcap (4, 9)" in page


def test_series_bucket_counts_add_up(inv: Investigation) -> None:
    series = load_series(inv.case_path, inv.window)
    assert series is not None
    assert 60 <= len(series.starts) <= 201
    with duckdb.connect(str(inv.case_path), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM requests").fetchone()
    assert row is not None and sum(series.requests) == row[0]  # every request has a time
    assert sum(series.levels["error"]) == sum(series.requests_5xx) - _catalog_502(inv)


def _catalog_502(inv: Investigation) -> int:
    f = next(f for f in inv.findings if f.subject == "5xx GET /v1/catalog")
    return int(str(f.stats["failures"]))


def test_terminal_summary_golden(inv: Investigation) -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=100, color_system=None, force_terminal=False)
    print_summary(console, inv, top=3)
    golden = GOLDEN / "terminal.txt"
    if REGEN:
        golden.write_text(buf.getvalue())
    assert buf.getvalue() == golden.read_text()


def test_terminal_names_failed_and_finding_analyzers_and_counts_the_rest(
    inv: Investigation,
) -> None:
    runs = [
        AnalyzerRun("finds", "ok", 0.01, 2),
        AnalyzerRun("quiet_one", "ok", 0.01, 0),
        AnalyzerRun("no_spans", "skipped", 0.0, 0, "no spans in this bundle"),
        AnalyzerRun("broken", "error", 0.02, 0, "KeyError in f (x.py:3)"),
    ]
    buf = io.StringIO()
    print_summary(Console(file=buf, width=200, color_system=None), replace(inv, runs=runs), top=0)
    out = buf.getvalue()
    assert "finds: ok (2 findings" in out and "broken: error: KeyError in f (x.py:3)" in out
    assert "quiet_one" not in out and "no_spans" not in out
    assert "4 analyzers: 1 found nothing, 1 skipped (no input), 1 failed" in out


def test_terminal_shows_bracketed_paths_literally(inv: Investigation) -> None:
    entry = replace(inv.inventory[0], path="logs/[bold]prod[/bold]/app.log")
    buf = io.StringIO()
    console = Console(file=buf, width=120, color_system=None)
    print_summary(console, replace(inv, inventory=[entry], findings=[]), top=0)
    assert "logs/[bold]prod[/bold]/app.log" in buf.getvalue()


def _entry(path: str, first: datetime | None, hours: float) -> FileEntry:
    last = first + timedelta(hours=hours) if first is not None else None
    return FileEntry(path, 100, "json-lines", "log", status="parsed", first_ts=first, last_ts=last)


def test_time_coverage_names_periods_that_do_not_overlap(inv: Investigation) -> None:
    day = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    rotated = [_entry(f"api/api.log.{i}.gz", day - timedelta(days=i), 24) for i in range(4)]
    one = replace(inv, inventory=[*rotated, _entry("case.md", None, 0)])
    assert coverage_sentence(one) is None  # daily rotations chain into one period
    apart = replace(
        inv,
        inventory=[
            *rotated,
            _entry("old/capture.pcap", day - timedelta(days=400), 0.01),
            _entry("nginx/access.log", day + timedelta(days=30), 2),
            _entry("case.md", None, 0),
        ],
    )
    sentence = coverage_sentence(apart)
    assert sentence is not None and sentence.startswith("the files fall in 3 periods")
    # In time order, each with its files, then the gaps between them.
    at = [sentence.index(name) for name in ("capture.pcap", "api.log.0.gz", "access.log")]
    assert at == sorted(at)
    assert "api/api.log.2.gz and 1 more" in sentence and "case.md" not in sentence
    assert "gaps of 1.1 years, 29 days" in sentence
    assert "Time coverage" in markdown.render(apart) and "Time coverage" in html.render(apart)
    assert "Time coverage" not in markdown.render(one)
