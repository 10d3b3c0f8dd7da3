"""Which environment a file belongs to, from its folder or file name (``prod/``, ``app.dev.yaml``)."""

from __future__ import annotations

import re

#: Spellings of environment names, mapped to one canonical name each.
ENV_NAMES: dict[str, str] = {
    "dev": "dev", "develop": "dev", "development": "dev", "local": "dev",
    "prod": "prod", "production": "prod", "prd": "prod", "live": "prod",
    "staging": "staging", "stage": "staging", "stg": "staging", "preprod": "staging",
    "qa": "qa", "test": "test", "testing": "test", "uat": "uat", "sandbox": "sandbox",
}  # fmt: skip

#: Words that name a folder holding one side of a change: the configs before it (the working
#: side) and after it (the failing side), as ``before/`` or ``after-2.14.0/``.
SIDES: dict[str, str] = {
    "before": "before", "old": "before", "previous": "before", "prev": "before",
    "baseline": "before", "after": "after", "new": "after", "broken": "after",
    "failing": "after",
}  # fmt: skip

_SPLIT = re.compile(r"[/\\._\-]+")


def env_of(path: str, overrides: dict[str, str] | None = None) -> str | None:
    """The environment a bundle path belongs to, or None when nothing names one.

    ``overrides`` maps path prefixes to environment names (``--env-a``/``--env-b``)
    and wins over inference. A folder named for a side of a change (``before-2.13.4``)
    is its own environment; then folder names are preferred over file-name parts,
    the innermost folder first.
    """
    if overrides:
        for prefix, env in sorted(overrides.items(), key=lambda kv: -len(kv[0])):
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return env
    parts = path.replace("\\", "/").split("/")
    # The two sides of a change outrank the environment both are in (``before/app-prod.yml``).
    for folder in reversed(parts[:-1]):
        if side(folder) is not None:
            return folder
    for folder in reversed(parts[:-1]):
        name = ENV_NAMES.get(folder.lower())
        if name:
            return name
    for token in _SPLIT.split(parts[-1].lower()):
        name = ENV_NAMES.get(token)
        if name:
            return name
    return None


def side(env: str) -> str | None:
    """ "before" or "after" for an environment named for a side of a change: the word alone or
    with a version (``after-2.14.0``, ``old_v3``), not a name that starts with it
    (``new-relic``), else None."""
    first, *rest = _SPLIT.split(env.lower())
    if rest and not any(c.isdigit() for c in "".join(rest)):
        return None
    return SIDES.get(first)
