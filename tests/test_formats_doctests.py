"""The examples in the parser, timestamp and route docstrings run as tests."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "casework.timeparse",
    "casework.routes",
    "casework.described",
    "casework.transcode",
    "casework.formats.access",
    "casework.formats.alb",
    "casework.formats.envoy",
    "casework.formats.pgcsv",
    "casework.formats.jsonlines",
    "casework.formats.lambdalog",
    "casework.formats.logfmt",
    "casework.formats.postgres",
    "casework.formats.releases",
    "casework.formats.syslog",
    "casework.formats.textheader",
    "casework.formats.w3c",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
