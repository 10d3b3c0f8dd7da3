"""A typed query-plan node and plan, the same shape for PostgreSQL, MySQL and MariaDB.

Row counts and times follow PostgreSQL's convention: ``est_rows``,
``actual_rows`` and ``actual_total_ms`` are per loop, so the totals a
diagnostic reasons about are ``actual_rows * loops`` and ``inclusive_ms``
(time over all loops, computed once the tree is complete).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from casework.plans.kinds import SCAN_NAMES, kind_of


@dataclass(slots=True)
class PlanNode:
    """One node of a query plan; ``None`` means the plan did not say."""

    node_id: int
    parent: int | None
    node_type: str
    kind: str = ""
    depth: int = 0
    line: int | None = None
    relation: str | None = None
    schema: str | None = None
    alias: str | None = None
    index_name: str | None = None
    relationship: str | None = None
    subplan_name: str | None = None
    parallel_aware: bool = False
    startup_cost: float | None = None
    total_cost: float | None = None
    est_rows: float | None = None
    width: int | None = None
    actual_rows: float | None = None
    loops: float | None = None
    actual_startup_ms: float | None = None
    actual_total_ms: float | None = None
    never_executed: bool = False
    filter: str | None = None
    index_cond: str | None = None
    recheck_cond: str | None = None
    join_filter: str | None = None
    hash_cond: str | None = None
    merge_cond: str | None = None
    rows_removed_by_filter: float | None = None
    rows_removed_by_join_filter: float | None = None
    rows_removed_by_recheck: float | None = None
    heap_fetches: float | None = None
    exact_heap_blocks: float | None = None
    lossy_heap_blocks: float | None = None
    sort_key: str | None = None
    sort_method: str | None = None
    sort_space_kb: float | None = None
    sort_space_type: str | None = None
    hash_buckets: float | None = None
    hash_batches: float | None = None
    original_hash_batches: float | None = None
    peak_memory_kb: float | None = None
    disk_usage_kb: float | None = None
    workers_planned: int | None = None
    workers_launched: int | None = None
    buffers: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    children: list[int] = field(default_factory=list)
    inclusive_ms: float | None = None
    exclusive_ms: float | None = None

    def __post_init__(self) -> None:
        if not self.kind:
            self.kind = kind_of(self.node_type)

    @property
    def total_rows(self) -> float | None:
        """Rows produced over all loops."""
        if self.actual_rows is None:
            return None
        return self.actual_rows * (self.loops or 1)

    @property
    def removed_total(self) -> float:
        """Rows read and discarded by the filter (or index recheck) over all loops."""
        per_loop = (self.rows_removed_by_filter or 0) + (self.rows_removed_by_recheck or 0)
        return per_loop * (self.loops or 1)

    @property
    def table(self) -> str | None:
        """Schema-qualified relation name when the schema is known."""
        if self.relation is None:
            return None
        return f"{self.schema}.{self.relation}" if self.schema else self.relation

    def label(self) -> str:
        """A one-line name of the node as a person reads it: ``Seq Scan on orders (node 3)``."""
        return f"{self.short()} (node {self.node_id})"

    def short(self) -> str:
        """The node's name with its index and table: ``Index Scan using i on orders``."""
        text = self.node_type
        if self.index_name and self.kind != "bitmap_index_scan":
            text += f" using {self.index_name}"
        if self.relation:
            text += f" on {self.relation}"
        elif self.index_name:
            text += f" on {self.index_name}"
        else:
            named = next((v for k, v in self.extra.items() if k in SCAN_NAMES), None)
            if isinstance(named, str):
                text += f" on {named}"
        return text

    def to_attrs(self) -> dict[str, Any]:
        """Every fact the ``plans`` table has no column for, without empty values."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in _COLUMNS:
                continue
            value = getattr(self, f.name)
            if value is None or value == {} or value == [] or value is False:
                continue
            out[f.name] = value
        return out

    @classmethod
    def from_row(cls, row: tuple[Any, ...], attrs: dict[str, Any]) -> PlanNode:
        """Rebuild a node from a ``plans`` row (columns as in :data:`STORE_COLUMNS`)."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in attrs.items() if k in known and k not in _COLUMNS}
        _, node_id, parent, node_type, relation, est, act, loops, _total = row[:9]
        return cls(
            node_id=int(node_id),
            parent=None if parent is None else int(parent),
            node_type=str(node_type),
            relation=relation,
            est_rows=est,
            actual_rows=act,
            loops=loops,
            **kwargs,
        )


#: The ``plans`` columns read back by :meth:`PlanNode.from_row`, in order (then file, attrs).
STORE_COLUMNS = (
    "plan_id",
    "node_id",
    "parent",
    "node_type",
    "relation",
    "est_rows",
    "actual_rows",
    "loops",
    "total_ms",
)
_COLUMNS = frozenset(
    {"node_id", "parent", "node_type", "relation", "est_rows", "actual_rows", "loops"}
)


@dataclass(slots=True)
class Trigger:
    """Time spent in one trigger (PostgreSQL reports them after the plan)."""

    name: str
    time_ms: float
    calls: float
    relation: str | None = None
    constraint: str | None = None


@dataclass(slots=True)
class Plan:
    """One plan: its nodes (``nodes[i].node_id == i``, root first) and the facts around it."""

    nodes: list[PlanNode]
    engine: str = "postgresql"
    fmt: str = "text"
    analyzed: bool = False
    planning_ms: float | None = None
    execution_ms: float | None = None
    triggers: list[Trigger] = field(default_factory=list)
    jit: dict[str, float] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    query: str | None = None
    plan_id: str = ""
    file: str = ""
    line: int | None = None
    ts: datetime | None = None

    @property
    def root(self) -> PlanNode:
        return self.nodes[0]

    @property
    def total_ms(self) -> float | None:
        """Execution time as reported, else the root's inclusive time."""
        if self.execution_ms is not None:
            return self.execution_ms
        return self.root.inclusive_ms if self.nodes else None

    def children(self, node: PlanNode) -> list[PlanNode]:
        return [self.nodes[i] for i in node.children]

    def ancestors(self, node: PlanNode) -> list[PlanNode]:
        out: list[PlanNode] = []
        current = node.parent
        while current is not None:
            out.append(self.nodes[current])
            current = self.nodes[current].parent
        return out

    def relations(self) -> set[str]:
        return {n.relation.lower() for n in self.nodes if n.relation}

    def facts(self) -> dict[str, Any]:
        """Plan-level facts, kept in the root node's ``attrs["plan"]`` in the store."""
        out: dict[str, Any] = {
            "engine": self.engine,
            "format": self.fmt,
            "analyzed": self.analyzed,
            "line": self.line,
        }
        if self.planning_ms is not None:
            out["planning_ms"] = self.planning_ms
        if self.execution_ms is not None:
            out["execution_ms"] = self.execution_ms
        if self.triggers:
            out["triggers"] = [
                {
                    "name": t.name,
                    "time_ms": t.time_ms,
                    "calls": t.calls,
                    "relation": t.relation,
                    "constraint": t.constraint,
                }
                for t in self.triggers
            ]
        if self.jit:
            out["jit"] = self.jit
        if self.settings:
            out["settings"] = self.settings
        if self.query:
            out["query"] = self.query
        if self.ts is not None:
            out["ts"] = self.ts.isoformat()
        return out

    def apply_facts(self, facts: dict[str, Any]) -> None:
        """The inverse of :meth:`facts`."""
        self.engine = str(facts.get("engine", self.engine))
        self.fmt = str(facts.get("format", self.fmt))
        self.analyzed = bool(facts.get("analyzed", False))
        self.line = facts.get("line")
        self.planning_ms = facts.get("planning_ms")
        self.execution_ms = facts.get("execution_ms")
        self.triggers = [Trigger(**t) for t in facts.get("triggers", [])]
        self.jit = dict(facts.get("jit", {}))
        self.settings = dict(facts.get("settings", {}))
        self.query = facts.get("query")
        ts = facts.get("ts")
        self.ts = datetime.fromisoformat(ts) if isinstance(ts, str) else None


def finish(plan: Plan) -> Plan:
    """Link children, set depths and compute inclusive and exclusive times, in place."""
    for node in plan.nodes:
        node.children = []
    for node in plan.nodes:
        if node.parent is not None:
            plan.nodes[node.parent].children.append(node.node_id)
            node.depth = plan.nodes[node.parent].depth + 1
    for node in plan.nodes:
        workers = _parallel_divisor(plan, node)
        if node.actual_total_ms is not None and node.loops is not None:
            # Inside a Gather, "loops" counts the leader and each worker running at
            # the same time: wall time is the per-loop average, not its sum.
            node.inclusive_ms = node.actual_total_ms * max(node.loops / workers, 1.0)
        elif node.never_executed:
            node.inclusive_ms = 0.0
    for node in reversed(plan.nodes):
        timed = [c.inclusive_ms for c in plan.children(node) if c.inclusive_ms is not None]
        if node.inclusive_ms is None and timed:
            # MySQL's nested_loop and similar wrappers carry no time of their own
            node.inclusive_ms = sum(timed)
    cte_left = {
        n.subplan_name[4:]: n.inclusive_ms or 0.0
        for n in plan.nodes
        if n.subplan_name and n.subplan_name.startswith("CTE ")
    }
    for node in plan.nodes:
        if node.inclusive_ms is None:
            continue
        below = sum(
            c.inclusive_ms or 0.0
            for c in plan.children(node)
            # an InitPlan runs once before the node and is not part of its own time
            if c.relationship != "InitPlan"
        )
        name = node.extra.get("CTE Name")
        if node.kind == "cte_scan" and isinstance(name, str) and name in cte_left:
            # the CTE's own work is done while its scans pull rows: charge it to the CTE
            taken = min(cte_left[name], node.inclusive_ms)
            cte_left[name] -= taken
            below += taken
        node.exclusive_ms = max(node.inclusive_ms - below, 0.0)
    if plan.nodes and any(n.actual_rows is not None for n in plan.nodes):
        plan.analyzed = True
    return plan


def _parallel_divisor(plan: Plan, node: PlanNode) -> float:
    for up in plan.ancestors(node):
        if up.kind == "gather":
            launched = up.workers_launched if up.workers_launched is not None else 0
            return float(launched + 1)
        if up.kind == "nested_loop":
            break
    return 1.0
