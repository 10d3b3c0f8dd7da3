"""A request path as a route: the path segments that are ids become ``{id}``.

An access log or a capture names the path a client asked for
(``/v1/refunds/48213``), not the route the server matched. Grouped by raw path,
a route failing for a thousand refunds is a thousand routes with one failure
each, and no rate can be told. So when a log gives no route template of its
own, the store's ``route`` is the path with its id segments replaced, and the
concrete path stays in the record's attributes and ``url``.

A segment is an id when it is, whole:
- a number (``48213``; ``48213.json`` keeps its extension);
- a UUID;
- eight or more hex digits with at least one digit (``54fadb412c4e40cd``);
- sixteen or more letters, digits, ``-`` and ``_`` with at least two digits and a
  letter (``cus_9s6XKzkNRiz8i3``, ``instance-00000123``).

Versions (``v2``, ``2.0``), dates used as API versions (``2013-10-17``) and words
stay. A template already written with ``{...}`` placeholders is left as it is.

>>> route_template("/v1/refunds/48213")
'/v1/refunds/{id}'
>>> route_template("/v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail")
'/v2/{id}/servers/detail'
>>> route_template("/openstack/2013-10-17/meta_data.json")
'/openstack/2013-10-17/meta_data.json'
>>> route_template("/files/8812.pdf")
'/files/{id}.pdf'
"""

from __future__ import annotations

import re

#: An id segment with the slash before it (a literal first character: the regex engine
#: jumps from slash to slash; a look-behind made it try every position, 2-3x slower).
_ID = re.compile(
    r"/(?:"
    r"\d+(?=\.[A-Za-z][A-Za-z0-9]{0,4}(?:[/;]|$))"  # a number before an extension
    r"|(?:\d+"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?=[0-9a-fA-F]{8,}(?:[/;]|$))[a-fA-F]*\d[0-9a-fA-F]*"
    r"|(?=[\w-]{16,}(?:[/;]|$))(?=(?:[A-Za-z_-]*\d){2})(?=[0-9_-]*[A-Za-z])[A-Za-z0-9_-]+"
    r")(?=[/;]|$))",
    re.ASCII,
)
#: Paths seen lately and their routes (a log's routes repeat; its ids mostly do not).
_SEEN: dict[str, str] = {}
_SEEN_MAX = 65_536


def route_template(path: str) -> str:
    """``path`` (no query string) with its id segments as ``{id}``."""
    route = _SEEN.get(path)
    if route is None:
        route = _ID.sub("/{id}", path)
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        _SEEN[path] = route
    return route
