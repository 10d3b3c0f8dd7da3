"""Release, deploy and feature-flag lists (CSV with a header, or JSON lines), each row a change at a time.

Rows become ``ChangeRecord(kind="deploy" | "release", what=<service>, version=...)``.
A row is a deploy when a type/kind/event column says so or the columns
are deploy-shaped (``deployed_at``, ``environment``); otherwise a release.
A row that names a feature flag (a flag audit log: ``flag``, ``featureName``)
is ``ChangeRecord(kind="flag", what=<flag>, version="<action> for <segment>")``.

>>> import io
>>> csv = b"service,version,deployed_at,env\\npayments,2.14.3,2026-03-02T14:01:00Z,prod\\n"
>>> rec = next(parse(io.BytesIO(csv), ParseContext("deploys.csv")))
>>> rec.kind, rec.what, rec.version, rec.ts.isoformat(), rec.attrs
('deploy', 'payments', '2.14.3', '2026-03-02T14:01:00+00:00', {'env': 'prod'})
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import orjson

from casework.formats.base import Format, ParseContext, iter_lines
from casework.formats.fieldroles import LEVEL_KEYS, MSG_KEYS, flatten
from casework.formats.sniffing import share, text_lines
from casework.model import ChangeRecord
from casework.timeparse import parse_ts

VERSION_KEYS = ("version", "app_version", "release", "release_version", "tag", "image_tag",
                "ref", "build", "revision", "sha", "commit", "git_sha", "chart_version")  # fmt: skip
TIME_KEYS = ("deployed_at", "released_at", "deploy_time", "release_time", "timestamp", "time",
             "ts", "date", "datetime", "created_at", "started_at", "finished_at", "at",
             "when", "@timestamp", "release_date", "deploy_date", "released_on",
             "deployed_on")  # fmt: skip
WHAT_KEYS = ("service", "app", "application", "name", "component", "project", "repo",
             "repository", "package", "deployment", "target")  # fmt: skip
#: ``2.14.3``, ``v2.14``, ``release-2.14.3-rc1``: digits with dots, not a 40-hex commit.
_VERSIONISH = re.compile(r"^[A-Za-z_-]*v?\d+(?:\.\d+)+[\w.+-]*$")
#: A release list is a few hundred rows; a JSON array beyond this is something else.
MAX_ARRAY_CHARS = 16 << 20
_DECODER = json.JSONDecoder()
_KIND_KEYS = ("type", "kind", "event", "action", "change_type")
FLAG_KEYS = ("flag", "flag_key", "flag_name", "feature", "feature_flag", "feature_name",
             "feature_key", "toggle")  # fmt: skip
_FLAG_ACTION_KEYS = ("action", "state", "status", "enabled", "on", *_KIND_KEYS)
_SEGMENT_KEYS = ("segment", "audience", "targeting", "rule", "rollout", "percentage", "variation")
#: Segment values that restrict nothing.
_EVERYONE = frozenset({"", "all", "none", "*", "everyone", "100%"})
_DEPLOY_HINTS = ("deployed_at", "deploy_time", "environment", "env", "cluster", "namespace")


def _pick(keys: Mapping[str, str], candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        if name in keys:
            return keys[name]
    return None


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _lowered(names: list[str]) -> dict[str, str]:
    """Column names in one spelling: ``createdAt``, ``Created At`` and ``created-at`` are
    ``created_at``."""
    return {
        _CAMEL.sub("_", n.strip()).lower().replace(" ", "_").replace("-", "_"): n for n in names
    }


def _is_change_list(names: list[str], width: int | None = None) -> bool:
    """Version and time keys, no log keys, and at most 24 fields (``width``: top-level ones,
    so a nested ``creator`` object of a GitHub deployment does not make a row a log)."""
    keys = _lowered(names)
    log_keys = any(k in keys for k in (*LEVEL_KEYS, *MSG_KEYS))
    changed = _pick(keys, VERSION_KEYS) is not None or _pick(keys, FLAG_KEYS) is not None
    return changed and _pick(keys, TIME_KEYS) is not None \
        and not log_keys and (len(keys) if width is None else width) <= 24  # fmt: skip


def sniff(head: bytes) -> float:
    """A CSV header or JSON-lines keys with both a version and a time column, and no log fields."""
    lines = text_lines(head)
    if not lines:
        return 0.0
    first = lines[0].lstrip()
    if first.startswith("["):
        rows = [o for _, o in _array_items(head.decode("utf-8", "replace"), limit=20)]
        ok = sum(
            1 for o in rows if isinstance(o, dict) and _is_change_list(list(flatten(o)), len(o))
        )
        return 0.95 if rows and share(ok, len(rows)) >= 0.8 else 0.0
    if first.startswith("{"):
        objects = []
        for line in lines[:20]:
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                return 0.0
            if isinstance(obj, dict):
                objects.append(obj)
        ok = sum(1 for o in objects if _is_change_list(list(flatten(o)), len(o)))
        return 0.95 if share(ok, len(lines[:20])) >= 0.8 else 0.0
    header = _cells(first, _dialect(first))
    return 0.95 if header and len(header) >= 2 and _is_change_list(header) else 0.0


def _dialect(line: str) -> type[csv.Dialect]:
    return csv.excel_tab if line.count("\t") > line.count(",") else csv.excel


def _cells(line: str, dialect: type[csv.Dialect]) -> list[str] | None:
    """The cells of one CSV line, None when it is not valid CSV (a stray CR or NUL)."""
    try:
        return next(csv.reader([line], dialect), [])
    except csv.Error:
        return None


def _version_key(keys: Mapping[str, str], row: Mapping[str, Any]) -> str | None:
    """The first version column whose value reads as a version (a deployment's ``ref``
    tag ``v2.14.3`` rather than its commit ``sha``), else the first version column."""
    named = [keys[n] for n in VERSION_KEYS if n in keys]
    for key in named:
        if _VERSIONISH.match(str(row.get(key) or "")):
            return key
    return named[0] if named else None


def _change(row: Mapping[str, Any], number: int, ctx: ParseContext) -> ChangeRecord | None:
    keys = _lowered(list(row))
    when_key, version_key = _pick(keys, TIME_KEYS), _version_key(keys, row)
    what_key = _pick(keys, WHAT_KEYS)
    kind_key = _pick(keys, _KIND_KEYS)
    value = row.get(when_key) if when_key else None
    stamp = parse_ts(value, ctx.tz, ctx.year) if isinstance(value, str | int | float) else None
    if stamp is None:
        ctx.bad(number, "no readable time")
        return None
    flag_key = _pick(keys, FLAG_KEYS)
    if flag_key is not None and version_key is None:
        return _flag(row, keys, number, stamp[0], flag_key, when_key)
    kind_value = str(row.get(kind_key, "")).lower() if kind_key else ""
    deploy = "deploy" in kind_value or (not kind_value and any(h in keys for h in _DEPLOY_HINTS))
    used = {when_key, version_key, what_key}
    version = row.get(version_key) if version_key else None
    what = row.get(what_key) if what_key else None
    return ChangeRecord(
        line=number,
        ts=stamp[0],
        kind="deploy" if deploy else "release",
        what=str(what) if what not in (None, "") else "",
        version=str(version) if version not in (None, "") else None,
        attrs={k: v for k, v in row.items() if k not in used and v not in (None, "")},
    )


def _flag(
    row: Mapping[str, Any],
    keys: Mapping[str, str],
    number: int,
    ts: Any,
    flag_key: str,
    when_key: str | None,
) -> ChangeRecord:
    """A flag audit row: the flag is what changed, its action and segment the new state."""
    action_key, segment_key = _pick(keys, _FLAG_ACTION_KEYS), _pick(keys, _SEGMENT_KEYS)
    value = row.get(action_key) if action_key else None
    on = {True: "enabled", False: "disabled", "true": "enabled", "false": "disabled"}
    action = on.get(value if isinstance(value, bool) else str(value).lower(), str(value or ""))
    segment = str(row.get(segment_key) or "") if segment_key else ""
    state = " ".join(
        [action or "changed", *([f"for {segment}"] if segment.lower() not in _EVERYONE else [])]
    )
    used = {flag_key, when_key, action_key, segment_key}
    return ChangeRecord(
        line=number,
        ts=ts,
        kind="flag",
        what=str(row.get(flag_key)),
        version=state,
        attrs={k: v for k, v in row.items() if k not in used and v not in (None, "")},
    )


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[ChangeRecord]:
    """One change per row; rows without a readable time are counted as bad."""
    lines = iter_lines(stream, ctx)
    for number, text in lines:
        if not text.strip():
            continue
        if text.lstrip().startswith("["):
            yield from _array_rows(number, text, lines, ctx)
        elif text.lstrip().startswith("{"):
            yield from _json_rows([(number, text)], ctx)
            yield from _json_rows(lines, ctx)
        else:
            yield from _csv_rows(text, lines, ctx)
        return


def _array_items(text: str, limit: int | None = None) -> Iterator[tuple[int, Any]]:
    """``(line, element)`` of a JSON array (``gh api .../deployments``), up to the first
    element that does not decode (a head cut mid-element ends there)."""
    decode = _DECODER.raw_decode
    pos, line = text.index("[") + 1, 1 + text.count("\n", 0, text.index("["))
    count = 0
    while limit is None or count < limit:
        start = pos
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", start, pos)
        if pos >= len(text) or text[pos] == "]":
            return
        try:
            obj, end = decode(text, pos)
        except ValueError:
            return
        yield line, obj
        line += text.count("\n", pos, end)
        pos, count = end, count + 1


def _array_rows(
    number: int, first: str, lines: Iterator[tuple[int, str]], ctx: ParseContext
) -> Iterator[ChangeRecord]:
    """The rows of a release list written as one JSON array (small by nature: capped)."""
    parts, size = [first], len(first)
    for _, text in lines:
        parts.append(text)
        size += len(text) + 1
        if size > MAX_ARRAY_CHARS:
            ctx.bad(number, "JSON array too large for a release list")
            return
    for line, obj in _array_items("\n".join(parts)):
        if isinstance(obj, dict):
            rec = _change(flatten(obj), number + line - 1, ctx)
            if rec is not None:
                yield rec


def _json_rows(lines: Any, ctx: ParseContext) -> Iterator[ChangeRecord]:
    for number, text in lines:
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            if text.strip():
                ctx.bad(number, "not valid JSON")
            continue
        if isinstance(obj, dict):
            rec = _change(flatten(obj), number, ctx)
            if rec is not None:
                yield rec


def _csv_rows(header_line: str, lines: Any, ctx: ParseContext) -> Iterator[ChangeRecord]:
    dialect = _dialect(header_line)
    header = [h.strip() for h in _cells(header_line, dialect) or []]
    if not header:
        ctx.bad(1, "no CSV header")
        return
    for number, text in lines:
        if not text.strip():
            continue
        cells = _cells(text, dialect)
        if cells is None:
            ctx.bad(number, "not valid CSV")
            continue
        rec = _change(dict(zip(header, (c.strip() for c in cells), strict=False)), number, ctx)
        if rec is not None:
            yield rec


FORMAT = Format(
    kind="releases",
    category="change",
    sniff=sniff,
    parse=parse,
    description="release, deploy or feature-flag list (CSV with header or JSON lines: version or flag + time)",
)
