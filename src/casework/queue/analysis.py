"""Importing an export, and one pass over the workspace: vectors, clusters, trends, doc gaps, SLA."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from casework.errors import FormatError
from casework.queue import docgaps, importers, sla
from casework.queue.cluster import Cluster, cluster
from casework.queue.importers.generic import Mapping
from casework.queue.model import Ticket
from casework.queue.textprep import documents
from casework.queue.trends import Trend, trends
from casework.queue.vectors import Space, fit, thread_limit
from casework.queue.workspace import Workspace
from casework.redact import Redactor


@dataclass
class QueueAnalysis:
    tickets: list[Ticket]
    docs: list[str]
    space: Space
    assignment: list[int]
    clusters: list[Cluster]
    trends: dict[int, Trend]
    gaps: list[docgaps.DocGap]
    answers: list[docgaps.SharedAnswer]
    sla: list[sla.PrioritySla]
    backlog: list[tuple[datetime, int]]


def analyze(ws: Workspace, backend: str = "auto", k: int | None = None) -> QueueAnalysis:
    """Cluster the workspace's tickets (and save the clusters), then measure everything else."""
    tickets = ws.tickets()
    docs = documents([t.title for t in tickets], [t.body for t in tickets])
    with thread_limit(len(docs)):
        space = fit(docs, backend, cache=ws) if tickets else fit(["empty queue"], "lexical")
        assignment, clusters = cluster(space, k) if tickets else ([], [])
    labels = {c.id: c.label for c in clusters}
    ws.save_clusters((t.id, c, labels[c]) for t, c in zip(tickets, assignment, strict=True))
    return QueueAnalysis(
        tickets=tickets, docs=docs, space=space, assignment=assignment, clusters=clusters,
        trends=trends([t.created for t in tickets], assignment), gaps=docgaps.doc_gaps(tickets, clusters),
        answers=docgaps.shared_answers(tickets, assignment), sla=sla.by_priority(tickets), backlog=list(sla.backlog(tickets)),
    )  # fmt: skip


def import_file(ws: Workspace, path: Path, mapping: Mapping | None = None) -> tuple[str, int]:
    """Redact and store the tickets of one export; the detected source and how many were stored.

    A fresh random key per import: placeholders are stable inside one import
    and the key is never written anywhere.
    """
    if not path.is_file():
        raise FormatError("no such file", file=path.name)
    source, tickets = importers.read(path, mapping)
    try:
        return source, ws.add(tickets, Redactor(os.urandom(32)))
    except (csv.Error, KeyError, TypeError, ValueError, AttributeError) as exc:
        # The type only: a message could quote a field value from the export.
        raise FormatError(
            f"malformed {source} export ({type(exc).__name__}); nothing was imported",
            file=path.name,
        ) from None
