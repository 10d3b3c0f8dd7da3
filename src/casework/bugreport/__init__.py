"""Bug reports engineering can act on: built from findings.json and the case store, in three formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import duckdb
import orjson

from casework.bugreport import render_github, render_jira, render_md
from casework.bugreport.build import build, pick
from casework.bugreport.model import BugReport, FindingFacts, Impact, Number
from casework.bugreport.scope import scope_of
from casework.errors import BundleError

__all__ = [
    "BugReport",
    "FindingFacts",
    "Impact",
    "Number",
    "build",
    "load_case",
    "render",
    "report_for_case",
    "write_bugreport",
]

Format = Literal["md", "jira", "github"]
_RENDERERS = {"md": render_md.render, "jira": render_jira.render, "github": render_github.render}


def render(report: BugReport, fmt: Format = "md") -> str:
    return _RENDERERS[fmt](report)


def load_case(case_dir: Path) -> tuple[dict[str, Any], duckdb.DuckDBPyConnection]:
    """findings.json and a read-only connection to case.duckdb of a case directory."""
    findings, db = case_dir / "findings.json", case_dir / "case.duckdb"
    if not findings.is_file() or not db.is_file():
        raise BundleError("not a case directory (needs findings.json and case.duckdb); run casework investigate first", file=str(case_dir))
    try:
        doc = orjson.loads(findings.read_bytes())
    except orjson.JSONDecodeError:
        raise BundleError("findings.json is not valid JSON", file=str(findings)) from None
    return doc, duckdb.connect(str(db), read_only=True)


def report_for_case(
    case_dir: Path,
    finding_id: str | None = None,
    *,
    repro: bool = True,
    verify: Any = None,
) -> BugReport:
    """The bug report of one finding of a case directory, writing its reproduction into ``repro/``."""
    from casework.repro import write_repro

    doc, con = load_case(case_dir)
    try:
        f = pick(doc, finding_id)
        status = f.stat("top_status")
        wanted = status if isinstance(status, int) else None
        files = write_repro(con, scope_of(con, f), f.id, case_dir, verify, wanted) if repro else None
        return build(con, doc, f.id, files)
    finally:
        con.close()


def write_bugreport(case_dir: Path) -> Path | None:
    """``bugreport.md`` for the top finding (what every investigation writes); None without findings."""
    doc = orjson.loads((case_dir / "findings.json").read_bytes())
    if not doc.get("findings"):
        return None
    path = case_dir / "bugreport.md"
    path.write_text(render(report_for_case(case_dir), "md"))
    return path
