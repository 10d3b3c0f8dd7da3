"""Timestamp recognition: every shape real logs start their lines with, turned into UTC.

Two entry points. ``parse_ts`` reads one value that is meant to be a time
(a JSON field, a logfmt value, a CSV cell). ``LineClock`` finds the timestamp
near the start of text-log lines: it learns the file's shape once (from the
first line that has one) and then tries only that shape, caching the
conversion per second, because it runs on every line of the ingest hot path.

Naive timestamps are read in the caller's zone and flagged as assumed.
Shapes without a year (syslog ``Jun 14 15:16:01``, ``03-17 16:13:38.811``)
take the caller's year and move to the next year when the month jumps back
by more than half a year (December to January).

>>> parse_ts("10/Oct/2000:13:55:36 -0700")
(datetime.datetime(2000, 10, 10, 20, 55, 36, tzinfo=datetime.timezone.utc), False)
>>> parse_ts("1117838570")[0].isoformat()
'2005-06-03T22:42:50+00:00'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Epoch values outside 1990..2100 are not taken as times when found by shape alone.
_PLAUSIBLE = (631152000, 4102444800)

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
#: Fixed offsets of the zone names logs print; ambiguous names (IST, CST) take their US/most common sense.
TZ_NAMES = {
    "Z": 0, "UTC": 0, "GMT": 0, "UT": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60,
    "CEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "IST": 330, "SGT": 480, "HKT": 480,
    "CST": -360, "CDT": -300, "EST": -300, "EDT": -240, "MST": -420, "MDT": -360,
    "PST": -480, "PDT": -420, "JST": 540, "KST": 540, "AEST": 600, "AEDT": 660,
}  # fmt: skip
_ZONES = {k: timezone(timedelta(minutes=v)) if v else UTC for k, v in TZ_NAMES.items()}

_FRAC = r"(?:[.,:](?P<f>\d{1,9}))?"
_ZNAMES = "|".join(sorted((k for k in TZ_NAMES if k != "Z"), key=len, reverse=True))
# A four-digit offset may be followed by ": " (JDK 8 GC: ``...123+0100: 12.345: [GC``); a shorter
# one may not, or a range such as ``10:15:01-10:16: job ran`` would read as a zone.
_ZONE = rf"(?:(?P<z>Z|[+-]\d\d(?::?\d\d)?(?![\d:])|[+-]\d{{4}}(?=:\s)|\ (?:[+-]\d\d:?\d\d|{_ZNAMES})(?![\w:]))|(?P<ampm>\ [AP]M))?"
_HMS = r"(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})"
_MON = r"(?P<mon>(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))[a-z]*"
_WDAY = r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? )?"

#: (name, pattern). Each pattern has a ``base`` group up to the seconds, then fraction and zone.
_SHAPES: tuple[tuple[str, str], ...] = (
    ("iso", r"(?P<base>(?P<y>\d{4})(?P<ds>[-/.])(?P<m>\d{1,2})(?P=ds)(?P<d>\d{1,2})"
            r"(?:T| {1,2}|-|:)(?P<H>\d{1,2})[:.](?P<M>\d{2})[:.](?P<S>\d{2}))"),
    ("compact", r"(?P<base>(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})[-T ]?"
                r"(?:(?P<H>\d{1,2}):(?P<M>\d{1,2}):(?P<S>\d{1,2})|(?P<H2>\d{2})(?P<M2>\d{2})(?P<S2>\d{2})))"),
    ("clf", rf"(?P<base>(?P<d>\d{{1,2}})/{_MON}/(?P<y>\d{{4}}):{_HMS})"),
    ("dmy", rf"(?P<base>{_WDAY}(?P<d>\d{{1,2}})[ -]{_MON}[ -](?P<y>\d{{4}})[ :]{_HMS})"),
    ("jul", rf"(?P<base>{_MON} (?P<d>\d{{1,2}}), (?P<y>\d{{4}}),? {_HMS})"),
    ("syslog", rf"(?P<base>{_WDAY}{_MON} {{1,2}}(?P<d>\d{{1,2}})(?: (?P<y>\d{{4}}))? {_HMS})"
               r"(?=[.,:]\d|[ \]:,]|$)(?:[.,:](?P<f>\d{1,9}))?(?: (?P<y2>\d{4})(?!\d))?"),
    ("yymmdd", r"(?P<base>(?P<yy>\d{2})(?P<m>\d{2})(?P<d>\d{2}) (?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2}))(?!\d)"),
    ("slash2", rf"(?P<base>(?P<a>\d{{2}})/(?P<b>\d{{2}})/(?P<c>\d{{2}})[ -]{_HMS})"),
    ("slash4", rf"(?P<base>(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})/(?P<y>\d{{4}})[ ,T]+{_HMS})"),
    ("md", rf"(?P<base>(?P<m>\d{{2}})[-./](?P<d>\d{{2}}) {_HMS})"),
    ("klog", rf"(?P<base>[IWEF](?P<m>\d{{2}})(?P<d>\d{{2}}) {_HMS})"),
    ("epoch", r"(?P<base>(?P<ep>\d{10}(?:\d{3}){0,3}))(?:\.(?P<f>\d{1,9}))?(?![\d:/-])"),
)  # fmt: skip
_TAIL = {"syslog": rf"{_ZONE}", "epoch": "", "yymmdd": _FRAC}
_RX = {
    name: re.compile(pat + _TAIL.get(name, _FRAC + _ZONE) + r"(?![\d])") for name, pat in _SHAPES
}
_UNNAMED = re.compile(r"\(\?P<\w+>")


def _plain(pattern: str) -> str:
    return _UNNAMED.sub("(?:", pattern).replace("(?P=ds)", "[-/.]")


#: All shapes in one alternation, to find which one a line uses; group ``s<i>`` is shape i.
_ANY = re.compile("|".join(f"(?P<s{i}>{_plain(p)})" for i, (_, p) in enumerate(_SHAPES)))
_NAMES = tuple(name for name, _ in _SHAPES)
_ZONED = frozenset(name for name, rx in _RX.items() if "z" in rx.groupindex)


def epoch_to_utc(value: float | int, *, plausible: bool = False) -> datetime | None:
    """A UTC time from an epoch number; seconds, ms, µs or ns decided by magnitude."""
    if isinstance(value, bool):
        return None
    a = abs(value)
    if isinstance(value, int):
        us = (
            value * 1_000_000
            if a < 10**11
            else value * 1000
            if a < 10**14
            else (value if a < 10**17 else value // 1000)
        )
    else:
        scale = 1e6 if a < 1e11 else 1e3 if a < 1e14 else 1.0 if a < 1e17 else 1e-3
        us = int(value * scale)
    if plausible and not _PLAUSIBLE[0] * 10**6 <= us <= _PLAUSIBLE[1] * 10**6:
        return None
    try:
        return _EPOCH + timedelta(microseconds=us)
    except OverflowError:
        return None


def _zone(z: str | None) -> tzinfo | None:
    if not z:
        return None
    z = z.strip()
    named = _ZONES.get(z)
    if named is not None:
        return named
    sign = -1 if z[0] == "-" else 1
    digits = z[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    return timezone(sign * timedelta(minutes=minutes)) if minutes else UTC


def _build(g: dict[str, str | None], name: str, year: int) -> datetime | None:
    """A naive or aware datetime (seconds resolution) from a shape's groups, or None if invalid."""
    if name == "epoch":
        return epoch_to_utc(int(g["ep"] or 0), plausible=True)
    y = g.get("y") or g.get("y2")
    if g.get("mon"):
        m = MONTHS[(g["mon"] or "")[:3].lower()]
    elif name == "slash2":
        a, b, c = int(g["a"] or 0), int(g["b"] or 0), int(g["c"] or 0)
        # yy/MM/dd (log4j, Spark) unless the first number cannot be a year's month pair
        y, m, d = (f"20{c:02d}", a, b) if c > 31 and a <= 12 else (f"20{a:02d}", b, c)
        g = {**g, "d": str(d)}
    elif name == "slash4":
        a, b = int(g["a"] or 0), int(g["b"] or 0)
        m, d = (b, a) if a > 12 else (a, b)
        g = {**g, "d": str(d)}
    else:
        m = int(g["m"] or 0)
    if g.get("yy"):
        y = f"20{g['yy']}"
    hour, minute, sec = (
        g.get("H") or g.get("H2"),
        g.get("M") or g.get("M2"),
        g.get("S") or g.get("S2"),
    )
    try:
        h = int(hour or 0)
        if g.get("ampm"):
            h = h % 12 + (12 if (g["ampm"] or "").strip() == "PM" else 0)
        dt = datetime(int(y) if y else year, m, int(g["d"] or 0), h, int(minute or 0),
                      min(int(sec or 0), 59))  # fmt: skip
        zone = _zone(g.get("z"))  # an offset of a day or more (-2700) is no zone: invalid
    except (ValueError, TypeError):
        return None
    return dt.replace(tzinfo=zone) if zone is not None else dt


def _micro(f: str | None) -> int:
    return int(f[:6].ljust(6, "0")) if f else 0


def _finish(dt: datetime, f: str | None, tz: tzinfo) -> tuple[datetime, bool]:
    assumed = dt.tzinfo is None
    if assumed:
        dt = dt.replace(tzinfo=tz)
    if f:
        dt = dt.replace(microsecond=_micro(f))
    return dt.astimezone(UTC), assumed


def parse_ts(
    value: str | float | int, tz: tzinfo = UTC, year: int | None = None
) -> tuple[datetime, bool] | None:
    """``(utc_datetime, zone_assumed)`` for one value meant to be a time, or None.

    Numbers and digit strings are epochs (unit by magnitude); strings are
    ISO 8601 first, then every shape ``LineClock`` knows, matched whole.
    """
    if isinstance(value, int | float):
        dt = epoch_to_utc(value)
        return (dt, False) if dt is not None else None
    if len(value) >= 19 and value[4] == "-" and value[10] in "T ":  # the common ISO case first
        try:
            iso = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if iso.tzinfo is None:
                return iso.replace(tzinfo=tz).astimezone(UTC), True
            return iso.astimezone(UTC), False
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if text[0].isdigit() and text.replace(".", "", 1).isdigit():
        if len(text) < 9:  # short digit strings are counters or ids, not epochs
            return None
        dt = epoch_to_utc(float(text) if "." in text else int(text))
        return (dt, False) if dt is not None else None
    if text[0].isdigit() and len(text) >= 10 and text[4] == "-":
        try:
            iso = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if iso.tzinfo is None:
                return iso.replace(tzinfo=tz).astimezone(UTC), True
            return iso.astimezone(UTC), False
    for name in _NAMES:
        m = _RX[name].match(text)
        if m is not None and m.end() >= len(text) - 1:
            dt = _build(m.groupdict(), name, year or datetime.now(UTC).year)
            if dt is not None:
                return _finish(dt, m.group("f"), tz)
    return None


@dataclass(slots=True)
class Stamp:
    """A timestamp found in a line: the time, whether its zone was assumed, and where it ends."""

    ts: datetime
    assumed: bool
    start: int
    end: int
    shape: str


#: How far into a line a timestamp may start (past a file-name or host prefix).
SEARCH_CHARS = 96
#: A file whose first lines have no timestamp at all stops being searched (it has none).
GIVE_UP_LINES = 1000
_BOUNDARY = re.compile(r"(?:^|(?<=[\s\[(\"'<|]))(?=[\dA-Za-z])")


def find_any(line: str, tz: tzinfo = UTC, year: int | None = None) -> tuple[str, int, Stamp] | None:
    """The first valid timestamp starting at a token boundary near the line start.

    Returns ``(shape, tokens_before, stamp)``; ``tokens_before`` counts the
    whitespace-separated tokens before it (a file-name or host prefix).
    """
    head = line[:SEARCH_CHARS]
    for b in _BOUNDARY.finditer(head):
        m = _ANY.match(head, b.start())
        if m is None or m.lastgroup is None:
            continue
        name = _NAMES[int(m.lastgroup[1:])]
        full = _RX[name].match(line, b.start())
        if full is None:
            continue
        dt = _build(full.groupdict(), name, year or datetime.now(UTC).year)
        if dt is not None:
            ts, assumed = _finish(dt, full.group("f"), tz)
            skip = len(line[: b.start()].rstrip("[(<\"'").split())
            return name, skip, Stamp(ts, assumed, b.start(), full.end(), name)
    return None


class LineClock:
    """Finds the timestamp near the start of each line of one file, learning its shape once."""

    __slots__ = (
        "_base_year", "_cache", "_last_month", "_misses", "_shape", "_skip", "_yearless", "tz",
        "year",
    )  # fmt: skip

    def __init__(self, tz: tzinfo = UTC, year: int | None = None) -> None:
        self.tz = tz
        self.year = year or datetime.now(UTC).year
        self._base_year = self.year
        self._shape: str | None = None
        self._skip = 0  # tokens before the timestamp in this file's lines
        self._cache: dict[str, tuple[datetime, bool] | None] = {}
        self._last_month = 0
        self._misses = 0
        self._yearless = False

    @property
    def shape(self) -> str | None:
        return self._shape

    def year_note(self) -> str | None:
        """What the inventory should say when this file's times carry no year, else None."""
        if self._yearless:
            rolled = f", {self.year} after new year" if self.year != self._base_year else ""
            return f"timestamps have no year; {self._base_year} assumed{rolled}"
        return None

    def learn(self, line: str) -> bool:
        """Fix the file's timestamp shape from a line that has one; True when learned."""
        if self._misses >= GIVE_UP_LINES:
            return False
        found = find_any(line, self.tz, self.year)
        if found is None:
            self._misses += 1
            return False
        self._shape, self._skip, _ = found
        self._cache.clear()
        return True

    def relearn(self, line: str) -> Stamp | None:
        """Switch to another shape when this line starts with one (files concatenated from two apps)."""
        found = find_any(line[:SEARCH_CHARS], self.tz, self.year)
        if found is None or found[2].start > 1 or found[0] == self._shape:
            return None
        self._shape, self._skip, _ = found
        self._cache.clear()
        return self.read(line)

    def read(self, line: str) -> Stamp | None:
        """The timestamp of this line in the learned shape, or None (a continuation line)."""
        name = self._shape
        if name is None:
            return self.read(line) if self.learn(line) else None
        pos = 0
        if self._skip:
            parts = line.split(None, self._skip)
            if len(parts) <= self._skip:
                return None
            pos = len(line) - len(parts[-1])
        if pos < len(line) and line[pos] in "[(<":
            pos += 1
        m = _RX[name].match(line, pos)
        if m is None:
            return None
        found = self.stamp_of(m)
        if found is None:
            return None
        return Stamp(found[0], found[1], pos, m.end(), name)

    def start_pattern(self) -> str | None:
        """For fast paths: the learned shape's regex, when this file's timestamps start their
        lines and ``stamp_of`` of its match at a line's start is all ``read`` does."""
        if self._shape is None or self._skip or self._shape == "klog":
            return None
        return _RX[self._shape].pattern

    def stamp_of(self, m: re.Match[str]) -> tuple[datetime, bool] | None:
        """(time, zone assumed) of a match of the learned shape, or None (not a valid time)."""
        name = self._shape
        if name is None:
            return None
        if name in _ZONED:
            base, z, f = m.group("base", "z", "f")
            key = base + z if z else base
        else:
            key, f = m.group("base", "f")
        try:
            cached = self._cache[key]
        except KeyError:
            groups = m.groupdict()
            dt = self._roll(_build(groups, name, self.year), groups)
            # cache the second in UTC: the fraction is added per line and cannot move the offset
            cached = _finish(dt, None, self.tz) if dt is not None else None
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = cached
        if cached is None or not f:
            return cached
        second = cached[0]
        if second.microsecond:  # an epoch with a fraction of its own: the line's replaces it
            return second.replace(microsecond=_micro(f)), cached[1]
        # Adding a cached step is 0.1 us; datetime.replace(microsecond=...) was 1-2 us a line.
        step = _FRACTIONS.get(f)
        if step is None:
            step = timedelta(microseconds=_micro(f))
            if len(_FRACTIONS) < 65536:
                _FRACTIONS[f] = step
        return second + step, cached[1]

    def _roll(self, dt: datetime | None, g: dict[str, str | None]) -> datetime | None:
        """Carry a year-less time into the next year when the month jumps back (Dec → Jan)."""
        if dt is None or g.get("y") or g.get("y2") or g.get("yy") or g.get("c") or g.get("ep"):
            return dt
        self._yearless = True
        if self._last_month - dt.month > 6:
            self.year += 1
            self._cache.clear()
            dt = dt.replace(year=self.year)
        self._last_month = dt.month
        return dt


#: A fraction of a second as written (``"030"``, ``"123456789"``) to the time it adds.
_FRACTIONS: dict[str, timedelta] = {}
