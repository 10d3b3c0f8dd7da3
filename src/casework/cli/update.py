"""``casework update CASE_DIR``: draft a plain status update for the customer."""

from __future__ import annotations

from pathlib import Path

import click

from casework.cli.errors import friendly_errors
from casework.update import DEFAULT_NEXT_UPDATE, draft, render


@click.command("update")
@click.argument("case_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--next-update",
    default=DEFAULT_NEXT_UPDATE,
    show_default=True,
    help='When the next update comes ("in 4 hours", "tomorrow at 09:00 CET").',
)
@click.option(
    "--allow-internal-hosts",
    is_flag=True,
    help="Keep internal hostnames and private addresses in the text.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of stdout.",
)
@friendly_errors
def command(
    case_dir: Path, next_update: str, allow_internal_hosts: bool, output: Path | None
) -> None:
    """Draft a customer update: what we know, what we don't know yet, what we do next, when we write again.

    Plain language, no internal jargon; secrets and internal hostnames are removed.
    Read it before sending: it is a draft.
    """
    text = render(draft(case_dir, next_update), allow_internal_hosts=allow_internal_hosts)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"casework update: wrote {output}", err=True)
