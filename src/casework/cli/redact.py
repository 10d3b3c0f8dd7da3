"""``casework redact IN OUT``: sanitize a HAR, log, config, folder or archive before sharing it."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

from casework.cli.errors import friendly_errors
from casework.errors import BundleError
from casework.redact import RedactionPolicy, Redactor
from casework.redact.files import Summary, redact_path, redact_stream


def _key(key_file: Path | None) -> bytes:
    if key_file is None:
        return secrets.token_bytes(32)
    key = key_file.read_bytes().strip()
    if len(key) < 16:
        raise BundleError("the key file must hold at least 16 bytes", file=str(key_file))
    return key


def _report(summary: Summary) -> None:
    total = sum(summary.counts.values())
    kinds = ", ".join(f"{k} {n}" for k, n in summary.counts.most_common()) or "nothing found"
    click.echo(f"casework redact: {total} value(s) replaced ({kinds})", err=True)
    for path, n in sorted(summary.files_with_secrets.items()):
        click.echo(f"  {path}: {n}", err=True)
    for path, reason in sorted(summary.skipped.items()):
        click.echo(f"  skipped {path}: {reason}", err=True)


@click.command("redact")
@click.argument("src", metavar="IN")
@click.argument("dst", metavar="OUT")
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Reuse a case key so placeholders match another run (default: a new random key).",
)
@click.option(
    "--ip/--no-ip", default=False, show_default=True, help="Also redact public IP addresses."
)
@click.option(
    "--email/--no-email", default=True, show_default=True, help="Redact e-mail addresses."
)
@click.option("--phone/--no-phone", default=True, show_default=True, help="Redact phone numbers.")
@click.option("--card/--no-card", default=True, show_default=True, help="Redact card numbers.")
@friendly_errors
def command(
    src: str, dst: str, key_file: Path | None, ip: bool, email: bool, phone: bool, card: bool
) -> None:
    """Write a redacted copy of IN to OUT ('-' for standard input/output).

    IN may be a HAR (the result is still a valid HAR), a log, a config, a
    folder, or a .zip/.tar(.gz) archive (written back as the same kind).
    A summary of what was replaced, by kind and count, goes to standard error.
    """
    policy = RedactionPolicy(pii_email=email, pii_card=card, pii_phone=phone, pii_ip=ip)
    r = Redactor(_key(key_file), policy)
    summary = Summary()
    if src == "-":
        out = redact_stream(r, sys.stdin.buffer.read())
        summary.add("<stdin>", r.take_counts())
        if dst == "-":
            sys.stdout.buffer.write(out)
            sys.stdout.buffer.flush()
        else:
            Path(dst).write_bytes(out)
    else:
        source = Path(src)
        if not source.exists():
            raise BundleError("no such file or folder", file=src)
        if dst == "-":
            if source.is_dir():
                raise BundleError("a folder cannot be written to standard output", file=src)
            out = redact_stream(r, source.read_bytes())
            summary.add(source.name, r.take_counts())
            sys.stdout.buffer.write(out)
        else:
            target = Path(dst)
            if target.resolve() == source.resolve():
                raise BundleError("OUT must differ from IN", file=dst)
            redact_path(r, source, target, summary)
    _report(summary)
