"""Sniffing by content: every fixture gets its kind, and binary junk gets none."""

from __future__ import annotations

import gzip
import random

import pytest

from casework.formats import FORMATS
from formats_support import LOGS, fixture, kind_of

EXPECTED = {
    "apache_access.log": "access-log",
    "nginx_access.log": "access-log",
    "app.jsonl": "jsonl",
    "pino.jsonl": "jsonl",
    "odd_fields.jsonl": "jsonl",
    "app.logfmt": "logfmt",
    "case.md": "description",
    "deploys.csv": "releases",
    "releases.jsonl": "releases",
    "go_panic.log": "go-log",
    "klog.log": "go-log",
    "log4j.log": "java-log",
    "logback_stack.log": "java-log",
    "python_app.log": "python-log",
    "postgresql.log": "postgres-log",
    "postgresql_prefix.log": "postgres-log",
    "syslog_3164.log": "syslog",
    "syslog_5424.log": "syslog",
    "otlp_lines.jsonl": "otlp-json",
    "logback_default.log": "java-log",
    "python_basic.log": "python-log",
    "zap_console.log": "go-log",
    "cri_container.log": "text-log",
    "u_ex260302.log": "w3c-log",
}

MINE = {"access-log", "jsonl", "logfmt", "description", "releases", "go-log", "java-log",
        "python-log", "text-log", "postgres-log", "syslog", "w3c-log"}  # fmt: skip


def test_every_fixture_is_listed() -> None:
    assert sorted(p.name for p in LOGS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kind_by_content(name: str) -> None:
    assert kind_of(fixture(name)) == EXPECTED[name]


def test_kind_survives_a_head_cut_mid_line() -> None:
    data = fixture("logback_stack.log")
    assert kind_of(data[: len(data) // 2]) == "java-log"


def _junk() -> list[bytes]:
    rnd = random.Random(3)
    return [
        bytes(rnd.getrandbits(8) for _ in range(8192)),
        b"\x89PNG\r\n\x1a\n" + bytes(rnd.getrandbits(8) for _ in range(4000)),
        gzip.compress(fixture("log4j.log")),
        b"\x00" * 4096,
        b"",
        b"\n\n\n",
    ]


@pytest.mark.parametrize("data", _junk())
def test_binary_junk_is_no_log(data: bytes) -> None:
    for fmt in FORMATS:
        if fmt.kind in MINE:
            assert fmt.sniff(data) == 0.0, fmt.kind
    assert kind_of(data) is None
