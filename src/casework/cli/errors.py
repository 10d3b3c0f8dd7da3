"""Turning casework errors into one readable line and an exit code, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from casework.errors import BundleError, CaseworkError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_UNUSABLE_INPUT = 2


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Print ``casework: <what went wrong>`` and exit 2 for unusable input or 1 otherwise."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except BundleError as exc:
            click.echo(f"casework: {exc}", err=True)
            sys.exit(EXIT_UNUSABLE_INPUT)
        except CaseworkError as exc:
            click.echo(f"casework: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("casework: interrupted", err=True)
            sys.exit(130)

    return wrapper
