"""Version and runtime fingerprint per environment: SDK, library, runtime and OS versions compared.

Versions come from user agents (``acme-sdk-python/2.3.1 CPython/3.11.4 Linux/5.15``),
config keys that hold a version or an image tag, version-bearing log
attributes, and "Starting X version Y" changes. A component seen with
different versions in two environments is a finding; the same version
everywhere is not.

>>> sorted(product_versions("acme-sdk/2.3.1 (Linux; x86_64) python-requests/2.31.0 CPython/3.11.4"))
[('acme-sdk', '2.3.1'), ('cpython', '3.11.4'), ('python-requests', '2.31.0')]
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from casework.case import Case
from casework.engine import analyzer
from casework.findings import Evidence, Finding

_PRODUCT = re.compile(r"(?<![\w.])([A-Za-z][\w.\-]{1,40})/v?(\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?)")
_IMAGE = re.compile(r"^[\w.\-/]+:(v?\d+(?:\.\d+)+[\w.\-]*)$")
_VERSION_KEY = re.compile(r"(?i)(version|_ver$|\.ver$|release|image$|tag$)")
_VERSION_VALUE = re.compile(r"^v?\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?$")
_IGNORED = {"mozilla", "applewebkit", "khtml", "gecko", "safari", "http", "https"}

Seen = dict[str, dict[str, dict[str, Evidence]]]  # component -> env -> version -> first evidence


def product_versions(text: str) -> Iterator[tuple[str, str]]:
    """``(product, version)`` pairs of a user agent or similar product string."""
    for m in _PRODUCT.finditer(text):
        name = m.group(1).lower()
        if name not in _IGNORED:
            yield name, m.group(2)


@analyzer(key="versions", needs=())
def versions(case: Case) -> Iterator[Finding]:
    """Components whose versions differ between environments."""
    seen: Seen = defaultdict(lambda: defaultdict(dict))
    _from_clients(case, seen)
    _from_configs(case, seen)
    _from_changes(case, seen)
    for component in sorted(seen):
        by_env = seen[component]
        envs = sorted(e for e in by_env if e)
        if len(envs) < 2:
            continue
        sets = {e: frozenset(by_env[e]) for e in envs}
        if len(set(sets.values())) == 1:
            continue
        shown = "; ".join(f"{e}: {', '.join(sorted(sets[e]))}" for e in envs)
        evidence = tuple(ev for e in envs for ev in list(by_env[e].values())[:1])
        yield Finding(
            key="VERSION_DIFF", analyzer="versions", subject=component, severity="medium", score=0.45,
            title=f"{component} differs between environments ({shown})",
            summary=(f"{component} runs in different versions per environment ({shown}). A behaviour seen in only "
                     "one environment may come from the version it alone runs."),
            entities={"component": component, **{f"version_{e}": ", ".join(sorted(sets[e])) for e in envs}},
            stats={"environments": len(envs)}, evidence=evidence,
            next_steps=(f"Run the failing call with the other environment's {component} version and see whether it follows the version.",),
        )  # fmt: skip


def _add(seen: Seen, component: str, env: str | None, version: str, evidence: Evidence) -> None:
    if env is None:
        return
    seen[component][env].setdefault(version, evidence)


def _from_clients(case: Case, seen: Seen) -> None:
    rows = case.rows(
        "SELECT client, file, min(line) FROM requests WHERE client IS NOT NULL GROUP BY client, file LIMIT 20000"
    )
    env_of = case.file_envs().get
    for client, file, line in rows:
        for name, version in product_versions(client):
            _add(seen, name, env_of(file), version, Evidence(file, (line, line), client[:200]))


def _from_configs(case: Case, seen: Seen) -> None:
    for env, file, key, value, line in case.rows(
        "SELECT env, file, key, value, line FROM configs WHERE env IS NOT NULL"
    ):
        leaf = key.rsplit(".", 1)[-1]
        image = _IMAGE.match(value.strip())
        if image is not None and ("/" in value or _VERSION_KEY.search(leaf)):
            name = value.rsplit(":", 1)[0].rsplit("/", 1)[-1]
            _add(seen, name, env, image.group(1), Evidence(file, (line, line), f"{key}: {value}"))
        elif _VERSION_KEY.search(leaf) and _VERSION_VALUE.match(value.strip()):
            name = key.rsplit(".", 2)[-2] if "." in key else key
            _add(
                seen,
                name.lower(),
                env,
                value.strip(),
                Evidence(file, (line, line), f"{key}: {value}"),
            )


def _from_changes(case: Case, seen: Seen) -> None:
    rows = case.rows(
        "SELECT what, version, source, line FROM changes WHERE version IS NOT NULL AND kind = 'restart'"
    )
    env_of = case.file_envs().get
    for what, version, source, line in rows:
        _add(
            seen,
            what.lower(),
            env_of(source),
            version,
            Evidence(source, (line, line), f"{what} {version}"),
        )
