"""Reaching bundles in object storage through fsspec: URLs, storage options, opening and safe display.

Credentials come from where each fsspec backend looks for them (``AWS_*``,
gcloud application default credentials, ``AZURE_*``) or from storage options
(``--storage-option KEY=VALUE``). Neither a storage option's value nor the
``user:pass@`` part or query string of a URL is ever printed: every message
here names the URL through :func:`display`, and backend exceptions are
reduced to their type, because their text may quote request headers or keys.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit, urlunsplit

import fsspec
from fsspec.core import split_protocol, strip_protocol

from casework.errors import BundleError
from casework.scan.rangeio import open_range

#: fsspec storage options as (name, value) pairs: immutable, picklable, carried by scan tasks.
StorageOptions = tuple[tuple[str, Any], ...]

#: Read-ahead for streaming a whole object: large enough that request latency does not dominate.
STREAM_BLOCK = 8 << 20

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: Protocol -> the casework extra that installs its fsspec backend.
_EXTRAS = {
    "s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs",
    "abfs": "azure", "abfss": "azure", "az": "azure", "adl": "azure",
}  # fmt: skip
#: Option names whose values stay strings even when they look like numbers (keys, tokens).
_SECRETISH = re.compile(r"key|secret|token|pass|sas|cred|sig|auth", re.IGNORECASE)
_OPENERS: dict[str, Callable[[BinaryIO], BinaryIO]] = {
    ".gz": lambda f: cast(BinaryIO, gzip.GzipFile(fileobj=f, mode="rb")),
    ".bz2": lambda f: cast(BinaryIO, bz2.BZ2File(f, "rb")),
    ".xz": lambda f: cast(BinaryIO, lzma.LZMAFile(f, "rb")),  # noqa: SIM115
}


def is_url(path: str | os.PathLike[str]) -> bool:
    """True for ``proto://...`` (an fsspec URL), false for a local path."""
    return isinstance(path, str) and _URL.match(path) is not None


def local_path(path: str | os.PathLike[str]) -> Path | None:
    """The local path a bundle argument names (``file://`` URLs included), None for remote URLs."""
    if not is_url(path):
        return Path(path)
    protocol, _ = split_protocol(str(path))
    if protocol in ("file", "local"):
        return Path(strip_protocol(str(path)))
    return None


def display(url: str) -> str:
    """The URL as it may be printed: without ``user:pass@``, query string or fragment."""
    if not is_url(url):
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def parse_storage_options(pairs: Iterable[str]) -> StorageOptions:
    """``KEY=VALUE`` strings as storage options.

    ``true``/``false`` become booleans, ``{...}``/``[...]`` JSON, whole
    numbers integers (except for names that look like credentials); the
    rest stay strings. A malformed pair is named by its key only.
    """
    out: list[tuple[str, Any]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BundleError(
                "--storage-option takes KEY=VALUE (e.g. endpoint_url=http://host:9000)"
            )
        out.append((key, _typed(key, value)))
    return tuple(out)


def _typed(key: str, value: str) -> Any:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            raise BundleError(f"--storage-option {key}: the value is not valid JSON") from None
    if value.isdigit() and not _SECRETISH.search(key):
        return int(value)
    return value


def filesystem(url: str, storage: StorageOptions = ()) -> tuple[Any, str]:
    """The fsspec file system for ``url`` and the path inside it; one readable line when unusable."""
    if "::" in url:
        raise BundleError(
            "chained fsspec URLs (a::b) are not supported; pass one URL", file=display(url)
        )
    protocol, _ = split_protocol(url)
    protocol = protocol or "file"
    try:
        cls = fsspec.get_filesystem_class(protocol)
    except ImportError:
        raise BundleError(_missing_backend(protocol), file=display(url)) from None
    except ValueError:
        raise BundleError(
            f"unknown storage protocol {protocol}://; casework reads local paths and fsspec URLs "
            "(s3://, gs://, abfs://, file://, memory://)",
            file=display(url),
        ) from None
    options = dict(cls._get_kwargs_from_urls(url))
    options.update(storage)
    try:
        fs = fsspec.filesystem(protocol, **options)
    except Exception as exc:  # a backend rejecting an option says why in text that may quote it
        raise BundleError(
            f"the {protocol} backend refused the storage options ({type(exc).__name__}); "
            f"check the --storage-option names: {', '.join(sorted(options)) or 'none given'}",
            file=display(url),
        ) from None
    return fs, cls._strip_protocol(url)


def _missing_backend(protocol: str) -> str:
    extra = _EXTRAS.get(protocol)
    if extra is not None:
        return f"reading {protocol}:// needs its fsspec backend: pip install 'casework[{extra}]'"
    return f"reading {protocol}:// needs an fsspec backend that is not installed"


def storage_error(exc: BaseException) -> str:
    """Why storage could not be read, from the exception's type alone (its text may carry secrets)."""
    name = type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        return "no such bucket, container or key; check the URL"
    if isinstance(exc, PermissionError) or "AccessDenied" in name or "Forbidden" in name:
        return "access denied; check the credentials (environment or --storage-option)"
    if "Credential" in name:
        return (
            "no credentials found; set them as the backend expects (AWS_*, gcloud ADC, AZURE_*) "
            "or pass --storage-option"
        )
    return f"cannot reach the storage ({name}); check the URL, the network and the credentials"


def open_raw(url: str, storage: StorageOptions = (), block_size: int | None = None) -> BinaryIO:
    """The object's bytes as stored, seekable (ranged reads)."""
    fs, path = filesystem(url, storage)
    return cast(BinaryIO, fs.open(path, "rb", block_size=block_size or STREAM_BLOCK))


def open_content(url: str, storage: StorageOptions = (), block_size: int | None = None) -> BinaryIO:
    """The object's content, decompressed when it is a ``.gz``/``.bz2``/``.xz`` object."""
    raw = open_raw(url, storage, block_size)
    opener = _OPENERS.get(_suffix(url))
    if opener is None:
        # fsspec files have no readline(limit); a buffered reader over them has, and is fast.
        return open_range(raw, 0, None)
    stream = opener(raw)
    close_stream = stream.close

    def close() -> None:
        # A decompressor given a file object leaves it open; the object's connection must go too.
        try:
            close_stream()
        finally:
            raw.close()

    stream.close = close  # type: ignore[method-assign]
    return stream


def _suffix(url: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return name[dot:] if dot > 0 else ""


def modified(info: dict[str, Any]) -> float | None:
    """The object's modification time (epoch seconds) from an fsspec ``info`` dict, if it says."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None
