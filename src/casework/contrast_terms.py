"""Terms and cohorts of the contrast engine: ``attr in {values}`` or ``attr >= threshold``, their SQL and labels.

Thresholds are placed at the roundest value between the last value of one
side and the first of the other (a midnight for dates, 10000 for amounts),
because a person writes ``created >= 2026-02-15``, not ``>= 2026-02-15 08:13:41``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from scipy.stats import fisher_exact

#: Cohorts with a corrected p-value below this are significant.
ALPHA = 0.01

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
    vsql: str = ""  # the same condition over the long table's text column ``v``
    #: Where a threshold plausibly lies (its 99% likelihood interval); the cut is one round value in it.
    lo: float | None = None
    hi: float | None = None

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
    return f'json_extract_string("{attrs}", \'$."{key}"\')'


def categorical_term(key: str, expr: str, values: tuple[str, ...]) -> Term:
    name = display(key)
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    if len(values) == 1:
        label = f"{name} = {values[0]}"
        op = "="
    else:
        label = f"{name} in {{{', '.join(values)}}}"
        op = "in"
    return Term(
        name,
        op,
        values,
        None,
        label,
        f"{expr} IN ({quoted})",
        "categorical",
        key,
        expr,
        f"v IN ({quoted})",
    )


#: Epoch seconds 1990..2100: numbers in this band (or it times 1e3, 1e6, 1e9) can be dates.
EPOCH_BAND = (631152000.0, 4102444800.0)


def epoch_sql(v: str) -> str:
    """Epoch seconds of a date value: a time text, or an epoch number in s, ms, µs or ns."""
    x = f"TRY_CAST({v} AS DOUBLE)"
    return (
        f"coalesce(epoch(TRY_CAST({v} AS TIMESTAMPTZ)), CASE WHEN {x} >= 1e17 THEN {x} / 1e9"
        f" WHEN {x} >= 1e14 THEN {x} / 1e6 WHEN {x} >= 1e11 THEN {x} / 1e3 ELSE {x} END)"
    )


def epoch_unit(low: float, high: float) -> float | None:
    """The unit (1, 1e3, 1e6, 1e9) in which every number in ``[low, high]`` is a plausible date."""
    for unit in (1.0, 1e3, 1e6, 1e9):
        if EPOCH_BAND[0] * unit <= low <= high <= EPOCH_BAND[1] * unit:
            return unit
    return None


def threshold_term(
    key: str,
    expr: str,
    kind: str,
    op: str,
    lo: float,
    hi: float,
    interval: tuple[float, float] | None = None,
) -> Term:
    """``value >= t`` (or ``< t``) with t the roundest point in ``(lo, hi]``.

    ``interval`` is where the cut plausibly lies (defaults to ``(lo, hi]``).
    """
    name = display(key)
    if kind in ("date", "time"):
        t = _round_time(lo, hi)
        number = f"epoch({expr})" if kind == "time" else epoch_sql(expr)
        sql = f"{number} {op} {t!r}"
        # The long table holds the record time as epoch seconds already.
        vsql = (
            f"TRY_CAST(v AS DOUBLE) {op} {t!r}"
            if kind == "time"
            else f"{epoch_sql('v')} {op} {t!r}"
        )
        text = _time_text(t)
    else:
        t = _round_number(lo, hi)
        sql = f"TRY_CAST({expr} AS DOUBLE) {op} {t!r}"
        vsql = f"TRY_CAST(v AS DOUBLE) {op} {t!r}"
        text = f"{t:g}" if abs(t) < 1e15 else repr(t)
    lo_ci, hi_ci = interval or (lo, hi)
    return Term(
        name,
        op,
        (),
        t,
        f"{name} {op} {text}",
        sql,
        kind,
        key,
        expr,
        vsql,
        min(lo_ci, lo),
        max(hi_ci, hi),
    )


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


def f1(failing_in: float, total_in: float, failing_all: float) -> float:
    """F1 of a cohort against the failing set: 2·failing_in / (cohort size + all failing)."""
    return 2.0 * failing_in / (total_in + failing_all) if total_in + failing_all else 0.0


@dataclass(frozen=True, slots=True)
class Attribute:
    """What the engine learned about one attribute of the population."""

    key: str
    name: str
    kind: str  # categorical numeric date time | id time_proxy symptom outcome constant
    present: int
    distinct: int


@dataclass(frozen=True, slots=True)
class Split:
    """A cohort (a conjunction of terms) and how it separates failing from succeeding records."""

    terms: tuple[Term, ...]
    failing_in: int
    total_in: int
    failing_all: int
    total_all: int
    p_value: float
    attributes: tuple[Attribute, ...] = field(default=(), compare=False)
    #: Rows the counts were estimated from (a weighted sample of ``total_all``); 0: every row
    #: was counted and the counts are exact.
    sample: int = field(default=0, compare=False)

    @property
    def rate(self) -> float:
        return self.failing_in / self.total_in if self.total_in else 0.0

    @property
    def baseline_rate(self) -> float:
        out = self.total_all - self.total_in
        return (self.failing_all - self.failing_in) / out if out else 0.0

    @property
    def coverage(self) -> float:
        return self.failing_in / self.failing_all if self.failing_all else 0.0

    @property
    def lift(self) -> float:
        overall = self.failing_all / self.total_all if self.total_all else 0.0
        return self.rate / overall if overall else 0.0

    @property
    def f1(self) -> float:
        return f1(self.failing_in, self.total_in, self.failing_all)

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    @property
    def where(self) -> str:
        """A SQL predicate selecting the cohort from the source relation."""
        return " AND ".join(f"({t.sql})" for t in self.terms) or "TRUE"

    def describe(self) -> str:
        return " and ".join(t.label for t in self.terms)


def fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """One-sided Fisher exact p that a/(a+b) exceeds c/(c+d)."""
    if a + b == 0 or c + d == 0:
        return 1.0
    return float(fisher_exact([[a, b], [c, d]], alternative="greater").pvalue)


def estimated(sample: object) -> str:
    """``≈`` before counts estimated from a weighted sample (``Split.sample`` rows), else ``""``."""
    return "≈" if sample else ""
