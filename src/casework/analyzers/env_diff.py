"""Works in one environment, fails in another: which config difference explains it.

Config keys of two environments are compared (values already redacted, so
two secrets compare as placeholders); each difference is classified by kind
and ranked by how likely it is to explain the symptom. A difference is
promoted when the failing environment's evidence points at it: a redirect
from http to https points at the key whose URL uses http, requests aborted
at N ms at the key whose value is N ms, "token not yet valid" errors at the
clock settings. Benign differences (hosts, replicas, log levels) rank low.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from casework.case import Case
from casework.configs.diffkind import Difference, classify, is_clock_key, number_of
from casework.configs.envname import side
from casework.configs.symptoms import Symptoms, failing_env, gather, named_keys
from casework.engine import analyzer
from casework.findings import Evidence, Finding, Severity

PROMOTION = 0.45
MAX_FINDINGS = 3
MAX_LISTED = 8
_PREFERRED_WORKING = ("dev", "staging", "qa", "test", "uat", "sandbox")


@dataclass(frozen=True, slots=True)
class _Scored:
    diff: Difference
    score: float
    because: str
    evidence: tuple[Evidence, ...]


@analyzer(key="env_diff", needs=("configs",))
def env_diff(case: Case) -> Iterator[Finding]:
    """Config differences between two environments, ranked by how well they explain the symptom."""
    envs = [
        e
        for (e,) in case.rows("SELECT DISTINCT env FROM configs WHERE env IS NOT NULL ORDER BY env")
    ]
    if len(envs) < 2:
        return
    after = next((e for e in envs if side(e) == "after"), None)
    bad = failing_env(case, envs) or after or ("prod" if "prod" in envs else envs[-1])
    before = next((e for e in envs if side(e) == "before" and e != bad), None)
    good = before or next((e for e in _PREFERRED_WORKING if e in envs and e != bad), None)
    good = good or next(e for e in envs if e != bad)
    a, b = _values(case, good), _values(case, bad)
    diffs = [
        classify(k, a.get(k, (None, ""))[0], b.get(k, (None, ""))[0])
        for k in sorted(set(a) | set(b))
    ]
    diffs = [d for d in diffs if d.a != d.b]
    if not diffs:
        return
    symptoms = gather(case, bad)
    named = named_keys(case, bad, [d.key for d in diffs])
    scored = sorted(
        (_score(d, symptoms, a, b, named.get(d.key, [])) for d in diffs),
        key=lambda s: (-s.score, s.diff.key),
    )
    total = len(scored)
    for position, top in enumerate(scored[:MAX_FINDINGS]):
        if position > 0 and top.score < 0.3:
            break
        yield _finding(top, scored, good, bad, total, position)


def _values(case: Case, env: str) -> dict[str, tuple[str, str]]:
    """key -> (value, "file:line") for one environment; the last file in name order wins."""
    rows = case.rows(
        "SELECT key, value, file, line FROM configs WHERE env = ? ORDER BY file, line", [env]
    )
    return {key: (value, f"{file}:{line}") for key, value, file, line in rows}


def _score(
    d: Difference,
    s: Symptoms,
    a: dict[str, tuple[str, str]],
    b: dict[str, tuple[str, str]],
    named: list[Evidence],
) -> _Scored:
    score, because, evidence = d.prior, "", _config_evidence(d, a, b)
    if d.kind == "scheme" and s.redirect_total and (d.b or "").lower().startswith("http://"):
        host = urlsplit(d.b or "").hostname or ""
        hosts = {h for h, _ in s.redirects}
        matched = (
            sum(n for (h, _), n in s.redirects.items() if h == host)
            if host in hosts
            else s.redirect_total
        )
        score += PROMOTION + (0.1 if host in hosts else 0.0)
        because = (
            f"{matched} of {s.redirect_total} redirects in the failing environment go from http://"
            f"{host or '…'} to https"
        )
        evidence += tuple(s.evidence.get("redirect", [])[:3])
    elif s.abort_ms is not None and d.b is not None:
        value = _as_ms(d.key, d.b)
        if value is not None and abs(value - s.abort_ms) <= max(0.1 * s.abort_ms, 5):
            score += PROMOTION + 0.1
            because = (
                f"{s.abort_count} of {s.abort_total} "
                + s.abort_seen.format(ms=f"{s.abort_ms:.0f} ms")
                + f", within 10% of this key's {value:.0f} ms"
            )
            evidence += tuple(s.evidence.get("abort", [])[:3])
    lowered = _lowered_limit(d)
    if not because and lowered is not None and s.limits[lowered] >= max(3, s.limit_total // 2):
        score += PROMOTION + 0.1
        because = (
            f"{s.limits[lowered]} of {s.limit_total} error records that state a pool's or a"
            f" limit's count give {lowered}, this key's value in the failing environment"
        )
        evidence += tuple(s.evidence.get("limit", [])[:3])
    if not because and named:
        score += PROMOTION
        because = (
            f"{len(named)} warning or error record(s) in the failing environment's evidence name"
            f' this setting: "{named[0].excerpt}"'
        )
        evidence += tuple(named[:3])
    if not because and s.clock_errors and is_clock_key(d.key):
        score += PROMOTION
        because = f"{s.clock_errors} errors say a token is not yet valid or the clock is off"
        evidence += tuple(s.evidence.get("clock", [])[:3])
    return _Scored(d, min(score, 1.0), because, evidence)


#: Key names of a bounded resource's size: a pool, a limit, connections, workers.
_CAPACITY = re.compile(r"(?i)(pool|max|limit|size|capacity|connections|threads|workers|concurren)")


def _lowered_limit(d: Difference) -> int | None:
    """The failing side's value of a capacity key it lowered (a pool of 50 set to 10), else None."""
    a, b = number_of(d.a), number_of(d.b)
    leaf = d.key.rsplit(".", 1)[-1]
    if a is None or b is None or not b < a or not b.is_integer() or not _CAPACITY.search(leaf):
        return None
    return int(b)


def _as_ms(key: str, value: str) -> float | None:
    number = number_of(value)
    if number is None:
        return None
    leaf = key.rsplit(".", 1)[-1].lower()
    if leaf.endswith(("_s", "_sec", "_secs", "_seconds", "seconds")) or (
        number < 60 and "." in value and not leaf.endswith("ms")
    ):
        return number * 1000.0
    return number


def _config_evidence(
    d: Difference, a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]
) -> tuple[Evidence, ...]:
    out = []
    for name, values, value in (("A", a, d.a), ("B", b, d.b)):
        if d.key in values:
            where = values[d.key][1]
            file, _, line = where.rpartition(":")
            out.append(Evidence(file, (int(line), int(line)), f"{d.key}: {value}  ({name})"))
    return tuple(out)


def _finding(
    top: _Scored, scored: list[_Scored], good: str, bad: str, total: int, position: int
) -> Finding:
    d = top.diff
    promoted = bool(top.because)
    severity: Severity = "high" if promoted else ("medium" if d.prior >= 0.35 else "low")
    shown_a = d.a if d.a is not None else "(not set)"
    shown_b = d.b if d.b is not None else "(not set)"
    detail = (
        d.detail.replace(" in B", f" in {bad}")
        .replace("only in A", f"only in {good}")
        .replace("only in B", f"only in {bad}")
        .replace(" in A", f" in {good}")
    )
    title = f"{bad} sets {d.key} = {shown_b} where {good} has {shown_a} ({detail})"
    if promoted:
        title += f"; {top.because}"
    others = [s for s in scored if s is not top][:MAX_LISTED]
    summary = (
        f"{total} config keys differ between {good} and {bad}. "
        + (
            f"This one is promoted because {top.because}. "
            if promoted
            else "No symptom in the evidence points at a key; ranked by kind of difference. "
        )
        + f"Other differences: {', '.join(f'{s.diff.key} ({s.diff.kind})' for s in others) or 'none'}."
    )
    steps = [
        f"Set {d.key} in {bad} to the {good} value ({shown_a}) in a test deployment and repeat the failing call."
    ]
    if promoted:
        steps.append(
            "If the failure persists with the same value as in the working environment, this key is refuted; try the next difference."
        )
    return Finding(
        key="ENV_CONFIG_DIFF",
        analyzer="env_diff",
        subject=d.key,
        severity=severity,
        score=top.score,
        title=title,
        summary=summary,
        entities={"key": d.key, "kind": d.kind, "env_failing": bad, "env_working": good,
                  f"value_{bad}": shown_b, f"value_{good}": shown_a},
        stats={"differences": total, "rank_among_differences": position + 1,
               "prior": round(d.prior, 3), "promoted": promoted},
        evidence=top.evidence,
        next_steps=tuple(steps),
    )  # fmt: skip
