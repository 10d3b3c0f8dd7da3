"""Redaction against the shared labelled corpus (recall, clean samples) and real clean logs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from casework.redact import Redactor
from casework.redact.placeholder import PLACEHOLDER_RE

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CORPUS = SHARED / "data" / "redaction" / "corpus.jsonl"
EVALUATOR = SHARED / "bench" / "redaction_eval.py"
LOGHUB = SHARED / "data" / "loghub2k"
PII_KINDS = {"email", "phone", "card", "ssn", "iban", "ip"}


def _casework() -> str:
    exe = Path(sys.executable).parent / "casework"
    return str(exe) if exe.exists() else (shutil.which("casework") or "casework")


def test_evaluator_on_a_corpus_slice(tmp_path: Path) -> None:
    """Every third sample; the floors are below the full-corpus score but fail on a regression."""
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[::3]
    sliced = tmp_path / "slice.jsonl"
    sliced.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "r.json"
    subprocess.run(
        [
            sys.executable,
            str(EVALUATOR),
            "--corpus",
            str(sliced),
            "--cmd",
            f"{_casework()} redact - -",
            "--json-out",
            str(report),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    res = json.loads(report.read_text())
    assert res["recall"] >= 0.98
    assert res["recall_by_source"]["handwritten-support-evidence"] >= 0.98
    assert res["fp_rate_clean"] <= 0.02
    assert res["utility_on_positives"] >= 0.95


@pytest.fixture(scope="module")
def loghub_text() -> str:
    return "".join(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(LOGHUB.glob("*/*_2k.log"))
    )


def test_clean_real_logs_keep_their_identifiers(loghub_text: str) -> None:
    out = Redactor(b"k" * 32).text(loghub_text)
    kinds = Counter(m.group(1) for m in PLACEHOLDER_RE.finditer(out))
    mb = len(loghub_text.encode()) / 1e6
    secret_hits = sum(n for k, n in kinds.items() if k not in PII_KINDS)
    assert secret_hits / mb <= 1.0, kinds
    for pattern in (
        r"blk_-?\d+",
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        r"\b0x[0-9a-fA-F]{6,}\b",
        r"\b[0-9a-f]{32,64}\b",
        r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}",
    ):
        found = set(re.findall(pattern, loghub_text))
        assert found <= set(re.findall(pattern, out)), pattern
