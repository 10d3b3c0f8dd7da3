"""``casework review REPORT``: score a bug report for what developers need and list what is missing."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from casework.cli.errors import friendly_errors
from casework.errors import BundleError
from casework.review import review, split_title


@click.command("review")
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@friendly_errors
def command(report: Path, as_json: bool) -> None:
    """Score REPORT (Markdown, Jira markup or text; ours or hand-written) from 0 to 100.

    Each element (steps to reproduce, expected vs actual, error or stack trace,
    versions, impact, evidence, a specific title) is found or missing; found ones
    show the text that satisfied them, missing ones what to add.
    """
    try:
        text = report.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BundleError(f"cannot read the report ({exc.strerror})", file=str(report)) from None
    title, body = split_title(text)
    result = review(title, body)
    if as_json:
        doc = {
            "score": result.score,
            "elements": [
                {
                    "key": e.key,
                    "label": e.label,
                    "weight": e.weight,
                    "found": e.found,
                    "span": None
                    if e.span is None
                    else {"start": e.span.start, "end": e.span.end, "text": e.span.text},
                    "advice": None if e.found else e.advice,
                }
                for e in result.elements
            ],
        }
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(f"score: {result.score}/100  ({report.name})")
    for e in result.elements:
        if e.span is not None:
            click.echo(f"  found    {e.label} (+{e.weight}): {e.span.text}")
        else:
            click.echo(f"  missing  {e.label} (+{e.weight}): {e.advice}")
