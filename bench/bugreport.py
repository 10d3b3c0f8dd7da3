"""Time to draft the bug report (three formats plus reproduction scripts) and the customer update, next to investigate.

.venv/bin/python bench/bugreport.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from casework.bugreport import render, report_for_case
from casework.pipeline import investigate
from casework.update import draft
from casework.update import render as render_update

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "checkout-incident"
REPEAT = 3


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp) / "case"
        started = time.perf_counter()
        investigate(EXAMPLE, case)
        whole = time.perf_counter() - started
        report_s, update_s = [], []
        for _ in range(REPEAT):
            t = time.perf_counter()
            report = report_for_case(case)
            for fmt in ("md", "jira", "github"):
                render(report, fmt)
            report_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            render_update(draft(case))
            update_s.append(time.perf_counter() - t)
    print(f"investigate (example bundle, incl. bugreport.md): {whole:.2f} s")
    print(
        f"bugreport, 3 formats + repro: {min(report_s) * 1000:.0f} ms ({min(report_s) / whole:.1%} of investigate)"
    )
    print(
        f"customer update: {min(update_s) * 1000:.0f} ms ({min(update_s) / whole:.1%} of investigate)"
    )


if __name__ == "__main__":
    main()
