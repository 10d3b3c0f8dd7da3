"""Bug reports engineering can act on: built from findings.json and the case store, in three formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import duckdb
import orjson

from casework.bugreport import render_github, render_jira, render_md
from casework.bugreport.build import build, counted, findings_of, pick
from casework.bugreport.facts import failing_status
from casework.bugreport.model import BugReport, FindingFacts, Impact, Number
from casework.errors import BundleError
from casework.store import open_read_only

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
        raise BundleError(
            "not a case directory (needs findings.json and case.duckdb); run casework investigate first",
            file=str(case_dir),
        )
    try:
        doc = orjson.loads(findings.read_bytes())
    except orjson.JSONDecodeError:
        raise BundleError("findings.json is not valid JSON", file=str(findings)) from None
    return doc, open_read_only(db)


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
        base, scope = counted(con, f, [o for o in findings_of(doc) if o.id != f.id])
        status = failing_status(base)[2]
        files = write_repro(con, scope, f.id, case_dir, verify, status) if repro else None
        return build(con, doc, f.id, files)
    finally:
        con.close()


def write_bugreport(case_dir: Path) -> Path | None:
    """``bugreport.md`` for the top finding (what every investigation writes); None without findings."""
    doc = orjson.loads((case_dir / "findings.json").read_bytes())
    if not doc.get("findings"):
        return None
    path = case_dir / "bugreport.md"
    try:
        text = render(report_for_case(case_dir), "md")
    except Exception as exc:  # a renderer never kills the run; the reason goes into the file
        # The investigation's other reports stand; say why this one is missing instead of failing the run.
        text = f"# Bug report not drafted\n\ncasework could not draft it: {type(exc).__name__}. Run `casework bugreport` on this case.\n"
    path.write_text(text)
    return path
