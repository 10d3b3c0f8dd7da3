"""How a FlowRecord is redacted and stored in the ``flows`` table (register in ``casework.sinks.SINKS``)."""

from __future__ import annotations

from casework.model import FlowRecord
from casework.redact import Redactor
from casework.store import RowBuffer


def flow(store: RowBuffer, r: Redactor, rec: FlowRecord, file: str) -> None:
    """One ``flows`` row; attrs (SNI, DNS names, HTTP facts) pass the key-aware redactor."""
    store.add(
        "flows",
        (
            file, rec.proto, r.text(rec.src), rec.sport, r.text(rec.dst), rec.dport,
            rec.start, rec.end, rec.packets, rec.bytes, r.json(rec.attrs),
        ),
    )  # fmt: skip
