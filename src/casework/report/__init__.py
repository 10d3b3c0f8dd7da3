"""Renderers: findings.json, report.md, report.html and inventory.json from one investigation."""

from __future__ import annotations

from pathlib import Path

from casework.investigation import Investigation
from casework.report import findings_json, html, inventory_json, markdown


def write_all(inv: Investigation) -> list[Path]:
    """Write every report file into ``inv.out`` and return their paths."""
    inv.out.mkdir(parents=True, exist_ok=True)
    return [
        findings_json.write(inv, inv.out / "findings.json"),
        markdown.write(inv, inv.out / "report.md"),
        html.write(inv, inv.out / "report.html"),
        inventory_json.write(inv, inv.out / "inventory.json"),
    ]


__all__ = ["write_all"]
