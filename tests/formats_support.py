"""Helpers for the format tests: read a fixture log, sniff it, parse it."""

from __future__ import annotations

import io
from pathlib import Path

from casework.formats import FORMATS, Format, ParseContext, sniff
from casework.model import Record

LOGS = Path(__file__).resolve().parent / "fixtures" / "logs"
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"


def fixture(name: str) -> bytes:
    return (LOGS / name).read_bytes()


def kind_of(data: bytes) -> str | None:
    fmt, _score = sniff(data[: 64 * 1024])
    return fmt.kind if fmt is not None else None


def format_named(kind: str) -> Format:
    return next(f for f in FORMATS if f.kind == kind)


def parse(data: bytes, kind: str, **ctx_args: object) -> tuple[list[Record], ParseContext]:
    ctx = ParseContext("test.log", **ctx_args)  # type: ignore[arg-type]
    return list(format_named(kind).parse(io.BytesIO(data), ctx)), ctx
