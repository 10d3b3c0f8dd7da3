"""Release/deploy lists become changes; a case description is recognized and yields nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from casework.formats.description import named
from casework.formats.description import sniff as sniff_description
from casework.formats.releases import sniff as sniff_releases
from casework.model import ChangeRecord
from casework.pipeline import Options, investigate
from formats_support import fixture, kind_of, parse


def test_deploy_csv() -> None:
    found, ctx = parse(fixture("deploys.csv"), "releases")
    changes = [r for r in found if isinstance(r, ChangeRecord)]
    assert [(c.kind, c.what, c.version) for c in changes] == [
        ("deploy", "payments", "2.14.2"),
        ("deploy", "payments", "2.14.3"),
        ("deploy", "ledger", "1.8.0"),
    ]
    assert changes[1].ts == datetime(2026, 3, 2, 14, 1, tzinfo=UTC)
    assert changes[2].attrs["author"] == "Lee, Sam"
    assert ctx.bad_records == 1  # "not a date"


def test_release_json_lines_with_epoch() -> None:
    found, _ = parse(fixture("releases.jsonl"), "releases")
    first, second = (r for r in found if isinstance(r, ChangeRecord))
    assert (first.kind, first.what, first.version) == ("release", "payments", "v2.14.3")
    assert first.attrs == {"notes": "refund account FK"}
    assert second.ts == datetime(2026, 2, 28, 18, 0, tzinfo=UTC)


def test_sniffs() -> None:
    assert kind_of(fixture("deploys.csv")) == "releases"
    assert kind_of(fixture("releases.jsonl")) == "releases"
    assert sniff_releases(fixture("app.jsonl")) == 0.0
    assert sniff_releases(b"id,name,email\n1,a,b\n") == 0.0
    assert kind_of(fixture("case.md")) == "description"
    found, _ = parse(fixture("case.md"), "description")
    # One note, the whole text as written (the sink redacts it on the way to the store).
    assert [type(r).__name__ for r in found] == ["NoteRecord"]
    assert found[0].text == fixture("case.md").decode().strip()
    for log in ("log4j.log", "python_app.log", "logback_stack.log", "syslog_3164.log"):
        assert sniff_description(fixture(log)) == 0.0, log
    assert sniff_description(b"key: value\nother: 2\nthird: x y\n") == 0.0


def test_description_rejects_tables_and_code() -> None:
    ticket_export = (
        b"repo,created_at,label,title,body\n"
        b'acme/api,2026-03-01,bug,"Crash","It fails when I click. Then it stops."\n'
    )
    assert sniff_description(ticket_export * 5) == 0.0
    sql = b"/* Query on a pgbench database with 4 partitions */\nEXPLAIN (ANALYZE)\nSELECT 1;\n"
    assert sniff_description(sql) == 0.0
    prose = b"Hi team, after the deploy, refunds fail for new accounts.\nIt started at 14:05.\n"
    assert sniff_description(prose * 3) > 0.5


def test_a_terse_description_is_read_when_its_name_says_it_is_one(tmp_path: Path) -> None:
    """Four words are too few for the prose sniff; a file named for a ticket holds the case
    description all the same. The same words under another name, a one-word status file, and
    a ticket-named file of key/value lines or timestamped lines are not descriptions."""
    terse = b"Orders fail with 500."
    assert sniff_description(terse) == 0.0
    for name in ("ticket.md", "case.txt", "CASE-1234", "notes/issue_42.txt", "README.md"):
        assert named(name, terse), name
    assert not named("orders.log", terse) and not named("status.txt", b"ok\n")
    assert not named("ticket.md", b"priority: P1\nstatus: open\n")
    assert not named("case.txt", b"2026-11-26 10:14:05 order 17 failed\n")
    assert not named("ticket.md", b'{"title": "Orders fail"}')
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "ticket.md").write_bytes(terse)
    (bundle / "orders.log").write_bytes(terse)
    run = investigate(bundle, tmp_path / "out", Options(workers=1))
    kinds = {e.path: e.kind for e in run.inventory}
    assert kinds["ticket.md"] == "description" and kinds["orders.log"] != "description"
    assert run.description == "Orders fail with 500."


def test_feature_flag_audit_logs_are_changes() -> None:
    """A flag service's audit log in three shapes: JSON lines with a segment, an Unleash event
    list (camelCase, a JSON array as ``jq .events`` writes it) and a CSV export whose state is
    a boolean. Each row is a change of kind ``flag`` named by the flag and its new state."""
    jsonl = (
        b'{"time": "2025-09-03T14:05:00Z", "flag": "pricing.tiered_discounts", "action": "enabled",'
        b' "segment": "plan=enterprise", "actor": "r.chen@acme.example"}\n'
        b'{"time": "2025-09-03T14:40:00Z", "flag": "search.new_ranker", "action": "enabled",'
        b' "segment": "all", "actor": "s.patel@acme.example"}\n'
    )
    unleash = (
        b'[\n  {"id": 4411, "type": "feature-environment-enabled", "createdBy": "admin",'
        b' "createdAt": "2025-09-03T14:05:00.118Z", "data": null, "preData": null, "tags": [],'
        b' "featureName": "pricing.tiered_discounts", "project": "default",'
        b' "environment": "production"}\n]\n'
    )
    csv = b"Date,Feature Key,Enabled,Rollout\n2025-09-03 14:05:00,checkout.express_pay,false,\n"
    got = {}
    for name, data in (("audit.jsonl", jsonl), ("events.json", unleash), ("flags.csv", csv)):
        assert kind_of(data) == "releases", name
        found, ctx = parse(data, "releases")
        got[name] = [(c.kind, c.what, c.version) for c in found if isinstance(c, ChangeRecord)]
        assert ctx.bad_records == 0 and all(
            c.ts.year == 2025 for c in found if isinstance(c, ChangeRecord)
        )
    assert got == {
        "audit.jsonl": [
            ("flag", "pricing.tiered_discounts", "enabled for plan=enterprise"),
            ("flag", "search.new_ranker", "enabled"),
        ],
        "events.json": [("flag", "pricing.tiered_discounts", "feature-environment-enabled")],
        "flags.csv": [("flag", "checkout.express_pay", "disabled")],
    }
    # An application log that records which feature served a request is no list of changes.
    log = b'{"time": "2025-09-03T14:05:01Z", "level": "info", "msg": "quote", "feature": "x"}\n'
    assert sniff_releases(log * 5) == 0.0
