"""Which field of a structured log record is its time, level, message, service and logger.

JSON-lines and logfmt logs name these fields in many ways (``ts``, ``@timestamp``,
``log.level``, ``severityText``, ``msg``...). Roles are found once per set of
keys and cached, because records of one logger share their keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from casework.timeparse import parse_ts

#: Candidate names per role, best first; matched case-insensitively on the flattened key.
TS_KEYS = (
    "@timestamp", "timestamp", "ts", "time", "@t", "t", "datetime", "date", "eventtime",
    "event_time", "event.created", "logtime", "log_time", "time_local", "time_iso8601",
    "timestamp_ms", "timemillis", "timeunixnano", "observedtimeunixnano", "asctime",
    "created_at", "created", "_time", "__time", "instant.epochsecond",
    # access logs in JSON: Kong file-log, Envoy, Traefik name the request's start
    "started_at", "start_time", "starttime", "startutc",
)  # fmt: skip
LEVEL_KEYS = (
    # Windows events (Get-WinEvent | ConvertTo-Json) carry both: the name, and a number that
    # is not a syslog severity (2 is Error there).
    "leveldisplayname", "level", "log.level", "severity", "lvl", "loglevel", "log_level", "levelname",
    "severitytext", "severity_text", "@l", "@level", "level_name", "sev", "levelstr",
    "error_severity",  # PostgreSQL jsonlog
)  # fmt: skip
MSG_KEYS = (
    "msg", "message", "@m", "@mt", "event", "log", "text", "body", "short_message",
    "full_message", "log.message", "textpayload", "jsonpayload.message",
)  # fmt: skip
SERVICE_KEYS = (
    "service", "service.name", "service_name", "servicename", "app", "app_name", "appname",
    "application", "svc", "component", "program", "syslog_identifier", "container_name",
    "kubernetes.container_name", "resource.service.name",
)  # fmt: skip
LOGGER_KEYS = (
    "logger", "logger_name", "loggername", "logger.name", "log.logger", "name", "category",
    "caller",
)  # fmt: skip

_CANON = {
    "trace": "TRACE", "finest": "TRACE", "finer": "TRACE", "debug": "DEBUG", "dbug": "DEBUG",
    "dbg": "DEBUG", "fine": "DEBUG", "verbose": "DEBUG", "v": "DEBUG", "d": "DEBUG",
    "info": "INFO", "information": "INFO", "informational": "INFO", "inf": "INFO", "i": "INFO",
    "notice": "INFO", "log": "INFO", "config": "INFO", "warn": "WARN", "warning": "WARN",
    "wrn": "WARN", "w": "WARN", "error": "ERROR", "err": "ERROR", "eror": "ERROR", "e": "ERROR",
    "severe": "ERROR", "fatal": "FATAL", "critical": "FATAL", "crit": "FATAL", "alert": "FATAL",
    "emerg": "FATAL", "emergency": "FATAL", "panic": "FATAL", "f": "FATAL",
}  # fmt: skip
#: The levels ``level_name`` gives for a known name.
CANONICAL_LEVELS = frozenset(_CANON.values())
_SYSLOG_SEVERITY = ("FATAL", "FATAL", "FATAL", "ERROR", "WARN", "INFO", "INFO", "DEBUG")


_seen_levels: dict[str, str | None] = {}


def level_name(value: Any) -> str | None:
    """A canonical level (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) or the original, uppercased."""
    if type(value) is str:
        if value in _seen_levels:
            return _seen_levels[value]
        found = _level_text(value)
        if len(_seen_levels) < 1024:
            _seen_levels[value] = found
        return found
    return _level_number(value)


def _level_text(value: str) -> str | None:
    text = value.strip()
    canon = _CANON.get(text.lower())
    if canon is not None:
        return canon
    return text.upper()[:16] or None


def _level_number(value: Any) -> str | None:
    if isinstance(value, str):  # a str subclass
        return _level_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value >= 10:  # bunyan/pino: 10 trace ... 60 fatal
            return ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")[min(value // 10, 6) - 1]
        if value >= 0:  # syslog severity 0 (emerg) .. 7 (debug)
            return _SYSLOG_SEVERITY[value]
    return None


def flatten(
    obj: Mapping[str, Any], into: dict[str, Any] | None = None, prefix: str = "", depth: int = 0
) -> dict[str, Any]:
    """Nested objects as dotted keys (``{"http": {"status": 200}}`` → ``http.status``)."""
    out: dict[str, Any] = {} if into is None else into
    for key, value in obj.items():
        if type(value) is dict and value and depth < 8:
            flatten(value, out, f"{prefix}{key}.", depth + 1)
        else:
            out[prefix + key if prefix else key] = value
    return out


@dataclass(frozen=True, slots=True)
class Roles:
    """The key playing each role in records with one set of keys (None: no such field)."""

    ts: str | None
    level: str | None
    message: str | None
    service: str | None
    logger: str | None

    def taken(self) -> frozenset[str]:
        return frozenset(k for k in (self.ts, self.level, self.message, self.service,
                                     self.logger) if k)  # fmt: skip


def _pick(lowered: Mapping[str, str], candidates: Iterable[str], record: Mapping[str, Any],
          want_str: bool = False) -> str | None:  # fmt: skip
    for name in candidates:
        key = lowered.get(name)
        if key is not None and record[key] not in (None, ""):
            if want_str and not (isinstance(record[key], str) and not record[key][0].isdigit()):
                continue
            return key
    return None


def find_roles(record: Mapping[str, Any]) -> Roles:
    """Roles for a flattened record: by name first, then a time found by its value's shape."""
    lowered: dict[str, str] = {}
    for key in record:
        lowered.setdefault(key.lower(), key)
    ts = _pick(lowered, TS_KEYS, record)
    if ts is not None and _ts_value(record[ts]) is None:
        ts = None
    if ts is None:
        for key, value in record.items():
            if isinstance(value, str) and len(value) >= 10 and value[0].isdigit() \
                    and parse_ts(value) is not None:  # fmt: skip
                ts = key
                break
    return Roles(
        ts=ts,
        level=_pick(lowered, LEVEL_KEYS, record),
        message=_pick(lowered, MSG_KEYS, record, want_str=True),
        service=_pick(lowered, SERVICE_KEYS, record, want_str=True),
        logger=_pick(lowered, LOGGER_KEYS, record, want_str=True),
    )


def _ts_value(value: Any) -> object | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return parse_ts(value)
    return None


def looks_like_log(record: Mapping[str, Any]) -> bool:
    """A record with a time and a level or message: what one line of a log looks like."""
    roles = find_roles(record)
    return (roles.ts is not None and (roles.level is not None or roles.message is not None)) or (
        roles.level is not None and roles.message is not None
    )
