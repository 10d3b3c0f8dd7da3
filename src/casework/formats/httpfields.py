"""Canonical HTTP attributes (``http.method``, ``http.status``...) from a log record's own field names.

Structured logs name request fields in many ways (``status``, ``statusCode``,
``res.statusCode``, ``latency_ms``, ``request_time``). The ingest derives
``requests`` rows from the canonical keys only, so every parser maps its
fields here, in one place. Original keys are kept alongside.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: Normalized key (lowercase, no ``_``/``-``) → canonical key. ``httprequest.*`` is Google Cloud
#: Logging's ``LogEntry.httpRequest`` (load balancers, Cloud Run, App Engine).
_NAMES: dict[str, str] = {}
for _canon, _keys in {
    "http.method": "method httpmethod http.method request.method req.method requestmethod verb"
    " http.request.method http.verb request.verb req.verb httprequest.requestmethod",
    "http.route": "route http.route req.route request.route endpoint handler pattern",
    "http.path": "path urlpath url.path http.path http.target request.path req.path uri"
    " requesturi request.uri url req.url request.url http.url url.original target requestpath"
    " httprequest.requesturl",
    "http.status": "status statuscode httpstatus http.status http.statuscode response.status"
    " res.statuscode response.statuscode responsestatus responsecode res.status"
    " http.response.statuscode http.code response.code res.code http.responsecode"
    " downstreamstatus httprequest.status",
    "http.bytes": "bytes bytessent bodybytessent responsesize respbytes size contentlength"
    " res.contentlength http.response.body.bytes response.size httprequest.responsesize",
    "http.user_agent": "useragent ua httpuseragent http.useragent useragent.original"
    " req.headers.useragent request.headers.useragent requestuseragent httprequest.useragent",
    "http.referer": "referer referrer httpreferer http.referer req.headers.referer",
    "client.ip": "clientip remoteaddr remoteip ip client.ip client.address source.ip"
    " req.remoteaddress xforwardedfor realip httprequest.remoteip",
    "client.id": "clientid client.id appid apikeyid consumer tenant tenantid customerid accountid"
    " consumerid consumer.id authenticatedentity.id",
}.items():
    for _key in _keys.split():
        _NAMES[_key] = _canon

#: Parents under which a nested field is an HTTP fact (``ctx.http.code``, ``data.response.status``).
_HTTP_PARENTS = frozenset({"http", "request", "req", "response", "res", "url", "useragent"})

_DURATION_STEMS = (
    "duration", "latency", "elapsed", "responsetime", "requesttime", "took", "rt", "http.duration", "http.server.duration", "res.responsetime", "timetaken",
    "processingtime", "servertime", "upstreamresponsetime", "latencies.request",
    "httprequest.latency", "responselatency",
)  # fmt: skip
#: Unit suffixes on a duration key, as the factor to milliseconds.
_SUFFIXES = (
    ("nanos", 1e-6), ("ns", 1e-6), ("micros", 1e-3), ("us", 1e-3), ("µs", 1e-3),
    ("millis", 1.0), ("ms", 1.0), ("seconds", 1e3), ("secs", 1e3), ("sec", 1e3), ("s", 1e3),
)  # fmt: skip
#: Unitless duration keys known to be in seconds (nginx ``$request_time``).
_SECONDS = {"requesttime", "upstreamresponsetime", "responsetime.s"}
#: An integer "milliseconds" this large (2.8 hours and more) is a Go ``time.Duration`` in ns.
GO_NANOSECONDS = 10**7
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_MS = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}
_norm_cache: dict[str, str] = {}


def _norm(key: str) -> str:
    cached = _norm_cache.get(key)
    if cached is None:
        cached = key.lower().replace("_", "").replace("-", "")
        if len(_norm_cache) < 65536:
            _norm_cache[key] = cached
    return cached


def _duration_unit(norm: str) -> float | None:
    """Factor to ms for a duration-named key, None when the key is not a duration."""
    for stem in (*_DURATION_STEMS, "time"):
        if norm == stem and stem != "time":
            return 1e3 if norm in _SECONDS else 1.0
        if norm.startswith(stem):
            rest = norm[len(stem) :].lstrip(".")
            for suffix, factor in _SUFFIXES:
                if rest == suffix:
                    return factor
    return None


def canonical_key(key: str) -> str | None:
    """The canonical key a record's own field name maps to (``req.path`` → ``http.path``), or None."""
    return _NAMES.get(_norm(key))


def duration_unit(key: str) -> float | None:
    """Factor to milliseconds when ``key`` names a duration (``elapsed_ms``, ``took``), else None."""
    return _duration_unit(_norm(key))


def duration_in(attrs: Mapping[str, Any]) -> float | None:
    """Milliseconds of the first duration-named attribute (``elapsed_ms``, ``took``,
    ``duration: "1.5s"``) that holds one, else None."""
    for key, value in attrs.items():
        factor = duration_unit(key)
        if factor is not None:
            found = duration_ms(value, factor)
            if found is not None:
                return found
    return None


def duration_ms(value: Any, factor: float) -> float | None:
    """Milliseconds from a number in the key's unit or a Go-style string (``1.5s``, ``350ms``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # An integer too large for milliseconds of one request (2.8 hours and more) is a Go
        # time.Duration in ns (Traefik's ``Duration``: 120 ms is 120000000).
        if factor == 1.0 and isinstance(value, int) and value >= GO_NANOSECONDS:
            factor = 1e-6
        return float(value) * factor
    if isinstance(value, str) and 0 < len(value) <= 64:
        text = value.strip()
        try:
            return float(text) * factor
        except ValueError:
            pass
        for unit in ("ms", "µs", "us", "ns", "s"):  # one unit: no regex needed
            if text.endswith(unit):
                try:
                    return float(text[: -len(unit)]) * _UNIT_MS[unit]
                except ValueError:
                    break
        parts = _GO_DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts) == text.replace(" ", ""):
            return sum(float(n) * _UNIT_MS[u] for n, u in parts)
    return None


def _status(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    if isinstance(value, str) and len(value) == 3 and value.isdigit() and "1" <= value[0] <= "5":
        return int(value)
    return None


_Plan = tuple[tuple[tuple[str, str], ...], tuple[str, float] | None]
_plans: dict[tuple[tuple[str, ...], bool], _Plan | None] = {}


def _plan(keys: tuple[str, ...], zap: bool) -> _Plan | None:
    """Which keys map to which canonical key, and the duration key with its unit; None: no request."""
    mapped: list[tuple[str, str]] = []
    duration: tuple[str, float] | None = None
    for key in keys:
        norm = _norm(key)
        canon = _NAMES.get(norm)
        if canon is None and norm.count(".") >= 2:
            # Nested under an envelope (``ctx.http.code``): the last two parts name the field.
            parent, leaf = norm.rsplit(".", 2)[-2:]
            if parent in _HTTP_PARENTS:
                canon = _NAMES.get(f"{parent}.{leaf}")
                norm = leaf
        if canon is not None:
            mapped.append((key, canon))
        elif duration is None:
            factor = _duration_unit(norm)
            if factor is not None:
                duration = (key, 1e3 if zap and norm == "duration" else factor)
    if not any(canon in ("http.status", "http.method") for _, canon in mapped):
        return None
    return tuple(mapped), duration


def add_http(attrs: dict[str, Any], *, zap: bool = False) -> None:
    """Add canonical ``http.*``/``client.*`` keys when the record carries a status or a method.

    ``zap``: the record is in zap's production encoding (epoch seconds in ``ts``, the
    text in ``msg``: Caddy and many Go services), whose ``zap.Duration`` fields are float
    seconds, so a key named just ``duration`` is seconds there and milliseconds elsewhere.
    """
    keys = tuple(attrs)
    if (keys, zap) in _plans:
        plan = _plans[keys, zap]
    else:
        plan = _plan(keys, zap)
        if len(_plans) < 4096:  # records of one logger share their keys; a bound for the rest
            _plans[keys, zap] = plan
    if plan is None:
        return
    mapped, duration_key = plan
    found: dict[str, Any] = {}
    for key, canon in mapped:
        value = attrs[key]
        if type(value) is list and len(value) == 1:
            value = value[0]  # Go's http.Header (Caddy): every header is a list of values
        if value is not None and value != "" and canon not in found:
            found[canon] = value
    status = _status(found.pop("http.status", None))
    method = found.get("http.method")
    if status is None and not (isinstance(method, str) and method.isupper()):
        return
    if status is not None:
        attrs["http.status"] = status
    path = found.pop("http.path", None)
    for canon, value in found.items():
        attrs.setdefault(canon, value)
    if isinstance(path, str) and path:
        split_target(path, attrs)
    if duration_key is not None:
        duration = duration_ms(attrs[duration_key[0]], duration_key[1])
        if duration is not None:
            attrs.setdefault("http.duration_ms", round(duration, 3))


def add_request_line(request: str, attrs: dict[str, Any]) -> None:
    """``http.method``, the target's path and query, ``http.protocol`` from ``GET /a?b HTTP/1.1``."""
    parts = request.split(" ")
    if len(parts) == 3:
        attrs["http.method"] = parts[0]
        split_target(parts[1], attrs)
        attrs["http.protocol"] = parts[2]


def split_target(target: str, attrs: dict[str, Any]) -> None:
    """``http.path`` without the query (and without scheme/host of a full URL), ``http.query``."""
    if "://" in target:
        attrs.setdefault("http.url", target)  # the scheme matters (http vs https redirects)
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        attrs.setdefault("http.host", rest[:slash] if slash >= 0 else rest)
        target = rest[slash:] if slash >= 0 else "/"
    path, sep, query = target.partition("?")
    attrs["http.path"] = path
    if sep:
        attrs["http.query"] = query


#: An HTTP request a server logged inside its own text log: eventlet/OpenStack
#: (``10.1.0.5 "GET /v2/servers HTTP/1.1" status: 404 len: 78 time: 0.25``), Python's
#: http.server and werkzeug (``"GET / HTTP/1.1" 200 -``), gunicorn, uvicorn (``200 OK``).
_EMBEDDED = re.compile(
    r"(?:(?P<ip>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(?::\d{1,5})?\s+(?:-\s+)?)?"
    r'"(?P<request>[A-Z]{3,10} \S+ HTTP/\d(?:\.\d)?)"\s+(?:status:?\s*)?(?P<status>[1-5]\d\d)\b'
    r"(?:\s+(?:len:?\s*)?(?P<bytes>\d+|-)\b)?(?:\s+time:?\s*(?P<seconds>\d+(?:\.\d+)?)\b)?"
)


def add_embedded_request(text: str, attrs: dict[str, Any]) -> None:
    """The canonical ``http.*`` keys of a request line quoted inside a log message, if any
    (keys the record already has are kept); ``time:`` is eventlet's duration in seconds."""
    if "HTTP/" not in text:
        return
    m = _EMBEDDED.search(text)
    if m is None:
        return
    found: dict[str, Any] = {}
    if m["ip"]:
        found["client.ip"] = m["ip"].strip("[]")
    add_request_line(m["request"], found)
    found["http.status"] = int(m["status"])
    if m["bytes"] and m["bytes"] != "-":
        found["http.bytes"] = int(m["bytes"])
    if m["seconds"]:
        found["http.duration_ms"] = round(float(m["seconds"]) * 1000, 3)
    for key, value in found.items():
        attrs.setdefault(key, value)
