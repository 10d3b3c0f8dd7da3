"""Records to rows: every record of a file is redacted, mined and appended to a row buffer.

Log records also yield the HTTP requests and the changes they carry. Other
record types go through their sink (``sinks.SINKS``). Nothing here raises
for bad evidence: parsers count it, and the scan worker reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework.derive import change_from_message, request_row
from casework.mining import TemplateMiner
from casework.model import ChangeRecord, LogRecord, Record, RequestRecord
from casework.redact import Redactor
from casework.sinks import SINKS
from casework.store import RowBuffer, to_json_text


@dataclass(slots=True)
class FileStats:
    """What one file (or one chunk of it) held: record count, time range, whether a zone was assumed."""

    records: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    assumed: bool = False


class RecordWriter:
    """Writes the records of one file into a row buffer, redacted, with template cluster ids."""

    def __init__(self, out: RowBuffer, redactor: Redactor, miner: TemplateMiner, file: str) -> None:
        self.out = out
        self.redactor = redactor
        self.miner = miner
        self.file = file
        self.stats = FileStats()
        self.clusters: set[int] = set()

    def write(self, record: Record) -> None:
        stats = self.stats
        stats.records += 1
        if isinstance(record, LogRecord):
            self._event(record)
            ts = record.ts
        elif isinstance(record, RequestRecord):
            self._request(record)
            ts = record.ts
        elif isinstance(record, ChangeRecord):
            self._change(record)
            ts = record.ts
        else:
            sink = SINKS.get(type(record))
            if sink is not None:
                sink(self.out, self.redactor, record, self.file)
            ts = getattr(record, "ts", None) or getattr(record, "start", None)
        if isinstance(ts, datetime):
            if stats.first_ts is None or ts < stats.first_ts:
                stats.first_ts = ts
            if stats.last_ts is None or ts > stats.last_ts:
                stats.last_ts = ts

    def _event(self, rec: LogRecord) -> None:
        r = self.redactor
        message, service, logger, attrs = rec.message, rec.service, rec.logger, rec.attrs
        if not r.clean_record((message, service, logger), attrs):
            message = r.text(message)
            service = r.text(service) if service else None
            logger = r.text(logger) if logger else None
            attrs = r.json(attrs) if attrs else attrs
        attrs_json = to_json_text(attrs) if attrs else None
        cluster = self.miner.add(message)
        self.clusters.add(cluster)
        if rec.ts_assumed:
            self.stats.assumed = True
        self.out.add(
            "events",
            (
                self.file, rec.line, rec.end_line or rec.line, rec.ts, rec.level,
                service or None, logger or None, message, f"c{cluster}", attrs_json,
            ),
        )  # fmt: skip
        if attrs:
            request = request_row(attrs, rec.ts, self.file, rec.line, attrs_json)
            if request is not None:
                self.out.add("requests", request)
        change = change_from_message(message, rec.ts, rec.line, service)
        if change is not None:
            self._change(change, redacted=True)

    def _request(self, rec: RequestRecord) -> None:
        """A request seen directly (HAR entry, pcap exchange)."""
        r = self.redactor
        self.out.add(
            "requests",
            (
                rec.ts, "capture", self.file, rec.line, rec.method,
                r.text(rec.host) if rec.host else None,
                r.text(rec.route) if rec.route else None,
                r.url(rec.url) if rec.url else None,
                rec.status, rec.duration_ms, rec.bytes,
                r.text(rec.client) if rec.client else None,
                r.json(rec.attrs),
            ),
        )  # fmt: skip

    def _change(self, rec: ChangeRecord, *, redacted: bool = False) -> None:
        text = _identity if redacted else self.redactor.text
        self.out.add(
            "changes",
            (
                rec.ts, rec.kind, text(rec.what), text(rec.version) if rec.version else None,
                self.file, rec.line, rec.attrs if redacted else self.redactor.json(rec.attrs),
            ),
        )  # fmt: skip


def _identity(value: str) -> str:
    return value
