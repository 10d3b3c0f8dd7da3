"""The four escalations of issue 5, solved end to end: the rank-1 finding states the answer.

Each case's bundle is generated (seeded; field names, formats, dates and
values vary by seed) and investigated by the real pipeline. The assertions
compare the rank-1 finding with what the generator planted, never with
constants, so they hold for any seed.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from casework import shifts
from casework.analyzers.changepoints import between, changepoints
from casework.analyzers.novelty import novelty
from casework.analyzers.what_changed import what_changed
from casework.case import Case
from casework.engine import load_analyzers, run_analyzers
from casework.findings import Finding
from casework.pipeline import investigate
from casework.store import Store
from generators import latency, payments, ratelimit, refunds

SEEDS = (1, 2)
MINE = {"cohort", "changepoints", "what_changed", "periodic", "novelty", "retry_storms", "story"}


def _run(tmp: Path, generate: object, seed: int) -> tuple[object, list[Finding]]:
    bundle = tmp / "bundle"
    truth = generate(bundle, seed)  # type: ignore[operator]
    result = investigate(bundle, tmp / "out")
    assert result.findings, "no findings at all"
    # Every finding says what would confirm or refute it.
    assert all(f.next_steps for f in result.findings if f.analyzer in MINE)
    _stories_lead(result.findings)
    return truth, result.findings


def _stories_lead(found: list[Finding]) -> None:
    """Each story ranks before every finding it merges."""
    ranks = {f.id: f.rank for f in found}
    for story in (f for f in found if f.key == "INCIDENT"):
        assert all(ranks[r] > story.rank for r in story.related if r != story.id)


def test_a_story_without_a_cohort_leads_its_change_point(tmp_path: Path) -> None:
    """Failures at random over the refunds' ids, the only route (no attribute tells who): the
    story anchors on the change point, whose own score is higher, and still comes first."""
    rng = random.Random(4)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    ts, onset, lines = datetime(2026, 5, 4, 8, 0, tzinfo=UTC), None, []
    for i in range(5000):
        ts += timedelta(milliseconds=rng.randint(80, 900))
        if i == 2600:
            onset = ts
        if rng.random() < 0.15:
            lines.append({"time": ts.isoformat(), "severity": "INFO", "msg": "cache refreshed",
                          "entries": rng.randint(100, 900)})  # fmt: skip
            continue
        status = 200
        if onset is not None and rng.random() < 0.3:
            status = 500
        elif rng.random() < 0.02:
            status = 404  # refunds not found, all along
        path = f"/v1/refunds/{rng.randint(10**5, 10**6)}"
        lines.append({"time": ts.isoformat(), "severity": "ERROR" if status >= 500 else "INFO",
                      "msg": "request served", "req": {"method": "POST",
                      "url": f"https://api.shop.example{path}?v=2"}, "res": {"status": status},
                      "latency": rng.randint(4, 400)})  # fmt: skip
    (bundle / "api.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    found = investigate(bundle, tmp_path / "out").findings
    _stories_lead(found)
    top = found[0]
    assert top.key == "INCIDENT" and "/v1/refunds/{id}" in top.title


def _num(f: Finding, key: str) -> float:
    value = f.stats.get(key)
    assert isinstance(value, float), f"{key} missing from the rank-1 finding"
    return value


def _text(f: Finding) -> str:
    return f.title + " " + " ".join(f"{k}={v}" for k, v in f.entities.items())


@pytest.mark.parametrize("seed", SEEDS)
def test_refunds_cohort_since_date(tmp_path: Path, seed: int) -> None:
    truth, found = _run(tmp_path, refunds.generate, seed)
    assert isinstance(truth, refunds.Truth)
    top = found[0]
    text = _text(top)
    assert truth.route in text
    assert truth.created_key in text
    # One story: the cohort, the onset and the rest of the evidence are merged into rank 1.
    assert top.key == "INCIDENT" and len(top.related) >= 2
    # The cut-off is stated, and the interval the data allow for it holds the planted one.
    assert top.stats["cut_attr"] == truth.created_key
    low, high = top.stats["cut_low"], top.stats["cut_high"]
    assert isinstance(low, float) and isinstance(high, float)
    assert low < truth.cutoff.timestamp() <= high
    # The onset is stated with its uncertainty; the planted one lies in (or within an hour of)
    # the interval the data allow: a failure can only show once a cohort request arrives.
    low = min(_num(top, "since_low"), _num(top, "earliest_epoch"))
    high = max(_num(top, "since_high"), _num(top, "latest_epoch"))
    assert low - 3600 <= truth.onset.timestamp() <= high + 3600
    # The constant background of 502s on another route ranks below the incident.
    background = [f for f in found if truth.background_route in f.title]
    assert all(f.rank is not None and f.rank > 1 for f in background)


@pytest.mark.parametrize("seed", SEEDS)
def test_payments_release_and_codes(tmp_path: Path, seed: int) -> None:
    truth, found = _run(tmp_path, payments.generate, seed)
    assert isinstance(truth, payments.Truth)
    top = found[0]
    text = _text(top)
    assert truth.mcc_key in text
    assert all(code in text for code in truth.bad_codes)
    assert truth.version in text
    assert "timeout" not in top.title.lower()


@pytest.mark.parametrize("seed", SEEDS)
def test_latency_period_and_checkpoint(tmp_path: Path, seed: int) -> None:
    truth, found = _run(tmp_path, latency.generate, seed)
    assert isinstance(truth, latency.Truth)
    top = found[0]
    assert top.key == "PERIODIC_LATENCY"
    period = top.stats["period_seconds"]
    assert isinstance(period, float)
    assert abs(period - truth.period_s) <= 0.02 * truth.period_s
    assert "checkpoint" in top.title
    # Periodic too, but at another period or phase: not named.
    for other in ("GC pause", "metrics flushed", "cache refresh"):
        assert other not in top.title
    first = float(top.stats["phase_epoch"] or 0)
    offset = (first - truth.first_spike.timestamp()) % truth.period_s
    assert min(offset, truth.period_s - offset) < truth.spike_s + 60


@pytest.mark.parametrize("seed", SEEDS)
def test_ratelimit_client_ignoring_retry_after(tmp_path: Path, seed: int) -> None:
    truth, found = _run(tmp_path, ratelimit.generate, seed)
    assert isinstance(truth, ratelimit.Truth)
    top = found[0]
    assert top.key == "RETRY_STORM"
    assert truth.agent in top.title or truth.key_id in top.title


# The analyzers of issue 5 on small hand-built case stores: titles, skips, shared work, counts.

START = datetime(2026, 3, 2, tzinfo=UTC)


def _requests(store: Store, file: str, route: str, onset: int, n: int = 1440) -> None:
    """A request a minute; from minute ``onset`` on, every third one fails with HTTP 500."""
    for i in range(n):
        status = 500 if i >= onset and i % 3 == 0 else 200
        store.add(
            "requests",
            (START + timedelta(minutes=i), "log", file, i + 1, "POST", "h", route, route,
             status, 12.0, 100, None, None),
        )  # fmt: skip


def _open(store: Store) -> Case:
    path = store.path
    store.close()
    return Case.open(str(path))


def test_the_same_series_from_two_sources_names_each_source(tmp_path: Path) -> None:
    store = Store(tmp_path / "case.duckdb")
    for file in ("nginx/access.log", "api/requests.log"):
        _requests(store, file, "/v1/refunds", onset=900)
    _requests(store, "other/app.log", "/v1/orders", onset=700)
    case = _open(store)
    found = [f for f in changepoints.run(case) if f.entities["series"] == "5xx"]
    titles = {f.entities["file"]: f.title for f in found}
    assert set(titles) == {"nginx/access.log", "api/requests.log", "other/app.log"}
    assert len(set(titles.values())) == 3
    for file in ("nginx/access.log", "api/requests.log"):
        assert file in titles[file]
    # A series only one source shows needs no source in its title.
    assert "other/app.log" not in titles["other/app.log"]


def test_har_analyzers_skip_a_bundle_without_har_files(tmp_path: Path) -> None:
    store = Store(tmp_path / "case.duckdb")
    _requests(store, "api/requests.log", "/v1/refunds", onset=900)
    case = _open(store)
    hars = [a for a in load_analyzers() if a.key.startswith("har_")]
    assert len(hars) >= 7
    _, runs = run_analyzers(case, hars)
    assert {(r.status, r.reason, r.seconds) for r in runs} == {
        ("skipped", "no har in this bundle", 0.0)
    }


def test_har_analyzers_run_when_a_har_file_was_read(tmp_path: Path) -> None:
    store = Store(tmp_path / "case.duckdb")
    store.add(
        "files",
        ("a.har", "har", "capture", 10, "0" * 64, "parsed", None, 1, None, None, None, None),
    )
    store.add(
        "requests",
        (START, "capture", "a.har", 1, "GET", "h", "/x", "https://h/x", 500, 5.0, 10, None,
         '{"source": "har", "entry": 1}'),
    )  # fmt: skip
    case = _open(store)
    _, runs = run_analyzers(case, [a for a in load_analyzers() if a.key.startswith("har_")])
    assert {r.status for r in runs} == {"ok"}


def test_change_points_are_computed_once_per_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "case.duckdb")
    _requests(store, "api/requests.log", "/v1/refunds", onset=900)
    store.add(
        "changes", (START + timedelta(minutes=880), "release", "api", "2.0", "r.csv", 2, None)
    )
    case = _open(store)
    calls = []
    real = shifts._detect

    def counted(c: Case) -> list[shifts.Onset]:
        calls.append(1)
        return real(c)

    monkeypatch.setattr(shifts, "_detect", counted)
    found, runs = run_analyzers(case, (changepoints, what_changed))
    assert [r.status for r in runs] == ["ok", "ok"] and len(calls) == 1
    change = next(f for f in found if f.key == "CHANGE_BEFORE_ONSET")
    assert change.stats["gap_seconds"] == pytest.approx(20 * 60, abs=120)


def test_a_new_template_counts_the_records_before_it_exactly(tmp_path: Path) -> None:
    store = Store(tmp_path / "case.duckdb")
    first_new = None
    for i in range(3000):
        new = i >= 2000 and i % 4 == 0
        if new and first_new is None:
            first_new = i
        # Records share timestamps (ten a second): "before" means strictly earlier.
        ts = START + timedelta(seconds=i // 10)
        store.add(
            "events",
            ("app.log", i + 1, i + 1, ts, "error" if new else "info", None, None,
             "boom" if new else "ok", "t-new" if new else "t-old", None),
        )  # fmt: skip
    case = _open(store)
    found = [f for f in novelty.run(case) if f.key == "NEW_TEMPLATE"]
    assert [f.entities["template_id"] for f in found] == ["t-new"]
    assert first_new is not None
    assert found[0].stats["other_records"] == (first_new // 10) * 10


def test_messages_that_appear_together_are_one_finding(tmp_path: Path) -> None:
    """A cluster's syslog: cron and ntpd all along; five nodes reboot and their kernels write
    eight messages never seen before within a minute; an hour later a new error appears alone;
    at last cron and ntpd stop. The boot is one finding, led by the error among its messages;
    the later error is its own; the stop is one."""
    rng = random.Random(5)
    store = Store(tmp_path / "case.duckdb")
    boot_at, nfs_at, stop_at = 3600, 7200, 9000
    boot = [(f"boot-{k}", "error" if k == 5 else "info") for k in range(8)]
    line = 0
    for second in range(3 * 3600):
        ts = START + timedelta(seconds=second)
        picks = [("cron", "info"), ("ntpd", "info")] if second % 7 == 0 and second < stop_at else []
        if boot_at <= second < boot_at + 40:
            picks.append(boot[(second - boot_at) // 5])
        if second >= nfs_at and rng.random() < 0.05:
            picks.append(("nfs-down", "error"))
        for tid, level in picks:
            line += 1
            store.add("events", ("messages", line, line, ts, level, None, None, tid, tid, None))
    case = _open(store)
    found = [f for f in novelty.run(case) if f.key == "NEW_TEMPLATE"]
    assert len(found) == 2
    together, alone = sorted(found, key=lambda f: float(f.stats["onset_epoch"] or 0))
    assert together.stats["templates"] == len(boot) and together.entities["template_id"] == "boot-5"
    assert together.stats["onset_epoch"] == (START + timedelta(seconds=boot_at)).timestamp()
    assert together.severity == "high" and f"{len(boot)} new log messages" in together.title
    assert alone.entities["template_id"] == "nfs-down" and "templates" not in alone.stats
    [stop] = [f for f in novelty.run(case) if f.key == "VANISHED_TEMPLATE"]
    assert stop.stats["templates"] == 2 and "2 log messages stopped" in stop.title


def test_change_point_interval_names_the_day_when_it_changes() -> None:
    day = datetime(2015, 8, 24, 11, 5, tzinfo=UTC)
    same = between(day, day - timedelta(minutes=7), day + timedelta(minutes=9))
    assert same == "between 10:58 and 11:14"
    # Earliest days before: it carries its date, and so does a latest on another day than it.
    wide = between(day, day - timedelta(days=3, hours=12), day + timedelta(hours=4, minutes=12))
    assert wide == "between 2015-08-20 23:05 UTC and 2015-08-24 15:17 UTC"


def test_a_cohort_counted_from_a_sample_says_its_counts_are_estimates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the sample size a cohort's counts are weighted estimates: the title marks them
    (≈), the summary gives the sample, the stats carry its size; below it, counts are exact."""
    from casework import contrast_tables
    from casework.analyzers.cohort import cohort

    truth = refunds.generate(tmp_path / "bundle", 1)
    exact = investigate(tmp_path / "bundle", tmp_path / "exact", analyzers=[cohort]).findings
    monkeypatch.setattr(contrast_tables, "SAMPLE_ROWS", 1000)
    sampled = investigate(tmp_path / "bundle", tmp_path / "sampled", analyzers=[cohort]).findings
    on_route = [
        [f for f in found if f.key == "FAILURE_COHORT" and truth.route in _text(f)]
        for found in (exact, sampled)
    ]
    assert on_route[0] and on_route[1]
    for f in on_route[0]:
        assert "sample" not in f.stats and "≈" not in f.title and "sample" not in f.summary
    for f in on_route[1]:
        size = f.stats["sample"]
        assert isinstance(size, int) and 900 <= size <= 1100  # the sample drawn, not all rows
        assert f"≈{f.stats['failing']:,} of ≈{f.stats['total']:,}" in f.title
        assert f"weighted sample of {size:,} of the" in f.summary


def test_a_new_message_without_a_level_is_not_one_at_error_level(tmp_path: Path) -> None:
    """A syslog without levels: a message new from midway is medium; the same at error level
    would be high (a level-less record had been taken for an error one)."""
    found = {}
    for level in (None, "error"):
        store = Store(tmp_path / f"{level}.duckdb")
        for i in range(3000):
            new = i >= 2000 and i % 5 == 0
            store.add("events", ("messages", i + 1, i + 1, START + timedelta(seconds=i), level,
                                 None, None, "m", "t-new" if new else "t-old", None))  # fmt: skip
        [f] = [f for f in novelty.run(_open(store)) if f.key == "NEW_TEMPLATE"]
        found[level] = f.severity
    assert found == {None: "medium", "error": "high"}
