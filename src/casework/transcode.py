"""UTF-16 text read as UTF-8: Windows writes logs (CBS.log, event log and PowerShell exports) in
UTF-16 with a byte-order mark, which every reader here would take for binary.

A stream whose first two bytes are a UTF-16 byte-order mark is decoded as
UTF-16 (the mark says which byte order) and handed on as UTF-8, so sniffing,
parsing and line numbers work as for any text file. Bytes that are not valid
UTF-16 (an odd length, a lone surrogate) become U+FFFD; nothing is dropped.

>>> import io
>>> text = "2026-11-26 08:00:01, Info CBS Loaded\\r\\n"
>>> utf8(io.BufferedReader(io.BytesIO("\\ufeff".encode("utf-16-le") + text.encode("utf-16-le")))).read()
b'2026-11-26 08:00:01, Info CBS Loaded\\r\\n'
"""

from __future__ import annotations

import codecs
import io
from typing import Any, BinaryIO, cast

BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CHUNK = 1 << 16


def utf16_bom(head: bytes) -> bool:
    """Whether ``head`` starts with a UTF-16 byte-order mark."""
    return head[:2] in BOMS


def utf8(stream: BinaryIO) -> BinaryIO:
    """``stream`` itself, or, when it starts with a UTF-16 byte-order mark, its text as UTF-8."""
    if not hasattr(stream, "peek"):  # a remote file object: buffered to look ahead
        stream = cast(BinaryIO, io.BufferedReader(cast(io.RawIOBase, stream)))
    if not utf16_bom(cast(io.BufferedReader, stream).peek(2)[:2]):
        return stream
    return cast(BinaryIO, io.BufferedReader(_Utf16ToUtf8(stream), buffer_size=_CHUNK))


class _Utf16ToUtf8(io.RawIOBase):
    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self._decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        self._pending = memoryview(b"")
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._eof:
            chunk = self._inner.read(_CHUNK)
            self._eof = not chunk
            text = self._decoder.decode(chunk, final=self._eof)
            self._pending = memoryview(text.encode("utf-8"))
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()
