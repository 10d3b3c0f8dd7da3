"""Who the failures name: a value most records of a failure message carry in one of its places.

"Failed password for <*> from <*> port <*> ssh2" counts failed logins; which
address most of them come from is in the message, not in any field, so no
cohort sees it. A failure message is a template whose text says something
failed (``quiet_failures.says_failed``) or whose records are at error level.
Each of its records is matched against the template word by word (one value per
wildcard);
in each place, the most common value is reported when it holds a large share
of the records (a place of all-different values names no one; one whose every
record names the same merchant names it most clearly, when the value is an
identifier: digits in it, or a prefix such as ``m-`` before it in the template).
One finding per value, with every failure message it leads. Short numbers
(ports, counts, codes), dates and times are not who fails, unless an identifier's
prefix stands before them in the template (``m-<*>``: the merchant m-4417); nor
are a stack frame's source files and hex error codes. Messages of very large
templates are read from a deterministic sample.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from casework.analyzers.quiet_failures import says_failed
from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity, Window, clip, rate_text
from casework.levels import ERROR_LEVELS
from casework.mining.masks import WILDCARD

#: A failure message needs this many records, and its leading value this many and this share.
MIN_RECORDS = 20
MIN_COUNT = 10
MIN_SHARE = 0.3
#: The largest failure messages looked at, and the records read of each (a sample beyond).
MAX_TEMPLATES = 12
SAMPLE = 5000
MAX_FINDINGS = 4
#: A source file in a stack frame, a hex error code: where and what, never who.
_NEVER_WHO = re.compile(
    r"(?i)[\w$.\-/]+\.(?:go|py|java|kt|scala|groovy|js|mjs|cjs|ts|tsx|jsx|rb|cs|php|c|cpp|cxx|h"
    r"|hpp|exs|erl|swift|lua|dart)|0x[0-9a-f]+"
)
#: Ports, counts, status codes, uids say how, not who; dates and times say when.
_NOT_WHO = re.compile(
    r"\d{1,5}|(?:19|20)\d\d[./-]\d\d[./-]\d\d\b.*|\d\d[./-]\d\d[./-](?:19|20)\d\d\b.*"
    r"|\d{1,2}:\d\d(?::\d\d)?(?:[.,]\d+)?"
)


@dataclass(slots=True)
class _Lead:
    """One failure message's leading value in one place."""

    template: str
    pattern: str
    count: int
    matched: int
    distinct: int
    runner_up: tuple[str, int] | None
    sampled: bool
    #: The first two records naming the value (the evidence), and when it was first and last named.
    records: list[tuple[str, int, datetime | None, str]] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None
    #: Values another place holds in exactly the same records (a host name beside its address).
    aliases: list[str] = field(default_factory=list)


@analyzer(key="failure_values", needs=("event_counts",))
def failure_values(case: Case) -> Iterator[Finding]:
    """The values (an address, a user, an account) most records of a failure message name."""
    errors = ", ".join(f"'{lv}'" for lv in ERROR_LEVELS)
    candidates = [
        (str(t), str(p), int(n))
        for t, p, n, at_error in case.rows(
            "SELECT c.template_id, any_value(t.pattern), sum(c.n),"
            f" bool_and(lower(c.level) IN ({errors})) FROM event_counts c"
            " JOIN templates t USING (template_id) WHERE t.pattern LIKE ?"
            " GROUP BY c.template_id HAVING sum(c.n) >= ? ORDER BY sum(c.n) DESC, c.template_id",
            (f"%{WILDCARD}%", MIN_RECORDS),
        )
        if at_error or says_failed(str(p))
    ][:MAX_TEMPLATES]
    if not candidates:
        return
    rows = case.rows(
        "SELECT e.template_id, e.file, e.line, e.ts, e.message FROM events e"
        " JOIN (SELECT unnest(?::VARCHAR[]) t, unnest(?::BIGINT[]) k) s ON e.template_id = s.t"
        " WHERE s.k = 1 OR hash(e.file, e.line) % s.k = 0 ORDER BY e.ts, e.file, e.line",
        ([t for t, _, _ in candidates], [-(-n // SAMPLE) for _, _, n in candidates]),
    )
    by_template: dict[str, list[tuple[str, int, datetime | None, str]]] = {}
    for template, file, line, ts, message in rows:
        by_template.setdefault(str(template), []).append((str(file), int(line), ts, str(message)))
    leads: dict[str, list[_Lead]] = {}
    for template, pattern, n in candidates:
        for value, lead in _leads(template, pattern, by_template.get(template, []), n > SAMPLE):
            leads.setdefault(value, []).append(lead)
    made = [_finding(value, found) for value, found in leads.items()]
    made.sort(key=lambda f: (-int(f.stats["records"] or 0), f.subject))
    yield from made[:MAX_FINDINGS]


def _leads(
    template: str, pattern: str, records: list[tuple[str, int, datetime | None, str]],
    sampled: bool,
) -> Iterator[tuple[str, _Lead]]:  # fmt: skip
    """Each place's leading value in the records of one template, where it leads enough; a
    value in the same records as an earlier place's (a host and its address) is its alias."""
    tokens = pattern.split(" ")
    match = _matcher(tokens)
    prefixes = [p for tok in tokens for p in _prefixes(tok)]
    found: list[tuple[int, tuple[str, ...]]] = []
    for i, (_, _, _, message) in enumerate(records):
        groups = match(message)
        if groups is not None:
            found.append((i, groups))
    width = len(found[0][1]) if found else 0  # one pattern: every match has its groups
    leads: list[tuple[str, _Lead, frozenset[int]]] = []
    for place in range(width):
        counts = Counter(g[place] for _, g in found if g[place])
        ranked = counts.most_common(2)
        if not ranked:
            continue
        value, count = ranked[0]
        prefix = prefixes[place] if place < len(prefixes) else None
        if (
            count < MIN_COUNT
            or count < MIN_SHARE * len(found)
            or (prefix is None and _NOT_WHO.fullmatch(value))
            or _NEVER_WHO.fullmatch(value)
            or (len(counts) == 1 and prefix is None and not any(c.isdigit() for c in value))
        ):
            # One word in every record is likely a constant the miner took for a value
            # (``tty=NODEVssh``); one identifier (an address, ``standard-v2``) names someone.
            continue
        held = frozenset(i for i, g in found if g[place] == value)
        same = next((lead for _, lead, h in leads if h == held), None)
        if same is not None:
            same.aliases.append(value)
            continue
        times = [t for i in held if (t := records[i][2]) is not None]
        lead = _Lead(
            template=template, pattern=pattern, count=count, matched=len(found),
            distinct=len(counts),
            runner_up=(f"{prefix or ''}{ranked[1][0]}", ranked[1][1]) if len(ranked) > 1 else None,
            sampled=sampled, records=[records[i] for i in sorted(held)[:2]],
            first=min(times, default=None), last=max(times, default=None),
        )  # fmt: skip
        leads.append((f"{prefix or ''}{value}", lead, held))
    for value, lead, _ in leads:
        yield value, lead


def _matcher(tokens: list[str]) -> Callable[[str], tuple[str, ...] | None]:
    """The wildcards' values in a message with as many words as the template has tokens, word
    by word (a regular expression over the whole message can take exponential time on one that
    does not fit); a message of another length does not fit."""
    parts = [
        re.compile("(.+?)".join(re.escape(p) for p in tok.split(WILDCARD)), re.DOTALL)
        if WILDCARD in tok
        else None
        for tok in tokens
    ]

    def match(message: str) -> tuple[str, ...] | None:
        words = message.split()
        if len(words) != len(tokens):
            return None
        out: list[str] = []
        for token, word, part in zip(tokens, words, parts, strict=True):
            if part is None:
                if word != token:
                    return None
                continue
            m = part.fullmatch(word)
            if m is None:
                return None
            out.extend(m.groups())
        return tuple(out)

    return match


#: Literal text before a wildcard that makes its value an identifier (``m-<*>``, ``acct_<*>``,
#: ``#<*>``): the value is shown with it, and is one even when it is a short number.
_ID_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9]*[-_#]|#")


def _prefixes(token: str) -> list[str | None]:
    """Per wildcard of a template token: the identifier prefix its value is shown with, or None."""
    parts = token.split(WILDCARD)
    if len(parts) == 2 and not parts[1] and _ID_PREFIX.fullmatch(parts[0]):
        return [parts[0]]
    return [None] * (len(parts) - 1)


def _finding(value: str, leads: list[_Lead]) -> Finding:
    leads = sorted(leads, key=lambda x: (-x.count, x.template))
    top = leads[0]
    share = top.count / top.matched
    shown = clip(value, 80)
    named = shown + (f" ({', '.join(clip(a, 80) for a in top.aliases)})" if top.aliases else "")
    sample = " (in a sample of its records)" if top.sampled else ""
    others = len(leads) - 1
    more = f", and leads {others} more failure message{'s' if others > 1 else ''}" if others else ""
    places = "; ".join(
        f'"{clip(x.pattern, 120)}": {x.count:,} of {x.matched:,} ({rate_text(x.count / x.matched)},'
        f" {x.distinct - 1:,} other values there"
        + (f", next {x.runner_up[0]} ×{x.runner_up[1]:,}" if x.runner_up else "")
        + (", sampled" if x.sampled else "")
        + ")"
        for x in leads
    )
    firsts = [x.first for x in leads if x.first is not None]
    lasts = [x.last for x in leads if x.last is not None]
    files = sorted({r[0] for x in leads for r in x.records})
    severity: Severity = "medium" if share >= 0.5 and top.count >= 50 else "low"
    return Finding(
        key="FAILURE_VALUE",
        analyzer="failure_values",
        subject=value,
        severity=severity,
        score=round(min(0.7, 0.35 + 0.3 * share), 4),
        title=(
            f'{named} is in every one of the {top.count:,} records of "{clip(top.pattern, 120)}"'
            f"{sample}{more}"
            if top.distinct == 1
            else f'{named} is in {top.count:,} of {top.matched:,} records of "{clip(top.pattern, 120)}"'
            f"{sample} ({rate_text(share)}; {top.distinct - 1:,} other values there){more}"
        ),
        summary=(
            f"The failure messages name {named} more than any other value in one place: {places}."
            " A failure concentrated on one value points at who fails (a client, a user, a host,"
            " an account), not at the service."
        ),
        window=Window(min(firsts), max(lasts)) if firsts and lasts else None,
        entities={
            "value": shown,
            "template_id": top.template,
            "template": clip(top.pattern, 120),
            **({"file": files[0]} if len(files) == 1 else {}),
        },
        stats={
            "records": top.count,
            "total": top.matched,
            "share": round(share, 6),
            "distinct": top.distinct,
            "messages": len(leads),
            "sampled": top.sampled,
        },
        evidence=tuple(
            Evidence(file, (line, line), message[:300]) for file, line, _, message in top.records
        ),
        next_steps=(
            f"Find out who {shown} is (a client, a user, a host, an account) and whether the"
            " reported problem is theirs alone.",
            f"Read a failure naming {shown} beside one naming another value: what else differs.",
        ),
    )
