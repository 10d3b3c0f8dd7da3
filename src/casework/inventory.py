"""What was in the bundle: one entry per file with its kind, records, time range and status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from casework.findings import iso

Status = Literal["parsed", "partial", "skipped"]


@dataclass(slots=True)
class FileEntry:
    """One bundle member as the inventory reports it.

    ``status`` is ``parsed`` (every record read), ``partial`` (some records or
    lines could not be read: ``reason`` says which and why) or ``skipped``
    (nothing read: ``reason`` says why and what to do).
    """

    path: str
    bytes: int
    kind: str = "unknown"
    category: str = "unknown"
    sha256: str = ""
    status: Status = "skipped"
    reason: str = ""
    records: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    tz: str | None = None
    seconds: float = 0.0
    redactions: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "category": self.category,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "status": self.status,
            "reason": self.reason,
            "records": self.records,
            "first_ts": iso(self.first_ts) if self.first_ts else None,
            "last_ts": iso(self.last_ts) if self.last_ts else None,
            "tz": self.tz,
            "seconds": round(self.seconds, 3),
            "redactions": dict(sorted(self.redactions.items())),
        }
