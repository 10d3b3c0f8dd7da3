"""CrashLoopBackOff: the real error, taken from the previous container's log, not the back-off event.

Kubernetes only says it is backing off. The cause is in the log of the
container that died (``kubectl logs --previous``): the last error-level
record (or the last records, when nothing is marked as an error) of a log
file whose name says it is a previous container's log and names the pod or
container, else of any log in the bundle naming them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding

_BACKOFF = (
    "(reason IN ('CrashLoopBackOff', 'BackOff') OR message ILIKE '%back-off restarting failed%')"
)
_PREVIOUS = re.compile(r"(?i)(previous|prev|crashed|last[-_]?run)")
_ERRORISH = "upper(coalesce(level, '')) IN ('ERROR', 'FATAL', 'CRITICAL', 'PANIC', 'EMERG', 'ALERT', 'CRIT')"
_ERROR_TEXT = re.compile(
    r"(?i)(error|exception|fatal|panic|failed|cannot|could not|unable|refused|denied|missing)"
)


@analyzer(key="k8s_crashloop", needs=("k8s",))
def k8s_crashloop(case: Case) -> Iterator[Finding]:
    """Containers in CrashLoopBackOff, with the error their previous run died of."""
    # A back-off event names its container only in its message; the pod's state names it.
    rows = case.rows(
        "SELECT object, coalesce(container, nullif(regexp_extract(message,"
        " 'failed container[= ]([^ ]+)', 1), '')) AS c,"
        " coalesce(sum(count) FILTER (WHERE reason <> 'CrashLoopBackOff'), 0),"
        " max(TRY_CAST(json_extract(attrs, '$.restarts') AS BIGINT)), min(file), min(line)"
        f" FROM k8s WHERE {_BACKOFF} GROUP BY object, c ORDER BY object, c"
    )
    exits = _exit_codes(case)
    for obj, container, count, restarted, file, line in rows:
        pod = obj.split("/", 1)[-1]
        cause = _previous_error(case, pod, container)
        code = exits.get((obj, container or ""))
        backoffs, restarts = int(count or 0), int(restarted or 0)
        who = f"{obj}" + (f" container {container}" if container else "")
        counted = [
            *([f"{restarts} restarts"] if restarts else []),
            *([f"{backoffs} back-offs"] if backoffs else []),
            *([f"last exit code {code}"] if code is not None else []),
        ]
        title = f"{who} is in CrashLoopBackOff" + (f" ({', '.join(counted)})" if counted else "")
        evidence = [Evidence(file, (line, line), f"{obj} BackOff x{backoffs}")]
        stats: dict[str, int | float | str | bool | None] = {"backoffs": backoffs,
                                                             "restarts": restarts,
                                                             "exit_code": code}  # fmt: skip
        if cause:
            message, cfile, cline = cause
            title += f"; the previous container died with: {message[:160]}"
            evidence.insert(0, Evidence(cfile, (cline, cline), message[:300]))
            stats["cause_file"] = cfile
            summary = (
                f"Kubernetes restarts {who} and backs off; the back-off events say nothing about why. "
                f"The previous container's log ({cfile}, line {cline}) ends with the error above, which is the cause to fix."
            )
            steps: tuple[str, ...] = ("Fix the condition in the error above (configuration, secret, dependency) and watch the restart count stop rising.",
                     "Confirm with `kubectl logs --previous` after the next restart that the same error ends the log.")  # fmt: skip
        else:
            summary = (
                f"Kubernetes restarts {who} and backs off; no previous-container log in the bundle names it, "
                "so the cause is not in the evidence yet."
            )
            steps = (f"Ask for `kubectl logs {pod} --previous" + (f" -c {container}" if container else "") + "`: the cause is at its end.",)  # fmt: skip
        yield Finding(
            key="K8S_CRASHLOOP", analyzer="k8s_crashloop", subject=f"{obj}/{container or ''}", severity="high",
            score=0.9 if cause else 0.6, title=title, summary=summary,
            entities={"object": obj, **({"container": container} if container else {})},
            stats=stats, evidence=tuple(evidence), next_steps=steps,
        )  # fmt: skip


def _exit_codes(case: Case) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], Any] = {}
    for obj, container, attrs_text in case.rows(
        "SELECT object, coalesce(container, ''), attrs FROM k8s WHERE json_extract(attrs, '$.exit_code') IS NOT NULL"
    ):
        code = orjson.loads(attrs_text).get("exit_code")
        if code is not None:
            out[(obj, container)] = code
    return out


def _previous_error(case: Case, pod: str, container: str | None) -> tuple[str, str, int] | None:
    files = [f for (f,) in case.rows("SELECT DISTINCT file FROM events ORDER BY file")]
    names = [n for n in (container, pod, _workload(pod)) if n]
    ranked = sorted(
        (f for f in files if any(n.lower() in f.lower() for n in names)),
        key=lambda f: (0 if _PREVIOUS.search(f) else 1, f),
    )
    for file in ranked[:5]:
        rows = case.rows(
            f"SELECT message, line FROM events WHERE file = ? AND {_ERRORISH} ORDER BY line DESC LIMIT 1",
            [file],
        )
        if not rows:
            rows = [
                r
                for r in case.rows(
                    "SELECT message, line FROM events WHERE file = ? ORDER BY line DESC LIMIT 5",
                    [file],
                )
                if _ERROR_TEXT.search(r[0])
            ][:1]
        if rows:
            message, line = rows[0]
            return essence(message), file, int(line)
    return None


_EXCEPTION_LINE = re.compile(
    r"^\s*(?:Caused by: )?[\w.$]+(?:Error|Exception|Exit|Interrupt)\b.*|^panic: .*|^fatal error: .*"
)


def essence(message: str) -> str:
    """The line of a multi-line record that names the error: the last exception or the panic.

    >>> essence("fatal error during startup\\nTraceback (most recent call last):\\n  File x\\nKeyError: 'DB_URL'")
    "fatal error during startup: KeyError: 'DB_URL'"
    """
    lines = [ln for ln in message.splitlines() if ln.strip()]
    if len(lines) <= 1:
        return message
    matches = [ln.strip() for ln in lines[1:] if _EXCEPTION_LINE.match(ln)]
    causes = [m for m in matches if m.startswith("Caused by:")]
    chosen = (causes or matches or [lines[-1].strip()])[-1]
    return f"{lines[0].strip()}: {chosen}"


def _workload(pod: str) -> str:
    """``api-7d9f8c6b5-x2x4q`` → ``api``: the Deployment's name, for logs named after it."""
    parts = pod.split("-")
    while (
        len(parts) > 1
        and re.fullmatch(r"[a-z0-9]{5,10}", parts[-1])
        and re.search(r"\d", parts[-1])
    ):
        parts.pop()
    return "-".join(parts)
