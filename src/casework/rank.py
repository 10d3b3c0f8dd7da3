"""Ranking: one ordering of all findings, best first, the same on every run.

The order is by ``score × severity weight`` (``findings.SEVERITY_WEIGHT``):
the analyzer's score says how strong and how large the evidence is, the
severity how much it matters, so a strong but harmless finding does not
outrank a new failure. Ties break by key, then subject, so the order never
depends on the order analyzers ran in. The analyzer's own score is kept in
``score``; merging findings of one incident into one hypothesis comes later.
"""

from __future__ import annotations

from collections.abc import Iterable

from casework.findings import SEVERITY_WEIGHT, Finding
from casework.story import merge


def weight(finding: Finding) -> float:
    """The value findings are ordered by (higher first)."""
    return finding.score * SEVERITY_WEIGHT.get(finding.severity, 0.0)


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered best first, with ``rank`` set to 1..n."""
    # Findings about one incident first merge into one story that states the whole hypothesis.
    ordered = sorted(merge(findings), key=lambda f: (-round(weight(f), 9), f.key, f.subject))
    return [f.ranked(i) for i, f in enumerate(ordered, start=1)]
