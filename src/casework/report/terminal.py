"""The terminal view of an investigation: the inventory table and the top findings (rich).

Each view renders itself through rich's ``__rich__`` protocol, so the CLI
prints ``InventoryView(inv)`` or ``FindingView(f)`` and tests render them on a
console with a fixed width.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from casework.engine import AnalyzerRun
from casework.findings import Finding
from casework.inventory import FileEntry
from casework.investigation import Investigation
from casework.report.text import (
    HEADLINES,
    coverage_sentence,
    headlines,
    location,
    run_status,
    run_time,
    seconds_text,
)

SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
STATUS_STYLE = {
    "parsed": "green",
    "partial": "yellow",
    "skipped": "dim",
    "ok": "green",
    "error": "red",
}
EXCERPT_LINES = 3


@dataclass(frozen=True, slots=True)
class InventoryView:
    """Each file: kind, records, time range, status (and why, when not fully read)."""

    files: list[FileEntry]

    def __rich__(self) -> RenderableType:
        table = Table(title="Inventory", title_justify="left", expand=False)
        table.add_column("file", overflow="fold")
        table.add_column("kind")
        table.add_column("records", justify="right")
        table.add_column("time range (UTC)")
        table.add_column("status", overflow="fold")
        for e in sorted(self.files, key=lambda e: e.path):
            status = Text(e.status, style=STATUS_STYLE.get(e.status, ""))
            if e.reason:
                status.append(f": {e.reason}", style="dim")
            # Text, not str: rich would read brackets in bundle file names as markup.
            table.add_row(Text(e.path), Text(e.kind), f"{e.records:,}", _range(e), status)
        return table


@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding: rank, severity, title, summary and the first evidence lines."""

    finding: Finding

    def __rich__(self) -> RenderableType:
        f = self.finding
        head = Text(f"#{f.rank} ")
        head.append(f" {f.severity.upper()} ", style=SEVERITY_STYLE.get(f.severity, ""))
        head.append(f" {f.title}", style="bold")
        parts: list[RenderableType] = [head, Text(f.summary, style="")]
        for e in f.evidence[:1]:
            excerpt = "\n".join(e.excerpt.splitlines()[:EXCERPT_LINES])
            parts.append(Text(f"{location(e)}\n", style="dim").append(excerpt, style="italic"))
        return Panel(Group(*parts), border_style=SEVERITY_STYLE.get(f.severity, ""), expand=True)


@dataclass(frozen=True, slots=True)
class RunsView:
    """A line per analyzer that found something or failed, then one line counting the rest.

    Most analyzers skip for lack of input (no traces, no captures); listing each of
    them here would push the findings off the screen. report.md lists every run.
    """

    runs: list[AnalyzerRun]

    def __rich__(self) -> RenderableType:
        lines = Text()
        for r in self.runs:
            if r.status == "error" or r.findings:
                lines.append(f"{r.key}: ", style="bold")
                lines.append(run_status(r), style=STATUS_STYLE.get(r.status, "dim"))
                lines.append(f" ({r.findings} findings, {seconds_text(r.seconds)})\n", style="dim")
        quiet = sum(1 for r in self.runs if r.status == "ok" and not r.findings)
        skipped = sum(1 for r in self.runs if r.status == "skipped")
        failed = sum(1 for r in self.runs if r.status == "error")
        lines.append(
            f"{len(self.runs)} analyzers: {quiet} found nothing, {skipped} skipped (no input),"
            f" {failed} failed; all runs in report.md\n",
            style="dim",
        )
        return lines


def print_summary(console: Console, inv: Investigation, top: int = HEADLINES) -> None:
    """What ``casework investigate`` prints at the end: inventory, runs, top findings."""
    console.print(InventoryView(inv.inventory))
    console.print(RunsView(inv.runs))
    console.print(Text(f"run time {run_time(inv)}", style="dim"))
    coverage = coverage_sentence(inv)
    if coverage:
        console.print(Text(f"Time coverage: {coverage}", style="yellow"))
    if not inv.findings:
        console.print("No findings.")
    shown = headlines(inv.findings, top)
    for f in shown:
        console.print(FindingView(f))
    if len(inv.findings) > len(shown):
        console.print(
            f"… and {len(inv.findings) - len(shown)} more in report.md / report.html", style="dim"
        )


def _range(e: FileEntry) -> str:
    if e.first_ts is None or e.last_ts is None:
        return "—"
    same_day = e.first_ts.date() == e.last_ts.date()
    end = f"{e.last_ts:%H:%M:%S}" if same_day else f"{e.last_ts:%Y-%m-%d %H:%M:%S}"
    return f"{e.first_ts:%Y-%m-%d %H:%M:%S} → {end}"
