"""Redaction benchmark: throughput on real logs, false positives per MB, and the corpus score.

    .venv/bin/python bench/redaction.py [--mb 100] [--no-eval]

Throughput is one core: loghub-2k raw logs (16 systems) repeated to ``--mb``
and redacted in 8 MB chunks as ``casework redact`` does, then line by line as
the ingest calls ``Redactor.text`` per message. False positives are counted on
the logs as they are (no secrets in them): placeholders of secret kinds, and
separately of personal-data kinds (real e-mail addresses do occur there).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from casework.redact import Redactor
from casework.redact.placeholder import PLACEHOLDER_RE

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
PII_KINDS = {"email", "phone", "card", "ssn", "iban", "ip"}
CHUNK = 8 << 20


def _logs() -> str:
    return "".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted((SHARED / "data" / "loghub2k").glob("*/*_2k.log"))
    )


def _bulk(r: Redactor, text: str) -> float:
    # CPU time of this process: the figure per core, even on a machine shared with other jobs
    t0 = time.process_time()
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos + CHUNK)
        end = len(text) if end < 0 else end + 1
        r.text(text[pos:end])
        pos = end
    return time.process_time() - t0


def _per_line(r: Redactor, lines: list[str]) -> float:
    t0 = time.process_time()
    for line in lines:
        r.text(line)
    return time.process_time() - t0


def _cpu(f: Callable[[str], object], text: str) -> float:
    t0 = time.process_time()
    f(text)
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=100.0)
    ap.add_argument("--no-eval", action="store_true", help="skip the labelled-corpus evaluation")
    args = ap.parse_args()

    logs = _logs()
    mb_logs = len(logs.encode()) / 1e6
    out = Redactor(b"bench-key-0123456789abcdef").text(logs)
    kinds = Counter(m.group(1) for m in PLACEHOLDER_RE.finditer(out))
    secret = sum(n for k, n in kinds.items() if k not in PII_KINDS)
    pii = sum(n for k, n in kinds.items() if k in PII_KINDS)
    print(
        f"clean loghub-2k ({mb_logs:.1f} MB): secret-kind FP {secret} ({secret / mb_logs:.2f}/MB), "
        f"personal-data replacements {pii} ({pii / mb_logs:.2f}/MB): {dict(kinds)}"
    )

    big = logs * max(1, round(args.mb / mb_logs))
    mb = len(big.encode()) / 1e6
    for engine, hs in (("hyperscan", True), ("re fallback", False)):
        r = Redactor(b"bench-key-0123456789abcdef", use_hyperscan=hs)
        text = big if hs else logs  # the fallback is slow; measure it on one copy
        size = mb if hs else mb_logs
        dt = _bulk(r, text)
        print(f"bulk text(), {engine}: {size:.0f} MB in {dt:.2f} s = {size / dt:.1f} MB/s (1 core)")
    lines = logs.splitlines(keepends=True)
    r = Redactor(b"bench-key-0123456789abcdef")
    dt = _per_line(r, lines)
    print(
        f"per-line text() ({len(lines)} lines, {mb_logs:.1f} MB): {mb_logs / dt:.1f} MB/s, "
        f"{1e6 * dt / len(lines):.1f} us/line"
    )
    t0 = time.process_time()
    for i in range(0, len(lines), 256):
        r.texts(lines[i : i + 256])
    dt = time.process_time() - t0
    print(f"texts() in batches of 256 lines: {mb_logs / dt:.1f} MB/s")

    # Lines of one secret-like unit repeated (backtracking would make them quadratic).
    for unit in ("password=x1y2z3 ", '"name": "token", "value": "abc1234567", ', "a@b.co "):
        per_unit = []
        for n in (2_000, 16_000):
            best = min(_cpu(r.text, unit * n) for _ in range(3))
            per_unit.append(1e6 * best / n)
        print(
            f"pathological line {unit!r} x2,000 / x16,000: {per_unit[0]:.1f} / {per_unit[1]:.1f}"
            f" us per unit ({per_unit[1] / per_unit[0]:.2f}x)"
        )

    if not args.no_eval:
        exe = Path(sys.executable).parent / "casework"
        res = subprocess.run(
            [
                sys.executable,
                str(SHARED / "bench" / "redaction_eval.py"),
                "--corpus",
                str(SHARED / "data" / "redaction" / "corpus.jsonl"),
                "--cmd",
                f"{exe} redact - -",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        print(res.stdout.strip())


if __name__ == "__main__":
    main()
