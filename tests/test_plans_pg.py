"""Plans captured from a real PostgreSQL: each defect is diagnosed, and each suggested fix removes it.

One server per session (``captured``): it loads ``pg_workload.SETUP``, captures
``EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON)`` for every case, applies
the fix casework suggests and captures again, writes a server log with
``duration:`` lines and auto_explain plans, then stops. Tests only read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casework.findings import Finding
from casework.plans import diagnose
from casework.plans.diag_exec import JIT_DOMINANT
from casework.plans.diagnose import Diagnosis
from casework.plans.node import Plan
from casework.plans.read import read_plans
from casework.timeline import minute
from pg_server import running_postgres
from pg_workload import CASES, SETUP, explain_script, logging_script

pytestmark = pytest.mark.postgres

_SQL = re.compile(r"\b(CREATE|SET|VACUUM|ANALYZE|ALTER)\b.*;", re.S)


def _plan(text: str, name: str = "plan") -> Plan:
    [plan] = read_plans(list(enumerate(text.splitlines(), 1)))
    plan.plan_id = plan.file = name
    return plan


def _keys(plan: Plan) -> dict[str, list[Diagnosis]]:
    out: dict[str, list[Diagnosis]] = {}
    for d in diagnose(plan):
        out.setdefault(d.key, []).append(d)
    return out


def _suggested_sql(diag: Diagnosis, starts: str) -> str:
    """The SQL of the next step that starts with ``starts`` (the advice, applied verbatim)."""
    for step in diag.next_steps:
        if starts in step:
            match = _SQL.search(step[step.index(starts) :])
            if match:
                return match[0]
    raise AssertionError(f"no '{starts}' step in {diag.next_steps}")


_TABLES = ("events_log", "orders", "ios")

# (case, finding key, the step to apply, extra SQL needed to see the effect)
FIXES = {
    "seqscan": ("PLAN_SEQSCAN_FILTER", "CREATE INDEX", "ANALYZE events_log;"),
    "misestimate": ("PLAN_ROW_MISESTIMATE", "CREATE STATISTICS", ""),
    "sort_spill": ("PLAN_SPILL", "SET work_mem", ""),
    "hash_spill": ("PLAN_SPILL", "SET work_mem", ""),
    "hashagg_spill": ("PLAN_SPILL", "SET work_mem", ""),
    "lossy_bitmap": ("PLAN_LOSSY_BITMAP", "SET work_mem", ""),
    "heap_fetches": ("PLAN_HEAP_FETCHES", "VACUUM", ""),
    "index_filter": ("PLAN_INDEX_FILTER", "CREATE INDEX", "ANALYZE orders;"),  # last: adds an index
}


@pytest.fixture(scope="session")
def captured() -> Iterator[dict[str, Any]]:
    with running_postgres({"max_parallel_workers_per_gather": "0", "jit": "off"}) as pg:
        pg.sql(SETUP)
        out: dict[str, Any] = {"plans": {}, "fixed": {}, "applied": {}}
        for name, case in CASES.items():
            out["plans"][name] = pg.sql(explain_script(case))
        out["text"] = pg.sql(
            explain_script(CASES["misestimate"], "ANALYZE, BUFFERS"), tuples_only=False
        )
        out["aligned_json"] = pg.sql(explain_script(CASES["subplan"]), tuples_only=False)
        out["plain"] = pg.sql(explain_script(CASES["misestimate"], "COSTS ON"), tuples_only=False)
        pg.sql(logging_script())  # before the fixes: the logged statements are the slow ones
        out["log"] = pg.log_file.read_text(encoding="utf-8")
        for name, (key, starts, extra) in FIXES.items():
            diag = next(
                d
                for d in _keys(_plan(out["plans"][name], name))[key]
                if d.entities.get("table") in (None, "customers", *_TABLES)
            )
            fix = _suggested_sql(diag, starts).replace(" CONCURRENTLY", "")
            out["applied"][name] = fix
            case = CASES[name]
            settings = case.settings + (fix if fix.startswith("SET") else "")
            if not fix.startswith("SET"):
                pg.sql(fix + "\n" + extra)
            out["fixed"][name] = pg.sql(explain_script(type(case)(settings, case.statement)))
        pg.sql("CREATE INDEX ON child (parent_id); ANALYZE child;")
        out["fixed"]["triggers"] = pg.sql(explain_script(CASES["triggers"]))
    yield out


def test_seqscan_names_table_column_and_index(captured: dict[str, Any]) -> None:
    plan = _plan(captured["plans"]["seqscan"])
    [diag] = _keys(plan)["PLAN_SEQSCAN_FILTER"]
    assert diag.entities["table"] == "events_log" and diag.entities["columns"] == "account_id"
    assert float(diag.stats["removed_share"] or 0) > 0.99
    assert float(diag.stats["rows_removed"] or 0) > 290_000
    assert "CREATE INDEX CONCURRENTLY ON events_log (account_id);" in diag.next_steps
    after = _plan(captured["fixed"]["seqscan"])
    assert "PLAN_SEQSCAN_FILTER" not in _keys(after)
    assert after.root.kind != "seq_scan" and "events_log" in after.relations()


def test_correlated_columns_misestimate_and_the_nested_loop_it_caused(
    captured: dict[str, Any],
) -> None:
    plan = _plan(captured["plans"]["misestimate"])
    found = _keys(plan)
    mis = next(d for d in found["PLAN_ROW_MISESTIMATE"] if d.entities.get("table") == "customers")
    assert mis.stats["direction"] == "under" and float(mis.stats["factor"] or 0) >= 10
    assert mis.stats["nested_loop_node"] is not None
    assert any(
        "CREATE STATISTICS customers_city_zip_stats (dependencies) ON city, zip FROM customers" in s
        for s in mis.next_steps
    )
    [loop] = found["PLAN_NESTED_LOOP_MISESTIMATE"]
    assert float(loop.stats["inner_loops"] or 0) >= 1000
    assert float(loop.stats["planned_outer_rows"] or 0) * 10 <= float(
        loop.stats["inner_loops"] or 0
    )
    # the suggested extended statistics fix the estimate at its origin
    after = _keys(_plan(captured["fixed"]["misestimate"]))
    assert not any(
        d.entities.get("table") == "customers" for d in after.get("PLAN_ROW_MISESTIMATE", [])
    )
    assert "PLAN_NESTED_LOOP_MISESTIMATE" not in after


@pytest.mark.parametrize("name", ["sort_spill", "hash_spill", "hashagg_spill"])
def test_spills_name_the_work_mem_that_fits(captured: dict[str, Any], name: str) -> None:
    [diag] = _keys(_plan(captured["plans"][name]))["PLAN_SPILL"]
    assert diag.stats["work_mem"] == "64kB"
    assert re.fullmatch(r"\d+MB", str(diag.stats["work_mem_needed"]))
    assert f"work_mem of about {diag.stats['work_mem_needed']}" in diag.title
    assert "PLAN_SPILL" not in _keys(_plan(captured["fixed"][name])), captured["applied"][name]


def test_lossy_bitmap_and_its_work_mem(captured: dict[str, Any]) -> None:
    [diag] = _keys(_plan(captured["plans"]["lossy_bitmap"]))["PLAN_LOSSY_BITMAP"]
    assert diag.entities["table"] == "orders"
    assert float(diag.stats["lossy_blocks"] or 0) > 0
    assert float(diag.stats["rows_removed_by_recheck"] or 0) > 0
    fixed = _plan(captured["fixed"]["lossy_bitmap"])
    assert "PLAN_LOSSY_BITMAP" not in _keys(fixed)
    assert any(n.exact_heap_blocks and not n.lossy_heap_blocks for n in fixed.nodes)


def test_index_scan_with_a_filter_that_discards_most_rows(captured: dict[str, Any]) -> None:
    plan = _plan(captured["plans"]["index_filter"])
    [diag] = _keys(plan)["PLAN_INDEX_FILTER"]
    assert diag.entities["table"] == "orders" and diag.entities["columns"] == "status"
    assert diag.entities["index"] == "orders_customer"
    # equality on the filter column first, then the range the index already serves
    assert "CREATE INDEX CONCURRENTLY ON orders (status, customer_id);" in diag.next_steps
    fixed = _plan(captured["fixed"]["index_filter"])
    assert "PLAN_INDEX_FILTER" not in _keys(fixed)
    assert fixed.total_ms is not None and plan.total_ms is not None
    assert fixed.total_ms < plan.total_ms


def test_heap_fetches_until_vacuum(captured: dict[str, Any]) -> None:
    [diag] = _keys(_plan(captured["plans"]["heap_fetches"]))["PLAN_HEAP_FETCHES"]
    assert diag.stats["heap_fetches"] == 50_000 and diag.next_steps[0] == "VACUUM (VERBOSE) ios;"
    assert "PLAN_HEAP_FETCHES" not in _keys(_plan(captured["fixed"]["heap_fetches"]))


def test_subplan_per_row(captured: dict[str, Any]) -> None:
    [diag] = _keys(_plan(captured["plans"]["subplan"]))["PLAN_SUBPLAN_PER_ROW"]
    assert diag.stats["loops"] == 3000 and diag.entities["table"] == "orders"


def test_workers_planned_but_not_launched(captured: dict[str, Any]) -> None:
    [diag] = _keys(_plan(captured["plans"]["parallel"]))["PLAN_WORKERS_NOT_LAUNCHED"]
    assert (diag.stats["workers_planned"], diag.stats["workers_launched"]) == (2, 0)


def test_jit_dominating_a_short_query(captured: dict[str, Any]) -> None:
    plan = _plan(captured["plans"]["jit"])
    [diag] = _keys(plan)["PLAN_JIT_DOMINATES"]
    # How much of a short query JIT takes depends on the machine's speed and load; the
    # diagnosis must fire exactly when the plan's own numbers cross its threshold.
    share = plan.jit["total_ms"] / plan.execution_ms
    assert float(diag.stats["share"] or 0) == pytest.approx(share, rel=1e-6)
    assert share >= JIT_DOMINANT and plan.jit["total_ms"] == diag.stats["jit_ms"]


def test_fk_trigger_dominating_a_delete(captured: dict[str, Any]) -> None:
    plan = _plan(captured["plans"]["triggers"])
    [diag] = _keys(plan)["PLAN_TRIGGERS_DOMINATE"]
    assert (
        diag.entities["constraint"] == "child_parent_id_fkey" and diag.stats["worst_calls"] == 100
    )
    assert "child_parent_id_fkey" in diag.next_steps[0]
    fixed = _plan(captured["fixed"]["triggers"])
    assert sum(t.time_ms for t in fixed.triggers) * 5 < sum(t.time_ms for t in plan.triggers)


def test_text_and_json_of_one_query_read_the_same(captured: dict[str, Any]) -> None:
    text, js = _plan(captured["text"]), _plan(captured["plans"]["misestimate"])
    assert [n.node_type for n in text.nodes] == [n.node_type for n in js.nodes]
    assert [n.est_rows for n in text.nodes] == [n.est_rows for n in js.nodes]
    assert [n.relation for n in text.nodes] == [n.relation for n in js.nodes]
    assert text.nodes[1].filter == js.nodes[1].filter and text.execution_ms is not None
    framed = _plan(captured["aligned_json"])
    assert "+" in captured["aligned_json"] and framed.analyzed
    assert any(n.relationship == "SubPlan" for n in framed.nodes)
    plain = _plan(captured["plain"])
    assert not plain.analyzed and plain.root.total_cost is not None


def _bundle(captured: dict[str, Any], root: Path) -> Path:
    bundle = root / "bundle"
    (bundle / "plans").mkdir(parents=True)
    (bundle / "logs").mkdir()
    (bundle / "plans" / "orders_before.json").write_text(captured["fixed"]["seqscan"])
    (bundle / "plans" / "orders_after.json").write_text(captured["plans"]["seqscan"])
    (bundle / "plans" / "spill.txt").write_text(captured["text"])
    (bundle / "logs" / "postgresql.log").write_text(captured["log"])
    return bundle


def test_bundle_end_to_end(captured: dict[str, Any], tmp_path: Path) -> None:
    from casework.analyzers import BUILTIN
    from casework.pipeline import Options, investigate

    plan_analyzers = [a for a in BUILTIN if a.key.startswith("plan_")]
    result = investigate(
        _bundle(captured, tmp_path), tmp_path / "out", Options(workers=1), analyzers=plan_analyzers
    )
    findings: list[Finding] = list(result.findings)
    by_key: dict[str, list[Finding]] = {}
    for f in findings:
        by_key.setdefault(f.key, []).append(f)
    # The before/after plan files give one regression; the statements the log timed several
    # times can give another when a later run happened to be slower (a loaded machine).
    [regression] = [
        f for f in by_key["PLAN_REGRESSION"] if f.entities["after"].endswith("orders_after.json")
    ]
    assert "became Seq Scan on events_log" in regression.title
    # The after plan estimated its rows well: the index the before plan used is missing.
    index = next(n.index_name for n in _plan(captured["fixed"]["seqscan"]).nodes if n.index_name)
    assert regression.entities["index"] == index
    assert f"CREATE INDEX CONCURRENTLY {index} ON events_log (account_id)" in " ".join(
        regression.next_steps
    )
    slow = {f.entities["statement"]: f for f in by_key["SLOW_QUERY_FINGERPRINT"]}
    events = slow["select * from events_log where account_id = ?"]
    assert events.stats["count"] == 3 and "plan" in events.entities
    assert events.window is not None and f"from {minute(events.window.start)}" in events.title
    # Of the plans the log holds for that statement (auto_explain logged each execution), the
    # slow executions are linked to the slowest; which one that is depends on the machine's load.
    from casework.case import Case
    from casework.plans.fingerprint import fingerprint
    from casework.plans.load import case_plans

    plans = {p.plan_id: p for p in case_plans(Case.open(str(result.case_path)))}
    chosen = plans[events.entities["plan"]]
    same = [
        p
        for p in plans.values()
        if p.query and fingerprint(p.query) == fingerprint(chosen.query or "")
    ]
    assert len(same) >= 2 and chosen.total_ms == max(p.total_ms or 0.0 for p in same)
    assert not events.entities["plan"].endswith("orders_before.json")
    assert float(events.stats["p95_ms"] or 0) >= float(events.stats["p50_ms"] or 0) > 0
    logged = [f for f in by_key["PLAN_SEQSCAN_FILTER"] if "postgresql.log" in f.entities["plan"]]
    assert {f.entities["table"] for f in logged} >= {"events_log", "orders", "customers"}


def test_a_plan_flip_on_a_wrong_estimate_is_not_a_missing_index(
    captured: dict[str, Any], tmp_path: Path
) -> None:
    """The same pair, but the after plan expected a hundred times the rows its scan found (the
    statistics of a table that changed since its last ANALYZE): the advice is ANALYZE."""
    from casework.analyzers import BUILTIN
    from casework.pipeline import Options, investigate

    bundle = _bundle(captured, tmp_path)
    after = json.loads(captured["plans"]["seqscan"])
    scans = [n for n in _walk(after[0]["Plan"]) if n["Node Type"] == "Seq Scan"]
    for scan in scans:
        scan["Plan Rows"] = int(scan["Actual Rows"]) * 100 + 1000
    (bundle / "plans" / "orders_after.json").write_text(json.dumps(after, indent=2))
    plan_analyzers = [a for a in BUILTIN if a.key == "plan_regression"]
    result = investigate(bundle, tmp_path / "out", Options(workers=1), analyzers=plan_analyzers)
    [regression] = [
        f for f in result.findings if f.entities.get("after", "").endswith("orders_after.json")
    ]
    assert scans and "index" not in regression.entities
    assert "ANALYZE events_log;" in " ".join(regression.next_steps)


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def test_slow_executions_are_linked_to_the_slow_plan_of_a_pair(captured: dict[str, Any]) -> None:
    """The same statement planned before its index was dropped (fast) and after (a Seq Scan):
    its slow executions ran the slow plan, whichever file comes first."""
    from casework.analyzers.plan_slow_queries import _linked_plan
    from casework.plans.slowlog import FingerprintStats, SlowQuery, fingerprint

    fast = _plan(captured["fixed"]["seqscan"], "a-before.json")
    slow = _plan(captured["plans"]["seqscan"], "b-after.json")
    statement = CASES["seqscan"].statement
    stats = FingerprintStats(fingerprint(statement), statement,
                             SlowQuery(900.0, statement, "pg.log", 1))  # fmt: skip
    for order in ([fast, slow], [slow, fast]):
        linked = _linked_plan(stats, order)
        assert linked is not None and linked == (slow, "same tables")
    assert (slow.total_ms or 0) > (fast.total_ms or 0)
