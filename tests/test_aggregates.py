"""The scan's mergeable aggregates agree with the raw rows, on any executor and any cut of the files."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from casework import shifts, sketch
from casework.case import ROUTE_SQL, Case
from casework.findings import Window
from casework.levels import ERROR_SQL
from casework.pipeline import Options, investigate
from casework.scan import merge, worker
from casework.scan.aggregates import AGGREGATES as AGGREGATES_OF_PARTS
from casework.scan.aggregates import SAMPLES, aggregate, load
from casework.store import SCHEMA, PartWriter, Store
from casework.timeline import bucket_count, bucket_seconds, bucket_sql
from test_scale import CHUNK, make_bundle

AGGREGATES = ("event_counts", "latency_bins", "template_samples")


def add_dense_log(root: Path, lines: int = 6000, seed: int = 5) -> None:
    """A JSON log with many events per second, cut into parts mid-second by CHUNK.

    Durations are fractional and spread over four decades; some are 0 and some missing.
    """
    rng = random.Random(seed)
    t = datetime(2026, 6, 2, tzinfo=UTC)
    out = []
    for i in range(lines):
        t += timedelta(microseconds=rng.randint(0, 150_000))
        row: dict[str, Any] = {
            "time": t.isoformat().replace("+00:00", "Z"),
            "level": rng.choice(["info"] * 6 + ["warn", "error"]),
            "msg": rng.choice(["cache miss for key {}", "served {}", "slow query on {}"]).format(i),
            "route": rng.choice(["/api/a", "/api/b", "/api/c"]),
            "status": rng.choice([200] * 8 + [500, 503]),
        }
        draw = rng.random()
        if draw > 0.05:
            row["took_ms"] = 0 if draw > 0.99 else round(rng.lognormvariate(3, 1.2), 3)
        out.append(json.dumps(row))
    (root / "dense.log").write_text("\n".join(out) + "\n")


def _bin_of(ms: float) -> int | None:
    """The bin of one duration, as ``sketch.bin_sql`` defines it (the reference for the SQL)."""
    if not math.isfinite(ms):
        return None
    return sketch.ZERO_BIN if ms <= 0 else math.ceil(math.log(ms) / math.log(sketch.GAMMA))


def _value(bin_: int) -> float:
    """The representative duration (ms) of a bin, as ``sketch.value_sql`` defines it."""
    return 0.0 if bin_ == sketch.ZERO_BIN else 2 * sketch.GAMMA**bin_ / (sketch.GAMMA + 1)


def _quantile(bins: list[tuple[int | None, int]], q: float) -> float | None:
    """The ``q`` quantile of (bin, n) pairs by ``quantile_disc``'s nearest rank; None without
    durations."""
    counts: dict[int, int] = {}
    for b, n in bins:
        if b is not None:
            counts[b] = counts.get(b, 0) + n
    total = sum(counts.values())
    if total == 0:
        return None
    index = max(1, total - math.floor(total - q * total)) - 1
    seen = 0
    for b in sorted(counts):
        seen += counts[b]
        if seen > index:
            return _value(b)
    raise AssertionError("unreachable: the index is below the total")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("aggregates") / "bundle"
    make_bundle(root)
    add_dense_log(root)
    assert (root / "dense.log").stat().st_size > 4 * CHUNK  # really cut into parts
    return root


@pytest.fixture(scope="module")
def one(
    bundle: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = scanned(bundle, tmp_path_factory.mktemp("one"), Options(workers=1, chunk_bytes=CHUNK))
    yield con
    con.close()


def scanned(
    bundle: Path, out: Path, options: Options, *, by_workers: bool = True
) -> duckdb.DuckDBPyConnection:
    """The case store of ``bundle`` (no analyzers run); ``by_workers``: every task that wrote
    events or requests also wrote their aggregates, so the merge had none to compute."""
    loaded: list[bool] = []

    def check(con: Any, outs: list[str], *args: Any) -> None:
        for name, (table, _) in AGGREGATES_OF_PARTS.items():
            made = [
                (Path(o) / f"{name}.parquet").exists()
                for o in outs
                if (Path(o) / f"{table}.parquet").exists()
            ]
            loaded.append(all(made))
        load(con, outs, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(merge, "load", check)
        investigate(bundle, out, options, analyzers=[])
    assert loaded and all(loaded) == by_workers
    return connect(out)


def connect(out: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(out / "case.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    """A table in stored order: the merge must write it in the same order everywhere."""
    return con.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()


def test_event_counts_equal_counting_the_events(one: duckdb.DuckDBPyConnection) -> None:
    expected = one.execute(
        "SELECT file, date_trunc('second', ts), template_id, level, count(*), min(ts), max(ts)"
        " FROM events GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert one.execute("SELECT * FROM event_counts ORDER BY ALL").fetchall() == expected
    # Cells of several events, some cut between two parts of dense.log, were summed.
    assert max(n for *_, n, _, _ in expected) > 1


def test_same_aggregates_on_one_core_and_two(
    one: duckdb.DuckDBPyConnection, bundle: Path, tmp_path: Path
) -> None:
    two = scanned(bundle, tmp_path, Options(workers=2, chunk_bytes=CHUNK, pool_min_bytes=0))
    for table in AGGREGATES:
        assert rows(two, table) == rows(one, table), table


def test_cutting_files_into_parts_changes_no_count(
    one: duckdb.DuckDBPyConnection, bundle: Path, tmp_path: Path
) -> None:
    whole = scanned(bundle, tmp_path, Options(workers=1))  # no file cut
    assert rows(whole, "latency_bins") == rows(one, "latency_bins")
    # Template ids may differ with the cut (each task's miner sees other lines); counts may not.
    per_second = "SELECT file, second, level, sum(n), min(first_ts), max(last_ts) FROM event_counts GROUP BY ALL ORDER BY ALL"
    assert whole.execute(per_second).fetchall() == one.execute(per_second).fetchall()


def test_sketch_quantiles_are_within_one_percent(one: duckdb.DuckDBPyConnection) -> None:
    qs = (0.5, 0.95, 0.99)
    exact = {
        route: values
        for route, values in one.execute(
            f"SELECT {ROUTE_SQL} r, quantile_disc(duration_ms, [0.5, 0.95, 0.99]) FROM requests"
            " WHERE duration_ms IS NOT NULL GROUP BY r"
        ).fetchall()
    }
    got = one.execute(sketch.quantiles_sql("latency_bins", ["route"], qs)).fetchall()
    timed = [row for row in got if row[2]]
    assert {row[0] for row in timed} == set(exact) and len(exact) >= 3
    for route, _, _, *estimates in timed:
        for estimate, true in zip(estimates, exact[route], strict=True):
            assert abs(estimate - true) <= sketch.ALPHA * true + 1e-9, (route, estimate, true)


def test_request_counts_per_cell_are_exact(one: duckdb.DuckDBPyConnection) -> None:
    by_cell = (
        f"SELECT file, time_bucket(INTERVAL 1 HOUR, ts), method, {ROUTE_SQL}, status,"
        " count(*), count(duration_ms) FROM requests GROUP BY ALL ORDER BY ALL"
    )
    from_bins = (
        "SELECT file, hour, method, route, status, sum(n), coalesce(sum(n) FILTER"
        " (WHERE bin IS NOT NULL), 0) FROM latency_bins GROUP BY ALL ORDER BY ALL"
    )
    assert one.execute(from_bins).fetchall() == one.execute(by_cell).fetchall()


def test_samples_are_the_first_events_of_each_template(one: duckdb.DuckDBPyConnection) -> None:
    samples = rows(one, "template_samples")
    counted = one.execute(
        "SELECT template_id, count(*) FROM template_samples GROUP BY ALL"
    ).fetchall()
    assert samples and max(n for _, n in counted) <= SAMPLES
    templates = one.execute("SELECT template_id, count FROM templates").fetchall()
    assert dict(counted) == {t: min(n, SAMPLES) for t, n in templates}
    missing = one.execute(
        "SELECT count(*) FROM template_samples s ANTI JOIN events e"
        " ON e.file = s.file AND e.line = s.line AND e.template_id = s.template_id"
    ).fetchone()
    assert missing == (0,)
    # In a file read by one task, a template's samples are its first lines there.
    export = one.execute(
        "SELECT template_id, list(line ORDER BY line)[:3] FROM events"
        " WHERE file = 'export.log' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    kept = one.execute(
        "SELECT template_id, list(line ORDER BY line) FROM template_samples"
        " WHERE file = 'export.log' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert kept == export


def test_a_failed_aggregate_step_loses_no_count(
    one: duckdb.DuckDBPyConnection, bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flaky(out: Path) -> None:
        if int(out.name.split("-")[1]) % 2:
            raise RuntimeError("aggregate step failed")
        aggregate(out)

    monkeypatch.setattr(worker, "aggregate", flaky)
    failed = scanned(bundle, tmp_path, Options(workers=1, chunk_bytes=CHUNK), by_workers=False)
    for table in AGGREGATES:
        assert rows(failed, table) == rows(one, table), table


def test_a_task_writes_its_aggregates_from_its_parts(tmp_path: Path) -> None:
    t = datetime(2026, 1, 1, 10, 0, 59, 900_000, tzinfo=UTC)
    parts = PartWriter(tmp_path)
    events = [
        ("f", 1, 1, t, "info", None, None, "a", "c0", None),
        ("f", 2, 2, t + timedelta(milliseconds=50), "info", None, None, "a", "c0", None),
        ("f", 3, 3, t + timedelta(milliseconds=150), "info", None, None, "a", "c0", None),
        ("f", 4, 4, None, "info", None, None, "b", "c1", None),
        ("f", 4, 4, None, "info", None, None, "b", "c1", None),
        ("f", 9, 9, t, "info", None, None, "a", "c0", None),
    ]
    parts.extend("events", events)
    durations = [12.5, 12.6, 0.0, None, 1e6]
    parts.extend(
        "requests",
        [(t, "log", "f", i, "GET", None, "/r", None, 200, ms, None, None, None) for i, ms in enumerate(durations)],
    )  # fmt: skip
    parts.close()
    aggregate(tmp_path)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")

    def read(name: str) -> list[tuple[Any, ...]]:
        return con.execute(f"SELECT * FROM '{tmp_path}/{name}.parquet' ORDER BY ALL").fetchall()

    second = t.replace(microsecond=0)
    assert read("event_counts") == [
        ("f", second, "c0", "info", 3, t, t + timedelta(milliseconds=50)),
        ("f", second + timedelta(seconds=1), "c0", "info", 1, *[t + timedelta(milliseconds=150)] * 2),
        ("f", None, "c1", "info", 2, None, None),
    ]  # fmt: skip
    bins = {b: n for *_, b, n in read("latency_bins")}
    assert sum(bins.values()) == len(durations) and bins[None] == 1 and bins[sketch.ZERO_BIN] == 1
    assert bins[_bin_of(12.5)] == 2  # 12.5 and 12.6 are within 1% of each other's bin
    assert [(tid, line) for tid, _, line, _ in read("samples")] == [
        ("c0", 1), ("c0", 2), ("c0", 3), ("c1", 4), ("c1", 4)
    ]  # fmt: skip


def test_sketch_quantile_in_python_and_sql_agree_within_alpha() -> None:
    rng = random.Random(11)
    values = [rng.lognormvariate(2, 2) for _ in range(5000)] + [0.0] * 20
    bins = [(_bin_of(v), 1) for v in values]
    con = duckdb.connect()
    con.execute("CREATE TABLE d AS SELECT unnest($v) AS v", {"v": values})
    con.execute(
        f"CREATE TABLE s AS SELECT {sketch.bin_sql('v')} AS bin, count(*) AS n FROM d GROUP BY 1"
    )
    assert sorted(con.execute("SELECT bin, n FROM s").fetchall()) == sorted(
        (b, sum(1 for v in values if _bin_of(v) == b)) for b in {b for b, _ in bins}
    )
    qs = [0.0, 0.001, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0]
    row = con.execute(sketch.quantiles_sql("s", [], qs)).fetchone()
    assert row is not None and row[:2] == (len(values), len(values))
    exact = con.execute(f"SELECT quantile_disc(v, {qs}) FROM d").fetchone()
    assert exact is not None
    for q, from_sql, true in zip(qs, row[2:], exact[0], strict=True):
        from_python = _quantile(bins, q)
        assert from_python == pytest.approx(from_sql, rel=1e-12)
        assert abs(from_sql - true) <= sketch.ALPHA * true + 1e-12, q
    assert _quantile([(None, 3)], 0.5) is None
    for v in (1e-9, 0.5, 1, sketch.GAMMA, sketch.GAMMA**7, 1e9):
        b = _bin_of(v)
        assert b is not None and abs(_value(b) - v) <= sketch.ALPHA * v * (1 + 1e-12)
    assert _bin_of(math.nan) is None and _bin_of(math.inf) is None


def test_templates_are_filled_from_the_counts_as_from_the_events(
    one: duckdb.DuckDBPyConnection,
) -> None:
    exact = {
        t: (n, first, last)
        for t, n, first, last in one.execute(
            "SELECT template_id, count(*), min(ts), max(ts) FROM events"
            " WHERE template_id IS NOT NULL GROUP BY ALL"
        ).fetchall()
    }
    stored = one.execute("SELECT template_id, count, first_ts, last_ts, level FROM templates")
    rows_ = stored.fetchall()
    assert {r[0]: tuple(r[1:4]) for r in rows_} == exact and len(exact) >= 5
    for template, *_, level in rows_:
        counts = dict(
            one.execute(
                "SELECT level, count(*) FROM events WHERE template_id = ? AND level IS NOT NULL"
                " GROUP BY level",
                [template],
            ).fetchall()
        )
        assert (level is None and not counts) or counts[level] == max(counts.values())


def test_a_store_written_row_by_row_gets_the_aggregates_of_its_rows(
    one: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Tools and tests that write rows through ``Store`` get the aggregates a scan would give."""
    store = Store(tmp_path / "case.duckdb")
    for table in ("events", "requests"):
        columns = ", ".join(f'"{c}"' for c, _, _ in SCHEMA[table])
        batch = one.sql(f"SELECT {columns} FROM {table} ORDER BY file, line").to_arrow_table()
        store.write(table, batch)
    store.close()
    again = connect(tmp_path)
    for table in ("event_counts", "latency_bins"):
        assert rows(again, table) == rows(one, table), table
    # The first events of each template in the order they were written.
    first = again.execute(
        "SELECT template_id, file, line FROM (SELECT *, row_number() OVER (PARTITION BY"
        " template_id ORDER BY rowid) k FROM events WHERE template_id IS NOT NULL)"
        " WHERE k <= 3 ORDER BY ALL"
    ).fetchall()
    assert sorted(rows(again, "template_samples")) == first


def test_change_point_series_of_events_equal_counting_the_events(
    one: duckdb.DuckDBPyConnection,
) -> None:
    """The change points count events from ``event_counts``: per bucket, on the coarse grid of
    a window that starts mid-second and on fine windows cut at whole seconds, the same as
    counting the rows."""
    case = Case(con=one)
    first, last, name = one.execute(
        f"SELECT min(ts), max(ts), any_value({shifts.STREAM_SQL}) FROM events"
        " WHERE file LIKE 'dense%'"
    ).fetchone()  # type: ignore[misc]
    window = Window(first, last)
    assert window.start.microsecond  # a window that starts mid-second
    where = f"{shifts.STREAM_SQL} = '{name}'"
    hit = f"lower(level) IN {ERROR_SQL}"
    width = bucket_seconds(window)
    start = window.start.replace(microsecond=0) + timedelta(seconds=width * 3)
    fine = Window(start, start + timedelta(seconds=7 * width - 1, microseconds=999_999))
    for size in (1, 3):
        hits, totals = shifts._series(case, "events", where, hit, fine, size)
        b = bucket_sql("ts", fine, size)
        exact = one.execute(
            f"SELECT {b} i, count(*) FILTER (WHERE {hit}), count(*) FROM events"
            f" WHERE ts >= ? AND ts <= ? AND {where} GROUP BY i ORDER BY i",
            [fine.start, fine.end],
        ).fetchall()
        assert [(i, hits[i], totals[i]) for i, _, _ in exact] == exact
        assert sum(totals) == sum(t for _, _, t in exact) > 0 and sum(hits) > 0
    # The coarse grid of every template in every stream, hits and totals, as change points
    # count it.
    spec = shifts._Spec("template", "events", "''", "template_id IS NOT NULL", "template_id")
    grouped = shifts._grouped(case, spec, window, width)
    n = bucket_count(window, width)
    b = bucket_sql("ts", window, width)

    def cells(sql: str) -> dict[tuple[str, ...], dict[int, int]]:
        out: dict[tuple[str, ...], dict[int, int]] = {}
        for *key, i, c in one.execute(sql).fetchall():
            if 0 <= i < n:
                out.setdefault(tuple(key), {})[i] = c
        return out

    hits_exact = cells(
        f"SELECT {shifts.STREAM_SQL}, template_id, {b} i, count(*) FROM events"
        " WHERE ts IS NOT NULL AND template_id IS NOT NULL GROUP BY ALL"
    )
    totals_exact = cells(
        f"SELECT {shifts.STREAM_SQL}, {b} i, count(*) FROM events WHERE ts IS NOT NULL GROUP BY ALL"
    )
    assert len(hits_exact) >= 5
    for (s, _, t), (hits, totals) in grouped.items():
        assert {i: h for i, h in enumerate(hits) if h} == hits_exact.get((s, t), {})
        assert {i: c for i, c in enumerate(totals) if c} == totals_exact[(s,)]
    assert {(s, t) for s, _, t in grouped} == set(hits_exact)
