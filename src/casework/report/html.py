"""report.html: one self-contained page (inline CSS and SVG, no scripts, no fetches)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from casework import __version__
from casework.findings import Finding, iso
from casework.investigation import Investigation
from casework.notes import quoted
from casework.report import charts
from casework.report.findings_json import redaction_counts
from casework.report.series import Series, load_series
from casework.report.text import (
    coverage_sentence,
    headlines,
    inventory_row,
    location,
    run_status,
    run_time,
    seconds_text,
    stat_text,
    tz_sentence,
)
from casework.timeline import label_seconds

LEVEL_COLORS = {"error": "#c62828", "warn": "#ef8f00", "info": "#5b8def", "other": "#b0b7c3"}
RATE_COLORS = {"5xx share of requests": "#c62828", "error share of events": "#ef8f00"}

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(inv: Investigation, series: Series | None = None) -> str:
    """The page; ``series`` defaults to what the case store holds for the window."""
    if series is None:
        series = load_series(inv.case_path, inv.window)
    return _ENV.get_template("report.html.j2").render(
        title=f"casework report: {inv.bundle}",
        version=__version__,
        bundle=inv.bundle,
        window=(iso(inv.window.start), iso(inv.window.end)) if inv.window else None,
        files=len(inv.inventory),
        parsed=inv.parsed,
        skipped=inv.skipped,
        records=sum(e.records for e in inv.inventory),
        seconds=run_time(inv),
        tz=tz_sentence(inv),
        coverage=coverage_sentence(inv),
        description="\n".join(quoted(inv.description)) if inv.description else None,
        charts=_charts(series),
        findings=[_finding(f) for f in inv.findings],
        summary=[_finding(f) for f in headlines(inv.findings)],
        runs=[
            (r.key, r.status, run_status(r), r.findings, seconds_text(r.seconds)) for r in inv.runs
        ],
        inventory=[inventory_row(e) for e in sorted(inv.inventory, key=lambda e: e.path)],
        redactions=redaction_counts(inv),
    )


def _charts(series: Series | None) -> list[tuple[str, Markup]]:
    if series is None or not series.starts:
        return []
    width = series.width
    out = []
    if any(series.events):
        title = f"Events per {label_seconds(width)} bucket, by level"
        svg = charts.stacked_bars(title, series.starts, series.levels, LEVEL_COLORS, series.markers)
        out.append((title, Markup(svg)))
    rates = {}
    if any(series.requests):
        rates["5xx share of requests"] = series.share_5xx()
    if any(series.events):
        rates["error share of events"] = series.share_errors()
    if rates:
        title = f"Error rate per {label_seconds(width)} bucket"
        colors = {k: RATE_COLORS[k] for k in rates}
        out.append(
            (title, Markup(charts.line_chart(title, series.starts, rates, colors, series.markers)))
        )
    return out


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "rank": f.rank,
        "severity": f.severity,
        "score": f"{f.score:.2f}",
        "key": f.key,
        "title": f.title,
        "summary": f.summary,
        "entities": list(f.entities.items()),
        "stats": [(k, stat_text(k, v)) for k, v in f.stats.items()],
        "evidence": [(location(e), e.excerpt) for e in f.evidence],
        "next_steps": list(f.next_steps),
    }


def write(inv: Investigation, path: Path) -> Path:
    path.write_text(render(inv), encoding="utf-8")
    return path
