"""Separation of bug reports from questions by ``casework review`` scores on real GitHub issues (NLBSE'24).

Prints the ROC AUC (bug vs question, and bug vs feature) overall and per
repository, for the test split (and the train split, where any tuning was
done), plus how often each element is found per label.

    .venv/bin/python bench/review_auc.py [--split test|train|both]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

from casework.review import review

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tickets"


def load(split: str) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with (DATA / f"nlbse2024_issues_{split}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def auc(positive: list[int], negative: list[int]) -> float:
    """Mann-Whitney U / (n_pos * n_neg): the chance a random positive outscores a random negative."""
    ranked = sorted([(s, 1) for s in positive] + [(s, 0) for s in negative])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + 1 + j) / 2  # ties share their average rank
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    n_pos, n_neg = len(positive), len(negative)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def run(split: str) -> None:
    rows = load(split)
    started = time.perf_counter()
    scored = [(r["repo"], r["label"], review(r["title"], r["body"])) for r in rows]
    seconds = time.perf_counter() - started
    by: dict[tuple[str, str], list[int]] = defaultdict(list)
    found: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for repo, label, rv in scored:
        by[("all", label)].append(rv.score)
        by[(repo, label)].append(rv.score)
        for e in rv.elements:
            found[label][e.key] += e.found
    print(
        f"split={split} issues={len(rows)} scoring={seconds:.2f}s ({len(rows) / seconds:,.0f} issues/s)"
    )
    for repo in sorted({k[0] for k in by}, key=lambda r: (r != "all", r)):
        bq = auc(by[(repo, "bug")], by[(repo, "question")])
        bf = auc(by[(repo, "bug")], by[(repo, "feature")])
        mean = {
            lab: sum(by[(repo, lab)]) / len(by[(repo, lab)])
            for lab in ("bug", "question", "feature")
        }
        print(
            f"  {repo:24s} AUC bug/question={bq:.3f} bug/feature={bf:.3f}"
            f"  mean score bug={mean['bug']:.1f} question={mean['question']:.1f} feature={mean['feature']:.1f}"
        )
    for label in ("bug", "question", "feature"):
        n = len(by[("all", label)])
        shares = " ".join(f"{k}={v / n:.0%}" for k, v in found[label].items())
        print(f"  found in {label:8s}: {shares}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("test", "train", "both"), default="both")
    args = parser.parse_args()
    for split in ("train", "test") if args.split == "both" else (args.split,):
        run(split)


if __name__ == "__main__":
    main()
