"""Queue analytics benchmark (issue 11): clustering quality, similar-case precision, SLA figures, speed.

    .venv/bin/python bench/queue.py [--speed-n 50000] [--no-speed] [--backends lexical,embedding]

Quality is measured on NLBSE'24 (train + test, 3,000 GitHub issues from five
repositories, labelled bug/feature/question) against the labels: NMI and ARI
of casework's clusters versus label, repo and repo x label, side by side with
a plain TF-IDF + k-means baseline (scikit-learn defaults, same k). Similar-case
retrieval is precision@5 of same-repository-same-label neighbours. SLA figures
of the ServiceNow event log are compared with a direct computation. Speed is
import + clustering of a queue resampled from NLBSE with words shuffled and
perturbed, so no two tickets are duplicates.
"""

from __future__ import annotations

# ruff: noqa: E402  (the path fix below must run before the imports)
import sys
from pathlib import Path

# This script's name is the standard library's ``queue`` (which joblib
# imports): drop its own folder from the path so the real module loads.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from casework.queue.analysis import analyze, import_file
from casework.queue.cluster import choose_k, cluster
from casework.queue.importers.generic import Mapping
from casework.queue.sla import by_priority
from casework.queue.textprep import documents
from casework.queue.vectors import embedding_model, fit
from casework.queue.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tickets"
NLBSE = [DATA / "nlbse2024_issues_train.csv", DATA / "nlbse2024_issues_test.csv"]
MAPPING = Mapping(text=("title", "body"), time="created_at", label="label", group="repo")
csv.field_size_limit(1 << 26)


def scores(pred: list[int], truth: dict[str, list[str]]) -> str:
    parts = []
    for name, y in truth.items():
        parts.append(
            f"NMI/ARI vs {name} {normalized_mutual_info_score(y, pred):.3f}/{adjusted_rand_score(y, pred):.3f}"
        )
    return "; ".join(parts)


def precision_at_5(matrix: Any, keys: list[str]) -> float:
    """Share of each ticket's five nearest others (cosine; rows are unit length) with its key."""
    hits = []
    for start in range(0, matrix.shape[0], 500):
        sims = matrix[start : start + 500] @ matrix.T
        sims = np.asarray(sims.todense() if hasattr(sims, "todense") else sims)
        for row in range(sims.shape[0]):
            sims[row, start + row] = -np.inf
            hits += [keys[j] == keys[start + row] for j in np.argsort(-sims[row])[:5]]
    return float(np.mean(hits))


def quality(backends: list[str], ks: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp))
        t0 = time.perf_counter()
        for f in NLBSE:
            import_file(ws, f, MAPPING)
        print(f"import 3,000 NLBSE issues: {time.perf_counter() - t0:.1f} s")
        tickets = ws.tickets()
        ws.close()
    truth = {
        "label": [t.label or "" for t in tickets],
        "repo": [t.group or "" for t in tickets],
        "repo x label": [f"{t.group}|{t.label}" for t in tickets],
    }
    docs = documents([t.title for t in tickets], [t.body for t in tickets])
    raw = [f"{t.title}\n{t.body}" for t in tickets]
    rng = random.Random(0)
    spaces = {}
    for backend in backends:
        t0 = time.perf_counter()
        spaces[backend] = fit(docs, backend)
        print(f"vectors {backend}: {time.perf_counter() - t0:.1f} s")
    for k in ks:
        print(f"\nk={k}  random assignment: {scores([rng.randrange(k) for _ in tickets], truth)}")
        for backend, space in spaces.items():
            t0 = time.perf_counter()
            assignment, _ = cluster(space, k)
            print(
                f"casework {backend:9s} (k-means {time.perf_counter() - t0:5.1f} s): {scores(assignment, truth)}"
            )
        t0 = time.perf_counter()
        base = KMeans(n_clusters=k, random_state=0).fit_predict(
            TfidfVectorizer().fit_transform(raw)
        )
        took = time.perf_counter() - t0
        print(f"tfidf+kmeans baseline   ({took:5.1f} s): {scores([int(c) for c in base], truth)}")
    keys = truth["repo x label"]
    print("\nprecision@5 of same-repo-same-label neighbours:")
    for backend, space in spaces.items():
        print(f"  casework {backend}: {precision_at_5(space.matrix, keys):.3f}")
    print(
        f"  tfidf baseline (cosine): {precision_at_5(TfidfVectorizer().fit_transform(raw), keys):.3f}"
    )
    print(f"  chance: {sum(keys.count(x) - 1 for x in keys) / (len(keys) * (len(keys) - 1)):.3f}")


def direct_sla(path: Path) -> dict[str, dict[str, float]]:
    """Per priority: p50 hours to first response and to resolution, breaches, reassigned, reopened."""
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="") as fh:
        for r in csv.DictReader(fh):
            rows[r["number"]].append(r)

    def ts(v: str) -> datetime | None:
        return datetime.strptime(v, "%d-%m-%Y %H:%M") if v and v != "?" else None

    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for events in rows.values():
        events.sort(key=lambda r: (ts(r["sys_updated_at"]), int(r["sys_mod_count"])))
        last, opened = events[-1], ts(events[0]["opened_at"])
        o = out[last["priority"]]
        first = next(
            (ts(r["sys_updated_at"]) for r in events if r["incident_state"] != "New"), None
        )
        resolved = ts(last["resolved_at"]) or ts(last["closed_at"])
        if opened and first and first >= opened:
            o["first"].append((first - opened).total_seconds() / 3600)
        if opened and resolved and resolved >= opened:
            o["resolution"].append((resolved - opened).total_seconds() / 3600)
        o["breach"].append(float(last["made_sla"] == "FALSE"))
        o["reassigned"].append(float(int(last["reassignment_count"]) > 0))
        o["reopened"].append(float(int(last["reopen_count"]) > 0))
    return {
        p: {"first_p50": statistics.median(v["first"]) if v["first"] else -1.0,
            "resolution_p50": statistics.median(v["resolution"]) if v["resolution"] else -1.0,
            "breaches": sum(v["breach"]), "reassigned": sum(v["reassigned"]), "reopened": sum(v["reopened"])}
        for p, v in sorted(out.items())
    }  # fmt: skip


def sla() -> None:
    path = DATA / "servicenow_incident_event_log_subset.csv"
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp))
        import_file(ws, path)
        ours = {s.priority: s for s in by_priority(ws.tickets())}
        ws.close()
    print("\nSLA (ServiceNow event log, casework vs direct csv computation):")
    for p, d in direct_sla(path).items():
        s = ours[p]
        print(f"  {p}: first-response p50 {s.first_response_p50_h} vs {d['first_p50']:.2f} h; "
              f"resolution p50 {s.resolution_p50_h} vs {d['resolution_p50']:.2f} h; breaches {s.breaches} vs "
              f"{d['breaches']:.0f}; reassigned {s.reassigned} vs {d['reassigned']:.0f}; reopened {s.reopened} vs {d['reopened']:.0f}")  # fmt: skip


def synthetic(n: int, out: Path) -> None:
    """``n`` tickets resampled from NLBSE: words of title and body shuffled, some dropped or swapped."""
    source = [r for f in NLBSE for r in csv.DictReader(f.open(newline=""))]
    rng = random.Random(7)
    vocab = [w for r in source[:300] for w in r["title"].split()]
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "body", "created_at", "label", "repo"])
        for i in range(n):
            r = rng.choice(source)
            words = r["body"].split()[:400]
            rng.shuffle(words)
            words = [
                rng.choice(vocab) if rng.random() < 0.1 else x for x in words if rng.random() > 0.1
            ]
            title = r["title"].split()
            rng.shuffle(title)
            w.writerow(
                [f"S{i}", " ".join(title), " ".join(words), r["created_at"], r["label"], r["repo"]]
            )


def speed(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.csv"
        synthetic(n, path)
        ws = Workspace(Path(tmp) / "ws")
        mapping = Mapping(
            text=("title", "body"), id="id", time="created_at", label="label", group="repo"
        )
        t0, c0 = time.perf_counter(), time.process_time()
        _, count = import_file(ws, path, mapping)
        t_import, c_import = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        a = analyze(ws, "lexical")
        t_cluster, c_cluster = time.perf_counter() - t0, time.process_time() - c0
        ws.close()
    # Wall time on a shared machine depends on the neighbours; CPU time of the process does not.
    print(f"\nspeed: {count:,} tickets, k={len(a.clusters)}: import {t_import:.1f} s wall / {c_import:.1f} s CPU, "
          f"vectors + clusters + trends + doc gaps + SLA {t_cluster:.1f} s wall / {c_cluster:.1f} s CPU; "
          f"total {t_import + t_cluster:.1f} s wall / {c_import + c_cluster:.1f} s CPU (budget 300 s)")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed-n", type=int, default=50_000)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--backends", default="lexical,embedding")
    args = ap.parse_args()
    backends = [
        b for b in args.backends.split(",") if b != "embedding" or embedding_model() is not None
    ]
    print(f"backends: {', '.join(backends)}; python {sys.version.split()[0]}")
    if not args.no_quality:
        quality(backends, [15, choose_k(3000)])
        sla()
    if not args.no_speed:
        speed(args.speed_n)


if __name__ == "__main__":
    main()
