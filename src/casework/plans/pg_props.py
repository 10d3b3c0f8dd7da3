"""PostgreSQL node properties, named as in JSON and in text, mapped onto :class:`PlanNode`.

One table for both formats keeps a JSON plan and its text twin equal field
for field, which the before/after comparison relies on.
"""

from __future__ import annotations

import re
from typing import Any

from casework.plans.node import PlanNode

#: JSON key (also the text key) -> PlanNode attribute, for plain strings.
TEXT_FIELDS = {
    "Filter": "filter",
    "Index Cond": "index_cond",
    "Recheck Cond": "recheck_cond",
    "Join Filter": "join_filter",
    "Hash Cond": "hash_cond",
    "Merge Cond": "merge_cond",
    "Sort Method": "sort_method",
    "Sort Space Type": "sort_space_type",
    "Relation Name": "relation",
    "Schema": "schema",
    "Alias": "alias",
    "Index Name": "index_name",
    "Parent Relationship": "relationship",
    "Subplan Name": "subplan_name",
}
#: JSON key (also the text key) -> PlanNode attribute, for numbers.
NUMBER_FIELDS = {
    "Rows Removed by Filter": "rows_removed_by_filter",
    "Rows Removed by Join Filter": "rows_removed_by_join_filter",
    "Rows Removed by Index Recheck": "rows_removed_by_recheck",
    "Heap Fetches": "heap_fetches",
    "Exact Heap Blocks": "exact_heap_blocks",
    "Lossy Heap Blocks": "lossy_heap_blocks",
    "Sort Space Used": "sort_space_kb",
    "Hash Buckets": "hash_buckets",
    "Hash Batches": "hash_batches",
    "Original Hash Batches": "original_hash_batches",
    "Peak Memory Usage": "peak_memory_kb",
    "Disk Usage": "disk_usage_kb",
    "HashAgg Batches": "hash_batches",
    "Startup Cost": "startup_cost",
    "Total Cost": "total_cost",
    "Plan Rows": "est_rows",
    "Actual Startup Time": "actual_startup_ms",
    "Actual Total Time": "actual_total_ms",
    "Actual Rows": "actual_rows",
    "Actual Loops": "loops",
}
INT_FIELDS = {
    "Workers Planned": "workers_planned",
    "Workers Launched": "workers_launched",
    "Plan Width": "width",
}

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SORT = re.compile(r"^(?P<method>.+?)\s+(?P<type>Disk|Memory):\s*(?P<kb>\d+)kB")
_HASH = re.compile(
    r"Buckets: (?P<buckets>\d+)(?: \(originally \d+\))?\s+Batches: (?P<batches>\d+)"
    r"(?: \(originally (?P<orig>\d+)\))?\s+Memory Usage: (?P<mem>\d+)kB"
)
_HASHAGG = re.compile(
    r"Batches: (?P<batches>\d+)\s+Memory Usage: (?P<mem>\d+)kB(?:\s+Disk Usage: (?P<disk>\d+)kB)?"
)
_BUFFER_PART = re.compile(r"(\w+)=(\d+)")


def ms(value: str) -> float | None:
    """``"12.5 ms"`` -> 12.5."""
    match = _NUMBER.search(value)
    return float(match[0]) if match else None


def settings(value: str) -> dict[str, str]:
    """``jit = 'off', work_mem = '4MB'`` -> {"jit": "off", "work_mem": "4MB"}."""
    out: dict[str, str] = {}
    for part in re.finditer(r"(\w+)\s*=\s*'([^']*)'", value):
        out[part[1]] = part[2]
    return out


def buffers_text(value: str) -> dict[str, float]:
    """``shared hit=1 read=2, temp written=3`` -> {"shared_hit": 1, ...}."""
    out: dict[str, float] = {}
    for group in value.split(","):
        words = group.split()
        if not words:
            continue
        scope = words[0] if "=" not in words[0] else "shared"
        for name, number in _BUFFER_PART.findall(group):
            out[f"{scope}_{name}"] = float(number)
    return out


def apply_text_property(node: PlanNode, key: str, value: str) -> None:
    """Set one ``Key: value`` line of a text plan on ``node``."""
    if key in ("Filter", "Index Cond", "Recheck Cond", "Join Filter", "Hash Cond", "Merge Cond"):
        setattr(node, TEXT_FIELDS[key], value)
    elif key in NUMBER_FIELDS:
        number = ms(value)
        if number is not None:
            setattr(node, NUMBER_FIELDS[key], number)
    elif key in INT_FIELDS:
        number = ms(value)
        if number is not None:
            setattr(node, INT_FIELDS[key], int(number))
    elif key == "Sort Key":
        node.sort_key = value
    elif key == "Sort Method":
        _sort_method(node, value)
    elif key == "Heap Blocks":
        for name, number in _BUFFER_PART.findall(value):
            if name in ("exact", "lossy"):
                setattr(node, f"{name}_heap_blocks", float(number))
    elif key == "Buckets":
        _hash(node, f"Buckets: {value}")
    elif key == "Batches":
        agg = _HASHAGG.search(f"Batches: {value}")
        if agg:
            node.hash_batches = float(agg["batches"])
            node.peak_memory_kb = float(agg["mem"])
            node.disk_usage_kb = float(agg["disk"]) if agg["disk"] else None
    elif key == "Buffers":
        node.buffers.update(buffers_text(value))
    elif key.startswith("Worker "):
        node.extra.setdefault("workers", []).append(value)
    else:
        node.extra[key] = value


def _sort_method(node: PlanNode, value: str) -> None:
    match = _SORT.match(value.strip())
    if not match:
        node.sort_method = value.strip()
        return
    node.sort_method = match["method"].strip()
    node.sort_space_type = match["type"]
    node.sort_space_kb = float(match["kb"])


def _hash(node: PlanNode, text: str) -> None:
    match = _HASH.search(text)
    if not match:
        node.extra["Buckets"] = text
        return
    node.hash_buckets = float(match["buckets"])
    node.hash_batches = float(match["batches"])
    node.original_hash_batches = float(match["orig"]) if match["orig"] else None
    node.peak_memory_kb = float(match["mem"])


def apply_jit_line(jit: dict[str, float], text: str) -> None:
    """``Timing: Generation 0.9 ms, Inlining 76 ms, … Total 245 ms`` and ``Functions: 20``."""
    key, _, value = text.partition(":")
    if key.strip() == "Functions":
        number = ms(value)
        if number is not None:
            jit["functions"] = number
    elif key.strip() == "Timing":
        for part in value.split(","):
            words = part.split()
            if len(words) >= 2 and _NUMBER.fullmatch(words[1]):
                jit[f"{words[0].lower()}_ms"] = float(words[1])


def apply_json_jit(jit: dict[str, float], data: dict[str, Any]) -> None:
    if isinstance(data.get("Functions"), int | float):
        jit["functions"] = float(data["Functions"])
    timing = data.get("Timing")
    if isinstance(timing, dict):
        for name, value in timing.items():
            if isinstance(value, int | float):
                jit[f"{name.lower()}_ms"] = float(value)
            elif isinstance(value, dict) and isinstance(value.get("Total"), int | float):
                jit[f"{name.lower()}_ms"] = float(value["Total"])
