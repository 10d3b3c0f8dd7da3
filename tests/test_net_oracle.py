"""Parity with Wireshark: every capture's counts and timings against the committed tshark 4.0 oracle, every HAR against HAR_FACTS."""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import Any

import pytest

from casework.net import har
from casework.net.inspect import inspect_file

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
PCAPS = DATA / "pcap"
HARS = DATA / "har"
BREAKDOWNS = ("dns_rcodes", "http_codes", "tls_alert_descs")


def _table(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


COUNTS = _table(PCAPS / "ORACLE_COUNTS.tsv")
TIMING = _table(PCAPS / "ORACLE_TIMING.tsv")
HAR_FACTS = _table(HARS / "HAR_FACTS.tsv")


@functools.cache
def _facts(path: Path) -> dict[str, Any]:
    return inspect_file(path)


def _pairs(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in (item.split(":") for item in text.split(",") if item)}


def test_every_capture_has_an_oracle_row() -> None:
    captures = {p.name for p in PCAPS.iterdir() if p.suffix in (".pcap", ".pcapng")}
    assert captures and captures == set(COUNTS) == set(TIMING)


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_counts_match_tshark(name: str) -> None:
    counts = _facts(PCAPS / name)["counts"]
    for column, expected in COUNTS[name].items():
        if column == "file":
            continue
        if column in BREAKDOWNS:
            assert _pairs(counts[column]) == _pairs(expected), column
        else:
            assert counts[column] == int(expected), column


@pytest.mark.parametrize("name", sorted(TIMING))
def test_timing_matches_tshark(name: str) -> None:
    timing = _facts(PCAPS / name)["timing"]
    for column, expected in TIMING[name].items():
        if column == "file":
            continue
        if expected == "-":
            assert timing[column] is None, column
        elif column in ("tcp_streams", "http_slow_gt1s"):
            assert timing[column] == int(expected), column
        else:
            assert timing[column] == pytest.approx(float(expected), abs=2e-6), column


@pytest.mark.parametrize("name", sorted(HAR_FACTS))
def test_har_facts_match(name: str) -> None:
    facts = inspect_file(HARS / name)
    expected = HAR_FACTS[name]
    assert bool(facts["parse_error"]) == bool(expected["parse_error"])
    for column in har.FACT_COLUMNS:
        if column == "parse_error" or expected[column] == "":
            continue
        try:
            assert float(facts[column]) == float(expected[column]), column
        except ValueError:
            assert str(facts[column]) == expected[column], column
