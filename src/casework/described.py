"""What a case description says went wrong, in numbers the evidence can be checked against.

A reporter writes "the dashboard takes 20+ seconds to load", "refunds return
500", "a 3-second latency spike every 12 minutes". Two kinds of claim are read:

- a **duration** the reporter felt: a number with a unit (ms, s, min, h), or a
  plural unit alone ("takes minutes": one of it, the least it can mean), in a
  sentence about slowness (slow, latency, takes, hangs, waits, times out,
  loads, responds, delay, spike, lag, stall, freeze). A period ("every 12
  minutes", "for the last 2 minutes", "5 minutes ago") is not one. A usual
  time may be named beside the symptom ("normally 300 ms"): the longest is it.
- an **HTTP status**: ``500``, ``502s``, ``5xx`` next to a word about
  responses or errors (HTTP, status, code, return, respond, error, fail, got,
  see, throw), and not a count of something ("500 users", "404 ms").

>>> durations("Dashboard takes 20+ seconds to load since Monday; normally 300 ms.")
[Claim(value=20000.0, phrase='20+ seconds'), Claim(value=300.0, phrase='300 ms')]
>>> durations("a 3-second latency spike every 12 minutes")
[Claim(value=3000.0, phrase='3-second')]
>>> durations("The report query now takes minutes instead of seconds.")
[Claim(value=60000.0, phrase='minutes'), Claim(value=1000.0, phrase='seconds')]
>>> statuses("refunds return 500, but only for accounts created after March 1st")
[Claim(value=500.0, phrase='500')]
>>> statuses("500 users got 502s from the gateway")
[Claim(value=502.0, phrase='502s')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Keys of findings that say the evidence does not show what the description reports (the
#: ``reported_symptoms`` analyzer): a gap in the evidence, not a problem to report to engineering.
GAP_KEYS = frozenset(
    {
        "REPORTED_WAIT_NOT_SEEN",
        "REPORTED_WAIT_UNMEASURED",
        "REPORTED_STATUS_NOT_SEEN",
        "REPORTED_STATUS_UNMEASURED",
        "REPORTED_FAILURE_NOT_SEEN",
    }
)
#: The gap that says the evidence holds no failure at all.
NO_FAILURE_KEY = "REPORTED_FAILURE_NOT_SEEN"
_UNIT_MS = {"ms": 1.0, "s": 1e3, "min": 6e4, "h": 3.6e6}
_UNITS = {
    "ms": "ms", "msec": "ms", "msecs": "ms", "millis": "ms", "millisecond": "ms",
    "milliseconds": "ms", "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "min": "min", "mins": "min", "minute": "min", "minutes": "min",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
}  # fmt: skip
#: A wait with a number ("20+ seconds"), or a plural unit alone ("takes minutes", "a few
#: seconds"), read as one of that unit: the least it can mean.
_DURATION = re.compile(
    r"(?<![\w.])(?:(?P<num>\d+(?:[.,]\d+)?)(?:\s*\+)?\s*-?\s*(?P<unit>"
    + "|".join(sorted(_UNITS, key=len, reverse=True))
    + r")|(?:(?:a\s+)?(?:few|several|many|couple\s+of)\s+)?(?P<bare>seconds|minutes|hours))\b",
    re.IGNORECASE,
)
_SLOWNESS = re.compile(
    r"\b(?:slow\w*|latenc\w*|takes?|took|taking|hang\w*|hung|wait\w*|time[sd]?[ -]?out\w*"
    r"|load\w*|respon\w*|delay\w*|spikes?|lag\w*|stall\w*|freez\w*|froze\w*|sluggish"
    r"|p\d\d(?:\.\d+)?|percentile\w*|duration\w*)\b",
    re.IGNORECASE,
)
#: Words before a duration that make it a period or a span of time, not a wait (also before
#: a range's upper end: "every 10-15 minutes").
_PERIOD_BEFORE = re.compile(
    r"\b(?:every|each|per|once|last|past|since|within|over|in the)\s+(?:the\s+)?(?:last\s+)?"
    r"(?:\d+(?:[.,]\d+)?\s*(?:-|–|to|or)\s*)?$",
    re.IGNORECASE,
)
_AGO_AFTER = re.compile(r"^\s*(?:ago|later|earlier)\b", re.IGNORECASE)
_STATUS = re.compile(
    r"(?<![\w.])(?<!\d,)(?P<code>[45]\d\d|[45]xx)(?P<plural>s|'s)?(?![\w%]|[.,]\d)", re.I
)
_STATUS_CUE = re.compile(
    r"\b(?:https?|status\w*|codes?|return\w*|respon\w*|reply|replies|errors?|fail\w*|got|gets?"
    r"|getting|see|seeing|saw|throw\w*|gateway)\b",
    re.IGNORECASE,
)
#: What a number counts or measures when it is not a status.
_COUNTED = re.compile(
    r"^\s*(?:\+|users?|customers?|accounts?|requests?|calls?|rows?|records?|items?|orders?"
    r"|times?|ms|s|secs?|seconds?|minutes?|mins?|hours?|days?|mb|gb|kb|bytes?|%|percent)\b",
    re.IGNORECASE,
)
#: Where a sentence ends: a stop before a space, or a line break ("4.5 s" stays whole).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")


@dataclass(frozen=True, slots=True)
class Claim:
    """A number the description states and the words it was read from: milliseconds for a
    duration; for a status the code, or its class's hundred (``5xx``: 500.0, see
    :attr:`status_class`)."""

    value: float
    phrase: str

    @property
    def status_class(self) -> bool:
        """The claim names a class of statuses (``5xx``), not one."""
        return self.phrase.lower().startswith(("4xx", "5xx"))


def durations(text: str) -> list[Claim]:
    """The waits a description reports, in milliseconds, in the order written."""
    out: list[Claim] = []
    for part in _SENTENCE_END.split(text):
        if not _SLOWNESS.search(part):
            continue
        for m in _DURATION.finditer(part):
            if _PERIOD_BEFORE.search(part[: m.start()]) or _AGO_AFTER.match(part[m.end() :]):
                continue
            number = float(m["num"].replace(",", ".")) if m["num"] else 1.0
            unit = _UNITS[(m["unit"] or m["bare"]).lower()]
            if number > 0:
                out.append(Claim(number * _UNIT_MS[unit], m.group(0).strip()))
    return out


def statuses(text: str) -> list[Claim]:
    """The HTTP statuses (or classes) a description reports, each once, in the order written."""
    out: dict[str, Claim] = {}
    for m in _STATUS.finditer(text):
        code = m["code"].lower()
        if _COUNTED.match(text[m.end() :]):
            continue
        before = " ".join(text[: m.start()].split()[-4:])
        after = " ".join(text[m.end() :].split()[:2])
        if not (_STATUS_CUE.search(before) or _STATUS_CUE.search(after) or m["plural"]):
            continue
        value = float(code[0]) * 100 if code.endswith("xx") else float(code)
        out.setdefault(code, Claim(value, m.group(0)))
    return list(out.values())


#: Words a reporter uses when something fails ("some tasks seem to fail", "errors since 9");
#: a timeout is a wait, which ``durations`` reads.
_FAILING = re.compile(
    r"\b(?:fail(?:s|ed|ing|ures?)?|errors?|crash(?:es|ed|ing)?|broken|exceptions?|rejected"
    r"|refused)\b",
    re.IGNORECASE,
)
_NOT_FAILING = re.compile(r"\b(?:no|not|without|never|zero)\s+(?:\w+\s+)?$", re.IGNORECASE)


def failures(text: str) -> list[str]:
    """The sentences of a description that report something failing, in the order written."""
    out = []
    for part in _SENTENCE_END.split(text):
        if any(not _NOT_FAILING.search(part[: m.start()]) for m in _FAILING.finditer(part)):
            out.append(part.strip())
    return out
