"""findings.json: the ``casework.findings/1`` contract of DESIGN.md, plus runs and redactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from casework.findings import SCHEMA
from casework.investigation import Investigation


def findings_document(inv: Investigation) -> dict[str, Any]:
    """The findings.json document: findings best first, then how the run went."""
    return {
        "schema": SCHEMA,
        "bundle": {
            "path": inv.bundle,
            "files": len(inv.inventory),
            "parsed": inv.parsed,
            "skipped": inv.skipped,
        },
        "window": inv.window.to_json() if inv.window else None,
        "tz": {"zone": inv.tz, "given": inv.tz_given},
        "findings": [f.to_json() for f in inv.findings],
        "runs": [
            {
                "analyzer": r.key,
                "status": r.status,
                "reason": r.reason,
                "seconds": round(r.seconds, 4),
                "findings": r.findings,
            }
            for r in inv.runs
        ],
        "redactions": redaction_counts(inv),
    }


def redaction_counts(inv: Investigation) -> dict[str, Any]:
    """How many secrets were masked, by kind and by file (counts only, never values)."""
    by_file = {e.path: dict(sorted(e.redactions.items())) for e in inv.inventory if e.redactions}
    by_kind = dict(sorted(inv.redactions.items()))
    if not by_kind:
        for counts in by_file.values():
            for kind, n in counts.items():
                by_kind[kind] = by_kind.get(kind, 0) + n
        by_kind = dict(sorted(by_kind.items()))
    return {"total": sum(by_kind.values()), "by_kind": by_kind, "by_file": by_file}


def write(inv: Investigation, path: Path) -> Path:
    path.write_bytes(orjson.dumps(findings_document(inv), option=orjson.OPT_INDENT_2) + b"\n")
    return path
