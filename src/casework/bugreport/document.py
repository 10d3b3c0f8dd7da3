"""The bug report as a list of blocks (headings, paragraphs, tables, code), rendered by each format.

Markdown, Jira and GitHub differ only in syntax; the content is decided here,
once. Inline code in text is written with backticks and each renderer
translates it.
"""

from __future__ import annotations

from dataclasses import dataclass

from casework.bugreport.build import identity_lines
from casework.bugreport.model import BugReport, Number
from casework.bugreport.scope import inline
from casework.bugreport.timefmt import percent, when
from casework.findings import count_text, iso
from casework.report.text import location, stat_text

MAX_EXCERPT_LINES = 30


@dataclass(frozen=True, slots=True)
class Heading:
    text: str


@dataclass(frozen=True, slots=True)
class Para:
    text: str


@dataclass(frozen=True, slots=True)
class Items:
    items: tuple[str, ...]
    numbered: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Code:
    text: str
    caption: str = ""
    lang: str = "text"
    #: Long evidence that a format able to fold it (GitHub) shows folded.
    long: bool = False


Block = Heading | Para | Items | Table | Code


def blocks(r: BugReport) -> list[Block]:
    """The report's sections in order; the title is not a block (formats place it differently)."""
    out: list[Block] = [Heading("Summary"), Para(r.summary)]
    if r.caveats:
        out += [Heading("Caution: the evidence does not show what was reported"), Items(r.caveats)]
    if r.reported:
        # Verbatim in a code block: a ticket's own Markdown or markup cannot reshape the report.
        out += [Heading("Case description"), Code("\n".join(r.reported))]
    out += _impact(r)
    out += [Heading("Environment")]
    out += (
        [
            Table(
                ("what", "value", "source"),
                tuple((f.name, f.value, f.source) for f in r.environment),
            )
        ]
        if r.environment
        else [Para("No versions, regions or clients were found in the evidence.")]
    )
    out += [Heading("Steps to reproduce"), Items(r.steps, numbered=True)]
    if r.repro is not None:
        out.append(Code(r.repro.curl, caption=f"curl ({r.repro.script_sh})", lang="sh"))
        out += [Para(n) for n in r.repro.notes]
    out += [
        Heading("Expected vs actual"),
        Items((f"Expected: {r.expected}", f"Actual: {r.actual}")),
    ]
    out += _evidence(r)
    out += [Heading("Timeline")]
    out.append(
        Table(
            ("time (UTC)", "what", "source"),
            tuple((iso(m.ts), m.what, m.source) for m in r.timeline),
        )
    )
    out += [Heading("Hypothesis and what would confirm it"), Para(r.hypothesis)]
    if r.confirm:
        out.append(Items(r.confirm))
    out += [Heading("Workaround")]
    out.append(Items(r.workaround) if r.workaround else Para("None suggested by the evidence."))
    out.append(
        Para(
            f"Finding `{r.finding.id}` ({r.finding.key}, severity {r.finding.severity}); drafted by casework from the case store."
        )
    )
    return out


def _impact(r: BugReport) -> list[Block]:
    imp = r.impact
    out: list[Block] = [Heading("Impact")]
    if not imp.numbers:
        return [*out, Para(f"Impact {imp.note or 'not computed'}.")]
    ongoing = "yes" if imp.get("ongoing") else "no"
    lines = [
        f"Scope: {imp.scope}.",
        f"Failing: {count_text(imp.get('failing'))} of {count_text(imp.get('volume_since_first_failure'))}"
        " from the first failure on"
        f" ({percent(imp.get('share_since_first_failure'))}); {percent(imp.get('share_of_all'))} of all"
        " records of this kind in the case.",
        f"Since: {when(imp.get('first_failure'))}; last seen {when(imp.get('last_failure'))}.",
        f"Still going on at the end of the evidence ({when(imp.get('evidence_end'))}): {ongoing}"
        f" ({count_text(imp.get('failing_in_last_15_min'))} failures in its last 15 minutes).",
    ]
    lines += [f"Affected: {line}." for line in identity_lines(imp)]
    lines += [f"Who: the failing records share {c}." for c in r.cohort]
    out.append(Items(tuple(lines)))
    if imp.series and any(imp.series):
        out.append(
            Code(
                sparkline(imp.series),
                caption=f"failing records per {imp.bucket_minutes} minutes, from the first record of the case"
                f" to {when(imp.get('evidence_end'))} (peak {max(imp.series)})",
            )
        )
    out.append(Table(("number", "value", "meaning"), tuple(_row(n) for n in imp.numbers)))
    queries = "\n".join(
        f"-- {n.name}: {n.meaning}\n{inline(n.sql, n.params)};"
        for n in imp.numbers
        if n.name != "ongoing"
    )
    out.append(
        Code(
            queries,
            caption="How each number was computed (DuckDB, case.duckdb)",
            lang="sql",
            long=True,
        )
    )
    return out


def sparkline(counts: tuple[int, ...]) -> str:
    """One character per bucket: ``▁`` for none, ``▂`` to ``█`` growing to the peak."""
    bars = "▁▂▃▄▅▆▇█"
    peak = max(counts) or 1
    return "".join(bars[0 if c == 0 else 1 + round((len(bars) - 2) * c / peak)] for c in counts)


def _row(n: Number) -> tuple[str, str, str]:
    return (n.name, stat_text(n.name, n.value), n.meaning)


def _evidence(r: BugReport) -> list[Block]:
    out: list[Block] = [Heading("Evidence")]
    if not r.evidence:
        out.append(Para("The finding carries no excerpts."))
    for e in r.evidence:
        out.append(
            Code(_clip_lines(e.excerpt), caption=location(e), long=e.excerpt.count("\n") > 5)
        )
    for o in r.corroborating:
        out.append(Para(f"Corroborating finding `{o.id}`: {o.title}"))
        for e in o.evidence[:1]:
            out.append(
                Code(_clip_lines(e.excerpt), caption=location(e), long=e.excerpt.count("\n") > 5)
            )
    return out


def _clip_lines(text: str) -> str:
    lines = text.splitlines()
    if len(lines) <= MAX_EXCERPT_LINES:
        return text
    return "\n".join(
        [*lines[:MAX_EXCERPT_LINES], f"... ({len(lines) - MAX_EXCERPT_LINES} more lines)"]
    )
