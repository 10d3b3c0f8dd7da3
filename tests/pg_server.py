"""A throwaway PostgreSQL for plan tests: a temp cluster on a free port, run as a non-root user.

The server binaries come from PATH or Debian's ``/usr/lib/postgresql/<v>/bin``
(CI installs the ``postgresql`` package). PostgreSQL refuses to run as root,
so under root the cluster belongs to the system user ``casework-pg``,
created with ``useradd`` when missing. ``psql`` connects over the cluster's
Unix socket with trust auth, so no password exists anywhere.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_USER = "casework-pg"
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")


class PostgresUnavailable(RuntimeError):
    """The binaries are missing or the cluster could not start (the message says which)."""


def find_bindir() -> Path:
    """The directory holding initdb/pg_ctl/postgres: PATH first, then Debian's layout."""
    found = shutil.which("pg_ctl")
    if found and all(shutil.which(b) for b in SERVER_BINARIES):
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    for path in reversed(candidates):
        if all((Path(path) / b).exists() for b in SERVER_BINARIES):
            return Path(path)
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in "
        "/usr/lib/postgresql/*/bin: install Debian's 'postgresql' package"
    )


def _psql_binary(bindir: Path) -> str:
    local = bindir / "psql"
    return str(local) if local.exists() else shutil.which("psql") or "psql"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """None when we are not root (the server runs as us); else the dedicated user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(PG_USER)


@dataclass
class PgServer:
    """A running cluster; :meth:`sql` runs statements through psql and returns its output."""

    bindir: Path
    root: Path
    port: int

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def sql(self, script: str, *, tuples_only: bool = True, database: str = "postgres") -> str:
        """Run ``script`` (several statements allowed); stop at the first error."""
        args = [
            _psql_binary(self.bindir),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
        ]
        if tuples_only:
            args += ["-A", "-t"]
        done = subprocess.run(args, input=script, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed ({done.returncode}): {done.stderr.strip()[:2000]}")
        return done.stdout


def _run_as(user: pwd.struct_passwd | None, args: list[str], **kw: object) -> None:
    ids = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, **ids, **kw)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise PostgresUnavailable(f"{Path(args[0]).name} failed: {done.stderr.strip()[:2000]}")


@contextmanager
def running_postgres(settings: dict[str, str] | None = None) -> Iterator[PgServer]:
    """Start a fresh cluster, yield it, and stop and delete it whatever happens."""
    bindir = find_bindir()
    user = _server_user()
    # Not under pytest's tmp dirs: those are 0700 and the server user could not enter them.
    root = Path(tempfile.mkdtemp(prefix="casework-pg-"))
    os.chmod(root, 0o755)
    server = PgServer(bindir, root, _free_port())
    data = root / "data"
    server.socket_dir.mkdir()
    if user is not None:
        for path in (root, server.socket_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    options = {
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{server.socket_dir}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "autovacuum": "off",  # tests decide when statistics and the visibility map are fresh
        "shared_buffers": "32MB",
        "max_worker_processes": "4",
        "log_min_messages": "warning",
        **(settings or {}),
    }
    try:
        _run_as(
            user,
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            env=env,
        )
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.writelines(f"{k} = {v}\n" for k, v in options.items())
        _run_as(
            user,
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                f"-p {server.port}",
                "-l",
                str(server.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ],
            env=env,
        )
        try:
            yield server
        finally:
            _run_as(
                user,
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                env=env,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
