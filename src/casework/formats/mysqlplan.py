"""MySQL and MariaDB ``EXPLAIN FORMAT=JSON`` (classic, 8.x tree, ``ANALYZE``) and MySQL's text tree → one row per plan node.

>>> import io
>>> doc = b'{"operation": "Table scan on users", "table_name": "users", "estimated_rows": 3000.0}'
>>> sniff(doc) >= 0.9
True
>>> [(r.node_type, r.relation, r.est_rows) for r in parse(io.BytesIO(doc), ParseContext("e.json"))]
[('Table scan', 'users', 3000.0)]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from casework.formats.base import Format, ParseContext
from casework.formats.pgplan import parse as parse_plan_file
from casework.model import PlanNodeRecord

_TREE_TEXT = re.compile(r"^[|\s]*-> .+\(cost=[\d.e+]+ rows=[\d.e+]+\)", re.M)
_TREE_KEYS = ('"access_type"', '"inputs"', '"estimated_rows"', '"table_name"', '"query_plan"')


def sniff(head: bytes) -> float:
    """A JSON document with a ``query_block`` or an iterator tree of ``operation`` nodes."""
    text = head.decode("utf-8", "replace").lstrip()
    if text.startswith("EXPLAIN: "):
        text = text[9:].lstrip()
    if _TREE_TEXT.search(text):
        return 0.97  # EXPLAIN ANALYZE / FORMAT=TREE text
    if not text.startswith(("{", "[")):
        return 0.0
    if '"query_block"' in text and ('"select_id"' in text or '"table"' in text):
        return 0.97
    if '"operation"' in text and sum(k in text for k in _TREE_KEYS) >= 2:
        return 0.97
    return 0.0


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[PlanNodeRecord]:
    """One record per plan node (the reader tells MySQL, MariaDB and PostgreSQL apart)."""
    return parse_plan_file(stream, ctx)


FORMAT = Format(
    kind="mysql-plan",
    category="plan",
    sniff=sniff,
    parse=parse,
    description="MySQL/MariaDB EXPLAIN FORMAT=JSON plan (classic, tree, ANALYZE)",
)
