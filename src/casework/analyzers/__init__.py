"""The built-in analyzers, listed in one place (third parties use the entry-point group)."""

from __future__ import annotations

from casework.analyzers.error_signatures import error_signatures
from casework.analyzers.http_status import http_status
from casework.engine import Analyzer

BUILTIN: tuple[Analyzer, ...] = (http_status, error_signatures)

__all__ = ["BUILTIN"]
