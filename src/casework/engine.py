"""The analyzer registry and the run engine that never lets one analyzer kill the run.

Built-in analyzers are listed in ``casework.analyzers.BUILTIN``; third-party
ones come through the ``casework.analyzers`` entry-point group. Set
``CASEWORK_PLUGINS=name1,name2`` to load only those entry points, or
``CASEWORK_PLUGINS=`` (empty) to load none.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points

from casework.case import Case
from casework.findings import Finding
from casework.store import SCHEMA

log = logging.getLogger(__name__)

AnalyzerFn = Callable[[Case], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Analyzer:
    """An analyzer: a pure function from the case store to findings, and the tables it needs."""

    key: str
    #: Tables of the case store, or kinds of file (``"har"``), without which it has nothing to do.
    needs: tuple[str, ...]
    run: AnalyzerFn
    description: str = ""


def analyzer(key: str, needs: tuple[str, ...]) -> Callable[[AnalyzerFn], Analyzer]:
    """Declare an analyzer; registration happens by listing it, never as an import side effect."""

    def wrap(fn: AnalyzerFn) -> Analyzer:
        doc = (fn.__doc__ or "").strip().splitlines()
        return Analyzer(key=key, needs=needs, run=fn, description=doc[0] if doc else "")

    return wrap


@dataclass(frozen=True, slots=True)
class AnalyzerRun:
    """What happened when one analyzer ran: ok, skipped (and why), or error (and why)."""

    key: str
    status: str
    seconds: float
    findings: int
    reason: str = ""


def load_analyzers() -> list[Analyzer]:
    """Built-in analyzers, then those from the ``casework.analyzers`` entry-point group."""
    from casework.analyzers import BUILTIN

    found = list(BUILTIN)
    allowed = os.environ.get("CASEWORK_PLUGINS")
    names = None if allowed is None else {n.strip() for n in allowed.split(",") if n.strip()}
    for ep in entry_points(group="casework.analyzers"):
        if names is not None and ep.name not in names:
            continue
        try:
            loaded = ep.load()
        except Exception as exc:  # a broken plugin must not stop the built-ins
            log.warning("plugin %s could not be loaded: %s", ep.name, type(exc).__name__)
            continue
        if isinstance(loaded, Analyzer):
            found.append(loaded)
        else:
            log.warning("plugin %s is not a casework Analyzer; ignored", ep.name)
    return found


def run_analyzers(
    case: Case, analyzers: Iterable[Analyzer]
) -> tuple[list[Finding], list[AnalyzerRun]]:
    """Run each analyzer; record ok / skipped (missing input) / error with its time."""
    findings: list[Finding] = []
    runs: list[AnalyzerRun] = []
    for a in analyzers:
        started = time.perf_counter()
        empty = [need for need in a.needs if not _present(case, need)]
        if empty:
            runs.append(
                AnalyzerRun(a.key, "skipped", 0.0, 0, f"no {', '.join(empty)} in this bundle")
            )
            continue
        try:
            produced = list(a.run(case))
        except Exception as exc:
            elapsed = time.perf_counter() - started
            # The message of an exception may quote evidence; record only its type and place.
            where = _where(exc)
            log.debug("analyzer %s failed", a.key, exc_info=True)
            runs.append(AnalyzerRun(a.key, "error", elapsed, 0, f"{type(exc).__name__}{where}"))
            continue
        elapsed = time.perf_counter() - started
        findings.extend(produced)
        runs.append(AnalyzerRun(a.key, "ok", elapsed, len(produced)))
    return findings, runs


def _present(case: Case, need: str) -> bool:
    """A need is a table of the case store (non-empty) or a kind of file (read, with records).

    A kind is for analyzers of one format whose rows share a table with others
    (HAR entries among a million log-derived requests): the files table answers
    in a millisecond where a scan of the shared table takes a second.
    """
    if need in SCHEMA:
        return case.count(need) > 0
    row = case.one(
        "SELECT count(*) FROM files WHERE kind = ? AND coalesce(records, 0) > 0", (need,)
    )
    return bool(row and row[0])


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    code = tb.tb_frame.f_code
    return f" in {code.co_name} ({os.path.basename(code.co_filename)}:{tb.tb_lineno})"
