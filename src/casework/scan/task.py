"""What a scan worker is given and what it gives back: small, picklable, executor-neutral."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from casework.redact import RedactionPolicy
from casework.remote import StorageOptions


def out_dir(work: str, index: int) -> str:
    """The directory task ``index`` writes its Parquet parts into (the merge reads the index back)."""
    return f"{work}/task-{index:06d}"


#: SQL for the task index of a part file read with ``read_parquet(..., filename=true)``.
TASK_OF_PART = r"CAST(regexp_extract(filename, 'task-(\d+)/[^/]+$', 1) AS INTEGER)"


@dataclass(frozen=True, slots=True)
class ScanTask:
    """Read ``disk`` (bytes ``start``..``end`` when it is one part of a split file) as ``kind``.

    ``disk`` is a local path or an object storage URL the worker opens itself.
    ``file`` is the member's name in the bundle (already redacted), ``out``
    the directory the worker writes its Parquet parts into. The redaction
    key travels with the task so every worker makes the same placeholders.
    """

    index: int
    file: str
    name: str
    disk: str
    size: int
    kind: str
    part: int
    parts: int
    start: int
    end: int | None
    key: bytes
    policy: RedactionPolicy
    tz: str
    tz_given: bool
    year: int | None
    out: str
    #: fsspec options to reach ``disk`` when it is a URL: credentials, so never shown.
    storage: StorageOptions = field(default=(), repr=False)


@dataclass(slots=True)
class ScanResult:
    """A task's records' summary, its local templates and where its rows are."""

    index: int
    file: str
    part: int
    records: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    assumed: bool = False
    lines: int = 0
    bad_records: int = 0
    first_problem: str | None = None
    truncated_lines: int = 0
    notes: list[str] = field(default_factory=list)
    stopped: str | None = None
    redactions: Counter[str] = field(default_factory=Counter)
    templates: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    out: str = ""
