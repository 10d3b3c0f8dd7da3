"""The examples in the parser, timestamp and route docstrings run as tests.

The examples are read from each module's source, not from the imported module's docstrings:
the compiled build (mypyc) keeps no docstrings. They run in the imported module's namespace,
so on that build they call the compiled functions.
"""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

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


def _examples(name: str) -> list[doctest.DocTest]:
    """Every docstring's examples in the module's source (module, classes, functions)."""
    module = importlib.import_module(name)
    source = Path(module.__file__ or "").with_name(name.rsplit(".", 1)[-1] + ".py")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    parser = doctest.DocTestParser()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        text = ast.get_docstring(node, clean=True)
        if text and ">>>" in text:
            label = f"{name}.{getattr(node, 'name', '')}".rstrip(".")
            line = node.body[0].lineno if node.body else 0
            found.append(parser.get_doctest(text, dict(vars(module)), label, str(source), line))
    return found


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = _examples(name)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0
