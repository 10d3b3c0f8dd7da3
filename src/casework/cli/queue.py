"""``casework queue``: import ticket exports into a workspace, then clusters, a report and SLA figures.

Every subcommand works on one workspace (``--workspace DIR``, default a
per-user directory), so a queue can be imported in pieces and analysed
again later. Bad input (an unknown CSV, broken JSON, a missing column) ends
with one line saying what to do and exit code 2.
"""

from __future__ import annotations

import csv
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from casework.cli.errors import EXIT_UNUSABLE_INPUT
from casework.errors import CaseworkError
from casework.queue.analysis import QueueAnalysis, analyze, import_file
from casework.queue.importers.generic import Mapping
from casework.queue.report import write_report
from casework.queue.sla import PrioritySla, by_priority
from casework.queue.workspace import Workspace, default_workspace

P = ParamSpec("P")
R = TypeVar("R")
BACKENDS = click.Choice(["auto", "embedding", "lexical"])


def unusable_input(fn: Callable[P, R]) -> Callable[P, R]:
    """Any casework error here is about the user's input: one line, exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except CaseworkError as exc:
            click.echo(f"casework: {exc}", err=True)
            sys.exit(EXIT_UNUSABLE_INPUT)

    return wrapper


def open_workspace(directory: Path | None, must_exist: bool = True) -> Workspace:
    where = directory or default_workspace()
    if must_exist and not (where / "queue.sqlite").is_file():
        raise CaseworkError(
            "no ticket workspace here; run 'casework queue import FILE' first", file=str(where)
        )
    return Workspace(where)


def run_analysis(ws: Workspace, backend: str, k: int | None) -> QueueAnalysis:
    if ws.count() == 0:
        raise CaseworkError(
            "the workspace holds no tickets; import an export first", file=str(ws.path)
        )
    try:
        return analyze(ws, backend, k)
    except RuntimeError as exc:  # the embedding backend asked for but not installed
        raise CaseworkError(str(exc)) from None


@click.group("queue")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace directory (default: a per-user workspace).",
)
@click.pass_context
def command(ctx: click.Context, workspace: Path | None) -> None:
    """Ticket queue analytics: recurring problems, trends, documentation gaps, SLA."""
    ctx.obj = workspace


@command.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--id", "id_col", metavar="COL", help="Generic CSV: the ticket id column.")
@click.option(
    "--text",
    "text_cols",
    metavar="COL[,COL...]",
    help="Generic CSV: text columns (first is the title).",
)
@click.option("--time", "time_col", metavar="COL", help="Generic CSV: the creation time column.")
@click.option(
    "--label", "label_col", metavar="COL", help="Generic CSV: the type or category column."
)
@click.option(
    "--group", "group_col", metavar="COL", help="Generic CSV: the project or group column."
)
@click.pass_obj
@unusable_input
def import_command(
    workspace: Path | None, file: Path, id_col: str | None, text_cols: str | None,
    time_col: str | None, label_col: str | None, group_col: str | None,
) -> None:  # fmt: skip
    """Import a Zendesk, Jira, ServiceNow or GitHub export (detected), or a CSV with --text."""
    mapping = None
    if text_cols:
        cols = tuple(c.strip() for c in text_cols.split(",") if c.strip())
        mapping = Mapping(text=cols, id=id_col, time=time_col, label=label_col, group=group_col)
    elif id_col or time_col or label_col or group_col:
        raise CaseworkError("a column mapping needs --text COL[,COL...] as well", file=file.name)
    ws = open_workspace(workspace, must_exist=False)
    try:
        source, count = import_file(ws, file, mapping)
        total = ws.count()
    finally:
        ws.close()
    noun = "ticket" if count == 1 else "tickets"
    click.echo(f"{file.name}: {source} export, {count:,} {noun} imported (workspace: {total:,})")


@command.command("clusters")
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write ticket_id,cluster_id,cluster_label for every ticket.")  # fmt: skip
@click.option("--backend", type=BACKENDS, default="auto", show_default=True)
@click.option(
    "--k", type=click.IntRange(min=2), help="Number of clusters (default: from the queue size)."
)
@click.pass_obj
@unusable_input
def clusters_command(
    workspace: Path | None, csv_out: Path | None, backend: str, k: int | None
) -> None:
    """Cluster the tickets into recurring problems and show their sizes and trends."""
    ws = open_workspace(workspace)
    try:
        result = run_analysis(ws, backend, k)
    finally:
        ws.close()
    if csv_out is not None:
        with csv_out.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["ticket_id", "cluster_id", "cluster_label"])
            labels = {c.id: c.label for c in result.clusters}
            for t, cid in zip(result.tickets, result.assignment, strict=True):
                out.writerow([t.id, cid, labels[cid]])
    Console().print(_cluster_table(result))


def _cluster_table(result: QueueAnalysis) -> Table:
    table = Table(
        title=f"{len(result.clusters)} clusters of {len(result.tickets):,} tickets ({result.space.backend})"
    )
    for name, justify in (("id", "right"), ("tickets", "right"), ("cluster", "left"),
                          ("last 4 weeks", "right"), ("share before → recent", "right"), ("growing", "left")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in result.clusters:
        tr = result.trends.get(c.id)
        share = f"{tr.before_share:.1%} → {tr.recent_share:.1%}" if tr else "—"
        grow = (
            "[bold red]growing[/]" if tr and tr.growing else ("spike" if tr and tr.spikes else "")
        )
        table.add_row(
            str(c.id), f"{c.size:,}", escape(c.label), str(tr.recent if tr else "—"), share, grow
        )
    return table


@command.command("report")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("queue-report"),
              show_default=True, help="Directory for queue-report.md and queue-report.html.")  # fmt: skip
@click.option("--backend", type=BACKENDS, default="auto", show_default=True)
@click.pass_obj
@unusable_input
def report_command(workspace: Path | None, out: Path, backend: str) -> None:
    """Write a Markdown and a self-contained HTML report (clusters, trends, doc gaps, SLA)."""
    ws = open_workspace(workspace)
    try:
        result = run_analysis(ws, backend, None)
    finally:
        ws.close()
    md, html = write_report(result, out)
    click.echo(f"wrote {md} and {html}")


@command.command("sla")
@click.pass_obj
@unusable_input
def sla_command(workspace: Path | None) -> None:
    """Time to first response and to resolution by priority, breaches, reassignments, reopens."""
    ws = open_workspace(workspace)
    try:
        rows = by_priority(ws.tickets())
    finally:
        ws.close()
    Console().print(sla_table(rows))


def sla_table(rows: list[PrioritySla]) -> Table:
    table = Table(title="SLA by priority (hours)")
    heads = ("priority", "tickets", "first resp p50", "p90", "resolution p50", "p90",
             "breaches", "reassigned", "reopened")  # fmt: skip
    for i, name in enumerate(heads):
        table.add_column(name, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(
            escape(r.priority), f"{r.tickets:,}", _h(r.first_response_p50_h), _h(r.first_response_p90_h),
            _h(r.resolution_p50_h), _h(r.resolution_p90_h),
            f"{r.breaches}/{r.sla_known}" if r.sla_known else "—", f"{r.reassigned:,}", f"{r.reopened:,}",
        )  # fmt: skip
    return table


def _h(hours: float | None) -> str:
    return "—" if hours is None else f"{hours:,.1f}"
