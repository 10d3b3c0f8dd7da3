"""Ranking: one ordering of all findings, best first, the same on every run.

The order is by ``score × severity weight`` (``findings.SEVERITY_WEIGHT``):
the analyzer's score says how strong and how large the evidence is, the
severity how much it matters, so a strong but harmless finding does not
outrank a new failure. Ties break by key, then subject, so the order never
depends on the order analyzers ran in. The analyzer's own score is kept in
``score``. Findings about one incident first merge into one story
(``story.merge``); a story ranks at least as high as the best of its members
and before it on a tie: it states their hypothesis whole, and they follow it.
"""

from __future__ import annotations

from collections.abc import Iterable

from casework.findings import SEVERITY_WEIGHT, Finding
from casework.story import STORY_KEY, merge


def weight(finding: Finding) -> float:
    """The value findings are ordered by (higher first)."""
    return finding.score * SEVERITY_WEIGHT.get(finding.severity, 0.0)


def rank(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered best first, with ``rank`` set to 1..n."""
    merged = merge(findings)
    weights = {f.id: weight(f) for f in merged}

    def order(f: Finding) -> tuple[float, bool, str, str]:
        w = weights[f.id]
        if f.key == STORY_KEY:
            w = max([w, *(weights.get(r, 0.0) for r in f.related)])
        return (-round(w, 9), f.key != STORY_KEY, f.key, f.subject)

    return [f.ranked(i) for i, f in enumerate(sorted(merged, key=order), start=1)]
