"""The ``casework`` command line: a thin layer over the library, one module per command."""

from __future__ import annotations

import importlib

import click

from casework import __version__

#: The commands, each in the module of its name under ``casework.cli``.
COMMANDS = (
    "bugreport", "inspect", "investigate", "queue", "redact", "review", "similar", "templates",
    "update",
)  # fmt: skip


class _Commands(click.Group):
    """Imports a command's module only when it runs or help lists it.

    A scan worker the local pool spawns imports its parent's ``__main__`` (this
    module, through the ``casework`` script) before it can take a task; importing
    every command there took 2.1 s of each worker's start (scipy, the report, the
    queue analytics), against 0.5 s for what a scan needs.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command: click.Command = importlib.import_module(f"casework.cli.{cmd_name}").command
        return command


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="casework")
def main() -> None:
    """casework: evidence bundle in, ranked hypotheses and a bug report out."""
