"""Normalized node kinds: ``Parallel Seq Scan``, ``Table scan`` and ``ALL`` are all a ``seq_scan``.

Diagnostics test kinds, never engine-specific names, so one rule serves
PostgreSQL, MySQL and MariaDB.
"""

from __future__ import annotations

#: Node names (text-format spelling, ``Parallel`` stripped) -> the kind diagnostics test.
_KINDS: tuple[tuple[str, str], ...] = (
    ("seq scan", "seq_scan"),
    ("table scan", "seq_scan"),
    ("full table scan", "seq_scan"),
    ("full index scan", "seq_scan"),
    ("index only scan", "index_only_scan"),
    ("covering index", "index_only_scan"),
    ("index scan", "index_scan"),
    ("index lookup", "index_scan"),
    ("index range scan", "index_scan"),
    ("single-row index lookup", "index_scan"),
    ("bitmap heap scan", "bitmap_heap_scan"),
    ("bitmap index scan", "bitmap_index_scan"),
    ("nested loop", "nested_loop"),
    ("hash", "hash_join"),  # refined below: a bare "Hash" is the build side
    ("merge", "merge_join"),
    ("incremental sort", "sort"),
    ("sort", "sort"),
    ("aggregate", "aggregate"),
    ("group", "aggregate"),
    ("gather", "gather"),
    ("limit", "limit"),
    ("materialize", "materialize"),
    ("memoize", "memoize"),
    ("filter", "filter"),
)
#: Keys (in a node's extra facts) naming what a scan of no table reads: a CTE, a function.
SCAN_NAMES = ("CTE Name", "Function Name", "Subquery", "Tuplestore Name")
_MODIFY = ("insert", "update", "delete", "merge", "modifytable")


def kind_of(node_type: str) -> str:
    """The normalized kind of a node name: ``Parallel Seq Scan`` -> ``seq_scan``."""
    name = node_type.lower().removeprefix("parallel ").strip()
    if name == "hash":
        return "hash"
    if name in _MODIFY:
        return "modify"
    if name.startswith(("partial ", "finalize ")):
        name = name.split(" ", 1)[1]
    if name.endswith("aggregate"):
        return "aggregate"
    if "hash" in name and "join" in name:
        return "hash_join"
    if "nested loop" in name:
        return "nested_loop"
    for prefix, kind in _KINDS:
        if name.startswith(prefix):
            if kind in ("hash_join", "merge_join") and "join" not in name:
                # "Merge Append" / "HashSetOp" are not joins
                return name.replace(" ", "_")
            return kind
    return name.replace(" ", "_").replace("-", "_")
