"""Queue analytics on the real ticket data in ../shared/data/tickets: NLBSE'24 issues and a ServiceNow log."""

from __future__ import annotations

import csv
import random
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score

from casework.queue.analysis import QueueAnalysis, analyze, import_file
from casework.queue.importers.generic import Mapping
from casework.queue.similar import neighbours
from casework.queue.sla import backlog, by_priority
from casework.queue.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tickets"
NLBSE_TRAIN = DATA / "nlbse2024_issues_train.csv"
SERVICENOW = DATA / "servicenow_incident_event_log_subset.csv"
MAPPING = Mapping(text=("title", "body"), time="created_at", label="label", group="repo")


@pytest.fixture(scope="module")
def nlbse(tmp_path_factory: pytest.TempPathFactory) -> QueueAnalysis:
    ws = Workspace(tmp_path_factory.mktemp("nlbse"))
    source, count = import_file(ws, NLBSE_TRAIN, MAPPING)
    assert (source, count) == ("csv", 1500)
    a = analyze(ws, "lexical")
    ws.close()
    return a


def test_nlbse_clusters_beat_random_assignment(nlbse: QueueAnalysis) -> None:
    truth = [f"{t.group}|{t.label}" for t in nlbse.tickets]
    ours = normalized_mutual_info_score(truth, nlbse.assignment)
    rng = random.Random(0)
    k = len(nlbse.clusters)
    chance = max(
        normalized_mutual_info_score(truth, [rng.randrange(k) for _ in truth]) for _ in range(3)
    )
    assert ours > chance + 0.25, (ours, chance)
    assert all(
        c.label and "response" not in c.label for c in nlbse.clusters
    )  # issue-form noise is gone


def test_nlbse_similar_case_precision_at_5(nlbse: QueueAnalysis) -> None:
    keys = [f"{t.group}|{t.label}" for t in nlbse.tickets]
    nn = neighbours(nlbse.space, 5)
    precision = float(np.mean([[keys[j] == keys[i] for j in row] for i, row in enumerate(nn)]))
    chance = 1 / 15  # 15 repo x label classes of equal size
    assert precision > 0.3 > 4 * chance, precision


def _ts(value: str) -> datetime | None:
    return datetime.strptime(value, "%d-%m-%Y %H:%M") if value not in ("", "?") else None


def direct_sla(path: Path) -> dict[str, dict[str, float]]:
    """The figures computed straight from the event log with the csv module."""
    history: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            history[row["number"]].append(row)
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rows in history.values():
        rows.sort(key=lambda r: (_ts(r["sys_updated_at"]) or datetime.min, int(r["sys_mod_count"])))
        last, opened = rows[-1], _ts(rows[0]["opened_at"])
        a = acc[last["priority"]]
        first = next((_ts(r["sys_updated_at"]) for r in rows if r["incident_state"] != "New"), None)
        resolved = _ts(last["resolved_at"]) or _ts(last["closed_at"])
        if opened and first and first >= opened:
            a["first"].append((first - opened).total_seconds() / 3600)
        if opened and resolved and resolved >= opened:
            a["resolution"].append((resolved - opened).total_seconds() / 3600)
        a["tickets"].append(1)
        a["breaches"].append(last["made_sla"] == "FALSE")
        a["reassigned"].append(int(last["reassignment_count"]) > 0)
        a["reassignments"].append(int(last["reassignment_count"]))
        a["reopened"].append(int(last["reopen_count"]) > 0)
    return {
        p: {"first_p50": statistics.median(a["first"]), "resolution_p50": statistics.median(a["resolution"]),
            **{k: sum(a[k]) for k in ("tickets", "breaches", "reassigned", "reassignments", "reopened")}}
        for p, a in acc.items()
    }  # fmt: skip


def test_servicenow_sla_matches_direct_computation(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    assert import_file(ws, SERVICENOW)[0] == "servicenow"
    ours = {s.priority: s for s in by_priority(ws.tickets())}
    ws.close()
    direct = direct_sla(SERVICENOW)
    assert set(ours) == set(direct) and len(direct) >= 3
    for priority, d in direct.items():
        s = ours[priority]
        assert s.tickets == d["tickets"]
        assert s.first_response_p50_h == pytest.approx(d["first_p50"], abs=0.01)
        assert s.resolution_p50_h == pytest.approx(d["resolution_p50"], abs=0.01)
        assert (s.breaches, s.reassigned, s.reopened) == (
            d["breaches"],
            d["reassigned"],
            d["reopened"],
        )
        assert s.mean_reassignments == pytest.approx(d["reassignments"] / d["tickets"], abs=0.001)
    assert sum(s.breaches for s in ours.values()) > 0 and sum(s.reopened for s in ours.values()) > 0


def test_backlog_is_open_tickets_at_each_day_end(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    import_file(ws, SERVICENOW)
    tickets = ws.tickets()
    ws.close()
    days = backlog(tickets)
    assert len(days) > 30 and max(n for _, n in days) > 50
    for day, n in days[::5]:
        close = day + timedelta(days=1)
        naive = sum(
            1
            for t in tickets
            if t.created is not None
            and t.created < close
            and (t.resolved is None or max(t.resolved, t.created) >= close)
        )
        assert n == naive, day
