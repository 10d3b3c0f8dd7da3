"""``casework templates FILE``: the log templates of one file, with counts and first/last seen.

Without ``--raw`` the file goes through the format sniffer, so a known log
format contributes its messages (header split off) and timestamps; a file no
parser claims is read as one message per line. ``--raw`` always reads one
message per line, and ``--csv OUT`` writes ``LineId,EventTemplate`` for every
input line, the shape of the Loghub evaluator. Every message passes the
redactor before it is mined, so no secret reaches the table, the CSV or the
saved state (the redaction key is random per run and never written).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from casework.cli.errors import friendly_errors
from casework.errors import BundleError
from casework.formats import ParseContext, iter_lines, sniff
from casework.mining import TemplateMiner
from casework.model import LogRecord
from casework.redact import Redactor

SNIFF_BYTES = 64 * 1024


@dataclass(slots=True)
class Seen:
    """First and last sighting of a cluster: line numbers, and times when known."""

    first_line: int
    last_line: int
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    count: int = 1

    def fold(self, other: Seen) -> None:
        """Take in the sightings of a cluster that merged into this one."""
        self.count += other.count
        if other.first_line < self.first_line:
            self.first_line, self.first_ts = other.first_line, other.first_ts
        if other.last_line > self.last_line:
            self.last_line, self.last_ts = other.last_line, other.last_ts


def _messages(path: Path, raw: bool) -> Iterator[tuple[int, str, datetime | None]]:
    ctx = ParseContext(path=str(path))
    fmt = None
    if not raw:
        with path.open("rb") as fh:
            fmt, _ = sniff(fh.read(SNIFF_BYTES))
    with path.open("rb") as fh:
        if fmt is None:
            for number, text in iter_lines(fh, ctx):
                yield number, text, None
            return
        for record in fmt.parse(fh, ctx):
            if isinstance(record, LogRecord):
                yield record.line, record.message, record.ts


@click.command("templates")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--raw", is_flag=True, help="Each line is one message; no header parsing.")
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write LineId,EventTemplate for every message to this file.",
)
@click.option(
    "--state",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Template state to continue from (if it exists) and save to.",
)
@click.option("--top", default=50, show_default=True, help="Rows to print (0: all).")
@friendly_errors
def command(file: Path, raw: bool, csv_out: Path | None, state: Path | None, top: int) -> None:
    """Mine the log templates of FILE and print them with counts and first/last seen."""
    if not file.is_file():
        raise BundleError("not a readable file", file=str(file))
    miner = TemplateMiner.load(state) if state and state.exists() else TemplateMiner()
    seen: dict[int, Seen] = {}
    assigned: list[tuple[int, int]] = []
    redactor = Redactor(os.urandom(32))
    for line, message, ts in _messages(file, raw):
        cid = miner.add(redactor.text(message))
        assigned.append((line, cid))
        hit = seen.get(cid)
        if hit is None:
            seen[cid] = Seen(line, line, ts, ts)
        else:
            hit.last_line, hit.last_ts = line, ts or hit.last_ts
            hit.count += 1
    if csv_out is not None:
        _write_csv(csv_out, miner, assigned)
    if state is not None:
        miner.save(state)
    _print(miner, seen, top)


def _write_csv(out: Path, miner: TemplateMiner, assigned: list[tuple[int, int]]) -> None:
    # Templates are final only at the end of the file, so rows are written then.
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["LineId", "EventTemplate"])
        for line, cid in assigned:
            writer.writerow([line, miner.template(cid).text])


def _print(miner: TemplateMiner, seen: dict[int, Seen], top: int) -> None:
    # Counts are this file's (a loaded state carries counts of earlier runs);
    # clusters that merged while streaming are folded into the survivor.
    merged: dict[int, Seen] = {}
    for cid, hit in sorted(seen.items(), key=lambda item: item[1].first_line):
        live = miner.resolve(cid)
        if live in merged:
            merged[live].fold(hit)
        else:
            merged[live] = Seen(hit.first_line, hit.last_line, hit.first_ts, hit.last_ts, hit.count)
    ranked = sorted(merged.items(), key=lambda item: (-item[1].count, item[1].first_line))
    table = Table(title=f"{len(ranked)} templates")
    table.add_column("count", justify="right")
    table.add_column("first", justify="right")
    table.add_column("last", justify="right")
    table.add_column("new")
    table.add_column("template", overflow="fold")
    for cid, hit in ranked[: top or None]:
        template = miner.template(cid)
        first = hit.first_ts.isoformat() if hit.first_ts else f"line {hit.first_line}"
        last = hit.last_ts.isoformat() if hit.last_ts else f"line {hit.last_line}"
        table.add_row(
            str(hit.count),
            first,
            last,
            "" if template.seen_before else "new",
            escape(template.text),
        )
    Console().print(table)
