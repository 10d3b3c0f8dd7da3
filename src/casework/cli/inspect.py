"""``casework inspect FILE [--json]``: Wireshark-comparable facts of one capture, or the facts of a HAR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from casework.cli.errors import friendly_errors
from casework.errors import BundleError, FormatError
from casework.net.inspect import inspect_file


@click.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print all facts as one JSON object.")
@click.option(
    "--conversations", default=1000, show_default=True, help="Conversations listed at most."
)
@friendly_errors
def command(file: Path, as_json: bool, conversations: int) -> None:
    """Facts of one pcap/pcapng capture (TCP, DNS, TLS, HTTP) or HAR file."""
    if not file.is_file():
        raise BundleError("no such file", file=str(file))
    try:
        result = inspect_file(file, conversations)
    except FormatError as exc:
        raise BundleError(str(exc).split(": ", 1)[-1], file=file.name) from None
    except OSError as exc:
        raise BundleError(f"cannot read ({type(exc).__name__})", file=file.name) from None
    if as_json:
        click.echo(json.dumps(result, indent=1, default=str))
        return
    _print(result)


def _print(result: dict[str, Any]) -> None:
    console = Console()
    table = Table(title=f"{result['file']} ({result['kind']})", show_header=False)
    if result["kind"] == "har":
        for key, value in result.items():
            if key not in ("file", "kind") and value not in ("", None):
                table.add_row(key, str(value))
    else:
        for section in ("counts", "timing"):
            for key, value in result[section].items():
                if value not in (0, "", None, False):
                    table.add_row(key, str(value))
        table.add_row("conversations", str(len(result["conversations"])))
    console.print(table)
