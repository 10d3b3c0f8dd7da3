"""The signature of a message in SQL: its first line with the variable parts masked.

Records of one error whose messages differ only in ids, numbers or secret
placeholders get one signature, computed by DuckDB over the whole table.
"""

from __future__ import annotations

# Masks applied in order to the first line of a message; secret placeholders
# keep their kind but lose the per-token hash so equal messages group together.
_MASKS: tuple[tuple[str, str], ...] = (
    (r"«secret:([a-z0-9_]+):[0-9a-f]+»", r"«secret:\1»"),
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<uuid>"),
    (r"0x[0-9a-fA-F]+", "<hex>"),
    (r"\b[0-9a-fA-F]{16,}\b", "<hex>"),
    # Prefixed identifiers (acct_9f3kq2, req-ab12cd) even when they hold no digit.
    (r"\b[A-Za-z]{1,12}[_-][A-Za-z0-9]{5,}\b", "<id>"),
    (r"[A-Za-z0-9_.:/-]*[0-9][A-Za-z0-9_.:/-]*", "<*>"),
)


def normalized_sql(column: str) -> str:
    """SQL that turns a message into its signature text (first line, variable parts masked)."""
    expr = f"left(split_part({column}, chr(10), 1), 300)"
    for pattern, repl in _MASKS:
        expr = f"regexp_replace({expr}, '{pattern}', '{repl}', 'g')"
    return expr
