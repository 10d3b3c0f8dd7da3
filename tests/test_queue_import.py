"""Ticket importers, the workspace (redaction, FTS) and ``casework queue import`` on bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from casework.cli import main
from casework.errors import FormatError
from casework.queue import importers
from casework.queue.analysis import import_file
from casework.queue.importers.generic import Mapping
from casework.queue.model import Ticket
from casework.queue.workspace import Workspace

FIXTURES = Path(__file__).parent / "fixtures" / "tickets"
PLANTED = "ghp_Zq8RkT2mWv9xLp4sNb7cYd3fHj6gKa1eUo0i"


def read(name: str, mapping: Mapping | None = None) -> tuple[str, dict[str, Ticket]]:
    source, tickets = importers.read(FIXTURES / name, mapping)
    return source, {t.id: t for t in tickets}


def test_zendesk_json_export() -> None:
    source, t = read("zendesk_tickets.json")
    assert source == "zendesk" and set(t) == {"ZD-35436", "ZD-35437"}
    q = t["ZD-35436"]
    assert (
        q.title.startswith("How do I rotate") and q.label == "question" and q.priority == "normal"
    )
    assert q.created == datetime(2024, 3, 4, 9, 12, 44, tzinfo=UTC)
    assert q.resolved is not None and q.status == "solved"  # solved: updated_at is when
    assert t["ZD-35437"].resolved is None and t["ZD-35437"].group == "98738"


def test_zendesk_csv_view_export() -> None:
    source, t = read("zendesk_view.csv")
    assert source == "zendesk" and len(t) == 3
    assert t["ZD-35438"].title.startswith("Is it expected") and t["ZD-35438"].label == "Question"
    assert t["ZD-35437"].created == datetime(2024, 3, 6, 11, 30, tzinfo=UTC)
    assert t["ZD-35436"].group == "Support Tier 1"
    assert t["ZD-35436"].resolved == datetime(
        2024, 3, 5, 16, 1, tzinfo=UTC
    )  # solved: its last update
    assert t["ZD-35437"].resolved is None and t["ZD-35438"].resolved is None


def test_jira_csv_export() -> None:
    source, t = read("jira_export.csv")
    assert source == "jira" and list(t) == ["OPS-101", "OPS-102", "OPS-103"]
    bug = t["OPS-101"]
    assert bug.created == datetime(2024, 3, 12, 15, 4, tzinfo=UTC)  # "12/Mar/24 3:04 PM"
    assert bug.resolved == datetime(2024, 3, 14, 9, 10, tzinfo=UTC)
    assert (bug.label, bug.priority, bug.resolution, bug.group) == ("Bug", "High", "Fixed", "OPS")
    assert "state mismatch" in bug.body  # a multi-line quoted description
    assert t["OPS-103"].resolved is None


def test_jira_rest_json_with_adf_description() -> None:
    source, t = read("jira_search.json")
    assert source == "jira" and set(t) == {"SUP-7", "SUP-8"}
    bug = t["SUP-7"]
    assert "InvalidSignatureError: signature mismatch" in bug.body  # text of the ADF code block
    assert bug.created == datetime(2024, 3, 12, 14, 4, 5, tzinfo=UTC)  # +0100 to UTC
    assert (bug.label, bug.priority, bug.status, bug.group) == ("Bug", "Highest", "Done", "Support")
    assert t["SUP-8"].body == "" and t["SUP-8"].resolved is None and t["SUP-8"].resolution is None
    # expand=changelog (histories out of order in the file): first response, reopen, reassignment
    assert [e.state for e in bug.events] == ["In Progress", "Done", "In Progress", "Done"]
    assert bug.first_response == datetime(
        2024, 3, 12, 15, 4, 5, tzinfo=UTC
    )  # an hour after creation
    assert (bug.reopens, bug.reassignments) == (1, 1)
    assert (t["SUP-8"].reopens, t["SUP-8"].first_response) == (None, None)  # no changelog: unknown


def test_github_issues_json_skips_pull_requests() -> None:
    source, t = read("github_issues.json")
    assert source == "github" and set(t) == {"octo-org/widget#1347", "octo-org/widget#1350"}
    bug = t["octo-org/widget#1347"]
    assert (bug.label, bug.group, bug.resolution) == ("bug", "octo-org/widget", "completed")
    assert bug.resolved == datetime(2024, 2, 3, 10, tzinfo=UTC)
    assert t["octo-org/widget#1350"].body == ""


def test_servicenow_event_log_history() -> None:
    source, t = read("servicenow_events.csv")
    assert source == "servicenow" and set(t) == {"INC0001001", "INC0001002"}
    reopened = t["INC0001001"]
    assert reopened.created == datetime(2024, 3, 4, 8, tzinfo=UTC)
    assert reopened.first_response == datetime(
        2024, 3, 4, 10, 30, tzinfo=UTC
    )  # first move out of New
    assert reopened.resolved == datetime(
        2024, 3, 8, 12, tzinfo=UTC
    )  # the last resolution, after the reopen
    assert (reopened.reassignments, reopened.reopens, reopened.sla_met) == (2, 1, False)
    assert [e.state for e in reopened.events] == ["New", "Active", "Resolved", "Active", "Resolved"]
    # Its rows are out of order in the file: the history is sorted by update time.
    closed = t["INC0001002"]
    assert [e.state for e in closed.events] == ["New", "Active", "Resolved", "Closed"]
    assert (
        closed.status == "Closed" and closed.sla_met is True and closed.priority == "1 - Critical"
    )
    assert "category_20" in reopened.body  # coded fields stand in for the missing text


def test_generic_csv_mapping_without_id_uses_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("subject,details,opened,kind\nDisk full,on node 3,2024-03-01T10:00:00Z,bug\n")
    source, tickets = importers.read(
        path, Mapping(text=("subject", "details"), time="opened", label="kind")
    )
    (t,) = list(tickets)
    assert (source, t.id, t.title, t.body, t.label) == (
        "csv",
        "export:1",
        "Disk full",
        "on node 3",
        "bug",
    )
    with pytest.raises(FormatError, match="no column named nope"):
        importers.read(path, Mapping(text=("nope",)))


def test_import_redacts_before_anything_is_written(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    source, count = import_file(ws, FIXTURES / "zendesk_tickets.json")
    ws.close()
    assert (source, count) == ("zendesk", 2)
    raw = b"".join(p.read_bytes() for p in (tmp_path / "ws").iterdir())
    assert PLANTED.encode() not in raw and PLANTED[4:20].encode() not in raw
    assert "«secret:".encode() in raw


def test_fts_search_and_reimport_replaces(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    import_file(ws, FIXTURES / "jira_export.csv")
    import_file(ws, FIXTURES / "jira_export.csv")  # the same tickets again: replaced, not doubled
    assert ws.count() == 3
    assert ws.search("webhook retry count")[0] == "OPS-102"
    assert ws.search("SSO login redirect")[0] == "OPS-101"
    assert ws.search("zzz qqq") == []
    ws.close()


def test_workspace_keeps_servicenow_history(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    import_file(ws, FIXTURES / "servicenow_events.csv")
    history = [(tid, e.state) for tid, e in ws.events()]
    stored = {t.id: t for t in ws.tickets()}
    ws.close()
    assert [s for tid, s in history if tid == "INC0001001"] == [
        "New",
        "Active",
        "Resolved",
        "Active",
        "Resolved",
    ]
    assert stored["INC0001001"].first_response == datetime(2024, 3, 4, 10, 30, tzinfo=UTC)
    assert (stored["INC0001001"].reopens, stored["INC0001001"].sla_met) == (1, False)


@pytest.mark.parametrize(
    ("content", "args", "expect"),
    [
        ("a,b\n1,2\n", [], "unknown ticket system"),
        ('{"tickets": [', [], "not valid JSON"),
        ('{"hello": 1}', [], "not a Zendesk, Jira or GitHub"),
        ("a,b\n1,2\n", ["--text", "title"], "no column named title"),
        ("a,b\n1,2\n", ["--id", "a"], "needs --text"),
    ],
)
def test_cli_import_bad_input_is_one_line_exit_2(
    tmp_path: Path, content: str, args: list[str], expect: str
) -> None:
    path = tmp_path / ("in.json" if content.startswith("{") else "in.csv")
    path.write_text(content)
    result = CliRunner().invoke(
        main, ["queue", "--workspace", str(tmp_path / "ws"), "import", str(path), *args]
    )
    assert result.exit_code == 2, result.output
    assert expect in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_import_reports_source_and_count(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    runner = CliRunner()
    first = runner.invoke(
        main, ["queue", "--workspace", ws, "import", str(FIXTURES / "github_issues.json")]
    )
    assert first.exit_code == 0 and "github" in first.output and " 2 tickets" in first.output
    missing = runner.invoke(
        main, ["queue", "--workspace", ws, "import", str(tmp_path / "nope.csv")]
    )
    assert missing.exit_code == 2 and "no such file" in missing.output
    empty = runner.invoke(main, ["queue", "--workspace", str(tmp_path / "none"), "sla"])
    assert empty.exit_code == 2 and "import" in empty.output


def test_json_lines_of_zendesk_tickets(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "zendesk_tickets.json").read_text())
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in doc["tickets"]) + "\n")
    source, tickets = importers.read(path)
    assert source == "zendesk" and [t.id for t in tickets] == ["ZD-35436", "ZD-35437"]


def test_cli_sla_table_from_event_log_and_changelog(tmp_path: Path) -> None:
    ws, runner = str(tmp_path / "ws"), CliRunner()
    for name in ("servicenow_events.csv", "jira_search.json"):
        assert (
            runner.invoke(
                main, ["queue", "--workspace", ws, "import", str(FIXTURES / name)]
            ).exit_code
            == 0
        )
    result = runner.invoke(main, ["queue", "--workspace", ws, "sla"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    cells = [
        [c.strip() for c in line.split("│")[1:-1]]
        for line in result.output.splitlines()
        if "│" in line
    ]
    rows = {r[0]: r for r in cells}
    # columns: priority, tickets, first response p50, p90, resolution p50, p90, breaches, reassigned, reopened
    # INC0001001: first response 2.5 h after opening, resolved 100 h after (after a reopen), made_sla FALSE.
    assert rows["3 - Moderate"] == [
        "3 - Moderate",
        "1",
        "2.5",
        "2.5",
        "100.0",
        "100.0",
        "1/1",
        "1",
        "1",
    ]
    assert rows["1 - Critical"][6] == "0/1"
    assert rows["Highest"][2] == "1.0" and rows["Highest"][8] == "1"  # the Jira issue's changelog


def test_free_form_fields_are_redacted_too(tmp_path: Path) -> None:
    path = tmp_path / "queue.csv"
    path.write_text("id,text,owner\nT1,Disk full on node 3,ops.lead@acme-corp.example\n")
    ws = Workspace(tmp_path / "ws")
    import_file(ws, path, Mapping(text=("text",), id="id", group="owner"))
    (ticket,) = ws.tickets()
    ws.close()
    assert ticket.group is not None and ticket.group.startswith("«secret:email:")
    raw = b"".join(p.read_bytes() for p in (tmp_path / "ws").iterdir())
    assert b"ops.lead@acme-corp" not in raw
