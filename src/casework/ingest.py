"""Records to rows: every record of a file is redacted, mined and appended to a row buffer.

Log records also yield the HTTP requests and the changes they carry. Other
record types go through their sink (``sinks.SINKS``). Nothing here raises
for bad evidence: parsers count it, and the scan worker reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from casework.derive import change_from_message, request_row
from casework.mining import TemplateMiner
from casework.model import (
    ChangeRecord,
    FastLine,
    LogLines,
    LogRecord,
    Record,
    RequestRecord,
    fast_record,
)
from casework.redact import Redactor
from casework.routes import route_template
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
    """Writes the records of one file into a row buffer, redacted, with template cluster ids.

    Log records are held in batches of ``BATCH`` so one prefilter call checks a
    whole batch for secrets; ``close()`` writes what is held.
    """

    BATCH: ClassVar[int] = 512

    def __init__(self, out: RowBuffer, redactor: Redactor, miner: TemplateMiner, file: str) -> None:
        self.out = out
        self.redactor = redactor
        self.miner = miner
        self.file = file
        self.stats = FileStats()
        #: cluster id -> its label in the events rows, for every cluster this file's records joined
        self.clusters: dict[int, str] = {}
        self._logs: list[LogRecord] = []

    def write(self, record: Record) -> None:
        if type(record) is LogRecord:
            logs = self._logs
            logs.append(record)
            if len(logs) >= self.BATCH:
                self._events()
            return
        self._events()
        if type(record) is LogLines:
            self._lines(record.items)
            return
        if isinstance(record, RequestRecord):
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
        self._seen(1, ts, ts)

    def _seen(self, records: int, first: object, last: object) -> None:
        stats = self.stats
        stats.records += records
        if isinstance(first, datetime) and (stats.first_ts is None or first < stats.first_ts):
            stats.first_ts = first
        if isinstance(last, datetime) and (stats.last_ts is None or last > stats.last_ts):
            stats.last_ts = last

    def close(self) -> None:
        """Write the log records still held."""
        self._events()

    def _events(self) -> None:
        logs, self._logs = self._logs, []
        if logs:
            self._write_logs(logs)

    def _lines(self, items: list[FastLine | LogRecord]) -> None:
        """Lines in the store's shape, in file order: each checked for secrets by one scan of
        its message, logger and JSON text (all in one prefilter call); a line a trigger fires
        in, or whose keys need more than that, goes the record path with the records among them."""
        file = self.file
        lines = [(i, x) for i, x in enumerate(items) if type(x) is tuple]
        verdicts = self.redactor.clean_texts(
            [(x[2] if x[12] is None else f"{x[2]}\n{x[12]}", x[3], x[4]) for _, x in lines]
        )
        clean = {i for (i, _), ok in zip(lines, verdicts, strict=True) if ok}
        events: list[tuple[Any, ...]] = []
        requests: list[tuple[Any, ...]] = []
        slow: list[LogRecord] = []
        times: list[datetime] = []
        mined: dict[str, str] = {}
        for i, item in enumerate(items):
            if i not in clean:
                slow.append(item if isinstance(item, LogRecord) else fast_record(item))
                continue
            if slow:  # keep file order: rows so far, then the records
                self._rows(events, requests)
                self._write_logs(slow)
                events, requests, slow = [], [], []
            (line, ts, message, attrs_json, keys, method, route, status, ms, size, client, level,
             logger, assumed) = item  # type: ignore[misc]  # fmt: skip
            label = mined.get(message) or self._mine(message, mined)
            events.append((
                file, line, line, ts, level, None, logger, message, label,
                attrs_json if keys else None,
            ))  # fmt: skip
            if status is not None:
                requests.append((
                    ts, "log", file, line, method, None, route, None, status, ms, size, client,
                    attrs_json,
                ))  # fmt: skip
            if ts is not None:
                times.append(ts)
                if assumed:
                    self.stats.assumed = True
            change = change_from_message(message, ts, line, None)
            if change is not None:
                self._change(change, redacted=True)
        self._rows(events, requests)
        self._seen(len(clean), min(times, default=None), max(times, default=None))
        if slow:
            self._write_logs(slow)

    def _mine(self, message: str, mined: dict[str, str]) -> str:
        """The template label of a message; ``mined`` keeps it so a repeat in the batch is not
        mined again (its cluster's template text is the same either way)."""
        cluster = self.miner.add(message)
        label = self.clusters.get(cluster)
        if label is None:
            label = self.clusters[cluster] = f"c{cluster}"
        mined[message] = label
        return label

    def _rows(self, events: list[tuple[Any, ...]], requests: list[tuple[Any, ...]]) -> None:
        if events:
            self.out.extend("events", events)
        if requests:
            self.out.extend("requests", requests)

    def _write_logs(self, logs: list[LogRecord]) -> None:
        r, file = self.redactor, self.file
        mined: dict[str, str] = {}
        clean = r.clean_json([((g.message, g.service, g.logger), g.attrs) for g in logs])
        events: list[tuple[Any, ...]] = []
        requests: list[tuple[Any, ...]] = []
        for rec, dump in zip(logs, clean, strict=True):
            message, service, logger, attrs = rec.message, rec.service, rec.logger, rec.attrs
            attrs_json = dump if attrs else None
            if dump is None:
                message = r.text(message)
                service = r.text(service) if service else None
                logger = r.text(logger) if logger else None
                attrs = r.json(attrs) if attrs else attrs
                attrs_json = to_json_text(attrs) if attrs else None
            label = mined.get(message) or self._mine(message, mined)
            if rec.ts_assumed:
                self.stats.assumed = True
            line, ts = rec.line, rec.ts
            events.append((
                file, line, rec.end_line or line, ts, rec.level, service or None,
                logger or None, message, label, attrs_json,
            ))  # fmt: skip
            if attrs and (request := request_row(attrs, ts, file, line, attrs_json)) is not None:
                requests.append(request)
            change = change_from_message(message, ts, line, service)
            if change is not None:
                self._change(change, redacted=True)
        self._rows(events, requests)
        times = [g.ts for g in logs if g.ts is not None]
        self._seen(len(logs), min(times, default=None), max(times, default=None))

    def _request(self, rec: RequestRecord) -> None:
        """A request seen directly (HAR entry, pcap exchange)."""
        r = self.redactor
        self.out.add(
            "requests",
            (
                rec.ts, "capture", self.file, rec.line, rec.method,
                r.text(rec.host) if rec.host else None,
                route_template(r.text(rec.route)) if rec.route else None,
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
