"""Reproductions of a failing HTTP request: curl and httpx scripts, and a minimal version.

The scripts are only written, never run by casework. ``verify`` (opt-in)
replays the request against a loopback target or the user's ``--base-url``
to find which headers and fields matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from casework.bugreport.model import ReproFiles
from casework.bugreport.scope import Scope
from casework.repro.minimize import (
    Minimized,
    allowed_target,
    http_sender,
    minimize,
    missing_secrets,
    unverified,
)
from casework.repro.request import UNKNOWN_ORIGIN, Captured, Part, captured
from casework.repro.scripts import curl_command, python_script, secrets, shell_script

__all__ = [
    "Captured",
    "Minimized",
    "Part",
    "Verify",
    "captured",
    "curl_command",
    "failing_request",
    "minimize",
    "python_script",
    "shell_script",
    "write_repro",
]

_COLUMNS = ("ts", "source", "file", "line", "method", "host", "route", "url", "status", "attrs")


@dataclass(frozen=True, slots=True)
class Verify:
    """Opt-in verification: replay against ``base_url`` (loopback unless the user named it)."""

    base_url: str | None = None
    enabled: bool = False


def failing_request(
    con: duckdb.DuckDBPyConnection, scope: Scope, status: int | None = None
) -> Captured | None:
    """A failing request with ``status`` if given, the one with most captured detail, earliest first."""
    if scope.table != "requests":
        return None
    row = con.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM requests WHERE {scope.failing}"
        " ORDER BY (status = ?) DESC, coalesce(json_array_length(json_keys(attrs)), 0) DESC,"
        " ts, file, line LIMIT 1",
        [*scope.params, status],
    ).fetchone()
    return captured(dict(zip(_COLUMNS, row, strict=True))) if row else None


def write_repro(
    con: duckdb.DuckDBPyConnection,
    scope: Scope | None,
    finding_id: str,
    case_dir: Path,
    verify: Verify | None = None,
    status: int | None = None,
) -> ReproFiles | None:
    """Write ``repro/<finding-id>.sh`` and ``.py`` (and ``.min.*`` when verified) into ``case_dir``."""
    req = failing_request(con, scope, status) if scope is not None else None
    if req is None:
        return None
    mini = _minimized(req, verify or Verify())
    folder = case_dir / "repro"
    folder.mkdir(parents=True, exist_ok=True)
    sh, py = folder / f"{finding_id}.sh", folder / f"{finding_id}.py"
    sh.write_text(shell_script(req))
    py.write_text(python_script(req, mini.notes()))
    notes = [f"Minimal version: {mini.note}."]
    if not req.parts:
        notes.insert(
            0,
            "The capture holds no headers or body (an access log, say): add what the client sends.",
        )
    if req.origin == UNKNOWN_ORIGIN:
        notes.insert(0, "The capture names no host: pass --base-url.")
    if mini.verified:
        small = req.only(mini.kept)
        (folder / f"{finding_id}.min.sh").write_text(shell_script(small))
        (folder / f"{finding_id}.min.py").write_text(python_script(small))
        kept = ", ".join(p.label for p in mini.kept) or "nothing beyond the method and path"
        notes.append(f"Only these matter: {kept} (repro/{finding_id}.min.py).")
    else:
        notes.append('Headers and fields in the scripts are marked "not verified".')
    return ReproFiles(
        script_sh=f"repro/{finding_id}.sh",
        script_py=f"repro/{finding_id}.py",
        curl=curl_command(req),
        request=req.where(),
        status=req.status,
        secrets=tuple(secrets(req)),
        minimal=tuple(p.label for p in mini.kept) if mini.verified else None,
        notes=tuple(notes),
    )


def _minimized(req: Captured, verify: Verify) -> Minimized:
    if not verify.enabled:
        return unverified(req, "not verified (pass --verify with a reachable target of your own)")
    base = verify.base_url or req.origin
    if not allowed_target(base, user_given=verify.base_url is not None):
        return unverified(req, "not verified: the captured target is not loopback; pass --base-url")
    missing = missing_secrets(req)
    if missing:
        return unverified(req, f"not verified: set {', '.join(missing)} first")
    return minimize(req, http_sender(base))
