"""Queue analytics on generated queues: determinism, doc gaps, growth, similar cases, the report."""

from __future__ import annotations

import csv
import json
import os
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from casework.cli import main
from casework.queue.analysis import analyze
from casework.queue.model import Ticket
from casework.queue.similar import similar_tickets
from casework.queue.vectors import encode_cached
from casework.queue.workspace import Workspace
from casework.redact import Redactor

START = datetime(2024, 1, 1, 9, tzinfo=UTC)  # a Monday
FILLER = [
    "please",
    "team",
    "today",
    "again",
    "also",
    "maybe",
    "still",
    "after",
    "before",
    "during",
    "some",
    "other",
    "thing",
    "user",
]
TOPICS = {
    "sso": (
        "How do I configure SSO with Okta?",
        "okta saml sso login configure identity provider setup tenant",
    ),
    "upload": (
        "Crash when uploading a large file",
        "upload crash large file multipart stream timeout worker",
    ),
    "invoice": (
        "Invoice totals wrong after currency change",
        "invoice currency total rounding tax billing euro",
    ),
    "search": (
        "Search index lags behind writes",
        "search index lag reindex shard replica query stale",
    ),
}
RESOLUTIONS = {
    "sso": "Works as designed; answered with https://docs.acme.example/sso/okta-setup",
    "upload": "Fixed in 2.3.1 (code change to the upload worker)",
    "invoice": "Fixed in billing service release 41",
    "search": "Fixed: replica lag patched",
}


def ticket(rng: random.Random, topic: str, n: int, created: datetime) -> Ticket:
    title, words = TOPICS[topic]
    vocab = words.split()
    body = " ".join(
        rng.choice(vocab) if rng.random() < 0.6 else rng.choice(FILLER) for _ in range(30)
    )
    return Ticket(
        id=f"{topic}-{n:04d}", source="test", title=f"{title} ({rng.choice(vocab)})", body=body,
        created=created, resolved=created + timedelta(hours=rng.randint(2, 90)), status="solved",
        label="question" if topic == "sso" else "incident", resolution=RESOLUTIONS[topic],
    )  # fmt: skip


def queue(weekly: dict[str, list[int]]) -> list[Ticket]:
    """Tickets per topic per week, spread over the week's days."""
    rng = random.Random(3)
    out: list[Ticket] = []
    for topic, counts in weekly.items():
        for week, count in enumerate(counts):
            for i in range(count):
                when = START + timedelta(weeks=week, hours=i * 160 // max(count, 1))
                out.append(ticket(rng, topic, len(out), when))
    return out


def workspace(path: Path, tickets: list[Ticket]) -> Workspace:
    ws = Workspace(path)
    ws.add(tickets, Redactor(os.urandom(32)))
    return ws


FLAT = {topic: [8] * 16 for topic in TOPICS}


@pytest.fixture(scope="module")
def flat_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flat")
    workspace(path, queue(FLAT)).close()
    return path


def test_doc_gap_found_for_the_planted_how_do_i_cluster(flat_ws: Path) -> None:
    ws = Workspace(flat_ws)
    a = analyze(ws, "lexical", k=4)
    ws.close()
    assert len(a.gaps) == 1
    gap = a.gaps[0]
    members = [
        a.tickets[i].id for i in a.clusters[[c.id for c in a.clusters].index(gap.cluster)].members
    ]
    assert sum(m.startswith("sso-") for m in members) / len(members) >= 0.9
    assert gap.questions >= 100 and all(
        q.startswith("How do I configure SSO") for q in gap.examples
    )
    assert [(s.link, s.clusters[0]) for s in a.answers] == [
        ("https://docs.acme.example/sso/okta-setup", gap.cluster)
    ]
    assert not any(tr.growing for tr in a.trends.values())  # a flat queue has no growing cluster


def test_growing_cluster_detected(tmp_path: Path) -> None:
    weekly = dict(FLAT)
    weekly["search"] = [2] * 12 + [14] * 4  # quiet for three months, then a surge
    ws = workspace(tmp_path, queue(weekly))
    a = analyze(ws, "lexical", k=4)
    ws.close()
    growing = [cid for cid, tr in a.trends.items() if tr.growing]
    assert len(growing) == 1
    members = Counter(a.tickets[i].id.split("-")[0] for i in a.clusters[growing[0]].members)
    assert members.most_common(1)[0][0] == "search"
    assert a.trends[growing[0]].recent_share > 2 * a.trends[growing[0]].before_share


def test_clusters_csv_is_deterministic(flat_ws: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    outs = []
    for name in ("one.csv", "two.csv"):
        out = tmp_path / name
        result = runner.invoke(
            main,
            [
                "queue",
                "--workspace",
                str(flat_ws),
                "clusters",
                "--csv",
                str(out),
                "--backend",
                "lexical",
            ],
        )
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    rows = list(csv.reader(outs[0].decode().splitlines()))
    assert rows[0] == ["ticket_id", "cluster_id", "cluster_label"]
    assert len(rows) - 1 == 16 * 8 * len(TOPICS) == len({r[0] for r in rows[1:]})
    ws = Workspace(flat_ws)
    saved = ws.clusters()  # the workspace keeps the last clustering for scripts
    ws.close()
    assert {r[0]: (int(r[1]), r[2]) for r in rows[1:]} == saved


def test_similar_cases_rank_the_same_problem_first(flat_ws: Path, tmp_path: Path) -> None:
    ws = Workspace(flat_ws)
    matches = similar_tickets(
        ws, "Upload of a big file crashes the worker with a timeout", k=5, backend="lexical"
    )
    ws.close()
    assert len(matches) == 5 and all(m.ticket.id.startswith("upload-") for m in matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    case = tmp_path / "case"
    case.mkdir()
    finding = {
        "title": "Invoice totals differ after the currency switch",
        "summary": "rounding of tax in euro",
    }
    (case / "findings.json").write_text(json.dumps({"findings": [finding]}))
    wide = {"COLUMNS": "250"}  # rich wraps cells to the terminal width
    result = CliRunner().invoke(
        main, ["similar", str(case), "--workspace", str(flat_ws), "-k", "3"], env=wide
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("invoice-") == 3 and "billing service release" in result.output
    bad = CliRunner().invoke(main, ["similar", str(tmp_path), "--workspace", str(flat_ws)])
    assert bad.exit_code == 2 and "findings.json" in bad.output


def test_report_is_self_contained_with_charts(flat_ws: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "queue",
            "--workspace",
            str(flat_ws),
            "report",
            "--out",
            str(tmp_path),
            "--backend",
            "lexical",
        ],
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "queue-report.html").read_text()
    md = (tmp_path / "queue-report.md").read_text()
    assert html.count("<svg") >= 3 and "<script" not in html and "src=" not in html
    assert "How do I configure SSO" in html and "How do I configure SSO" in md
    assert "okta-setup" in md and "## SLA and flow by priority" in md


class CountingEncoder:
    """Stands in for the sentence model to test the cache only: a fixed vector per text, and a tally."""

    def __init__(self) -> None:
        self.encoded = 0

    def encode(
        self, docs: list[str], batch_size: int, normalize_embeddings: bool
    ) -> list[list[float]]:
        self.encoded += len(docs)
        return [[float(len(d)), 1.0, float(sum(map(ord, d)) % 7)] for d in docs]


def test_embeddings_are_cached_in_the_workspace(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    model = CountingEncoder()
    first = encode_cached(model, ["alpha beta", "gamma"], ws)
    again = encode_cached(model, ["gamma", "alpha beta", "delta"], ws)  # only "delta" is new
    ws.close()
    assert model.encoded == 3
    assert (again[0] == first[1]).all() and (again[1] == first[0]).all() and again.shape == (3, 3)
