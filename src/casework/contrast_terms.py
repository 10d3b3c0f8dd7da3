"""Terms of a cohort: ``attr in {values}`` or ``attr >= threshold``, with their SQL and their label.

Thresholds are placed at the roundest value between the last value of one
side and the first of the other (a midnight for dates, 10000 for amounts),
because a person writes ``created >= 2026-02-15``, not ``>= 2026-02-15 08:13:41``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

#: Encodings of the long table's key column: the record time and plain columns.
TIME_KEY = "\x01time"
COLUMN_PREFIX = "\x02"


@dataclass(frozen=True, slots=True)
class Term:
    """One condition of a cohort."""

    attr: str
    op: str  # "in" | ">=" | "<"
    values: tuple[str, ...]
    threshold: float | None
    label: str
    sql: str
    kind: str = "categorical"
    key: str = ""
    expr: str = ""

    @property
    def value_text(self) -> str:
        """The right-hand side as a person reads it (``2026-02-15``, ``{5812, 5814}``)."""
        if self.op == "in":
            return "{" + ", ".join(self.values) + "}"
        return self.label.split(f" {self.op} ", 1)[-1]


def display(key: str) -> str:
    if key == TIME_KEY:
        return "time"
    return key.removeprefix(COLUMN_PREFIX)


def value_sql(key: str, attrs: str | None, time_column: str | None) -> str:
    """The SQL text of a key's value (VARCHAR) in the source relation."""
    if key == TIME_KEY:
        return f'"{time_column}"'
    if key.startswith(COLUMN_PREFIX):
        return f'CAST("{display(key)}" AS VARCHAR)'
    return f"json_extract_string(\"{attrs}\", '$.\"{key}\"')"


def categorical_term(key: str, expr: str, values: tuple[str, ...]) -> Term:
    name = display(key)
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    if len(values) == 1:
        label = f"{name} = {values[0]}"
        op = "="
    else:
        label = f"{name} in {{{', '.join(values)}}}"
        op = "in"
    return Term(name, op, values, None, label, f"{expr} IN ({quoted})", "categorical", key, expr)


def threshold_term(key: str, expr: str, kind: str, op: str, lo: float, hi: float) -> Term:
    """``value >= t`` (or ``< t``) with t the roundest point in ``(lo, hi]``."""
    name = display(key)
    if kind in ("date", "time"):
        t = _round_time(lo, hi)
        number = expr if kind == "time" else f"TRY_CAST({expr} AS TIMESTAMPTZ)"
        sql = f"epoch({number}) {op} {t!r}"
        text = _time_text(t)
    else:
        t = _round_number(lo, hi)
        sql = f"TRY_CAST({expr} AS DOUBLE) {op} {t!r}"
        text = f"{t:g}" if abs(t) < 1e15 else repr(t)
    return Term(name, op, (), t, f"{name} {op} {text}", sql, kind, key, expr)


def _round_number(lo: float, hi: float) -> float:
    if hi <= lo:
        return hi
    top = math.floor(math.log10(max(abs(lo), abs(hi), 1e-9))) + 1
    for e in range(top, -7, -1):
        step = 10.0**e
        t = math.floor(lo / step + 1) * step
        if lo < t <= hi:
            return round(t, 9)
    return hi


_TIME_STEPS = (86400, 3600, 600, 60, 10, 1)


def _round_time(lo: float, hi: float) -> float:
    for step in _TIME_STEPS:
        t = math.floor(lo / step + 1) * step
        if lo < t <= hi:
            # The boundary nearest the first value of the upper side, not the lower one.
            return float(math.floor(hi / step) * step) if hi - t >= step else float(t)
    return hi


def _time_text(t: float) -> str:
    ts = datetime.fromtimestamp(t, tz=UTC)
    if ts.hour == ts.minute == ts.second == 0:
        return ts.strftime("%Y-%m-%d")
    if ts.second == 0:
        return ts.strftime("%Y-%m-%d %H:%M UTC")
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC")
