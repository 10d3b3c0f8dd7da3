"""AWS Application Load Balancer access logs: one request per line, space-separated with quoted fields.

The fields are fixed by AWS: type, time, load balancer, client:port,
target:port, the three processing times in seconds (``-1`` when the
request never reached a target), ELB and target status codes, bytes
received and sent, the quoted request line and user agent, TLS cipher and
protocol, target group, then quoted trace id, domain, certificate, and
more fields AWS keeps appending (all kept by position up to the ones read).

>>> import io
>>> line = (b'https 2026-03-01T12:00:00.250000Z app/web/50dc 192.0.2.7:2817 10.0.0.1:80 0.001 '
...         b'0.120 0.000 502 502 34 366 "POST https://api.example.com:443/v1/pay?x=1 HTTP/1.1" '
...         b'"okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:tg "Root=1-5833" '
...         b'"api.example.com" "-" 0 2026-03-01T12:00:00.129000Z "forward" "-" "-" "10.0.0.1:80" '
...         b'"502" "-" "-"')
>>> a = next(parse(io.BytesIO(line), ParseContext("alb.log"))).attrs
>>> a["http.path"], a["http.status"], a["http.duration_ms"], a["client.ip"], a["http.host"]
('/v1/pay', 502, 121.0, '192.0.2.7', 'api.example.com')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from casework.formats.base import Format, ParseContext, any_line, iter_lines
from casework.formats.httpfields import add_request_line
from casework.formats.sniffing import line_match_share
from casework.model import LogRecord
from casework.timeparse import parse_ts

_HEAD = re.compile(
    r"(?P<type>https?|h2|grpcs?|wss?) (?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) (?P<elb>\S+)"
    r" (?P<client>\S+) (?P<target>\S+) (?P<t1>-?[\d.]+) (?P<t2>-?[\d.]+) (?P<t3>-?[\d.]+)"
    r" (?P<elb_status>\d{3}|-) (?P<target_status>\d{3}|-) (?P<received>\d+|-) (?P<sent>\d+|-)"
    r' "(?P<request>[^"]*)" "(?P<agent>[^"]*)" '
)
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
#: Fields after the user agent, by position (TLS cipher is the first).
_TAIL = {2: "aws.target_group", 3: "aws.trace_id", 4: "http.host", 8: "aws.actions",
         10: "aws.error_reason"}  # fmt: skip


def sniff(head: bytes) -> float:
    """Most lines start like an ALB entry: type, ISO time with microseconds, balancer, addresses."""
    return 0.96 if line_match_share(head, _HEAD) >= 0.6 else 0.0


def _host(address: str) -> str | None:
    return None if address == "-" else address.rsplit(":", 1)[0].strip("[]")


def _attrs(m: re.Match[str], rest: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {"aws.elb": m["elb"]}
    client, target = _host(m["client"]), _host(m["target"])
    if client:
        attrs["client.ip"] = client
    if target:
        attrs["upstream.host"] = m["target"]
    add_request_line(m["request"], attrs)
    if m["elb_status"] != "-":
        attrs["http.status"] = int(m["elb_status"])
    if m["target_status"] != "-":
        attrs["http.upstream_status"] = int(m["target_status"])
    if m["sent"] != "-":
        attrs["http.bytes"] = int(m["sent"])
    times = [float(m[k]) for k in ("t1", "t2", "t3")]
    if all(t >= 0 for t in times):  # -1: the request never reached (or came back from) a target
        attrs["http.duration_ms"] = round(sum(times) * 1000, 3)
        attrs["http.upstream_ms"] = round(times[1] * 1000, 3)
    if m["agent"] not in ("", "-"):
        attrs["http.user_agent"] = m["agent"]
    tokens = [q or b for q, b in _TOKEN.findall(rest)]
    for index, key in _TAIL.items():
        if index < len(tokens) and tokens[index] not in ("", "-"):
            attrs[key] = tokens[index]
    return attrs


def parse(stream: BinaryIO, ctx: ParseContext) -> Iterator[LogRecord]:
    """One record per request line; lines that do not match are counted as bad."""
    for number, text in iter_lines(stream, ctx):
        if not text:
            continue
        m = _HEAD.match(text)
        if m is None:
            ctx.bad(number, "not an ALB access-log line")
            continue
        stamp = parse_ts(m["time"], ctx.tz, ctx.year)
        yield LogRecord(
            line=number,
            message=m["request"],
            ts=stamp[0] if stamp else None,
            attrs=_attrs(m, text[m.end() - 1 :]),
            ts_assumed=stamp[1] if stamp else False,
        )


FORMAT = Format(
    kind="alb-access-log",
    category="http",
    sniff=sniff,
    parse=parse,
    cut=any_line,
    description="AWS Application Load Balancer access log",
)
