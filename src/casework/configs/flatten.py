"""Flattening nested config documents to ``dotted.key[name]`` paths with scalar text values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def scalar_text(value: Any) -> str:
    """How a scalar config value is shown and compared: YAML/JSON spelling of booleans and null."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(path, text)`` for every scalar inside ``value``.

    Lists of objects that carry a ``name`` (Kubernetes containers, env vars,
    ports) are keyed by that name rather than by position, so reordering a list
    is not a difference; a ``{name, value}`` pair becomes ``prefix.NAME``.
    """
    if isinstance(value, dict):
        if not value and prefix:
            yield prefix, "{}"
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        if not value and prefix:
            yield prefix, "[]"
        for i, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                name = item["name"]
                if set(item) <= {"name", "value"}:
                    yield f"{prefix}.{name}", scalar_text(item.get("value"))
                    continue
                rest = {k: v for k, v in item.items() if k != "name"}
                yield from flatten(rest, f"{prefix}[{name}]")
            else:
                yield from flatten(item, f"{prefix}[{i}]")
    else:
        yield prefix, scalar_text(value)
