"""Semantic-convention aliases: old and vendor attribute names mapped to one canonical name.

Instrumentations of different ages name the same fact differently
(``http.status_code`` before semconv 1.21, ``http.response.status_code``
after; Zipkin's ``http.path``, p6spy's ``sql.query``). Analyzers ask for the
canonical (current stable) name only; when a span carries both, the
canonical one wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: old or vendor name -> canonical name
ALIASES: Mapping[str, str] = {
    # HTTP
    "http.method": "http.request.method",
    "http.status_code": "http.response.status_code",
    "http.status": "http.response.status_code",
    "http.url": "url.full",
    "http.target": "url.path",
    "http.path": "url.path",
    "http.uri.client": "url.path",
    "http.scheme": "url.scheme",
    "http.host": "server.address",
    "http.user_agent": "user_agent.original",
    "http.client_ip": "client.address",
    "http.flavor": "network.protocol.version",
    "http.request_content_length": "http.request.body.size",
    "http.response_content_length": "http.response.body.size",
    "net.peer.name": "server.address",
    "net.peer.port": "server.port",
    "net.host.name": "server.address",
    "net.host.port": "server.port",
    "net.peer.ip": "network.peer.address",
    "net.sock.peer.addr": "network.peer.address",
    "net.sock.peer.port": "network.peer.port",
    "peer.ipv4": "network.peer.address",
    "peer.ipv6": "network.peer.address",
    "peer.hostname": "server.address",
    "peer.port": "server.port",
    "peer.address": "server.address",  # OpenTracing
    "http.server_name": "server.address",
    "http.retry_count": "http.request.resend_count",
    "net.transport": "network.transport",
    "net.protocol.name": "network.protocol.name",
    "net.protocol.version": "network.protocol.version",
    "net.host.ip": "network.local.address",
    "net.sock.host.addr": "network.local.address",
    # Databases
    "db.statement": "db.query.text",
    "sql.query": "db.query.text",
    "db.operation": "db.operation.name",
    "db.name": "db.namespace",
    "db.instance": "db.namespace",
    "db.redis.database_index": "db.namespace",
    "db.sql.table": "db.collection.name",
    "db.mongodb.collection": "db.collection.name",
    "db.cassandra.table": "db.collection.name",
    "db.system.name": "db.system",
    "db.type": "db.system",
    # RPC
    "grpc.status_code": "rpc.grpc.status_code",
    "rpc.grpc.status": "rpc.grpc.status_code",
    # Messaging
    "messaging.destination": "messaging.destination.name",
    "messaging.message_id": "messaging.message.id",
    "messaging.kafka.partition": "messaging.destination.partition.id",
    "messaging.kafka.consumer_group": "messaging.consumer.group.name",
    "messaging.kafka.consumer.group": "messaging.consumer.group.name",
    "messaging.operation": "messaging.operation.type",
    "kafka.topic": "messaging.destination.name",
    "rabbit.queue": "messaging.destination.name",
    "message_bus.destination": "messaging.destination.name",  # OpenTracing
    "messaging.rabbitmq.routing_key": "messaging.rabbitmq.destination.routing_key",
    "messaging.kafka.message_key": "messaging.kafka.message.key",
    "messaging.message_payload_size_bytes": "messaging.message.body.size",
    "messaging.kafka.message_offset": "messaging.kafka.offset",
    # Resource and scope
    "deployment.environment": "deployment.environment.name",
    "otel.library.name": "otel.scope.name",
    "otel.library.version": "otel.scope.version",
    "error.kind": "exception.type",
    "error.object": "exception.message",
}

_ALIAS_KEYS = frozenset(ALIASES)

#: Canonical keys whose values are numbers even when a source wrote them as text.
INTEGER_KEYS = frozenset(
    {"http.response.status_code", "server.port", "network.peer.port", "rpc.grpc.status_code"}
)


def canonical(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """``attrs`` with aliased keys renamed (an existing canonical key is kept).

    When nothing needs renaming a dict comes back as itself, not copied:
    readers call this once per span on a dict they just built.
    """
    if _ALIAS_KEYS.isdisjoint(attrs) and INTEGER_KEYS.isdisjoint(attrs):
        return attrs if isinstance(attrs, dict) else dict(attrs)
    out: dict[str, Any] = {}
    renamed: list[tuple[str, Any]] = []
    for key, value in attrs.items():
        target = ALIASES.get(key)
        if target is None:
            out[key] = value
        else:
            renamed.append((target, value))
    for key, value in renamed:
        out.setdefault(key, value)
    for key in INTEGER_KEYS & out.keys():
        value = out[key]
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(flatten(item, name + "."))
        else:
            out[name] = item
    return out
