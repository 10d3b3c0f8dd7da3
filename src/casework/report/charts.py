"""Small inline SVG charts for the HTML report: no JavaScript, no fetches, fixed geometry.

Each function returns one ``<svg>`` element as text, with every label escaped.
Hovering a bucket shows its numbers through the SVG ``<title>`` tooltip, which
browsers render without scripts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

from casework.report.series import Marker

WIDTH, HEIGHT = 960, 240
LEFT, RIGHT, TOP, BOTTOM = 60, 16, 30, 34
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
X_TICKS = 6
MARKER_COLOR = "#7b3fb0"
MARKER_LABEL_W = 200


def stacked_bars(
    title: str,
    starts: Sequence[datetime],
    stacks: Mapping[str, Sequence[int]],
    colors: Mapping[str, str],
    markers: Sequence[Marker] = (),
) -> str:
    """Bars per bucket, one stacked segment per series (first series at the bottom)."""
    n = len(starts)
    totals = [sum(col[i] for col in stacks.values()) for i in range(n)]
    top = _nice(max(totals, default=0))
    step = PLOT_W / max(n, 1)
    parts = [_open(title), *_frame(starts, top, percent=False)]
    for i in range(n):
        y = float(TOP + PLOT_H)
        tip = [f"{starts[i]:%Y-%m-%d %H:%M:%S} UTC"]
        for name, values in stacks.items():
            v = values[i]
            tip.append(f"{name} {v:,}")
            if not v:
                continue
            h = PLOT_H * v / top
            y -= h
            parts.append(
                f'<rect x="{LEFT + i * step:.1f}" y="{y:.1f}" width="{max(step - 0.5, 0.5):.1f}"'
                f' height="{h:.1f}" fill="{colors.get(name, "#999")}"/>'
            )
        parts.append(_hover(i, step, ", ".join(tip)))
    parts += _markers(starts, markers)
    parts.append(_legend(colors))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str,
    starts: Sequence[datetime],
    lines: Mapping[str, Sequence[float | None]],
    colors: Mapping[str, str],
    markers: Sequence[Marker] = (),
) -> str:
    """Rates (0..1) per bucket as lines; buckets without data leave a gap."""
    n = len(starts)
    values = [v for series in lines.values() for v in series if v is not None]
    top = _nice_rate(max(values, default=0.0))
    step = PLOT_W / max(n, 1)
    parts = [_open(title), *_frame(starts, top, percent=True)]
    for name, series in lines.items():
        for run in _runs(series):
            points = " ".join(
                f"{LEFT + (i + 0.5) * step:.1f},{TOP + PLOT_H * (1 - v / top):.1f}" for i, v in run
            )
            color = colors.get(name, "#333")
            if len(run) == 1:
                x, y = points.split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="1.8" fill="{color}"/>')
            else:
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.6"/>'
                )
    for i in range(n):
        tip = [f"{starts[i]:%Y-%m-%d %H:%M:%S} UTC"]
        tip += [f"{name} {_pct_or_dash(s[i])}" for name, s in lines.items()]
        parts.append(_hover(i, step, ", ".join(tip)))
    parts += _markers(starts, markers)
    parts.append(_legend(colors))
    parts.append("</svg>")
    return "".join(parts)


def _open(title: str) -> str:
    return (
        # HTML5 inline SVG needs no xmlns, and the report then holds no URL at all.
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' role="img" aria-label="{escape(title)}" class="chart">'
        f'<text x="{LEFT}" y="18" class="chart-title">{escape(title)}</text>'
    )


def _frame(starts: Sequence[datetime], top: float, percent: bool) -> list[str]:
    out = []
    for frac in (0.0, 0.5, 1.0):
        y = TOP + PLOT_H * (1 - frac)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + PLOT_W}" y2="{y:.1f}" class="grid"/>'
        )
        value = top * frac
        text = _pct(value) if percent else f"{value:,.0f}"
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="ylab">{escape(text)}</text>')
    n = len(starts)
    if n:
        multi_day = starts[-1].date() != starts[0].date()
        for k in range(X_TICKS + 1):
            i = min(n - 1, round(k * (n - 1) / X_TICKS))
            x = LEFT + (i + 0.5) * PLOT_W / n
            text = f"{starts[i]:%m-%d %H:%M}" if multi_day else f"{starts[i]:%H:%M}"
            out.append(f'<text x="{x:.1f}" y="{HEIGHT - 12}" class="xlab">{text}</text>')
    return out


def _hover(i: int, step: float, tip: str) -> str:
    return (
        f'<rect x="{LEFT + i * step:.1f}" y="{TOP}" width="{step:.1f}" height="{PLOT_H}"'
        f' class="hover"><title>{escape(tip)}</title></rect>'
    )


def _markers(starts: Sequence[datetime], markers: Sequence[Marker]) -> list[str]:
    if len(starts) < 2:
        return []
    t0 = starts[0].timestamp()
    span = starts[-1].timestamp() - t0 + (starts[1].timestamp() - t0)
    out, last_x, row = [], -1e9, 0
    for m in markers:
        frac = (m.ts.timestamp() - t0) / span
        if not 0 <= frac <= 1:
            continue
        x = LEFT + frac * PLOT_W
        # Labels of changes close together go on separate rows instead of overprinting.
        row = (row + 1) % 4 if x - last_x < MARKER_LABEL_W else 0
        last_x = x
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + PLOT_H}" stroke="{MARKER_COLOR}"'
            f' stroke-dasharray="4 3"><title>{escape(m.label)} at {m.ts:%Y-%m-%d %H:%M:%S} UTC'
            f'</title></line><text x="{x + 3:.1f}" y="{TOP + 10 + 12 * row}" class="marker">'
            f"{escape(m.label[:40])}</text>"
        )
    return out


def _legend(colors: Mapping[str, str]) -> str:
    out, x = [], WIDTH - RIGHT
    for name, color in reversed(list(colors.items())):
        x -= 8 + 7 * len(name)
        out.append(
            f'<rect x="{x}" y="9" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 13}" y="18" class="legend">{escape(name)}</text>'
        )
        x -= 14
    return "".join(out)


def _runs(series: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Consecutive non-empty points, so gaps in the data are not drawn as lines."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(series):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, v))
    return [r for r in runs if r]


def _nice(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if m * exp >= value:
            return float(m * exp)
    return float(10 * exp)


def _nice_rate(value: float) -> float:
    for top in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        if value <= top:
            return top
    return 1.0


def _pct(value: float) -> str:
    return f"{value:.1%}" if value < 0.1 else f"{value:.0%}"


def _pct_or_dash(value: float | None) -> str:
    return "—" if value is None else _pct(value)
