"""Release/deploy lists become changes; a case description is recognized and yields nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from casework.formats.description import sniff as sniff_description
from casework.formats.releases import sniff as sniff_releases
from casework.model import ChangeRecord
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
