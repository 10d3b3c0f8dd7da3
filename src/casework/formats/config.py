"""Config files: YAML (multi-document, Helm values, Kubernetes manifests), JSON, TOML, INI, .env, .properties.

Each is flattened to ``ConfigRecord(key, value)`` with the line the key is on.
Config files are small; one is read whole up to ``MAX_CONFIG_BYTES``.

>>> [(r.key, r.value) for r in parse_dotenv(io.BytesIO(b"export API_URL=https://x\\n# c\\nDEBUG=false\\n"), ParseContext("a.env"))]
[('API_URL', 'https://x'), ('DEBUG', 'false')]
"""

from __future__ import annotations

import configparser
import io
import json
import re
import tomllib
from collections.abc import Iterator
from typing import Any, BinaryIO

import yaml

from casework.configs.flatten import flatten, scalar_text
from casework.formats.base import Format, ParseContext
from casework.model import ConfigRecord

MAX_CONFIG_BYTES = 16 << 20

_DOTENV = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$")
_PROPERTY = re.compile(r"^([A-Za-z0-9_][\w.\-/]*)\s*[=:]\s?(.*)$")
_SECTION = re.compile(r"^\s*\[[^\]\n]+\]\s*$")
_YAML_KEY = re.compile(r"^\s*(?:-\s+)?[\w.\-\"'/]+:(?:\s|$)")
_LOG_START = re.compile(r"^\s*(?:\[?\d{2,4}[-/.]\d{2}|\d{10}|[A-Z][a-z]{2} +\d)")


def _text(head: bytes) -> list[str] | None:
    if b"\x00" in head[:4096]:
        return None
    text = head.decode("utf-8", "replace")
    lines = [
        ln
        for ln in text.splitlines()[:200]
        if ln.strip() and not ln.lstrip().startswith(("#", ";", "!"))
    ]
    if len(text) == len(head) and not text.endswith("\n") and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the head's end
    return lines


def _share(lines: list[str], pattern: re.Pattern[str]) -> float:
    return sum(1 for ln in lines if pattern.match(ln)) / len(lines) if lines else 0.0


def _logs_like(lines: list[str]) -> bool:
    return _share(lines, _LOG_START) > 0.3


def sniff_dotenv(head: bytes) -> float:
    lines = _text(head)
    if not lines or _logs_like(lines):
        return 0.0
    upper = sum(1 for ln in lines if (m := _DOTENV.match(ln)) and m.group(1).isupper())
    return 0.8 if upper / len(lines) >= 0.8 else 0.0


def sniff_properties(head: bytes) -> float:
    lines = _text(head)
    if not lines or _logs_like(lines) or _share(lines, _SECTION) > 0:
        return 0.0
    dotted = sum(1 for ln in lines if (m := _PROPERTY.match(ln)) and "." in m.group(1))
    return 0.65 if _share(lines, _PROPERTY) >= 0.9 and dotted / len(lines) >= 0.5 else 0.0


def sniff_ini(head: bytes) -> float:
    lines = _text(head)
    if not lines or _logs_like(lines) or not _SECTION.match(lines[0]):
        return 0.0
    body = [ln for ln in lines if not _SECTION.match(ln)]
    return 0.7 if body and _share(body, _PROPERTY) >= 0.8 else 0.0


def sniff_toml(head: bytes) -> float:
    if sniff_ini(head) == 0.0 and not head.lstrip().startswith((b"[", b"title", b"name")):
        return 0.0
    try:
        tomllib.loads(head.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return 0.0
    return 0.75


def sniff_yaml(head: bytes) -> float:
    lines = _text(head)
    if not lines or _logs_like(lines):
        return 0.0
    if lines[0].strip() in {"---", "%YAML 1.2", "%YAML 1.1"}:
        lines = lines[1:] or lines
    keys = _share(lines, _YAML_KEY)
    structural = sum(1 for ln in lines if ln.strip() == "---" or ln.lstrip().startswith("- "))
    if keys + structural / len(lines) < 0.7:
        return 0.0
    return 0.6


def sniff_json(head: bytes) -> float:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"{") or b"\n{" in stripped[:4096].replace(b" ", b""):
        return 0.0
    try:
        doc = json.loads(stripped)
    except ValueError:
        return 0.0  # cut by the head, or not JSON: configs are small, so a complete one parses
    return 0.55 if isinstance(doc, dict) else 0.0


def _read(stream: BinaryIO, ctx: ParseContext) -> str | None:
    data = stream.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        ctx.bad(1, f"config larger than {MAX_CONFIG_BYTES >> 20} MiB; not read")
        return None
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def parse_dotenv(stream: BinaryIO, ctx: ParseContext) -> Iterator[ConfigRecord]:
    text = _read(stream, ctx)
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _DOTENV.match(line.strip())
        if m is None:
            ctx.bad(number, "not a KEY=value line")
            continue
        yield ConfigRecord(number, m.group(1), _unquote(m.group(2)))


def parse_properties(stream: BinaryIO, ctx: ParseContext) -> Iterator[ConfigRecord]:
    text = _read(stream, ctx)
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith(("#", "!")):
            continue
        m = _PROPERTY.match(line.strip())
        if m is None:
            ctx.bad(number, "not a key=value line")
            continue
        yield ConfigRecord(number, m.group(1), m.group(2).strip())


def parse_ini(stream: BinaryIO, ctx: ParseContext) -> Iterator[ConfigRecord]:
    text = _read(stream, ctx)
    if text is None:
        return
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        ctx.bad(getattr(exc, "lineno", 1) or 1, type(exc).__name__)
        return
    lines = _line_index(text)
    for section in parser.sections():
        for key, value in parser.items(section, raw=True):
            yield ConfigRecord(lines.get(key, 1), f"{section}.{key}", value)


def parse_toml(stream: BinaryIO, ctx: ParseContext) -> Iterator[ConfigRecord]:
    text = _read(stream, ctx)
    if text is None:
        return
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        ctx.bad(getattr(exc, "lineno", 1) or 1, "invalid TOML")
        return
    lines = _line_index(text)
    for key, value in flatten(doc):
        yield ConfigRecord(lines.get(key.rsplit(".", 1)[-1], 1), key, value)


def parse_json(stream: BinaryIO, ctx: ParseContext) -> Iterator[ConfigRecord]:
    text = _read(stream, ctx)
    if text is None:
        return
    try:
        doc = json.loads(text)
    except ValueError as exc:
        ctx.bad(getattr(exc, "lineno", 1), "invalid JSON")
        return
    lines = _line_index(text, quote='"')
    for key, value in flatten(doc):
        yield ConfigRecord(lines.get(key.rsplit(".", 1)[-1].split("[")[0], 1), key, value)


def parse_yaml(stream: BinaryIO, ctx: ParseContext) -> Iterator[ConfigRecord]:
    text = _read(stream, ctx)
    if text is None:
        return
    try:
        nodes = list(yaml.compose_all(io.StringIO(text), Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        ctx.bad((mark.line + 1) if mark else 1, "invalid YAML")
        return
    for node in nodes:
        if node is None:
            continue
        prefix = _manifest_prefix(node)
        yield from _walk_yaml(node, prefix)


def _manifest_prefix(node: yaml.Node) -> str:
    """``Kind/name`` for a Kubernetes manifest document, so several documents do not collide."""
    if not isinstance(node, yaml.MappingNode):
        return ""
    top = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    kind = top.get("kind")
    meta = top.get("metadata")
    if not isinstance(kind, yaml.ScalarNode) or "apiVersion" not in top:
        return ""
    name = ""
    if isinstance(meta, yaml.MappingNode):
        for k, v in meta.value:
            if k.value == "name" and isinstance(v, yaml.ScalarNode):
                name = v.value
    return f"{kind.value}/{name}" if name else str(kind.value)


def _walk_yaml(node: yaml.Node, prefix: str) -> Iterator[ConfigRecord]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            yield from _walk_yaml(value_node, f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            label = _item_name(item)
            if label is not None and isinstance(item, yaml.MappingNode):
                rest = [(k, v) for k, v in item.value if k.value != "name"]
                if [k.value for k, _ in rest] == ["value"]:
                    yield ConfigRecord(
                        item.start_mark.line + 1, f"{prefix}.{label}", _scalar(rest[0][1])
                    )
                    continue
                sub = yaml.MappingNode(item.tag, rest, item.start_mark, item.end_mark)
                yield from _walk_yaml(sub, f"{prefix}[{label}]")
            else:
                yield from _walk_yaml(item, f"{prefix}[{i}]")
    else:
        yield ConfigRecord(node.start_mark.line + 1, prefix, _scalar(node))


def _item_name(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == "name" and isinstance(v, yaml.ScalarNode):
                return str(v.value)
    return None


def _scalar(node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        return "{}" if isinstance(node, yaml.MappingNode) else "[]"
    value: Any = node.value
    if node.style is None:  # plain scalars take YAML's types: true, 10, null
        try:
            value = yaml.safe_load(node.value)
        except yaml.YAMLError:
            value = node.value
    return scalar_text(value)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if " #" in value:
        value = value.split(" #", 1)[0].rstrip()
    return value


def _line_index(text: str, quote: str = "") -> dict[str, int]:
    """First line on which each bare key name appears, for evidence pointers."""
    found: dict[str, int] = {}
    pattern = re.compile(rf"^\s*{quote}([\w.\-]+){quote}\s*[=:]")
    for number, line in enumerate(text.splitlines(), start=1):
        m = pattern.match(line)
        if m and m.group(1) not in found:
            found[m.group(1)] = number
    return found


FORMATS = (
    Format("dotenv", "config", sniff_dotenv, parse_dotenv, ".env file"),
    Format("toml", "config", sniff_toml, parse_toml, "TOML config"),
    Format("ini", "config", sniff_ini, parse_ini, "INI config"),
    Format("properties", "config", sniff_properties, parse_properties, "Java .properties"),
    Format(
        "yaml", "config", sniff_yaml, parse_yaml, "YAML config, Helm values, Kubernetes manifests"
    ),
    Format("json-config", "config", sniff_json, parse_json, "JSON config document"),
)
