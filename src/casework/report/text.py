"""Formatting shared by the Markdown, HTML and terminal renderers, so numbers read the same."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from casework.engine import AnalyzerRun
from casework.findings import Evidence, Finding, Stat, Window, iso
from casework.inventory import FileEntry
from casework.investigation import Investigation
from casework.timegroups import time_groups
from casework.timeline import minute

RATE_KEYS = ("rate", "share")


#: Findings in a report's summary and the terminal's top.
HEADLINES = 5


def headlines(findings: list[Finding], n: int = HEADLINES) -> list[Finding]:
    """The first ``n`` findings by rank that a story above them does not already hold: the
    summary names each line of inquiry once (a story's members follow it in the full list)."""
    told: set[str] = set()
    out: list[Finding] = []
    for f in findings:
        if f.id in told:
            continue
        out.append(f)
        told.update(f.related)
        if len(out) == n:
            break
    return out


def stat_text(key: str, value: Stat) -> str:
    """One stat for people: rates as percentages, p-values in scientific notation."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if key.startswith("p_"):
            return f"{value:.2g}"
        if any(k in key for k in RATE_KEYS):
            return f"{value:.2%}"
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def location(e: Evidence) -> str:
    """``file:10`` or ``file:10-14``: where an excerpt comes from."""
    if e.lines is None:
        return e.file if not e.refs else f"{e.file} ({', '.join(e.refs)})"
    first, last = e.lines
    return f"{e.file}:{first}" if first == last else f"{e.file}:{first}-{last}"


def run_status(run: AnalyzerRun) -> str:
    """``ok``, ``skipped: no spans in this bundle`` or ``error: KeyError in f (x.py:3)``."""
    return run.status if not run.reason else f"{run.status}: {run.reason}"


def ts_text(value: datetime | None) -> str:
    return iso(value) if value is not None else "—"


def seconds_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def run_time(inv: Investigation) -> str:
    """``12.3 s (read 9.1 s, merge 1.2 s, analysis 2.0 s)``: the whole run and its phases."""
    phases = ", ".join(f"{name} {seconds_text(s)}" for name, s in inv.phases.items())
    return seconds_text(inv.seconds) + (f" ({phases})" if phases else "")


def size_text(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def inventory_row(e: FileEntry) -> tuple[str, ...]:
    """file, kind, status, records, size, first, last, tz, note: one inventory line."""
    return (
        e.path,
        e.kind,
        e.status,
        f"{e.records:,}",
        size_text(e.bytes),
        ts_text(e.first_ts),
        ts_text(e.last_ts),
        e.tz or "—",
        e.reason,
    )


def tz_sentence(inv: Investigation) -> str:
    """The time-zone assumption in one sentence, naming the files it applies to."""
    how = "chosen with --tz" if inv.tz_given else "assumed; pass --tz to change it"
    entries = sorted(inv.inventory, key=lambda e: e.path)
    naive = [e.path for e in entries if _assumed(e.tz)]
    inferred = "".join(
        f" {e.path} has no zone; it was read as {e.tz}." for e in entries if _inferred(e.tz)
    )
    if naive:
        where = ", ".join(naive)
        return (
            f"Timestamps without a zone were read as {inv.tz} ({how}) in: {where}.{inferred}"
            " Times shown are UTC."
        )
    if inferred:
        return f"{inferred.strip()} Times shown are UTC."
    return f"No file needed a zone assumption (the default would be {inv.tz}). Times shown are UTC."


def _inferred(tz: str | None) -> bool:
    # clockalign records "UTC+01:00 (inferred: ...)" for a file put on UTC by shared request ids.
    return tz is not None and "(inferred" in tz


def coverage_sentence(inv: Investigation) -> str | None:
    """When the files' times fall in periods far apart (``timegroups``): which, and how far
    apart, since nothing in one period can be checked against another. None for one period."""
    spans = {
        e.path: Window(e.first_ts, e.last_ts)
        for e in inv.inventory
        if e.first_ts is not None and e.last_ts is not None
    }
    periods: dict[Window, list[str]] = {}
    for path, window in time_groups(spans).items():
        periods.setdefault(window, []).append(path)
    if len(periods) < 2:
        return None
    ordered = sorted(periods.items(), key=lambda kv: (kv[0].start, kv[0].end))
    parts = []
    for window, paths in ordered:
        names = sorted(paths)
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        parts.append(f"{_period(window)}: {', '.join(names[:3])}{more}")
    gaps = [_span_text(b.start - a.end) for (a, _), (b, _) in pairwise(ordered)]
    return (
        f"the files fall in {len(periods)} periods that do not overlap ({'; '.join(parts)};"
        f" gaps of {', '.join(gaps)}). A finding in one period cannot be checked against the"
        " files of another; if they should show one incident, ask for files from the same hours."
    )


def _period(w: Window) -> str:
    start, end = minute(w.start), minute(w.end)
    return start if start == end else f"{start} → {end}"


def _span_text(gap: timedelta) -> str:
    """``40 minutes``, ``6.5 hours``, ``12 days``, ``1.7 years``."""
    seconds = max(gap.total_seconds(), 0.0)
    for unit, size, least in (
        ("years", 365.25 * 86400, 1),
        ("days", 86400.0, 2),
        ("hours", 3600.0, 2),
    ):
        if seconds >= least * size:
            value = seconds / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{seconds / 60:.0f} minutes"


def _assumed(tz: str | None) -> bool:
    # Ingest records "<zone> (assumed)" for files whose timestamps carried no zone.
    return tz is not None and "assumed" in tz
