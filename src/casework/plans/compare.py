"""Compare two plans of the same query: what changed in shape and cost, and which node regressed.

Scans are matched by the table and alias they read (so ``Index Scan`` to
``Seq Scan`` on one table is one change), other nodes by their kind and the
tables beneath them. The node whose own time grew most explains the
regression.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from casework.plans.diagnose import filter_columns
from casework.plans.fingerprint import fingerprint
from casework.plans.node import Plan, PlanNode

_SCANS = frozenset({"seq_scan", "index_scan", "index_only_scan", "bitmap_heap_scan"})
_JOINS = frozenset({"nested_loop", "hash_join", "merge_join"})
_EARLY = re.compile(r"before|old|prev|baseline|good|fast", re.I)
_LATE = re.compile(r"after|new|slow|bad|regress", re.I)


@dataclass(slots=True)
class Comparison:
    """Before and after of one query; ``metric`` is ``ms`` when both ran, else ``cost``."""

    before: Plan
    after: Plan
    metric: str
    before_value: float
    after_value: float
    changes: list[str] = field(default_factory=list)
    culprit: PlanNode | None = None
    culprit_before: PlanNode | None = None
    culprit_delta: float = 0.0

    @property
    def ratio(self) -> float:
        return self.after_value / self.before_value if self.before_value else float("inf")


def _key(plan: Plan, node: PlanNode) -> str:
    if node.kind in _SCANS and node.relation:
        return f"scan:{node.relation}:{node.alias or node.relation}"
    below = sorted({n.relation for n in _below(plan, node) if n.relation})
    family = "join" if node.kind in _JOINS else node.kind
    return f"{family}:{','.join(below)}"


def _below(plan: Plan, node: PlanNode) -> list[PlanNode]:
    out, stack = [], list(node.children)
    while stack:
        child = plan.nodes[stack.pop()]
        out.append(child)
        stack.extend(child.children)
    return out


def _value(plan: Plan, metric: str) -> float | None:
    if metric == "ms":
        return plan.total_ms
    return plan.root.total_cost


def compare(before: Plan, after: Plan) -> Comparison | None:
    """The comparison, or None when the plans carry neither times nor costs to compare."""
    metric = "ms" if before.analyzed and after.analyzed else "cost"
    b, a = _value(before, metric), _value(after, metric)
    if b is None or a is None:
        return None
    out = Comparison(before, after, metric, b, a)
    old = {_key(before, n): n for n in before.nodes}
    new = {_key(after, n): n for n in after.nodes}
    for key, node in new.items():
        prev = old.get(key)
        if prev is None:
            if node.kind in _SCANS or node.kind in _JOINS or node.kind in ("sort", "hash"):
                out.changes.append(f"new {node.label()}")
            continue
        if prev.node_type != node.node_type or prev.index_name != node.index_name:
            out.changes.append(f"{_short(prev)} became {_short(node)}")
    for key, prev in old.items():
        if key not in new and (prev.kind in _SCANS or prev.kind in _JOINS):
            out.changes.append(f"{_short(prev)} is gone")
    weight = "exclusive_ms" if metric == "ms" else "total_cost"
    for key, node in new.items():
        prev = old.get(key)
        grew = _weight(node, weight) - (_weight(prev, weight) if prev else 0.0)
        if grew > out.culprit_delta:
            out.culprit, out.culprit_before, out.culprit_delta = node, prev, grew
    return out


def _weight(node: PlanNode | None, attr: str) -> float:
    if node is None:
        return 0.0
    value = node.exclusive_ms if attr == "exclusive_ms" else node.total_cost
    return value or 0.0


def _short(node: PlanNode) -> str:
    text = node.node_type
    if node.index_name:
        text += f" using {node.index_name}"
    return f"{text} on {node.relation}" if node.relation else text


def same_query_groups(plans: Iterable[Plan]) -> list[list[Plan]]:
    """Plans of one query, oldest first.

    With statement text, the same fingerprint; without (a pasted EXPLAIN), the
    same engine, tables and columns in conditions.
    """
    groups: dict[str, list[Plan]] = {}
    for plan in plans:
        if plan.query:
            key = "q:" + fingerprint(plan.query)
        else:
            rels = sorted(plan.relations())
            if not rels:
                continue
            key = f"t:{plan.engine}:{','.join(rels)}:{','.join(_predicate_columns(plan))}"
        groups.setdefault(key, []).append(plan)
    return [sorted(g, key=_order) for g in groups.values() if len(g) >= 2]


_PREDICATES = ("filter", "index_cond", "recheck_cond", "join_filter", "hash_cond", "merge_cond")


def _predicate_columns(plan: Plan) -> list[str]:
    """Columns the query's conditions name: the same whether a scan filters or an index seeks."""
    found: set[str] = set()
    for node in plan.nodes:
        for name in _PREDICATES:
            found.update(c.lower() for c, _ in filter_columns(getattr(node, name), False))
    return sorted(found)


def _order(plan: Plan) -> tuple[int, float, int, str]:
    """Timestamps first; without them, names that say before/after, then file order."""
    hint = 1
    name = plan.file.rsplit("/", 1)[-1]
    if _EARLY.search(name):
        hint = 0
    elif _LATE.search(name):
        hint = 2
    ts = plan.ts.timestamp() if plan.ts else 0.0
    return (0 if plan.ts else 1, ts, hint, plan.plan_id)
