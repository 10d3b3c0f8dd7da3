"""The minimal reproduction: drop every header, parameter and field whose removal keeps the outcome.

Delta debugging (Zeller's ddmin, complement steps) over the request's parts,
against a target the user controls: a loopback address, or the ``--base-url``
they passed. Each attempt is one request with a timeout; the number of
attempts is bounded. Without a reachable target nothing is dropped and every
part is reported as "not verified".
"""

from __future__ import annotations

import ipaddress
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from casework.repro.request import ENV_MARK, Captured, Part

MAX_ATTEMPTS = 64
TIMEOUT_S = 5.0

Send = Callable[[Captured], int | None]


@dataclass(frozen=True, slots=True)
class Minimized:
    """Which parts matter (``kept``), which were dropped, and how sure we are."""

    kept: tuple[Part, ...]
    dropped: tuple[Part, ...]
    verified: bool
    attempts: int
    note: str

    def notes(self) -> dict[str, str]:
        """``header x-request-id`` -> ``not needed (verified)``: comments for the full script."""
        if not self.verified:
            return {p.label: "not verified" for p in self.kept}
        out = {p.label: "needed (verified)" for p in self.kept}
        out.update({p.label: "not needed (verified)" for p in self.dropped})
        return out


def unverified(req: Captured, why: str) -> Minimized:
    return Minimized(kept=req.parts, dropped=(), verified=False, attempts=0, note=why)


def minimize(req: Captured, send: Send, budget: int = MAX_ATTEMPTS) -> Minimized:
    """The 1-minimal set of parts that still gets ``req.status`` (ddmin), within ``budget`` requests."""
    attempts = 0

    def same(parts: Sequence[Part]) -> bool:
        nonlocal attempts
        attempts += 1
        return send(req.only(tuple(parts))) == req.status

    if not same(req.parts):
        return Minimized(
            req.parts,
            (),
            False,
            attempts,
            f"the replay did not get HTTP {req.status}; nothing dropped",
        )
    parts = list(req.parts)
    n = 2
    while len(parts) >= 2 and attempts < budget:
        chunks = [parts[i * len(parts) // n : (i + 1) * len(parts) // n] for i in range(n)]
        for i in range(n):
            complement = [p for j, c in enumerate(chunks) if j != i for p in c]
            if attempts < budget and same(complement):
                parts, n = complement, max(n - 1, 2)
                break
        else:
            if n >= len(parts):
                break
            n = min(2 * n, len(parts))
    if len(parts) == 1 and attempts < budget and same([]):
        parts = []
    kept = tuple(parts)
    dropped = tuple(p for p in req.parts if p not in kept)
    done = "" if attempts < budget else f" (stopped at the limit of {budget} attempts)"
    return Minimized(kept, dropped, True, attempts, f"verified with {attempts} requests{done}")


def allowed_target(base_url: str, user_given: bool) -> bool:
    """Only a loopback target, or one the user named with ``--base-url``, may be contacted."""
    if user_given:
        return True
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_sender(base_url: str, timeout: float = TIMEOUT_S) -> Send:
    """A :data:`Send` over urllib: the status code, or None when the target does not answer."""

    def send(req: Captured) -> int | None:
        headers = {p.name: _value(p) for p in req.of("header")}
        query = urlencode([(p.name, _value(p)) for p in req.of("query")])
        data = None
        fields = req.of("body")
        if fields:
            data = json.dumps(
                {p.name: p.value if p.env is None else _value(p) for p in fields}
            ).encode()
            headers.setdefault("Content-Type", "application/json")
        elif req.raw_body is not None:
            data = req.raw_body.encode()
        path = ENV_MARK.sub(lambda m: quote(os.environ.get(m.group(1), ""), safe=""), req.path)
        url = base_url.rstrip("/") + path + (f"?{query}" if query else "")
        request = urllib.request.Request(url, data=data, headers=headers, method=req.method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return int(exc.code)
        except (urllib.error.URLError, OSError, ValueError):
            return None

    return send


def missing_secrets(req: Captured) -> list[str]:
    """Environment variables the request needs that are not set (verification needs them)."""
    needed = {*req.path_secrets(), *(p.env for p in req.parts if p.env)}
    return sorted(e for e in needed if e not in os.environ)


def _value(p: Part) -> str:
    if p.env is None:
        return str(p.value)
    return p.prefix + os.environ.get(p.env, "")
