"""The facts of one capture or HAR file, as the ``inspect`` command and tests read them.

For a pcap/pcapng: ``counts`` and ``timing`` keyed exactly like the tshark
oracle's TSV columns, plus ``conversations``. For a HAR: the columns of
``HAR_FACTS.tsv``. The output names hosts and addresses but carries no
header, cookie or body values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casework.errors import FormatError
from casework.net import facts, har
from casework.net.capture import Capture
from casework.net.pcap_reader import ReadStats, container_kind, read_frames


def inspect_file(path: Path | str, conversations: int = 1000) -> dict[str, Any]:
    """Facts of ``path``; FormatError when it is neither a capture nor a HAR."""
    path = Path(path)
    with path.open("rb") as stream:
        head = stream.read(4096)
        stream.seek(0)
        if container_kind(head[:12]):
            stats = ReadStats()
            cap = Capture().run(read_frames(stream, stats))
            return {
                "file": path.name,
                "kind": stats.container,
                "link_types": sorted(stats.link_types),
                "counts": facts.counts(cap, stats),
                "timing": facts.timing(cap),
                "problems": stats.problems,
                "conversations": facts.conversations(cap, conversations),
            }
        if har.looks_like_har(head) or path.suffix.lower() == ".har":
            log = har.read(stream.read())
            return {"file": path.name, "kind": "har", **har.facts(log)}
    raise FormatError("not a pcap, pcapng or HAR file", file=path.name)
