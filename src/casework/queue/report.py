"""The queue report: Markdown and one self-contained HTML page (inline SVG charts, no scripts).

Sections: the recurring problems (clusters with sizes and trends), cluster
sizes over time, the growing clusters' share of the queue, documentation
gaps with the questions people ask, doc pages that many resolutions point
at, and SLA by priority with the backlog over time. Every text from a ticket
was redacted on import and is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from pathlib import Path

from casework.queue.analysis import QueueAnalysis
from casework.queue.trends import week_of
from casework.report import charts

TOP_CLUSTERS = 5
#: The charts show the last year: the trend a queue owner acts on, and week
#: labels stay readable (a seven-year export would be 380 hairline bars).
CHART_WEEKS = 52
LEGEND_CHARS = 12  # longer legend names run into the chart title
PALETTE = ("#5b8def", "#ef8f00", "#2e7d32", "#c62828", "#7b3fb0", "#00838f", "#b0b7c3")
CSS = """body{font:14px/1.45 system-ui,sans-serif;color:#1d2330;margin:0}main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:22px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #dde2ea}
th{background:#f5f7fa}td.num{text-align:right}.grow{color:#c62828;font-weight:600}
svg.chart{width:100%;height:auto;display:block;margin:8px 0 16px}svg .grid{stroke:#dde2ea}
svg .hover{fill:transparent}svg .hover:hover{fill:rgba(0,0,0,.06)}svg text{font:11px system-ui,sans-serif;fill:#5f6b7a}
svg .chart-title{font-size:13px;font-weight:600;fill:#1d2330}svg .ylab{text-anchor:end}svg .xlab{text-anchor:middle}"""


def _weeks(a: QueueAnalysis) -> list[datetime]:
    dated = [week_of(t.created) for t in a.tickets if t.created is not None]
    if not dated:
        return []
    last = max(dated)
    week = max(min(dated), last - timedelta(weeks=CHART_WEEKS - 1))
    out = []
    while week <= last:
        out.append(week)
        week += timedelta(weeks=1)
    return out


def _top(a: QueueAnalysis) -> list[int]:
    growing = [c.id for c in a.clusters if (tr := a.trends.get(c.id)) and tr.growing]
    biggest = [c.id for c in a.clusters if c.id not in growing]
    return (growing + biggest)[:TOP_CLUSTERS]


def _names(a: QueueAnalysis) -> dict[int, str]:
    return {c.id: f"#{c.id} {c.label.split(' / ')[0]}"[:LEGEND_CHARS] for c in a.clusters}


def size_chart(a: QueueAnalysis, weeks: list[datetime]) -> str:
    top, names = _top(a), _names(a)
    stacks: dict[str, list[int]] = {
        names[c]: [a.trends[c].weekly.get(w, 0) for w in weeks] for c in top
    }
    total = [sum(tr.weekly.get(w, 0) for tr in a.trends.values()) for w in weeks]
    stacks["other"] = [t - sum(col[i] for col in stacks.values()) for i, t in enumerate(total)]
    colors = dict(zip(stacks, PALETTE[: len(top)] + PALETTE[-1:], strict=False))
    colors["other"] = PALETTE[-1]
    return charts.stacked_bars("Tickets per week by cluster", weeks, stacks, colors)


def share_chart(a: QueueAnalysis, weeks: list[datetime]) -> str:
    top, names = _top(a)[:4], _names(a)
    total = [sum(tr.weekly.get(w, 0) for tr in a.trends.values()) for w in weeks]
    lines: dict[str, list[float | None]] = {
        names[c]: [a.trends[c].weekly.get(w, 0) / n if n else None for w, n in zip(weeks, total, strict=True)]
        for c in top
    }  # fmt: skip
    return charts.line_chart(
        "Share of the week's tickets (trend)", weeks, lines, dict(zip(lines, PALETTE, strict=False))
    )


def backlog_chart(a: QueueAnalysis) -> str:
    weekly: dict[datetime, int] = {}
    for day, n in a.backlog[-7 * CHART_WEEKS :]:
        weekly[week_of(day)] = n  # the last day of each week: the backlog it ends with
    breached: dict[datetime, list[int]] = {}
    for t in a.tickets:
        if t.created is not None and t.sla_met is not None:
            breached.setdefault(week_of(t.created), []).append(int(not t.sla_met))
    weeks = sorted(weekly)
    bars = charts.stacked_bars("Open tickets at the end of each week (backlog)", weeks,
                               {"open": [weekly[w] for w in weeks]}, {"open": PALETTE[0]})  # fmt: skip
    if not breached:
        return bars
    rate = {"SLA breached": [sum(b) / len(b) if (b := breached.get(w)) else None for w in weeks]}
    return bars + charts.line_chart("Share of tickets created that week that breached the SLA", weeks, rate,
                                    {"SLA breached": PALETTE[3]})  # fmt: skip


def _cell(c: object) -> str:
    return f'<td class="num">{c:,}</td>' if isinstance(c, int) else f"<td>{escape(str(c))}</td>"


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> tuple[str, str]:
    md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    md += [
        "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in r) + " |"
        for r in rows
    ]
    html = "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
    html += "".join("<tr>" + "".join(_cell(c) for c in r) + "</tr>" for r in rows) + "</table>"
    return "\n".join(md), html


def _sections(a: QueueAnalysis) -> list[tuple[str, str, str]]:
    """(heading, Markdown, HTML) per section."""
    out = []
    rows = []
    for c in a.clusters:
        tr = a.trends.get(c.id)
        trend = f"{tr.before_share:.1%} → {tr.recent_share:.1%}" if tr else "—"
        flag = "growing" if tr and tr.growing else ("spike" if tr and tr.spikes else "")
        rows.append([c.id, c.size, c.label, ", ".join(c.terms[3:8]), trend, flag])
    md, html = _table(
        ["id", "tickets", "cluster", "more terms", "share before → last 4 weeks", "flag"], rows
    )
    out.append(("Recurring problems", md, html))
    gap_md, gap_html = [], []
    for g in a.gaps:
        head = f"#{g.cluster} {g.label}: {g.questions} of {g.tickets} tickets are questions resolved without a code change"
        gap_md += [f"- **{head}**", *(f"  - {q}" for q in g.examples)]
        gap_html.append(
            f"<li><b>{escape(head)}</b><ul>"
            + "".join(f"<li>{escape(q)}</li>" for q in g.examples)
            + "</ul></li>"
        )
    out.append(
        (
            "Documentation gaps",
            "\n".join(gap_md) or "None found.",
            f"<ul>{''.join(gap_html)}</ul>" if gap_html else "<p>None found.</p>",
        )
    )
    md, html = _table(
        ["doc page or workaround", "tickets", "clusters", "examples"],
        [
            [
                s.link,
                len(s.tickets),
                ", ".join(f"#{c}" for c in s.clusters),
                ", ".join(s.tickets[:5]),
            ]
            for s in a.answers
        ],
    )
    out.append(
        (
            "Answers many resolutions point at",
            md if a.answers else "None found.",
            html if a.answers else "<p>None found.</p>",
        )
    )
    md, html = _table(
        ["priority", "tickets", "first response p50 h", "p90 h", "resolution p50 h", "p90 h", "breaches", "reassigned", "reopened"],
        [[s.priority, s.tickets, _h(s.first_response_p50_h), _h(s.first_response_p90_h), _h(s.resolution_p50_h),
          _h(s.resolution_p90_h), f"{s.breaches}/{s.sla_known}" if s.sla_known else "—", s.reassigned, s.reopened]
         for s in a.sla],
    )  # fmt: skip
    out.append(("SLA and flow by priority", md, html))
    return out


def _h(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def render(a: QueueAnalysis) -> tuple[str, str]:
    """The Markdown text and the HTML page."""
    growing = sum(1 for tr in a.trends.values() if tr.growing)
    facts = (f"{len(a.tickets):,} tickets, {len(a.clusters)} clusters ({a.space.backend} vectors), "
             f"{growing} growing, {len(a.gaps)} documentation gaps")  # fmt: skip
    weeks = _weeks(a)
    svgs = [size_chart(a, weeks), share_chart(a, weeks)] if weeks else []
    if a.backlog:
        svgs.append(backlog_chart(a))
    sections = _sections(a)
    md = [f"# Ticket queue report\n\n{facts}\n"]
    md += [f"## {h}\n\n{body}\n" for h, body, _ in sections]
    html = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Ticket queue report</title>"
            f"<style>{CSS}</style></head><body><main><h1>Ticket queue report</h1><p>{escape(facts)}</p>"]  # fmt: skip
    if svgs:
        html.append(f"<h2>Over time (the last {CHART_WEEKS} weeks)</h2>" + "".join(svgs))
    html += [f"<h2>{escape(h)}</h2>{body}" for h, _, body in sections]
    html.append("</main></body></html>\n")
    return "\n".join(md), "".join(html)


def write_report(a: QueueAnalysis, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    md, html = render(a)
    md_path, html_path = out / "queue-report.md", out / "queue-report.html"
    md_path.write_text(md, encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    return md_path, html_path
