"""``casework bugreport CASE_DIR``: a bug report for one finding, as Markdown, Jira or GitHub markup."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import click

from casework.bugreport import render, report_for_case
from casework.cli.errors import friendly_errors
from casework.repro import Verify


@click.command("bugreport")
@click.argument("case_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--finding", "finding_id", metavar="ID", help="Finding id or rank (default: the top finding)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["md", "jira", "github"]), default="md", show_default=True,
    help="Markdown, Jira wiki markup, or a GitHub issue body.",
)  # fmt: skip
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of stdout.",
)
@click.option(
    "--verify", is_flag=True,
    help="Replay the failing request to find the headers and fields that matter"
    " (only a loopback target, or the one given with --base-url).",
)  # fmt: skip
@click.option(
    "--base-url", metavar="URL", help="Your own target for --verify (e.g. a staging copy)."
)
@click.option("--no-repro", is_flag=True, help="Do not write repro/<finding>.sh and .py.")
@friendly_errors
def command(
    case_dir: Path,
    finding_id: str | None,
    fmt: str,
    output: Path | None,
    verify: bool,
    base_url: str | None,
    no_repro: bool,
) -> None:
    """Draft a bug report engineering can act on, from a case directory of casework investigate.

    The reproduction scripts go to CASE_DIR/repro/ and are only written, never run
    (except with --verify, which sends the captured request to your own target).
    """
    report = report_for_case(
        case_dir, finding_id, repro=not no_repro, verify=Verify(base_url=base_url, enabled=verify)
    )
    text = render(report, cast(Literal["md", "jira", "github"], fmt))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"casework bugreport: wrote {output}", err=True)
