"""Persisted miner state: plain JSON (never pickle), so loading cannot run code."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from casework.errors import CaseworkError
from casework.mining.masks import OPT, VAR

# On disk "<*>" keeps the file readable; NUL and SOH are the in-memory wildcards.
_ON_DISK = {VAR: "<*>", OPT: "<*?>"}

FORMAT = "casework.templates/1"


def dump(
    path: Path,
    clusters: list[tuple[int, tuple[str, ...], int]],
    aliases: dict[int, int],
    known: set[str],
    next_id: int,
) -> None:
    """Write the state atomically (a crash never leaves half a file)."""
    doc = {
        "format": FORMAT,
        "next_id": next_id,
        "clusters": [
            {"id": cid, "tokens": [_encode(t) for t in tokens], "count": count}
            for cid, tokens, count in clusters
        ],
        "aliases": {str(k): v for k, v in aliases.items()},
        "known": sorted(known),
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def read(path: Path) -> dict[str, Any]:
    """Read and check a state file; raise CaseworkError naming the file if unusable."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CaseworkError(
            f"cannot read template state ({type(exc).__name__})", file=str(path)
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CaseworkError(f"not a {FORMAT} state file", file=str(path))
    try:
        clusters = [
            (int(c["id"]), tuple(_decode(str(t)) for t in c["tokens"]), int(c["count"]))
            for c in doc["clusters"]
        ]
        aliases = {int(k): int(v) for k, v in doc["aliases"].items()}
        known = {str(t) for t in doc["known"]}
        next_id = int(doc["next_id"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CaseworkError("malformed template state", file=str(path)) from None
    return {"clusters": clusters, "aliases": aliases, "known": known, "next_id": next_id}


def _encode(token: str) -> str:
    return _ON_DISK.get(token) or token.replace(VAR, "<*>")


def _decode(token: str) -> str:
    return OPT if token == "<*?>" else token.replace("<*>", VAR)
