"""report.md: the investigation as Markdown a support engineer can paste into a ticket."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from casework.findings import Finding, iso
from casework.investigation import Investigation
from casework.notes import quoted
from casework.report.findings_json import redaction_counts
from casework.report.text import (
    coverage_sentence,
    headlines,
    inventory_row,
    location,
    run_status,
    run_time,
    seconds_text,
    stat_text,
    tz_sentence,
)

DETAILED = 10


def render(inv: Investigation) -> str:
    out: list[str] = [f"# casework report: {_cell(inv.bundle)}", ""]
    out += _overview(inv)
    if inv.description:
        out += ["", "## Case description", ""]
        out += [f"> {line}" if line else ">" for line in quoted(inv.description)]
    out += ["", "## Summary", ""]
    if not inv.findings:
        out.append("No findings: no analyzer found anything to report (see the runs below).")
    for f in headlines(inv.findings):
        out.append(f"{f.rank}. **[{f.severity.upper()}]** {f.title}")
    out += ["", f"## Top findings ({min(DETAILED, len(inv.findings))} of {len(inv.findings)})"]
    for f in inv.findings[:DETAILED]:
        out += ["", *_finding(f)]
    rest = inv.findings[DETAILED:]
    if rest:
        out += ["", "### Further findings", ""]
        out += [f"{f.rank}. [{f.severity}] {f.title}" for f in rest]
    out += ["", "## Analyzer runs", ""]
    out += _table(
        ("analyzer", "status", "findings", "time"),
        [(r.key, run_status(r), str(r.findings), seconds_text(r.seconds)) for r in inv.runs],
    )
    out += ["", "## Inventory", ""]
    out += _table(
        ("file", "kind", "status", "records", "size", "first", "last", "tz", "note"),
        [inventory_row(e) for e in sorted(inv.inventory, key=lambda e: e.path)],
    )
    out += ["", "## Redactions", "", *_redactions(inv)]
    out += ["", "## Time zones", "", tz_sentence(inv), ""]
    return "\n".join(out)


def _overview(inv: Investigation) -> list[str]:
    window = f"{iso(inv.window.start)} → {iso(inv.window.end)}" if inv.window else "no timestamps"
    records = sum(e.records for e in inv.inventory)
    masked = redaction_counts(inv)["total"]
    coverage = coverage_sentence(inv)
    return [
        f"- **Window**: {window}",
        *([f"- **Time coverage**: {coverage[0].upper()}{coverage[1:]}"] if coverage else []),
        f"- **Files**: {len(inv.inventory)} ({inv.parsed} read, {inv.skipped} skipped),"
        f" {records:,} records",
        f"- **Findings**: {len(inv.findings)}; **secrets masked**: {masked}",
        f"- **Time zone**: {tz_sentence(inv)}",
        f"- **Run time**: {run_time(inv)}",
    ]


def _finding(f: Finding) -> list[str]:
    out = [
        f"### {f.rank}. {f.title}",
        "",
        f"`{f.severity}` · score {f.score:.2f} · `{f.key}` · id `{f.id}`",
        "",
        f.summary,
    ]
    if f.entities:
        out += ["", " · ".join(f"**{k}**: `{_code(v)}`" for k, v in f.entities.items())]
    if f.stats:
        out += ["", *_table(("stat", "value"), [(k, stat_text(k, v)) for k, v in f.stats.items()])]
    if f.evidence:
        out += ["", "**Evidence**", ""]
        for e in f.evidence:
            out += [f"- `{location(e)}`", ""]
            if e.excerpt:  # evidence that is only a pointer (frame numbers) gets no empty block
                fence = _fence(e.excerpt)
                out += [f"  {fence}text", *[f"  {line}" for line in e.excerpt.splitlines()]]
                out += [f"  {fence}", ""]
    if f.next_steps:
        out += ["", "**Next steps**", "", *[f"- {s}" for s in f.next_steps]]
    return out


def _redactions(inv: Investigation) -> list[str]:
    counts = redaction_counts(inv)
    if not counts["total"]:
        return ["No secrets were found to mask."]
    out = [f"{counts['total']} secrets were replaced by placeholders before storing:", ""]
    out += _table(("kind", "count"), [(k, str(n)) for k, n in counts["by_kind"].items()])
    out += ["", "Files with masked values:", ""]
    for path, kinds in counts["by_file"].items():
        out.append(f"- `{path}`: " + ", ".join(f"{k} ×{n}" for k, n in kinds.items()))
    return out


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return text.replace("`", "'")


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside ``text``."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def write(inv: Investigation, path: Path) -> Path:
    path.write_text(render(inv), encoding="utf-8")
    return path
