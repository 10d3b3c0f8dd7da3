"""The ``casework`` command line: a thin layer over the library, one module per command."""

from __future__ import annotations

import click

from casework import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="casework")
def main() -> None:
    """casework: evidence bundle in, ranked hypotheses and a bug report out."""


def _register() -> None:
    # Commands are listed here, in one place; each lives in its own module.
    from casework.cli import bugreport, inspect, investigate, redact, review, templates, update

    for command in (investigate.command, redact.command, templates.command, inspect.command):
        main.add_command(command)
    for command in (bugreport.command, review.command, update.command):
        main.add_command(command)
    from casework.cli import queue, similar

    main.add_command(queue.command)
    main.add_command(similar.command)


_register()
