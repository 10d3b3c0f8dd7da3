"""inventory.json: every bundle member with its kind, records, time range, status and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from casework.investigation import Investigation

SCHEMA = "casework.inventory/1"


def inventory_document(inv: Investigation) -> dict[str, Any]:
    files = sorted(inv.inventory, key=lambda e: e.path)
    return {
        "schema": SCHEMA,
        "bundle": inv.bundle,
        "tz": {"zone": inv.tz, "given": inv.tz_given},
        "totals": {
            "files": len(files),
            "parsed": sum(1 for e in files if e.status == "parsed"),
            "partial": sum(1 for e in files if e.status == "partial"),
            "skipped": sum(1 for e in files if e.status == "skipped"),
            "records": sum(e.records for e in files),
            "bytes": sum(e.bytes for e in files),
        },
        "files": [e.to_json() for e in files],
        "seconds": round(inv.seconds, 3),
        "phases": {name: round(s, 3) for name, s in inv.phases.items()},
    }


def write(inv: Investigation, path: Path) -> Path:
    path.write_bytes(orjson.dumps(inventory_document(inv), option=orjson.OPT_INDENT_2) + b"\n")
    return path
