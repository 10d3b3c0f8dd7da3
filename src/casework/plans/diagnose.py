"""What a diagnosis of a plan is, and the helpers every diagnostic shares.

A diagnostic is a pure function from a :class:`Plan` to :class:`Diagnosis`
objects; it names the node, the table and columns, carries its numbers in
``stats`` and says what to try next. Analyzers turn diagnoses into
findings; ``casework inspect`` shows them for a single plan file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from casework.findings import Severity, Stat
from casework.plans.node import Plan, PlanNode

#: Most diagnoses of one kind reported for one plan (the most costly first).
PER_PLAN = 3


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One defect found in one plan, with the numbers that justify it."""

    key: str
    plan: Plan = field(compare=False, repr=False)
    node: PlanNode | None = field(compare=False, repr=False)
    severity: Severity
    score: float
    title: str
    summary: str
    next_steps: tuple[str, ...] = ()
    entities: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Stat] = field(default_factory=dict)


Diagnostic = Callable[[Plan], Iterator[Diagnosis]]


def plan_ms(plan: Plan) -> float | None:
    return plan.total_ms


def share(plan: Plan, ms: float | None) -> float:
    """Fraction of the plan's time that ``ms`` is (0 when unknown)."""
    total = plan_ms(plan)
    if not total or ms is None:
        return 0.0
    return min(ms / total, 1.0)


def rate(plan: Plan, ms: float | None, floor: float = 0.0) -> tuple[Severity, float]:
    """Severity and score from the time a defect costs: its share of the plan and its size."""
    part = share(plan, ms)
    size = min(math.log10((ms or 0.0) + 1.0) / 4.0, 1.0)  # 10 s and more saturates
    score = min(max(0.2 + 0.55 * part + 0.25 * size, floor), 1.0)
    if part >= 0.5 and (ms or 0) >= 100:
        return "high", score
    if part >= 0.2 and (ms or 0) >= 10:
        return "medium", score
    return "low", score


def top(found: Iterable[Diagnosis], n: int = PER_PLAN) -> Iterator[Diagnosis]:
    yield from sorted(found, key=lambda d: d.score, reverse=True)[:n]


def fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "?"
    return f"{ms / 1000:.1f} s" if ms >= 10_000 else f"{ms:,.1f} ms"


def fmt_n(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}"


def where(plan: Plan, node: PlanNode | None = None) -> str:
    """``Seq Scan on t (node 4) in explain.json`` (or just the plan) for summaries."""
    place = plan.plan_id or plan.file or "the plan"
    return f"{place}" if node is None else f"{node.label()} in {place}"


# ---- columns and the index to try --------------------------------------------------------

_OPS = r"(?:=|<>|!=|<=|>=|<|>|~~\*?|!~~\*?|\bLIKE\b|\bILIKE\b|\bIS\b|\bIN\b|\bBETWEEN\b)"
_COLUMN_OP = re.compile(
    rf"(?:(?P<qual>[A-Za-z_][\w$]*)\.)?(?P<col>[A-Za-z_][\w$]*)\)*(?:::[\w ]+(?:\[\])?\)*)?\s*(?P<op>{_OPS})",
    re.I,
)
_BARE = re.compile(
    r"(?:^|\(|\bAND\s|\bOR\s|\bNOT\s)\s*(?:(?:[A-Za-z_]\w*)\.)?([a-z_][\w$]*)(?=\s+AND\b|\s+OR\b|\)|$)"
)
_CONSTANT = re.compile(
    r"\s*(?:'|-?\d|\$\d|\?|ANY\s*\(\s*(?:'|ARRAY)|NULL|NOT NULL|TRUE|FALSE|\(+\s*'|\(+-?\d"
    r"|CURRENT_|now\(\)|(?:DATE|TIMESTAMP)\s*')",
    re.I,
)
_NOT_COLUMNS = frozenset(
    [
        "and",
        "or",
        "not",
        "null",
        "true",
        "false",
        "any",
        "all",
        "is",
        "in",
        "like",
        "ilike",
        "between",
        "text",
        "integer",
        "bigint",
        "numeric",
        "date",
        "timestamp",
        "boolean",
        "varchar",
        "character",
        "name",
        "interval",
        "double",
        "precision",
        "bpchar",
        "now",
    ]
)
_EQUALITY = ("=", "IS", "IN")


def filter_columns(expr: str | None, constants_only: bool = True) -> list[tuple[str, bool]]:
    """Columns a filter tests, each with whether the test is an equality (in first-seen order).

    With ``constants_only`` a column compared with another column (``a < b``,
    a join condition) is left out: a B-tree index on it would not serve the filter.
    """
    if not expr:
        return []
    text = expr.replace("`", "").replace('"', "")
    found: dict[str, bool] = {}
    for match in _COLUMN_OP.finditer(text):
        col = match["col"]
        nxt = text[match.end("col") : match.end("col") + 1]
        if col.lower() in _NOT_COLUMNS or nxt == "(" or col.startswith("$"):
            continue
        if constants_only and not _CONSTANT.match(text, match.end()):
            continue
        op = match["op"].upper()
        equal = op in _EQUALITY or (op == "=" and "ANY" in text[match.end() : match.end() + 6])
        found[col] = found.get(col, False) or equal
    for match in _BARE.finditer(text):
        col = match[1]
        if col.lower() not in _NOT_COLUMNS and col not in found:
            found[col] = True
    return list(found.items())


def node_columns(node: PlanNode) -> list[tuple[str, bool]]:
    """The filter columns of a node; MySQL lists them itself in ``filter_columns``."""
    listed = node.extra.get("filter_columns")
    if isinstance(listed, list) and listed:
        return [(str(c).rsplit(".", 1)[-1].strip("`"), True) for c in listed]
    return filter_columns(node.filter)


def index_sql(engine: str, table: str, columns: list[tuple[str, bool]]) -> str:
    """``CREATE INDEX`` for the columns: equality tests first, then one range column."""
    eq = [c for c, equal in columns if equal]
    ranged = [c for c, equal in columns if not equal]
    cols = (eq + ranged[:1])[:3]
    body = ", ".join(cols)
    if engine == "postgresql":
        return f"CREATE INDEX CONCURRENTLY ON {table} ({body});"
    name = "idx_" + "_".join([table.rsplit(".", 1)[-1], *cols])[:60]
    return f"ALTER TABLE {table} ADD INDEX {name} ({body});"


def work_mem_for(kb: float) -> str:
    """A ``work_mem`` value that fits ``kb`` with room: the next power of two in MB."""
    mb = max(kb * 1.25 / 1024.0, 1.0)
    return f"{2 ** math.ceil(math.log2(mb))}MB"
