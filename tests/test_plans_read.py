"""Plan readers on real plans from PEV2, depesz and MySQL/MariaDB, and the slow-log and fingerprint parts."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from casework.formats import sniff
from casework.formats.base import ParseContext
from casework.formats.mysqlslow import parse as parse_slow
from casework.formats.pgplan import parse as parse_plan
from casework.plans import diagnose, summary
from casework.plans.auto_explain import plan_from_message
from casework.plans.compare import compare, same_query_groups
from casework.plans.fingerprint import fingerprint, normalize, tables
from casework.plans.node import Plan
from casework.plans.read import from_rows, read_plans, to_records
from casework.plans.slowlog import aggregate, from_pg_message

PLANS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "plans"
FILES = sorted(p for p in PLANS.rglob("*") if p.is_file())
#: Files in the corpus that are SQL (the queries and setup scripts behind the plans), not plans.
NOT_PLANS = {p for p in FILES if p.suffix == ".sql"}


def _read(path: Path) -> list[Plan]:
    lines = list(enumerate(path.read_text(encoding="utf-8").splitlines(), 1))
    plans = read_plans(lines)
    for i, plan in enumerate(plans):
        plan.plan_id = plan.file = f"{path.name}#{i}"
    return plans


def _by_name(name: str) -> Plan:
    [plan] = _read(next(p for p in FILES if p.name == name))
    return plan


def test_corpus_is_present() -> None:
    assert len(FILES) >= 50 and len(FILES) - len(NOT_PLANS) >= 36


@pytest.mark.parametrize("path", sorted(set(FILES) - NOT_PLANS), ids=lambda p: p.name)
def test_every_plan_reads_sniffs_and_round_trips(path: Path) -> None:
    plans = _read(path)
    assert plans and all(p.nodes for p in plans)
    for plan in plans:
        assert [n.node_id for n in plan.nodes] == list(range(len(plan.nodes)))
        assert all(n.node_type and not n.node_type.startswith("->") for n in plan.nodes)
        diagnose(plan)  # never raises on a real plan
        rows = [
            (r.plan_id, r.node_id, r.parent, r.node_type, r.relation, r.est_rows, r.actual_rows,
             r.loops, r.total_ms, r.plan_id, r.attrs)
            for r in to_records(plan)
        ]  # fmt: skip
        [back] = from_rows(rows)
        assert [(n.node_type, n.relation, n.filter, n.exclusive_ms) for n in back.nodes] == [
            (n.node_type, n.relation, n.filter, n.exclusive_ms) for n in plan.nodes
        ]
        assert (back.execution_ms, back.engine, len(back.triggers)) == (
            plan.execution_ms, plan.engine, len(plan.triggers),
        )  # fmt: skip
    fmt, _ = sniff(path.read_bytes()[:65536])
    assert fmt is not None and fmt.category == "plan", path.name


@pytest.mark.parametrize("path", sorted(NOT_PLANS), ids=lambda p: p.name)
def test_sql_files_are_reported_not_plans(path: Path) -> None:
    ctx = ParseContext(path.name)
    assert list(parse_plan(io.BytesIO(path.read_bytes()), ctx)) == []
    assert ctx.bad_records == 1 and ctx.first_problem is not None
    assert "not a readable plan" in summary(path).get("error", "") or summary(path)["plans"] == []


def test_framings_give_the_same_plan() -> None:
    aligned = _by_name("json_1.json")  # psql aligned with "+" marks and a pasted prompt
    assert aligned.query == "select * from pg_class limit 1"  # from the echoed EXPLAIN
    bare = _by_name("json_3.json")
    assert [(n.node_type, n.actual_rows) for n in aligned.nodes] == [
        (n.node_type, n.actual_rows) for n in bare.nodes
    ]
    boxed = _by_name("json-2-aligned-unicode-double-double-double.plan")
    assert [n.relation for n in boxed.nodes] == [None, "users", "part_0"]
    dbeaver = _by_name("text-3-dbeaver.plan")
    assert dbeaver.execution_ms == 4024.335 and dbeaver.nodes[1].buffers["shared_read"] == 22124
    quoted = _by_name("05_with_subplan.txt")  # pgAdmin: every line in double quotes
    assert sum(n.relationship == "SubPlan" for n in quoted.nodes) == 2


def test_text_details() -> None:
    plan = _by_name("13_parallel_4_workers.txt")
    gather = next(n for n in plan.nodes if n.kind == "gather")
    assert (gather.workers_planned, gather.workers_launched) == (4, 4)
    scan = next(n for n in plan.nodes if n.relation == "lineitem")
    assert scan.parallel_aware and scan.rows_removed_by_filter == 11934691
    hashed = next(n for n in plan.nodes if n.kind == "hash")
    assert (hashed.hash_batches, hashed.peak_memory_kb) == (256, 3840)
    # inside a Gather, 5 loops are 5 processes at once: the time is not multiplied
    assert scan.inclusive_ms == pytest.approx(4901.063)
    triggers = _by_name("10_delete_with_triggers.txt")
    assert len(triggers.triggers) == 7
    assert max(triggers.triggers, key=lambda t: t.time_ms).constraint == "attachemessageref"
    jit = _by_name("06_with_buffers.txt")
    assert jit.jit["total_ms"] == 245.045 and jit.jit["functions"] == 20


def test_json_and_text_of_the_same_plan_agree() -> None:
    text, js = (
        _by_name("01_simple_join_text_format.txt"),
        _by_name("02_simple_join_json_format.json"),
    )
    assert [n.node_type for n in text.nodes] == [n.node_type for n in js.nodes]
    assert [n.relation for n in text.nodes] == [n.relation for n in js.nodes]


def test_mysql_and_mariadb_diagnoses() -> None:
    bnl = diagnose(_by_name("mariadb-explain-block-nl-join.json"))
    assert any(d.key == "PLAN_JOIN_FILTER" and d.stats["pairs_rejected"] == 3_000_000 for d in bnl)
    scan = diagnose(_by_name("mariadb-10.11-002-table-scan-filter.json"))
    seq = next(d for d in scan if d.key == "PLAN_SEQSCAN_FILTER")
    assert seq.entities["columns"] == "country" and "ADD INDEX" in seq.next_steps[0]
    tree = _by_name("explain-102-hypergraph-off-correlated-subquery.json")
    assert tree.engine == "mysql" and tree.query and tree.query.startswith("select")
    keys = {d.key for d in diagnose(tree)}
    assert {"PLAN_SUBPLAN_PER_ROW", "PLAN_NESTED_LOOP_MISESTIMATE"} <= keys
    classic = _by_name("mysql-server_explain_json_all__group_by_dependent_subqueries.json")
    assert sum(n.relationship == "SubPlan" for n in classic.nodes) == 2 and not classic.analyzed


def test_auto_explain_text_and_json_messages() -> None:
    text = (
        "duration: 41.4 ms  plan:\n\tQuery Text: SELECT *\n\t  FROM t WHERE a = 1;\n"
        "\tSeq Scan on t  (cost=0.00..10.00 rows=1 width=4) (actual time=0.01..41.0 rows=1 loops=1)\n"
        "\t  Filter: (a = 1)\n\t  Rows Removed by Filter: 99999"
    )
    plan = plan_from_message(text)
    assert plan is not None and plan.query == "SELECT *\nFROM t WHERE a = 1;"
    assert plan.execution_ms == 41.4 and plan.nodes[0].rows_removed_by_filter == 99999
    js = (
        'duration: 2.0 ms  plan:\n\t{\n\t  "Query Text": "select 1",\n\t  "Plan": {"Node Type": '
        '"Result", "Plan Rows": 1, "Actual Rows": 1, "Actual Loops": 1, "Actual Total Time": 0.1}\n\t}'
    )
    parsed = plan_from_message(js)
    assert parsed is not None and parsed.query == "select 1" and parsed.execution_ms == 2.0
    assert plan_from_message("duration: 2.0 ms  statement: select 1") is None
    assert plan_from_message("duration: 2.0 ms  plan:\n\t{broken") is None


def test_fingerprints() -> None:
    a = normalize("SELECT * FROM t WHERE id = 42 AND name = 'x''y' /* c */ AND v IN (1, 2, 3)")
    assert a == "select * from t where id = ? and name = ? and v in (?+)"
    assert fingerprint("select * from t where id=1") == fingerprint("SELECT *  FROM t WHERE id=99;")
    assert fingerprint("select * from t where id = $1") == fingerprint(
        "select * from t where id = 7"
    )
    assert normalize("INSERT INTO t VALUES (1, 'a'), (2, 'b')") == "insert into t values (?+)"
    assert tables("SELECT * FROM public.orders o JOIN `users` u ON u.id = o.uid") == {
        "orders", "users",
    }  # fmt: skip


def test_slow_log_aggregation() -> None:
    rows = [f"duration: {ms} ms  statement: SELECT * FROM t WHERE id = {i}" for i, ms in
            enumerate([10.0, 20.0, 30.0, 40.0, 1000.0])]  # fmt: skip
    queries = [from_pg_message(r, "pg.log", i, None) for i, r in enumerate(rows)]
    queries.append(from_pg_message("duration: 5.0 ms  execute S_1: SELECT 1", "pg.log", 9, None))
    assert from_pg_message("duration: 5.0 ms  bind S_1: SELECT 1", "pg.log", 9, None) is None
    groups = aggregate(q for q in queries if q is not None)
    top = groups[0]
    assert (top.count, top.total_ms, top.percentile(50), top.percentile(95)) == (
        5,
        1100.0,
        30.0,
        1000.0,
    )
    assert top.example.duration_ms == 1000.0 and groups[1].count == 1


def test_mysql_slow_log_format() -> None:
    log = (
        b"/usr/sbin/mysqld, Version: 8.0.36. started with:\nTcp port: 3306  Unix socket: /s\n"
        b"Time                 Id Command    Argument\n"
        b"# Time: 2026-03-01T12:00:01.000000Z\n# User@Host: app[app] @  [10.0.0.5]  Id: 42\n"
        b"# Query_time: 2.5  Lock_time: 0.0001 Rows_sent: 1  Rows_examined: 90000\n"
        b"use shop;\nSET timestamp=1772366401;\nSELECT * FROM orders WHERE customer_id = 42;\n"
        b"# User@Host: app[app] @  [10.0.0.5]  Id: 42\n# Query_time: 1.0  Lock_time: 0 "
        b"Rows_sent: 0  Rows_examined: 5\nSET timestamp=1772366402;\nSELECT 1;\n"
        b"# Time: 2026-03-01T12:00:03Z\n# Query_time: x\n"
    )
    assert sniff(log)[0] is not None and sniff(log)[0].kind == "mysql-slow-log"  # type: ignore[union-attr]
    ctx = ParseContext("slow.log")
    first, second = parse_slow(io.BytesIO(log), ctx)
    assert first.attrs["db"] == "shop" and first.attrs["host"] == "10.0.0.5"
    assert first.ts == datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC)
    assert second.message == "SELECT 1;" and second.attrs["duration_ms"] == 1000.0
    assert ctx.bad_records == 1


def test_compare_before_after() -> None:
    before, after = _by_name("json_1.json"), _by_name("json_6.json")
    result = compare(before, after)
    assert result is not None and result.metric == "ms" and result.ratio > 1.9
    assert result.culprit is not None and result.changes
    slow = Plan(nodes=_by_name("json_2.json").nodes, plan_id="slow", file="after.json")
    fast = Plan(nodes=_by_name("json_1.json").nodes, plan_id="fast", file="before.json")
    [group] = same_query_groups([slow, fast, after])  # json_6 filters other columns: not grouped
    assert [p.plan_id for p in group] == ["fast", "slow"]


def test_summary_for_inspect() -> None:
    facts = summary(next(p for p in FILES if p.name == "13_parallel_4_workers.txt"))
    [plan] = facts["plans"]
    assert plan["engine"] == "postgresql" and plan["tables"] == ["lineitem", "orders"]
    assert plan["slowest"][0]["node"].startswith("Parallel Seq Scan on lineitem")
    assert any(d["key"] == "PLAN_SEQSCAN_FILTER" for d in plan["diagnoses"])


def test_hostile_input_never_raises() -> None:
    for raw in (b"", b"[", b"{}", b'{"Plan": 3}', b"->  ->  ->", b'[{"Plan": {"Plans": [1, null]}}]',
                b"\xff\xfe garbage (cost=1..2 rows=x width=1)", b'{"query_block": []}'):  # fmt: skip
        ctx = ParseContext("x")
        list(parse_plan(io.BytesIO(raw), ctx))
        assert ctx.bad_records <= 1
    deep = b'{"Plan": ' * 5000 + b"{}" + b"}" * 5000
    ctx = ParseContext("deep.json")
    assert list(parse_plan(io.BytesIO(deep), ctx)) == [] and ctx.bad_records == 1


MYSQL_SLOW = """# Time: 2026-03-01T12:00:0{s}.000000Z
# User@Host: app[app] @  [10.0.0.5]  Id: 42
# Query_time: {q}  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 3000
SET timestamp=177236640{s};
SELECT `users`.* FROM users WHERE country = '{c}';
"""


def test_mysql_bundle_end_to_end(tmp_path: Path) -> None:
    from casework.analyzers import BUILTIN
    from casework.pipeline import Options, investigate

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    log = "".join(MYSQL_SLOW.format(s=i, q=1.5 + i, c=c) for i, c in enumerate(["US", "DE", "FR"]))
    (bundle / "mysql-slow.log").write_text(log, encoding="utf-8")
    plan = next(p for p in FILES if p.name == "mariadb-10.11-002-table-scan-filter.json")
    (bundle / "explain.json").write_bytes(plan.read_bytes())
    analyzers = [a for a in BUILTIN if a.key.startswith("plan_")]
    result = investigate(bundle, tmp_path / "out", Options(workers=1), analyzers=analyzers)
    kinds = {e.path: e.kind for e in result.inventory}
    assert kinds == {"mysql-slow.log": "mysql-slow-log", "explain.json": "mysql-plan"}
    [slow] = [f for f in result.findings if f.key == "SLOW_QUERY_FINGERPRINT"]
    assert slow.stats["count"] == 3 and slow.stats["p50_ms"] == 2500.0
    assert slow.entities["plan"] == "explain.json"  # linked by the tables the statement reads
    assert any(f.key == "PLAN_SEQSCAN_FILTER" for f in result.findings)


MYSQL_TREE_TEXT = """+------------------------------------------------------------------+
| EXPLAIN                                                          |
+------------------------------------------------------------------+
| -> Limit: 100 row(s)  (cost=8755 rows=100) (actual time=0.0704..0.156 rows=100 loops=1)
    -> Nested loop inner join  (cost=8755 rows=24326) (actual time=0.0699..0.152 rows=100 loops=1)
        -> Filter: (o.`status` = 'shipped')  (cost=241 rows=2400) (actual time=0.0355..0.0403 rows=29 loops=1)
            -> Covering index lookup on o using idx_status (status='shipped')  (cost=241 rows=2400) (actual time=0.0341..0.0365 rows=29 loops=1)
        -> Index lookup on oi using idx_order (order_id=o.id)  (cost=2.53 rows=10.1) (actual time=0.00339..0.00359 rows=3.45 loops=29)
 |
+------------------------------------------------------------------+
1 row in set (0.00 sec)
"""


def test_mysql_text_tree_reads_like_its_json() -> None:
    ctx = ParseContext("explain.txt")
    fmt, _ = sniff(MYSQL_TREE_TEXT.encode())
    assert fmt is not None and fmt.kind == "mysql-plan"
    assert len(list(fmt.parse(io.BytesIO(MYSQL_TREE_TEXT.encode()), ctx))) == 5
    [text] = read_plans(list(enumerate(MYSQL_TREE_TEXT.splitlines(), 1)))
    js = _by_name("explain-036-join-2t-orders-items.json")
    assert (text.engine, text.fmt) == ("mysql", "mysql-text")
    assert [n.node_type for n in text.nodes] == [n.node_type for n in js.nodes]
    assert [n.index_name for n in text.nodes] == [n.index_name for n in js.nodes]
    assert [round(n.est_rows or 0) for n in text.nodes] == [
        round(n.est_rows or 0) for n in js.nodes
    ]
    assert text.nodes[-1].loops == 29 and text.nodes[3].filter == "(o.`status` = 'shipped')"


def _row(table: str, **values: object) -> tuple[object, ...]:
    from casework.store import SCHEMA

    return tuple(values.get(name) for name, _, _ in SCHEMA[table])


def test_slow_statement_is_tied_to_the_endpoint_that_runs_it(tmp_path: Path) -> None:
    from casework.analyzers.plan_slow_queries import plan_slow_queries
    from casework.case import Case
    from casework.store import Store

    store = Store(tmp_path / "case.duckdb")
    t0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for i, ms in enumerate([120.0, 80.0, 300.0]):
        message = f"duration: {ms} ms  statement: SELECT * FROM orders WHERE customer_id = {i}"
        store.add("events", _row("events", file="pg.log", line=i + 1, ts=t0, message=message))
    for trace in ("a", "b"):
        store.add("spans", _row("spans", trace_id=trace, span_id="r", service="api",
                                name="GET /v1/orders", start=t0, duration_ms=400.0))  # fmt: skip
        attrs = {"db.query.text": "select * from orders where customer_id = $1"}
        store.add("spans", _row("spans", trace_id=trace, span_id="d", parent_id="r",
                                service="api", name="SELECT", start=t0, attrs=attrs))  # fmt: skip
    store.close()
    case = Case.open(str(tmp_path / "case.duckdb"))
    [finding] = list(plan_slow_queries.run(case))
    assert finding.entities["endpoint"] == "api: GET /v1/orders"
    assert (finding.stats["count"], finding.stats["total_ms"], finding.stats["max_ms"]) == (
        3,
        500.0,
        300.0,
    )
    assert "GET /v1/orders (2 spans)" in finding.summary


def test_client_exports_and_node_lines() -> None:
    path = next(p for p in FILES if p.name == "02_simple_join_json_format.json")
    lines = path.read_text(encoding="utf-8").splitlines()
    [plan] = _read(path)
    assert all('"Node Type"' in lines[(n.line or 0) - 1] for n in plan.nodes)
    wrapped = '[{"QUERY PLAN": ' + json.dumps(json.dumps(json.loads("\n".join(lines)))) + "}]"
    [again] = read_plans([(1, wrapped)])  # DBeaver/pgcli: psql's cell as a JSON string
    assert [n.node_type for n in again.nodes] == [n.node_type for n in plan.nodes]
