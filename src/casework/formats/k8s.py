"""Kubernetes evidence: ``kubectl get events|pods -o json|yaml`` and ``kubectl describe`` text.

Events become one record each; pods become one record per container whose
current or last state says something (waiting reason, termination reason,
restarts), with its limits; ``describe`` text yields its container states and
its ``Events:`` table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO

import yaml

from casework.formats.base import Format, ParseContext
from casework.model import K8sRecord
from casework.timeparse import parse_ts

MAX_BYTES = 64 << 20
_KINDS = (b'"involvedObject"', b"involvedObject:", b'"containerStatuses"', b"containerStatuses:")


def sniff_objects(head: bytes) -> float:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith((b"{", b"apiVersion", b"items", b"kind", b"---")):
        return 0.0
    if any(k in head for k in _KINDS):
        return 0.95
    if re.search(rb'"?kind"?\s*:\s*"?(EventList|PodList|Event|Pod)"?\s*[,\n]', head):
        return 0.9
    return 0.0


def parse_objects(stream: BinaryIO, ctx: ParseContext) -> Iterator[K8sRecord]:
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        ctx.bad(1, f"larger than {MAX_BYTES >> 20} MiB; not read")
        return
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    try:
        docs: list[Any] = (
            [json.loads(text)] if text.lstrip().startswith("{") else list(yaml.safe_load_all(text))
        )
    except (ValueError, yaml.YAMLError):
        ctx.bad(1, "invalid JSON/YAML")
        return
    for doc in docs:
        items = doc.get("items") if isinstance(doc, dict) and "items" in doc else [doc]
        for item in items or []:
            if not isinstance(item, dict):
                continue
            if "involvedObject" in item or item.get("kind") == "Event":
                yield _event(item, ctx)
            elif item.get("kind") == "Pod" or "containerStatuses" in (item.get("status") or {}):
                yield from _pod(item, ctx)


def _ts(value: Any, ctx: ParseContext) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = parse_ts(value, ctx.tz, ctx.year)
    return parsed[0] if parsed else None


def _event(item: dict[str, Any], ctx: ParseContext) -> K8sRecord:
    obj = item.get("involvedObject") or item.get("regarding") or {}
    meta = item.get("metadata") or {}
    when = (
        item.get("lastTimestamp")
        or item.get("eventTime")
        or (item.get("series") or {}).get("lastObservedTime")
        or item.get("firstTimestamp")
        or meta.get("creationTimestamp")
    )
    field = str(obj.get("fieldPath") or "")
    container = re.search(r"containers\{([^}]+)\}", field)
    source = item.get("source") or {}
    return K8sRecord(
        line=1,
        ts=_ts(when, ctx),
        object=f"{obj.get('kind', '?')}/{obj.get('name', '?')}",
        reason=str(item.get("reason") or ""),
        message=str(item.get("message") or item.get("note") or ""),
        count=int(item.get("count") or (item.get("series") or {}).get("count") or 1),
        container=container.group(1) if container else None,
        attrs={
            "namespace": obj.get("namespace") or meta.get("namespace"),
            "type": item.get("type"),
            "first_ts": item.get("firstTimestamp"),
            "node": source.get("host") or item.get("reportingInstance"),
            "component": source.get("component") or item.get("reportingComponent"),
            "source": "event",
        },
    )


def _pod(item: dict[str, Any], ctx: ParseContext) -> Iterator[K8sRecord]:
    meta = item.get("metadata") or {}
    spec = item.get("spec") or {}
    status = item.get("status") or {}
    name = f"Pod/{meta.get('name', '?')}"
    limits = {
        c.get("name"): (c.get("resources") or {}).get("limits") or {}
        for c in spec.get("containers") or []
        if isinstance(c, dict)
    }
    base = {"namespace": meta.get("namespace"), "node": spec.get("nodeName"), "source": "pod"}
    if status.get("phase") == "Pending":
        for cond in status.get("conditions") or []:
            if cond.get("status") == "False" and cond.get("reason"):
                yield K8sRecord(
                    1, _ts(cond.get("lastTransitionTime"), ctx), name, str(cond["reason"]),
                    str(cond.get("message") or ""), attrs={**base, "phase": "Pending"},
                )  # fmt: skip
    if status.get("reason") == "Evicted":
        yield K8sRecord(1, _ts(status.get("startTime"), ctx), name, "Evicted",
                        str(status.get("message") or ""), attrs=base)  # fmt: skip
    for cs in status.get("containerStatuses") or []:
        if not isinstance(cs, dict):
            continue
        cname = cs.get("name")
        attrs = {**base, "restarts": cs.get("restartCount", 0), "limits": limits.get(cname, {}),
                 "image": cs.get("image")}  # fmt: skip
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            yield K8sRecord(1, None, name, str(waiting["reason"]), str(waiting.get("message") or ""),
                            container=cname, attrs={**attrs, "state": "waiting"})  # fmt: skip
        last = (cs.get("lastState") or {}).get("terminated")
        if last and last.get("reason"):
            yield K8sRecord(
                1, _ts(last.get("finishedAt"), ctx), name, str(last["reason"]),
                str(last.get("message") or ""), container=cname,
                attrs={**attrs, "state": "terminated", "exit_code": last.get("exitCode"),
                       "started": last.get("startedAt")},
            )  # fmt: skip


# ``kubectl describe`` text
_DESCRIBE_HEAD = re.compile(rb"^Name:\s+\S+", re.MULTILINE)
_EVENT_ROW = re.compile(
    r"^\s{2}(Normal|Warning)\s+(\S+)\s+(\S+(?: \(x\d+ over \S+\))?)\s+(\S+)\s+(.*)$"
)
_FIELD = re.compile(r"^(\s*)([A-Za-z][\w ./-]*?):\s*(.*)$")


def sniff_describe(head: bytes) -> float:
    if not head.startswith(b"Name:") or not _DESCRIBE_HEAD.match(head):
        return 0.0
    if b"\nNamespace:" in head and (b"\nEvents:" in head or b"\nContainers:" in head):
        return 0.9
    return 0.0


def parse_describe(stream: BinaryIO, ctx: ParseContext) -> Iterator[K8sRecord]:
    text = stream.read(MAX_BYTES).decode("utf-8", "replace")
    lines = text.splitlines()
    kind = "Pod"
    obj = "?"
    container: str | None = None
    fields: dict[str, str] = {}
    in_events = in_containers = False
    limits: dict[str, str] = {}
    section = ""
    for number, line in enumerate(lines, start=1):
        if line.startswith("Name:") and obj == "?":
            obj = line.split(":", 1)[1].strip()
            continue
        if line.startswith("Controlled By:") or line.startswith("Kind:"):
            continue
        if line.startswith("Events:"):
            in_events, in_containers = True, False
            continue
        if line.startswith("Containers:") or line.startswith("Init Containers:"):
            in_containers = True
            continue
        if line and not line[0].isspace() and not line.startswith("Events"):
            in_containers = False
        if in_events:
            m = _EVENT_ROW.match(line)
            if m:
                count = re.search(r"\(x(\d+) over", m.group(3))
                yield K8sRecord(
                    number, None, f"{kind}/{obj}", m.group(2), m.group(5).strip(),
                    count=int(count.group(1)) if count else 1,
                    attrs={"type": m.group(1), "age": m.group(3).split(" ")[0], "from": m.group(4),
                           "source": "describe"},
                )  # fmt: skip
            continue
        if in_containers:
            if re.match(r"^  [\w.-]+:\s*$", line):
                if container and fields:
                    yield from _describe_container(number, kind, obj, container, fields, limits)
                container, fields, limits, section = line.strip().rstrip(":"), {}, {}, ""
                continue
            m = _FIELD.match(line)
            if m and container:
                indent, key, value = len(m.group(1)), m.group(2).strip(), m.group(3).strip()
                if indent <= 4:
                    section = key
                if section == "Limits" and indent > 4:
                    limits[key.lower()] = value
                fields[f"{section}.{key}" if indent > 4 else key] = value
    if container and fields:
        yield from _describe_container(len(lines), kind, obj, container, fields, limits)


def _describe_container(
    line: int, kind: str, obj: str, container: str, fields: dict[str, str], limits: dict[str, str]
) -> Iterator[K8sRecord]:
    restarts = (
        int(fields.get("Restart Count", "0") or 0)
        if fields.get("Restart Count", "0").isdigit()
        else 0
    )
    attrs: dict[str, Any] = {"restarts": restarts, "limits": limits, "source": "describe"}
    for state in ("State", "Last State"):
        reason = fields.get(f"{state}.Reason")
        if reason:
            yield K8sRecord(
                line, None, f"{kind}/{obj}", reason, fields.get(f"{state}.Message", ""),
                container=container,
                attrs={**attrs, "state": fields.get(state, "").lower(),
                       "exit_code": fields.get(f"{state}.Exit Code"),
                       "started": fields.get(f"{state}.Started"),
                       "finished": fields.get(f"{state}.Finished")},
            )  # fmt: skip


FORMATS = (
    Format(
        "k8s-objects", "k8s", sniff_objects, parse_objects, "kubectl get events|pods -o json|yaml"
    ),
    Format("k8s-describe", "k8s", sniff_describe, parse_describe, "kubectl describe text"),
)
