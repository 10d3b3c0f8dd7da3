"""The exception tree: every error casework raises on purpose.

    CaseworkError            base; carries the file and line it concerns
    ├── BundleError          the input cannot be opened as a bundle (exit code 2)
    ├── FormatError          one file or record cannot be parsed (reported, never fatal)
    └── AnalyzerError        an analyzer failed (recorded in the run table)

Messages never contain evidence values: they say which file, which line and
what to do next, so they are safe to print and to log.
"""

from __future__ import annotations


class CaseworkError(Exception):
    """Base class; ``file`` and ``line`` say where the problem is, when known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        super().__init__(where + message)


class BundleError(CaseworkError):
    """The evidence path is missing, unreadable, or not a bundle casework can open."""


class FormatError(CaseworkError):
    """A file or record does not parse as the format it was sniffed as."""


class AnalyzerError(CaseworkError):
    """An analyzer raised; the run goes on and records the failure."""
