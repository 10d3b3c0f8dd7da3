"""The case description as the reports quote it."""

from __future__ import annotations

import duckdb

from casework.notes import description, quoted


def test_a_long_description_is_quoted_to_its_limit_and_says_it_was_cut() -> None:
    text = "# Case 9: exports fail\n\n" + "\n".join(f"Line {i} of the ticket." for i in range(200))
    lines = quoted(text, limit=120)
    assert lines[:3] == ["# Case 9: exports fail", "", "Line 0 of the ticket."]
    assert lines[-1].endswith(" […]")
    assert sum(len(line) + 1 for line in lines) <= 120 + len(" […]") + 1
    assert quoted("Short.\n\n\n") == ["Short."]


def test_descriptions_are_joined_in_bundle_order_and_absent_from_old_stores() -> None:
    con = duckdb.connect()
    assert description(con) is None  # a case store from before the notes table
    con.execute("CREATE TABLE notes (file VARCHAR, text VARCHAR)")
    assert description(con) is None
    con.execute("INSERT INTO notes VALUES ('z/ticket.txt', 'Second.'), ('case.md', 'First.')")
    assert description(con) == "First.\n\nSecond."
