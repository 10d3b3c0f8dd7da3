"""The result of one investigation, as renderers and the CLI see it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from casework.engine import AnalyzerRun
from casework.findings import Finding, Window
from casework.inventory import FileEntry


@dataclass
class Investigation:
    """Everything one ``casework investigate`` run produced.

    ``findings`` are ranked (rank 1 first). ``case_path`` is the DuckDB case
    store; renderers may open it read-only for charts. ``tz`` is the zone
    assumed for naive timestamps and ``tz_given`` says whether the user chose it.
    """

    bundle: str
    out: Path
    case_path: Path
    inventory: list[FileEntry]
    findings: list[Finding]
    runs: list[AnalyzerRun]
    window: Window | None
    tz: str = "UTC"
    tz_given: bool = False
    redactions: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: Seconds per phase, in order: reading the bundle (open, plan, scan), merging the scan's
    #: parts into the case store, and the analysis (analyzers and ranking).
    phases: dict[str, float] = field(default_factory=dict)
    #: The case description (``case.md``, a pasted ticket), redacted; None when there was none.
    description: str | None = None

    @property
    def parsed(self) -> int:
        return sum(1 for f in self.inventory if f.status != "skipped")

    @property
    def skipped(self) -> int:
        return sum(1 for f in self.inventory if f.status == "skipped")
