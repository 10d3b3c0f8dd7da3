"""Trace readers (OTLP, Jaeger, Zipkin) on real exports, and the trace analyzers on SDK-made traces."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tracegen
from casework.analyzers.trace_clock_skew import trace_clock_skew
from casework.analyzers.trace_critical_path import trace_critical_path
from casework.analyzers.trace_error_origin import trace_error_origin
from casework.analyzers.trace_logs import trace_logs
from casework.analyzers.trace_n_plus_one import trace_n_plus_one
from casework.analyzers.trace_service_graph import trace_service_graph
from casework.analyzers.trace_slow import trace_slow
from casework.case import Case
from casework.findings import Finding
from casework.formats import jaeger as jaeger_format
from casework.formats import otlp as otlp_format
from casework.formats import sniff
from casework.formats import zipkin as zipkin_format
from casework.formats.base import ParseContext
from casework.model import SpanRecord
from casework.store import SCHEMA, Store
from casework.traces import jaeger, otlp, skew, summary, tree, zipkin
from casework.traces.critical_path import critical_path, self_time
from tracegen import TraceMaker, load_case

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "traces"
TRACE_KINDS = {"otlp-json", "jaeger-json", "zipkin-json"}


def _read(path: Path) -> tuple[list[SpanRecord], ParseContext]:
    fmt, _ = sniff(path.read_bytes()[:65536])
    assert fmt is not None and fmt.kind in TRACE_KINDS, path
    ctx = ParseContext(path=str(path))
    with path.open("rb") as fh:
        records = [r for r in fmt.parse(fh, ctx) if isinstance(r, SpanRecord)]
    return records, ctx


def test_every_real_trace_file_reads_without_error() -> None:
    files = sorted(DATA.rglob("*"))
    assert len([f for f in files if f.suffix == ".json"]) >= 25
    not_traces = []
    for path in (f for f in files if f.is_file()):
        facts = summary(path)
        if facts["format"] not in TRACE_KINDS:
            assert facts["reason"] == "not a trace export"
            not_traces.append(path.name)
            continue
        assert facts["spans"] > 0, path
        assert facts["bad_records"] == 0, (path, facts["first_problem"])
    # The dependency-link list and the Zipkin README are the only non-traces in the folder.
    assert sorted(not_traces) == ["README.md", "large.json"]


def test_real_production_zipkin_traces() -> None:
    spans, _ = _read(DATA / "zipkin" / "smartthings-mobile-web-install.json")
    assert len(spans) == 1041
    assert len({s.service for s in spans}) >= 15
    assert sum(1 for s in spans if s.start is None) >= 1  # spans recorded without timing are kept


def _key(rec: SpanRecord) -> tuple[Any, ...]:
    assert rec.start is not None and rec.duration_ms is not None
    start_us = int(rec.start.timestamp() * 1_000_000)
    attrs = tuple(sorted((k, str(v)) for k, v in rec.attrs.items()))
    return (
        rec.trace_id,
        rec.span_id,
        rec.parent_id,
        rec.service,
        rec.name,
        rec.kind,
        start_us,
        math.floor(round(rec.duration_ms * 1000, 3)),
        rec.status,
        rec.error,
        attrs,
    )


@pytest.mark.parametrize(
    ("otlp_file", "jaeger_file"),
    [
        ("otlp2jaeger-in.json", "otlp2jaeger-out.json"),
        ("otlp2jaeger-multi-in-combined.json", "oltp2jaeger-multi-out.json"),
    ],
)
def test_otlp_and_jaeger_conversion_pairs_give_the_same_spans(
    otlp_file: str, jaeger_file: str
) -> None:
    from_otlp, _ = _read(DATA / "jaeger-ui" / otlp_file)
    from_jaeger, _ = _read(DATA / "jaeger-ui" / jaeger_file)
    assert from_otlp and sorted(map(_key, from_otlp)) == sorted(map(_key, from_jaeger))


def test_jaeger_domain_model_and_ui_json_describe_the_same_trace() -> None:
    domain, _ = _read(DATA / "jaeger" / "domain_01.json")
    ui, _ = _read(DATA / "jaeger" / "ui_01.json")

    def shape(rs: list[SpanRecord]) -> list[tuple[Any, ...]]:
        return sorted((r.span_id, r.parent_id, r.service, r.name, r.start, r.error) for r in rs)

    assert shape(domain) == shape(ui)
    follows = [r for r in ui if r.name == "reference-test"]
    assert (
        follows[0].parent_id == "0000000000000002"
    )  # the same-trace CHILD_OF, not the foreign one


def test_sdk_document_and_collector_lines_read_the_same(tmp_path: Path) -> None:
    m = TraceMaker()
    tracegen.checkout(m, n=6)
    doc = m.write_document(tmp_path / "doc.json")  # base64 ids, enum names (protobuf JSON)
    lines = m.write_lines(tmp_path / "lines.jsonl", batch=7)  # hex ids, one request per line
    a, _ = _read(doc)
    b, _ = _read(lines)
    assert len(a) == len(m.finished()) == 36
    assert sorted(map(_key, a)) == sorted(map(_key, b))
    # The line form can be cut at any line and the parts read apart (a parallel scan).
    raw = lines.read_bytes()
    cut = raw.index(b"\n", len(raw) // 2) + 1
    parts = [list(otlp.read(io.BytesIO(p), ParseContext("part"))) for p in (raw[:cut], raw[cut:])]
    assert all(parts) and sorted(map(_key, parts[0] + parts[1])) == sorted(map(_key, b))
    server = next(r for r in a if r.service == "payment")
    assert server.kind == "SERVER" and server.attrs["http.response.status_code"] in (200, 503)
    assert server.attrs["service.version"] == "1.0" and server.attrs["cloud.region"] == "us-east-1"
    redis = next(r for r in a if r.name == "GET")
    assert redis.attrs["db.query.text"].startswith("GET stock:")  # db.statement, aliased
    assert redis.attrs["server.address"] == "redis-0"  # net.peer.name, aliased


def test_sniffers_by_content_do_not_collide() -> None:
    heads = {
        "jsonl log": b'{"ts":"2026-01-01T00:00:00Z","level":"info","msg":"ok","trace_id":"ab12"}\n',
        "har": b'{"log": {"version": "1.2", "entries": [{"startedDateTime": "x"}]}}',
        "k8s": b'{"apiVersion": "v1", "items": [{"kind": "Event"}], "kind": "List"}',
        "json array": b'[{"id": "0123456789abcdef", "name": "x"}]',
        "otlp logs": b'{"resourceLogs": [{"resource": {}}]}',
    }
    for name, head in heads.items():
        for fmt in (
            otlp_format.FORMAT,
            jaeger_format.FORMAT,
            zipkin_format.FORMAT,
        ):
            assert fmt.sniff(head) == 0.0, (name, fmt.kind)


def test_bad_input_is_counted_not_raised() -> None:
    good = orjson.dumps(
        {
            "resourceSpans": [
                {
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": "0af7651916cd43dd8448eb211c80319c",
                                    "spanId": "b7ad6b7169203331",
                                    "name": "x",
                                    "startTimeUnixNano": "1",
                                    "endTimeUnixNano": "2",
                                },
                                {"spanId": "b7ad6b7169203332"},
                            ]
                        }
                    ]
                }
            ]
        }
    )
    stream = io.BytesIO(good + b"\n{not json\n" + good + b"\n[1, 2]\n")
    ctx = ParseContext(path="x.jsonl")
    spans = list(otlp.read(stream, ctx))
    assert len(spans) == 2 and ctx.bad_records == 4  # 2 spans without ids, a broken line, an array
    ctx = ParseContext(path="t.json")
    assert list(jaeger.read(io.BytesIO(b'{"data": [{"traceID": "a", "spa'), ctx)) == []
    assert ctx.bad_records == 1
    ctx = ParseContext(path="cut.jsonl")  # a collector file whose first line was cut
    spans = list(otlp.read(io.BytesIO(good[:40] + b"\n" + good + b"\n" + good + b"\n"), ctx))
    assert len(spans) == 2 and ctx.bad_records == 3


def test_zipkin_v1_and_shared_spans() -> None:
    v1 = [
        {
            "traceId": "1e223ff1f80f1c69",
            "id": "74280ae0c10d8062",
            "parentId": "bf396325699c84bf",
            "name": "post",
            "timestamp": 100,
            "duration": 50,
            "annotations": [
                {"timestamp": 100, "value": "cs", "endpoint": {"serviceName": "front"}},
                {"timestamp": 110, "value": "sr", "endpoint": {"serviceName": "back"}},
                {"timestamp": 140, "value": "ss", "endpoint": {"serviceName": "back"}},
                {"timestamp": 150, "value": "cr", "endpoint": {"serviceName": "front"}},
            ],
            "binaryAnnotations": [
                {"key": "http.path", "value": "/api", "endpoint": {"serviceName": "back"}}
            ],
        }
    ]
    spans = list(zipkin.spans_from_list(v1, 1))
    client, server = sorted(spans, key=lambda s: s.kind)
    assert (client.kind, client.service, client.duration_ms) == ("CLIENT", "front", 0.05)
    assert (server.kind, server.service, server.parent_id) == ("SERVER", "back", client.span_id)
    assert server.span_id == client.span_id + zipkin.SHARED_SUFFIX
    assert server.attrs["url.path"] == "/api"


def _trace(spans: list[SpanRecord], trace_id: str | None = None) -> tree.Trace:
    rows = [s for s in spans if trace_id is None or s.trace_id == trace_id]
    nodes = []
    for s in rows:
        assert s.start is not None and s.duration_ms is not None
        begin = s.start.timestamp() * 1e6
        nodes.append(
            tree.Span(
                s.span_id,
                s.parent_id,
                s.service,
                s.name,
                s.kind,
                begin,
                begin + s.duration_ms * 1000,
                s.error,
            )
        )
    return tree.build(rows[0].trace_id, nodes)


def test_zipkin_skew_fixture_is_corrected_like_the_zipkin_ui() -> None:
    spans, _ = _read(DATA / "zipkin" / "skew.json")
    trace = _trace(spans)
    client = trace.spans["74280ae0c10d8062"]
    server = trace.spans["74280ae0c10d8062-s"]
    assert server.start < client.start  # as recorded: serviceb's clock is behind
    fixes = skew.correct(trace)
    assert [(f.parent_service, f.child_service) for f in fixes] == [("servicea", "serviceb")]
    assert client.start <= server.start and server.end <= client.end
    # The child on the same host moved with its server span.
    assert trace.spans["43210ae0c10d1234"].start >= server.start


def test_critical_path_on_jaeger_ui_fixture_covers_the_root() -> None:
    spans, _ = _read(DATA / "jaeger-ui" / "traceWithOverlappingChildrenLongerThanParent.json")
    trace = _trace(spans)
    path = critical_path(trace)
    root = trace.root
    assert math.isclose(sum(s.length for s in path), root.duration)
    assert all(root.start <= s.start <= s.end <= root.end for s in path)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Case]:
    """One bundle of generated traces: errors two hops down, N+1, a slow shard, parallel calls, skew."""
    m = TraceMaker()
    tracegen.checkout(m, n=50)
    tracegen.orders_n_plus_one(m, n=20)
    tracegen.profile_slow_shard(m, n=80)
    tracegen.search_parallel(m, n=10)
    tracegen.billing_skewed(m, n=10)
    d = tmp_path_factory.mktemp("shop")
    case = load_case(d / "case.db", m.write_lines(d / "traces.jsonl"))
    yield case
    case.con.close()


def _only(findings: list[Finding], **entities: str) -> Finding:
    hits = [f for f in findings if all(f.entities.get(k) == v for k, v in entities.items())]
    assert len(hits) == 1, [f.title for f in findings]
    return hits[0]


def test_error_origin_two_hops_down(shop: Case) -> None:
    f = _only(list(trace_error_origin.run(shop)), endpoint="frontend POST /checkout")
    assert (f.entities["origin_service"], f.entities["origin_operation"]) == ("inventory", "GET")
    assert f.entities["peer"] == "redis" and "TimeoutError" in f.entities["reason"]
    assert (f.stats["failing_traces"], f.stats["origin_traces"]) == (25, 20)
    assert f.stats["hops"] == 2  # frontend → inventory → redis
    assert f.stats["share"] == pytest.approx(0.8) and f.severity == "high"
    assert "80%" in f.title and "inventory" in f.title
    assert "payment" in f.summary  # the other origin is named


def test_error_origin_passes_through_a_client_span_the_caller_did_not_mark(
    tmp_path: Path,
) -> None:
    """Some instrumentations leave the caller's client span unmarked when the call failed: the
    error still comes from the server side below it. An error handled below a step that
    succeeded is not followed."""
    m = TraceMaker(seed=3)
    for i in range(30):
        m.new_trace()
        root = m.span("frontend", "POST /api/checkout", 0, 5030, kind=tracegen.SERVER,
                      attrs={"http.response.status_code": 504}, error=("GatewayTimeout", "timed out"))  # fmt: skip
        cached = m.span("frontend", "load session", 1, 3, parent=root)
        m.span("frontend", "GET", 1, 1, parent=cached, kind=tracegen.CLIENT,
               attrs={"db.system": "redis"}, error=("CacheMiss", "no such key"))  # fmt: skip
        call = m.span(
            "frontend", "POST payment.Authorize", 5, 5010, parent=root, kind=tracegen.CLIENT
        )
        srv = m.span("payment", "payment.Authorize", 6, 5000 + i, parent=call, kind=tracegen.SERVER,
                     error=("DeadlineExceeded", "context deadline exceeded"))  # fmt: skip
        m.span("payment", "SELECT ledger", 8, 4990, parent=srv, kind=tracegen.CLIENT,
               attrs={"db.system": "postgresql"})  # fmt: skip
    case = load_case(tmp_path / "case.db", m.write_lines(tmp_path / "traces.jsonl"))
    f = _only(list(trace_error_origin.run(case)), endpoint="frontend POST /api/checkout")
    assert (f.entities["origin_service"], f.entities["origin_operation"]) == (
        "payment",
        "payment.Authorize",
    )
    assert f.stats["origin_traces"] == 30 and f.stats["hops"] == 1  # frontend → payment
    case.con.close()


def test_n_plus_one(shop: Case) -> None:
    f = _only(list(trace_n_plus_one.run(shop)), service="orders")
    assert f.entities["statement"] == "SELECT * FROM items WHERE id = ?"
    assert (f.stats["traces"], f.stats["median_calls"]) == (20, 25)
    assert all(e.entities.get("service") != "profile" for e in trace_n_plus_one.run(shop))


def test_slow_shard_is_named(shop: Case) -> None:
    f = _only(list(trace_slow.run(shop)), endpoint="profile GET /profile")
    assert f.entities["operation"] == "SELECT profiles"
    assert f.entities["db.namespace"] == "shard-3"
    assert isinstance(f.stats["growth_share"], float) and f.stats["growth_share"] > 0.8
    # shard-3 holds every slow trace, 25 times the normal median: the whole slowdown
    assert f.severity == "high"


def test_a_mild_slowdown_of_a_shard_is_not_the_whole_story(tmp_path: Path) -> None:
    m = TraceMaker(seed=4)
    for i in range(80):
        m.new_trace()
        db_ms = (18.0 if i % 4 == 3 else 8.0) + m.rng.uniform(0, 2)
        root = m.span("profile", "GET /profile", 0, db_ms + 12, kind=tracegen.SERVER)
        m.span("profile", "SELECT profiles", 5, db_ms, parent=root, kind=tracegen.CLIENT,
               attrs={"db.system": "postgresql", "db.name": f"shard-{i % 4}"})  # fmt: skip
    case = load_case(tmp_path / "case.db", m.write_lines(tmp_path / "traces.jsonl"))
    f = _only(list(trace_slow.run(case)), endpoint="profile GET /profile")
    assert f.entities["db.namespace"] == "shard-3" and f.severity == "medium"
    case.con.close()


def test_parallel_branches_only_the_slowest_is_critical(shop: Case) -> None:
    f = _only(list(trace_critical_path.run(shop)), endpoint="search GET /search")
    assert f.entities["operation"] == "query B"
    assert f.stats["critical_ms_per_trace"] == pytest.approx(200.0, abs=0.01)
    assert "query A" not in f.summary and "query C" not in f.summary
    searches = "trace_id IN (SELECT trace_id FROM spans WHERE name = 'GET /search')"
    for trace in tree.load(shop, searches):
        assert all(s.span.name != "query A" for s in critical_path(trace))
        assert self_time(trace.root) == pytest.approx(
            15_000.0
        )  # 215 ms minus the union of children


def test_clock_skew_generated(shop: Case) -> None:
    f = _only(list(trace_clock_skew.run(shop)), service="billing")
    assert f.entities["caller"] == "frontend"
    assert f.stats["median_shift_ms"] == pytest.approx(40.0, abs=0.01)
    assert (f.stats["corrected"], f.stats["calls"]) == (10, 10)


def test_service_graph(shop: Case) -> None:
    findings = list(trace_service_graph.run(shop))
    overview = _only(findings, busiest_caller="orders")
    assert overview.stats["edges"] == 6
    edge = _only(findings, caller="inventory", callee="redis")
    assert (edge.stats["calls"], edge.stats["errors"]) == (50, 20)


def _event(**values: Any) -> tuple[Any, ...]:
    """An ``events`` row by column name, whatever the column order of the schema."""
    return tuple(values.get(name) for name, _, _ in SCHEMA["events"])


def test_trace_log_join_places_lines_under_spans(tmp_path: Path) -> None:
    m = TraceMaker()
    tracegen.checkout(m, n=4)
    path = m.write_lines(tmp_path / "t.jsonl")
    load_case(tmp_path / "c.db", path).con.close()
    failing = [s for s in m.finished() if s.status.status_code.name == "ERROR" and s.name == "GET"]
    target = failing[0]
    assert target.context is not None and target.start_time is not None
    trace_hex = f"{target.context.trace_id:032x}"
    store = Store(tmp_path / "c.db")
    store.add(
        "events",
        _event(
            file="inv.log",
            line=7,
            end_line=7,
            ts=tracegen.utc_from_ns(target.start_time),
            level="ERROR",
            service="inventory",
            message="redis timeout",
            attrs={"trace_id": trace_hex.upper()},
        ),
    )
    store.add(
        "events",
        _event(
            file="front.log",
            line=3,
            end_line=3,
            ts=tracegen.utc_from_ns(target.start_time - 5_000_000),
            level="INFO",
            service="frontend",
            message="checkout start",
            attrs={"traceId": trace_hex},
        ),
    )
    store.close()
    case = Case.open(str(tmp_path / "c.db"))
    f = _only(list(trace_logs.run(case)), trace_id=trace_hex)
    assert f.stats["log_lines"] == 2 and f.stats["lines_at_origin"] == 1
    assert (f.stats["traces_with_logs"], f.stats["traces_shown"]) == (1, 1)
    assert f.evidence[0].file == "inv.log" and f.evidence[1].file == "front.log"
    assert f.evidence[0].excerpt.startswith(f"[{trace_hex[:16]} inventory GET] ERROR")
    assert f.evidence[1].excerpt.startswith(f"[{trace_hex[:16]} frontend POST /checkout] INFO")
    case.con.close()


def test_write_span_redacts_names_and_attributes(tmp_path: Path) -> None:
    from casework.redact.redactor import Redactor
    from casework.traces import write_span

    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    rec = SpanRecord(
        line=1,
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        parent_id=None,
        service="api",
        name=f"GET /reset?token={token}",
        kind="SERVER",
        start=None,
        duration_ms=None,
        attrs={"http.request.header.authorization": f"Bearer {token}"},
    )
    store = Store(tmp_path / "c.db")
    write_span(store, Redactor(b"k" * 32), rec, "t.json")
    store.flush()
    rows = store.con.execute("SELECT name, attrs FROM spans").fetchall()
    store.close()
    assert len(rows) == 1 and token not in str(rows[0])
    assert rows[0][0].startswith("GET /reset?token=")


def test_every_analyzer_runs_on_the_real_traces(tmp_path: Path) -> None:
    files = [f for f in sorted(DATA.rglob("*.json")) if summary(f)["format"] in TRACE_KINDS]
    case = load_case(tmp_path / "real.db", *files)
    analyzers = (
        trace_error_origin,
        trace_slow,
        trace_n_plus_one,
        trace_critical_path,
        trace_service_graph,
        trace_clock_skew,
        trace_logs,
    )
    found = {a.key: list(a.run(case)) for a in analyzers}
    # Zipkin's skew fixture is the one real trace whose server starts before its client.
    assert any(f.entities["service"] == "serviceb" for f in found["trace_clock_skew"])
    graph = found["trace_service_graph"]
    assert graph and isinstance(graph[0].stats["services"], int) and graph[0].stats["services"] > 20
    for f in (f for fs in found.values() for f in fs):
        assert f.title and f.to_json()["stats"] == {k: v for k, v in f.to_json()["stats"].items()}
    case.con.close()


def test_no_other_evidence_file_sniffs_as_a_trace() -> None:
    others = [f for f in sorted(DATA.parent.rglob("*")) if f.is_file() and DATA not in f.parents]
    assert len(others) > 100
    trace_formats = (
        otlp_format.FORMAT,
        jaeger_format.FORMAT,
        zipkin_format.FORMAT,
    )
    for path in others:
        with path.open("rb") as fh:
            head = fh.read(65536)
        assert all(fmt.sniff(head) == 0.0 for fmt in trace_formats), path


# The Jaeger UI's own critical-path cases (packages/jaeger-ui/src/components/TracePage/
# CriticalPath/testCases/test{2,4,5,6,7}.js): spans as (id, parent, start, duration,
# follows_from) and the expected sections as (id, start, end), latest first. test5.js
# writes its one section as ending at 30 for a span from 1 lasting 30; it ends at 31.
JAEGER_UI_CASES = {
    "two children, the later one critical": (
        [("X", None, 1, 100, False), ("A", "X", 10, 40, False), ("C", "X", 20, 40, False)],
        [("X", 60, 101), ("C", 20, 60), ("X", 1, 20)],
    ),
    "children after the parent are dropped": (
        [("A", None, 1, 30, False), ("B", "A", 40, 40, False), ("C", "B", 50, 10, False)],
        [("A", 1, 31)],
    ),
    "FOLLOWS_FROM child is not waited for": (
        [("A", None, 1, 30, False), ("B", "A", 10, 10, True)],
        [("A", 1, 31)],
    ),
    "child starting before its parent is clipped": (
        [("A", None, 1, 29, False), ("B", "A", 15, 20, False), ("C", "B", 10, 15, False)],
        [("B", 25, 30), ("C", 15, 25), ("A", 1, 15)],
    ),
    "chain overflowing its root is clipped": (
        [("A", None, 1, 29, False), ("B", "A", 15, 20, False), ("C", "B", 20, 20, False)],
        [("C", 20, 30), ("B", 15, 20), ("A", 1, 15)],
    ),
}


@pytest.mark.parametrize("case_name", sorted(JAEGER_UI_CASES))
def test_critical_path_matches_the_jaeger_ui(case_name: str) -> None:
    spans, expected = JAEGER_UI_CASES[case_name]
    nodes = [
        tree.Span(sid, parent, "svc", sid, "INTERNAL", float(start), float(start + dur), False, ff)
        for sid, parent, start, dur, ff in spans
    ]
    path = critical_path(tree.build("t", nodes))
    assert [(s.span.span_id, s.start, s.end) for s in path] == expected


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
_KEYS = st.sampled_from(
    [
        "traceId",
        "spanId",
        "id",
        "parentId",
        "name",
        "kind",
        "timestamp",
        "duration",
        "tags",
        "annotations",
        "binaryAnnotations",
        "localEndpoint",
        "traceID",
        "spanID",
        "references",
        "processes",
        "processID",
        "startTime",
        "operationName",
        "logs",
        "startTimeUnixNano",
        "endTimeUnixNano",
        "attributes",
        "status",
        "events",
        "scopeSpans",
        "resource",
        "spans",
    ]
)
_SPANISH = st.dictionaries(_KEYS, _JSON, max_size=8)


@settings(max_examples=60, deadline=None)
@given(_SPANISH, _SPANISH)
def test_readers_never_raise_on_malformed_documents(a: dict[str, Any], b: dict[str, Any]) -> None:
    docs = [
        (otlp.read, {"resourceSpans": [{"resource": a, "scopeSpans": [{"spans": [b, a]}]}]}),
        (otlp.read, {"resourceSpans": [a, b]}),
        (jaeger.read, {"data": [{"traceID": "ab", "spans": [a, b], "processes": b}]}),
        (jaeger.read, {"spans": [a, b]}),
        (zipkin.read, [a, b]),
    ]
    for read, doc in docs:
        ctx = ParseContext(path="fuzz.json")
        for rec in read(io.BytesIO(orjson.dumps(doc)), ctx):
            assert isinstance(rec, SpanRecord) and rec.trace_id and rec.span_id


def test_semantic_convention_aliases() -> None:
    from casework.traces.semconv import canonical

    old = canonical(
        {
            "http.status_code": "503",
            "db.statement": "SELECT 1",
            "db.name": "shard-3",
            "messaging.destination": "orders",
            "net.peer.name": "db-1",
            "net.peer.port": "5432",
        }
    )
    assert old == {
        "http.response.status_code": 503,
        "db.query.text": "SELECT 1",
        "db.namespace": "shard-3",
        "messaging.destination.name": "orders",
        "server.address": "db-1",
        "server.port": 5432,
    }
    # The current name wins when a span carries both.
    assert canonical({"http.method": "get", "http.request.method": "GET"}) == {
        "http.request.method": "GET"
    }


def test_error_reason_labels_carry_no_values() -> None:
    from casework.traces.origin import reason

    assert (
        reason({"exception.type": "HTTPError", "http.response.status_code": 503})
        == "HTTPError (HTTP 503)"
    )
    assert reason({"otel.status_description": "deadline exceeded after 2000ms"}) == (
        "deadline exceeded after <n>ms (timeout)"
    )
    assert reason({"otel.status_description": "user 'bob@example.com' not found: id 4411"}) == (
        "user <v> not found: id <n>"
    )
    assert reason({}) == "error"
