"""Which change a rise is put after: the nearest one, not the last one a wide interval reaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.analyzers.what_changed import _Change, _finding, _preceding, what_changed
from casework.case import Case
from casework.changepoint import Shift
from casework.findings import Finding
from casework.shifts import Onset
from casework.store import Store
from casework.timeline import change_before

AT = datetime(2024, 6, 12, 11, 24, tzinfo=UTC)


def _onset(earliest: timedelta, latest: timedelta) -> Onset:
    shift = Shift(split=10, lo=8, hi=30, before_hits=1, before_total=9000, after_hits=18,
                  after_total=11000, p_value=1e-6, llr=20.0)  # fmt: skip
    return Onset(kind="errors", subject="error-level records", file="app.jsonl", table="events",
                 where="TRUE", hit="TRUE", shift=shift, at=AT, earliest=AT + earliest,
                 latest=AT + latest)  # fmt: skip


def _deploy(minutes: float, what: str, version: str) -> _Change:
    return _Change(AT + timedelta(minutes=minutes), "deploy", what, version, "releases.csv", 2)


def test_a_deploy_after_the_rise_does_not_win_over_the_one_just_before_it() -> None:
    """An interval reaching 25 minutes past the likeliest minute includes a later deploy: the
    one 5 minutes before the rise is nearer, and it is named."""
    o = _onset(timedelta(minutes=-4), timedelta(minutes=25))
    changes = [_deploy(-185, "billing", "7.1"), _deploy(-5, "reports-api", "2024.06.12-2"),
               _deploy(21, "frontend", "2024.06.12-3")]  # fmt: skip
    chosen = _preceding(changes, o)
    assert chosen is not None and chosen.what == "reports-api"
    found = _finding(o, chosen, 3 * 3600.0, "share of error-level records", True)
    assert "5 minutes after deploy reports-api" in found.title


def test_a_deploy_seconds_after_the_bucket_a_rise_is_dated_to_is_named() -> None:
    """Onsets are dated to a bucket's start: a deploy 40 s later, inside the interval, is nearer
    than one three hours before, and its alignment is as telling as 40 s before would be."""
    o = _onset(timedelta(minutes=-1), timedelta(minutes=2))
    changes = [_deploy(-185, "billing", "7.1"), _deploy(40 / 60, "reports-api", "2.0")]
    chosen = _preceding(changes, o)
    assert chosen is not None and chosen.what == "reports-api"
    later = _finding(o, chosen, 3 * 3600.0, "share of error-level records", True)
    earlier = _finding(o, _deploy(-40 / 60, "reports-api", "2.0"), 3 * 3600.0, "errors", True)
    assert later.stats["chance"] == earlier.stats["chance"] < 0.01
    far = _finding(o, _deploy(21, "frontend", "3"), 3 * 3600.0, "errors", True)
    assert far.stats["chance"] > 0.1 and far.score < later.score


def _slow_requests(
    tmp: Path, deploys: list[tuple[int, str]], file: str = "app.log"
) -> list[Finding]:
    """A record every 3 s for two hours; from record 1400 on, every fourth is "slow request".
    ``deploys``: (the record index it comes just after, the service) in ``releases.csv``."""
    tmp.mkdir(parents=True, exist_ok=True)
    store = Store(tmp / "case.duckdb")
    start = AT - timedelta(hours=2)
    for i in range(2400):
        slow = i >= 1400 and i % 4 == 0
        store.add(
            "events",
            (file, i + 1, i + 1, start + timedelta(seconds=3 * i), "warn" if slow else "info",
             None, None, "slow request" if slow else "ok", "t-slow" if slow else "t-ok", None),
        )  # fmt: skip
    for tid, text in (("t-slow", "slow request"), ("t-ok", "ok")):
        store.add("templates", (tid, text, None, None, None, None, None))
    for at, service in deploys:
        store.add("changes", (start + timedelta(seconds=3 * at), "deploy", service, "2.0",
                              "releases.csv", 2, None))  # fmt: skip
    for path in (file, "releases.csv"):
        store.add("files", (path, "log", "log", 1, None, "parsed", "", 1, None, None, None, None))
    path = store.path
    store.close()
    found = what_changed.run(Case.open(str(path)))
    return [f for f in found if f.entities["subject"] == "t-slow"]


def test_a_template_s_rise_after_a_release_is_named_by_its_text(tmp_path: Path) -> None:
    found = _slow_requests(tmp_path, [(1380, "reports-api")])
    assert found and 'template "slow request"' in found[0].title, [f.title for f in found]


def test_a_deploy_of_something_the_evidence_names_is_preferred_over_a_nearer_one(
    tmp_path: Path,
) -> None:
    """reports-api's log shows the rise; notifications-svc, deployed a minute later and closer
    to the rise, appears nowhere in the evidence but the releases file."""
    both = [(1340, "reports-api"), (1380, "notifications-svc")]
    (found,) = _slow_requests(tmp_path / "a", both, "reports-api/app.log")
    assert found.entities["change"] == "deploy reports-api 2.0" and found.severity == "high"
    assert found.stats["named"] is True
    (alone,) = _slow_requests(tmp_path / "b", both[1:], "reports-api/app.log")
    assert alone.entities["change"] == "deploy notifications-svc 2.0"
    assert alone.stats["named"] is False and alone.severity == "medium"
    assert "names notifications-svc nowhere else" in alone.summary


def test_a_title_s_change_just_before_an_onset_is_one_the_evidence_names(tmp_path: Path) -> None:
    """error_signatures and http_status say "just after the deploy of …": of reports-api, whose
    log this is, not of notifications-svc, deployed later and named nowhere else."""
    _slow_requests(tmp_path, [(1340, "reports-api"), (1380, "notifications-svc")],
                   "reports-api/app.log")  # fmt: skip
    case = Case.open(str(tmp_path / "case.duckdb"))
    onset = AT - timedelta(hours=2) + timedelta(seconds=3 * 1400)
    found = change_before(case, onset, 60)
    assert found is not None and "reports-api" in found[1], found


def test_a_flag_turned_on_for_a_segment_is_the_change_before_its_failures(tmp_path: Path) -> None:
    """A flag enabled for enterprise accounts at 14:05 breaks their quotes (pricing-svc raises,
    checkout-api returns 502); checkout-api was deployed 45 minutes earlier, and another flag
    changed half an hour later. The story puts the failures after the flag, not the deploy."""
    import json
    import random

    from casework.pipeline import investigate

    rng = random.Random(31)
    start, flag_at = (
        datetime(2025, 9, 3, 13, 0, tzinfo=UTC),
        datetime(2025, 9, 3, 14, 5, tzinfo=UTC),
    )
    bundle = tmp_path / "bundle"
    (bundle / "logs").mkdir(parents=True)
    (bundle / "flags").mkdir()
    api, pricing = [], []
    t = start
    while t < start + timedelta(hours=2):
        t += timedelta(milliseconds=rng.randint(100, 900))
        plan = rng.choice(["free"] * 5 + ["pro"] * 4 + ["enterprise"] * 2)
        broken = plan == "enterprise" and t >= flag_at + timedelta(seconds=8) and rng.random() < 0.4
        status = 502 if broken or rng.random() < 0.001 else 200
        api.append(json.dumps({
            "level": "error" if status >= 500 else "info", "ts": t.timestamp(),
            "msg": "upstream pricing error" if status >= 500 else "request completed",
            "method": "POST", "path": "/v2/checkout/quote", "status": status,
            "duration_ms": round(rng.uniform(20, 90), 1), "plan": plan,
            "account_id": f"acc_{rng.randint(1000, 9999)}",
        }))  # fmt: skip
        level = "ERROR" if broken else "INFO"
        text = "quote failed: KeyError: 'tier_3'" if broken else f"quote ok plan={plan}"
        pricing.append(
            f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d} {level} [pricing.quote] {text}"
        )
    (bundle / "logs" / "checkout-api.jsonl").write_text("\n".join(api) + "\n")
    (bundle / "logs" / "pricing-svc.log").write_text("\n".join(pricing) + "\n")
    (bundle / "deploys.json").write_text(
        '{"service": "checkout-api", "version": "v1.31.1", "time": "2025-09-03T13:20:04Z"}\n'
    )
    (bundle / "flags" / "audit.jsonl").write_text(
        '{"time": "2025-08-28T16:03:10Z", "flag": "pricing.tiered_discounts", "action": "created",'
        ' "segment": "none", "actor": "r.chen@acme.example"}\n'
        f'{{"time": "{flag_at:%Y-%m-%dT%H:%M:%SZ}", "flag": "pricing.tiered_discounts",'
        ' "action": "enabled", "segment": "plan=enterprise", "actor": "r.chen@acme.example"}\n'
        '{"time": "2025-09-03T14:40:00Z", "flag": "search.new_ranker", "action": "enabled",'
        ' "segment": "plan=free", "actor": "s.patel@acme.example"}\n'
    )
    found = investigate(bundle, tmp_path / "out").findings
    top = found[0]
    assert top.key == "INCIDENT" and "plan = enterprise" in top.title, top.title
    assert top.entities["change"] == "flag pricing.tiered_discounts enabled for plan=enterprise"
    assert "checkout-api v1.31.1" not in top.title
    # "just after the …" of the error signatures names the flag and its new state.
    assert any(
        "just after the flag pricing.tiered_discounts enabled for plan=enterprise" in f.title
        for f in found
    )
    # The bug report's workaround sets the flag back; its environment lists flags as flags.
    report = (tmp_path / "out" / "bugreport.md").read_text()
    # Its numbers are the incident's, from the onset, with the route's background apart.
    import re

    m = re.search(r"([\d,]+) of [\d,]+ requests in scope \([\d.]+%\) failed from the onset at"
                  r" 2025-09-03 14:05 UTC .*?; ([\d,]+) failed before it", report)  # fmt: skip
    assert m is not None, report[:600]
    since, before = (int(g.replace(",", "")) for g in m.groups())
    failed = [json.loads(line)["status"] >= 500 for line in api]
    assert since + before == sum(failed) and before >= 1
    assert "after flag pricing.tiered_discounts" in report.splitlines()[0]
    assert "Set flag pricing.tiered_discounts back to its state before" in report
    assert "| flag pricing.tiered_discounts |" in report and "Roll back pricing" not in report
