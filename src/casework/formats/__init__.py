"""Every format casework reads, listed in one place, and the sniffer that picks one by content."""

from __future__ import annotations

from casework.formats import (
    access,
    alb,
    config,
    description,
    envoy,
    har,
    jaeger,
    jsonlines,
    k8s,
    lambdalog,
    logfmt,
    mysqlplan,
    mysqlslow,
    otlp,
    pcap,
    pgcsv,
    pgplan,
    postgres,
    releases,
    syslog,
    textlog,
    w3c,
    zipkin,
)
from casework.formats.base import Format, ParseContext, iter_lines

#: Ordered: on equal confidence the earlier format wins, so specific formats come first.
FORMATS: tuple[Format, ...] = (
    pcap.FORMAT,
    har.FORMAT,
    otlp.FORMAT,
    jaeger.FORMAT,
    zipkin.FORMAT,
    *k8s.FORMATS,
    releases.FORMAT,
    access.FORMAT,
    envoy.FORMAT,
    alb.FORMAT,
    w3c.FORMAT,
    pgplan.FORMAT,
    mysqlplan.FORMAT,
    mysqlslow.FORMAT,
    postgres.FORMAT,
    pgcsv.FORMAT,
    syslog.FORMAT,
    jsonlines.FORMAT,
    logfmt.FORMAT,
    lambdalog.FORMAT,
    textlog.JAVA,
    textlog.PYTHON,
    textlog.GO,
    textlog.TEXT,
    description.FORMAT,
    # Generic config syntaxes last: a more specific format wins on equal confidence.
    *config.FORMATS,
)

#: Below this confidence a file is inventoried as "unknown format" and skipped.
MIN_CONFIDENCE = 0.5


def sniff(head: bytes, formats: tuple[Format, ...] = FORMATS) -> tuple[Format | None, float]:
    """The most confident format for a file whose first bytes are ``head``."""
    best: Format | None = None
    best_score = 0.0
    for fmt in formats:
        try:
            score = fmt.sniff(head)
        except Exception:  # a sniffer bug must not stop the others
            continue
        if score > best_score:
            best, best_score = fmt, score
    if best_score < MIN_CONFIDENCE:
        return None, best_score
    return best, best_score


__all__ = ["FORMATS", "MIN_CONFIDENCE", "Format", "ParseContext", "iter_lines", "sniff"]
