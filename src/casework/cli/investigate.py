"""``casework investigate``: a bundle in, a case directory with reports out."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from casework.bundle import Limits
from casework.cli.errors import friendly_errors
from casework.pipeline import Options, investigate
from casework.pipeline import Progress as PipelineProgress
from casework.remote import display, is_url, parse_storage_options
from casework.report.terminal import print_summary
from casework.report.text import HEADLINES


class _BarProgress(PipelineProgress):
    """Shows a byte-based progress bar on stderr while the bundle is read."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("[bold]reading[/] {task.fields[name]}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task = self.bar.add_task("read", total=None, name="")
        self.before = 0
        self.current = 0

    def start(self, total_bytes: int) -> None:
        self.bar.start()
        self.bar.update(self.task, total=max(total_bytes, 1))

    def file(self, name: str, size: int) -> None:
        self.before += self.current
        self.current = size
        self.bar.update(self.task, completed=self.before, name=_short(name))

    def advance(self, done_bytes: int) -> None:
        self.bar.update(self.task, completed=self.before + min(done_bytes, self.current))

    def done(self) -> None:
        self.bar.update(self.task, completed=self.before + self.current)
        self.bar.stop()


def _envs(*given: str | None) -> tuple[tuple[str, str], ...]:
    """``[NAME=]PREFIX`` options as (prefix, name) pairs; the name defaults to the prefix's last folder."""
    out = []
    for spec in given:
        if not spec:
            continue
        name, _, prefix = spec.rpartition("=")
        prefix = prefix.strip("/")
        out.append((prefix, name or prefix.rsplit("/", 1)[-1]))
    return tuple(out)


def _label(bundle: str) -> str:
    """A name for the default case directory: the bundle's last path segment without suffixes."""
    last = display(bundle).rstrip("/").rsplit("/", 1)[-1] if is_url(bundle) else Path(bundle).name
    return last.split(".")[0] or "bundle"


def _short(name: str, width: int = 40) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]


@click.command("investigate")
# A plain string: click.Path would fold the "//" of an s3:// URL.
@click.argument("bundle")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Case directory to write (default: ./case-<bundle name>).",
)
@click.option("--tz", help="Time zone for timestamps without one (IANA name, e.g. Europe/Berlin).")
@click.option("--max-bytes", type=int, default=Limits().max_total_bytes, show_default=True,
              help="Cap on the bundle's extracted size.")  # fmt: skip
@click.option("--max-ratio", type=float, default=Limits().max_ratio, show_default=True,
              help="Cap on an archive member's compression ratio (archive bombs).")  # fmt: skip
@click.option("--templates-state", type=click.Path(path_type=Path, dir_okay=False),
              help="Template miner state to load and update, so templates persist across cases.")  # fmt: skip
@click.option(
    "--env-a",
    help="Bundle path prefix of the first environment ([NAME=]PREFIX), when folder names do not say.",
)
@click.option("--env-b", help="Bundle path prefix of the second environment ([NAME=]PREFIX).")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where the scan runs: a local process pool, or a Dask cluster.",
)
@click.option(
    "--workers",
    type=int,
    default=0,
    help="Scan processes (local) or LocalCluster workers (dask); 0 = all cores.",
)
@click.option(
    "--scheduler",
    help="Dask scheduler address (tcp://host:8786); without it --executor dask starts a LocalCluster.",
)
@click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="fsspec option for a bundle URL (repeatable), e.g. endpoint_url=http://minio:9000; "
    "credentials otherwise come from the environment as the backend reads them.",
)
@click.option("--top", type=int, default=HEADLINES, show_default=True, help="Findings to show.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@friendly_errors
def command(
    bundle: str,
    out: Path | None,
    tz: str | None,
    max_bytes: int,
    max_ratio: float,
    templates_state: Path | None,
    env_a: str | None,
    env_b: str | None,
    executor: str,
    workers: int,
    scheduler: str | None,
    storage_options: tuple[str, ...],
    top: int,
    quiet: bool,
) -> None:
    """Investigate an evidence BUNDLE (folder, .zip, .tar[.gz|.bz2|.xz] or .gz).

    BUNDLE may also be an fsspec URL: a prefix (s3://bucket/case-123/) or one
    object (gs://bucket/bundle.zip); s3, gcs and azure need the casework extra
    of the same name.

    Writes findings.json, report.md, report.html, bugreport.md, inventory.json
    and case.duckdb into the case directory, then prints the inventory and the
    top findings. Exit code 0 when the investigation ran (even with skipped
    files), 2 when the input itself is unusable.
    """
    console = Console(stderr=True)
    out_dir = out or Path(f"case-{_label(bundle)}")
    options = Options(
        tz=tz, limits=Limits(max_total_bytes=max_bytes, max_ratio=max_ratio),
        templates_state=templates_state, envs=_envs(env_a, env_b),
        executor=executor, workers=workers, scheduler=scheduler,
        storage=parse_storage_options(storage_options),
    )  # fmt: skip
    progress = None if quiet else _BarProgress(console)
    result = investigate(bundle, out_dir, options, progress=progress)
    print_summary(Console(), result, top=top)
