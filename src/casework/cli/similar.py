"""``casework similar "text" | CASE_DIR``: the nearest resolved past tickets, with their resolution."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from casework.cli.queue import open_workspace, unusable_input
from casework.errors import CaseworkError
from casework.queue.similar import case_text, similar_tickets


@click.command("similar")
@click.argument("query", metavar='"TEXT" | CASE_DIR')
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    help="Ticket workspace (default: the per-user workspace).",
)
@click.option("-k", "k", type=click.IntRange(min=1, max=100), default=5, show_default=True)
@click.option(
    "--backend",
    type=click.Choice(["lexical", "embedding", "auto"]),
    default="lexical",
    show_default=True,
    help="Vectors to compare with (lexical retrieved as well as embeddings on NLBSE, far faster).",
)
@unusable_input
def command(query: str, workspace: Path | None, k: int, backend: str) -> None:
    """Rank the resolved tickets of the workspace by similarity to a new ticket or a case.

    QUERY is the new ticket's text (first line as its title), or a case
    directory written by ``casework investigate`` (its top findings are the query).
    """
    path = Path(query)
    if len(query) < 4096 and path.is_dir():
        if not (path / "findings.json").is_file():
            raise CaseworkError(
                "not a case directory (no findings.json); investigate it first", file=query
            )
        text = case_text(path)
    else:
        text = query
    if not text.strip():
        raise CaseworkError("nothing to compare: the query text is empty")
    ws = open_workspace(workspace)
    try:
        matches = similar_tickets(ws, text, k, backend)
    except RuntimeError as exc:  # the embedding backend asked for but not installed
        raise CaseworkError(str(exc)) from None
    finally:
        ws.close()
    table = Table(title=f"{len(matches)} most similar resolved tickets")
    for name in ("#", "score", "ticket", "title", "resolution"):
        table.add_column(name, justify="right" if name in ("#", "score") else "left")
    for rank, m in enumerate(matches, start=1):
        t = m.ticket
        resolution = t.resolution or (f"resolved {t.resolved:%Y-%m-%d}" if t.resolved else "—")
        table.add_row(
            str(rank),
            f"{m.score:.3f}",
            escape(t.id),
            escape(t.title[:90]),
            escape(resolution[:120]),
        )
    Console().print(table)
