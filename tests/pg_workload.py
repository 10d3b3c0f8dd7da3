"""Data and queries that make a real PostgreSQL produce each plan defect casework diagnoses.

Tables are built with ``generate_series``: ``customers.city`` is a function of
``customers.zip`` (correlated columns the planner multiplies as if
independent), ``orders.customer_id`` is scattered over the heap (so bitmaps
touch every page), ``child.parent_id`` has a foreign key without an index.
Each case is (session settings, statement, wrap in a rolled-back transaction).
"""

from __future__ import annotations

from dataclasses import dataclass

SETUP = """
CREATE UNLOGGED TABLE customers (id int PRIMARY KEY, city text, zip text, name text);
INSERT INTO customers
  SELECT g, 'city' || (g % 30), 'zip' || (g % 300), md5(g::text) FROM generate_series(1, 300000) g;
CREATE UNLOGGED TABLE orders (id int PRIMARY KEY, customer_id int, status text, total numeric, note text);
INSERT INTO orders
  SELECT g, (g::bigint * 7919) % 300000 + 1,
         CASE WHEN g % 100 = 0 THEN 'refunded' ELSE 'paid' END, (g % 1000)::numeric, md5(g::text)
  FROM generate_series(1, 400000) g;
CREATE INDEX orders_customer ON orders (customer_id);
CREATE UNLOGGED TABLE events_log (id int, account_id int, kind text, payload text);
INSERT INTO events_log
  SELECT g, g % 5000, 'k' || (g % 7), repeat('x', 40) FROM generate_series(1, 300000) g;
CREATE UNLOGGED TABLE ios (id int PRIMARY KEY, v int);
INSERT INTO ios SELECT g, g FROM generate_series(1, 100000) g;
CREATE TABLE parent (id int PRIMARY KEY);
INSERT INTO parent SELECT g FROM generate_series(1, 2000) g;
CREATE TABLE child (id int, parent_id int REFERENCES parent ON DELETE CASCADE);
INSERT INTO child SELECT g, g % 2000 + 1 FROM generate_series(1, 60000) g;
ANALYZE;
"""

#: Forces a plan shape without changing what the query asks.
_NO_SCAN_BUT_INDEX = "SET enable_seqscan = off; SET enable_bitmapscan = off;"


@dataclass(frozen=True)
class Case:
    settings: str
    statement: str
    rollback: bool = False


CASES: dict[str, Case] = {
    "seqscan": Case("", "SELECT * FROM events_log WHERE account_id = 77"),
    "misestimate": Case(
        "",
        "SELECT c.id, o.total FROM customers c JOIN orders o ON o.customer_id = c.id "
        "WHERE c.city = 'city7' AND c.zip = 'zip7'",
    ),
    "sort_spill": Case(
        "SET work_mem = '64kB';", "SELECT id, note FROM orders WHERE id <= 100000 ORDER BY note"
    ),
    "hash_spill": Case(
        "SET work_mem = '64kB'; SET enable_mergejoin = off; SET enable_nestloop = off;",
        "SELECT o.note, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.id <= 60000 AND c.id <= 60000",
    ),
    "hashagg_spill": Case(
        "SET work_mem = '64kB'; SET enable_sort = off; SET enable_indexscan = off;",
        "SELECT customer_id, count(*) FROM orders WHERE id <= 100000 GROUP BY customer_id",
    ),
    "lossy_bitmap": Case(
        "SET work_mem = '64kB'; SET enable_seqscan = off; SET enable_indexscan = off;",
        "SELECT count(*) FROM orders WHERE customer_id <= 60000",
    ),
    "index_filter": Case(
        _NO_SCAN_BUT_INDEX,
        "SELECT * FROM orders WHERE customer_id <= 20000 AND status = 'refunded'",
    ),
    "heap_fetches": Case(_NO_SCAN_BUT_INDEX, "SELECT id FROM ios WHERE id <= 50000"),
    "subplan": Case(
        "",
        "SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) "
        "FROM customers c WHERE c.id <= 3000",
    ),
    "parallel": Case(
        "SET max_parallel_workers_per_gather = 2; SET max_parallel_workers = 0; "
        "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
        "SET min_parallel_table_scan_size = 0;",
        "SELECT count(*) FROM events_log WHERE kind = 'k3'",
    ),
    "jit": Case(
        "SET jit = on; SET jit_above_cost = 0; SET jit_inline_above_cost = 0; "
        "SET jit_optimize_above_cost = 0;",
        "SELECT sum(total), avg(total), max(note), min(total * 2 + 1), sum(length(note))"
        " FROM orders WHERE id <= 20",
    ),
    "triggers": Case("", "DELETE FROM parent WHERE id <= 100", rollback=True),
}

#: The statement the slow-query log sees several times, with different values.
SLOW_STATEMENTS = [
    "SELECT * FROM events_log WHERE account_id = 12",
    "SELECT * FROM events_log WHERE account_id = 4711",
    "SELECT * FROM events_log WHERE account_id = 301",
    "SELECT count(*) FROM orders WHERE status = 'refunded'",
]


def explain_script(case: Case, options: str = "ANALYZE, BUFFERS, SETTINGS, FORMAT JSON") -> str:
    body = f"EXPLAIN ({options}) {case.statement};"
    if case.rollback:
        body = f"BEGIN; {body} ROLLBACK;"
    return f"{case.settings}\n{body}\n"


def logging_script() -> str:
    """Session settings that make the server log durations and auto_explain plans, then queries."""
    head = (
        "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; "
        "SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; "
        "SET log_min_duration_statement = 0;\n"
    )
    # one more plan in auto_explain's JSON format, to read both layouts from one log
    tail = "SET auto_explain.log_format = json;\nSELECT count(*) FROM customers WHERE name = 'x';\n"
    return head + "".join(f"{s};\n" for s in SLOW_STATEMENTS) + tail
