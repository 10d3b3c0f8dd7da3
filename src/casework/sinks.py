"""How records other than logs, requests and changes are redacted and stored, one function per type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from casework.configs.envname import env_of
from casework.model import (
    ConfigRecord,
    FlowRecord,
    K8sRecord,
    NoteRecord,
    PlanNodeRecord,
    SpanRecord,
)
from casework.net.sink import flow
from casework.plans.sink import plan_node
from casework.redact import Redactor
from casework.store import RowBuffer
from casework.traces import write_span

Sink = Callable[[RowBuffer, Redactor, Any, str], None]


def config(out: RowBuffer, r: Redactor, rec: ConfigRecord, file: str) -> None:
    # Redacted before comparison: two different passwords show as two placeholders, never values.
    out.add("configs", (env_of(file), file, r.text(rec.key), r.value(rec.key, rec.value), rec.line))


def k8s(out: RowBuffer, r: Redactor, rec: K8sRecord, file: str) -> None:
    out.add(
        "k8s",
        (
            rec.ts, r.text(rec.object), rec.reason, r.text(rec.message), rec.count,
            rec.container, file, rec.line, r.json(rec.attrs),
        ),
    )  # fmt: skip


def note(out: RowBuffer, r: Redactor, rec: NoteRecord, file: str) -> None:
    # Customers paste tokens and addresses into tickets: the text is redacted like any log line.
    out.add("notes", (file, r.text(rec.text)))


SINKS: dict[type, Sink] = {
    ConfigRecord: config,
    K8sRecord: k8s,
    SpanRecord: write_span,
    FlowRecord: flow,
    PlanNodeRecord: plan_node,
    NoteRecord: note,
}
