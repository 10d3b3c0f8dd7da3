"""One pass over the workspace: vectors, clusters, trends, documentation gaps and SLA figures."""

from __future__ import annotations

from dataclasses import dataclass

from casework.queue import docgaps, sla
from casework.queue.cluster import Cluster, cluster
from casework.queue.model import Ticket
from casework.queue.textprep import documents
from casework.queue.trends import Trend, trends
from casework.queue.vectors import Space, fit
from casework.queue.workspace import Workspace


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
    backlog: list[tuple[object, int]]


def analyze(ws: Workspace, backend: str = "auto", k: int | None = None) -> QueueAnalysis:
    """Cluster the workspace's tickets (and save the clusters), then measure everything else."""
    tickets = ws.tickets()
    docs = documents([t.title for t in tickets], [t.body for t in tickets])
    space = fit(docs, backend) if tickets else fit(["empty queue"], "lexical")
    assignment, clusters = cluster(space, docs, k) if tickets else ([], [])
    labels = {c.id: c.label for c in clusters}
    ws.save_clusters((t.id, c, labels[c]) for t, c in zip(tickets, assignment, strict=True))
    return QueueAnalysis(
        tickets=tickets, docs=docs, space=space, assignment=assignment, clusters=clusters,
        trends=trends([t.created for t in tickets], assignment), gaps=docgaps.doc_gaps(tickets, clusters),
        answers=docgaps.shared_answers(tickets), sla=sla.by_priority(tickets), backlog=list(sla.backlog(tickets)),
    )  # fmt: skip
