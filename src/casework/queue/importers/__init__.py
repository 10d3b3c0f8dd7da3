"""Ticket exports casework imports, detected by content: Zendesk, Jira, ServiceNow, GitHub, generic CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from casework.errors import FormatError
from casework.queue.importers import github, jira, servicenow, zendesk
from casework.queue.importers.generic import Mapping, generic_csv
from casework.queue.model import Ticket

csv.field_size_limit(1 << 26)

#: (source name, detector over a CSV header or a JSON document, reader)
_CSV = (
    ("servicenow", servicenow.is_csv, servicenow.from_csv),
    ("jira", jira.is_csv, jira.from_csv),
    ("zendesk", zendesk.is_csv, zendesk.from_csv),
)
_JSON = (
    ("jira", jira.is_json, jira.from_json),
    ("zendesk", zendesk.is_json, zendesk.from_json),
    ("github", github.is_json, github.from_json),
)


def read(path: Path, mapping: Mapping | None = None) -> tuple[str, Iterator[Ticket]]:
    """The detected source and the tickets of an export file.

    A CSV with ``mapping`` is read as a generic CSV whatever its header says.
    """
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig", "replace")
    stripped = text.lstrip()
    if mapping is None and stripped.startswith(("{", "[")):
        docs = _json_docs(stripped)
        if not docs:
            raise FormatError("not valid JSON (nor one JSON document per line)", file=path.name)
        for name, detect, reader in _JSON:
            if docs and detect(docs[0]):
                return name, (t for d in docs for t in reader(d))
        raise FormatError(
            "JSON that is not a Zendesk, Jira or GitHub issues export", file=path.name
        )
    rows = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in rows.fieldnames or []]
    if mapping is not None:
        missing = [c for c in mapping.columns() if c not in header]
        if missing:
            raise FormatError(
                f"no column named {', '.join(missing)}; the columns are {_listing(header)}",
                file=path.name,
            )
        return "csv", generic_csv(rows, mapping, path.stem)
    for name, accepts, read_rows in _CSV:
        if accepts(header):
            return name, read_rows(rows)
    raise FormatError(
        "CSV of an unknown ticket system; import it with --id COL --text COL[,COL...] "
        "[--time COL] [--label COL] [--group COL]",
        file=path.name,
    )


def _listing(header: list[str]) -> str:
    """The column names fit to print: a binary file's "header" is not."""
    names = [h for h in header if h.isprintable() and 0 < len(h) <= 40][:30]
    return ", ".join(names) if names else "unreadable (is this a CSV file?)"


def _json_docs(text: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except ValueError:
        docs = []
        for line in text.splitlines():
            line = line.strip()
            if line:
                try:
                    docs.append(json.loads(line))
                except ValueError:
                    continue
        return docs
