"""The command line: help for every command, exit codes, one-line errors and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from casework.cli import main

GOOD = (
    '{"ts":"2026-03-01T10:00:00Z","level":"info","msg":"GET /v1/items 200","status":200,'
    '"path":"/v1/items","method":"GET","duration_ms":12}\n'
) * 20


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, (*prefix, name)))
    return out


def test_every_command_is_listed_and_the_listing_imports_none_of_them() -> None:
    """A spawned scan worker imports the ``casework`` script's module again before its first
    task: it must not pull in the analyzers, the report or scipy (2.1 s each start)."""
    assert len(all_commands(main)) >= 12  # the nine commands and the queue's subcommands
    code = (
        "import sys, casework.cli; "
        "print(sorted(m for m in ('scipy', 'casework.pipeline', 'casework.report', 'duckdb')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("path", all_commands(main), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    # A usage line plus at least one sentence of description.
    assert len(lines) >= 3


def test_missing_bundle_exits_2_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["investigate", str(tmp_path / "nope.zip"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "no such file" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unreadable_archive_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bundle.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    result = CliRunner().invoke(main, ["investigate", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "not a readable archive" in result.output
    assert "Traceback" not in result.output


def test_unknown_time_zone_exits_2(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "app.jsonl").write_text(GOOD)
    result = CliRunner().invoke(
        main,
        ["investigate", str(tmp_path / "b"), "--out", str(tmp_path / "o"), "--tz", "Mars/Olympus"],
    )
    assert result.exit_code == 2
    assert "unknown time zone" in result.output


def test_investigate_writes_every_output_and_exits_0(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.zip"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("logs/app.jsonl", GOOD)
        zf.writestr("junk.log", bytes(range(256)) * 10)
    out = tmp_path / "case"
    result = CliRunner().invoke(main, ["investigate", str(bundle), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    for name in ("findings.json", "report.md", "report.html", "inventory.json", "case.duckdb"):
        assert (out / name).is_file(), name
    inventory = json.loads((out / "inventory.json").read_text())
    files = {f["path"]: f for f in inventory["files"]}
    assert files["logs/app.jsonl"]["status"] == "parsed"
    assert files["logs/app.jsonl"]["records"] == 20
    assert files["junk.log"]["status"] == "skipped"
    assert "binary" in files["junk.log"]["reason"]
    assert "app.jsonl" in result.output
    # Where the time went: the phases, in order, within the run's whole time.
    phases = inventory["phases"]
    assert list(phases) == ["read", "merge", "analysis"]
    assert (
        all(v >= 0 for v in phases.values()) and sum(phases.values()) <= inventory["seconds"] + 0.01
    )
    run_line = next(x for x in (out / "report.md").read_text().splitlines() if "Run time" in x)
    assert all(f"{name} " in run_line for name in phases), run_line
    assert "run time" in result.output and "merge" in result.output
