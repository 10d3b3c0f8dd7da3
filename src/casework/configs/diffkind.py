"""What kind of difference two config values are, and how likely that kind is to break things.

A difference in kind (http vs https, a timeout 10x smaller, a flag turned off,
a TLS setting, a region or API version) matters more than a difference in
degree of a setting that rarely breaks anything (host names, replica counts,
log levels). Priors here are the starting score; symptom evidence raises them.

>>> classify("api.base_url", "https://api.example.com", "http://api.example.com").kind
'scheme'
>>> classify("client.timeout_ms", "5000", "500").kind
'magnitude'
>>> classify("log.level", "debug", "info").kind
'benign'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

_BENIGN_KEYS = re.compile(
    r"(log[_.\-]?level|verbos|replica|instances|hostname|host_name|pod_?name|node_?name|color|colour|"
    r"banner|title|description|owner|team|contact|annotation|label|namespace|environment|env_name|"
    r"\bname$|display|motd|dashboard|metrics?_?port|debug_?ui)",
    re.IGNORECASE,
)
_TIMEOUT_KEYS = re.compile(
    r"(timeout|deadline|ttl|expir|interval|wait|delay|retry|backoff|_ms$|_sec|seconds)", re.I
)
_TLS_KEYS = re.compile(r"(tls|ssl|https|cert|verify|ca_?bundle|cipher|insecure|mtls)", re.I)
_CLOCK_KEYS = re.compile(
    r"(ntp|chrony|clock|time_?sync|timesync|skew|leeway|drift|timezone|\btz\b)", re.I
)
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$|^(?:us|eu|ap|sa|ca|me|af)[a-z\-]*\d?$", re.I)
_VERSION = re.compile(r"^v?\d+(?:\.\d+)*(?:[-+.][\w.]+)?$|^\d{4}-\d{2}-\d{2}$", re.I)
_HOST = re.compile(r"^(?=.*[a-z])[a-z0-9\-]+(?:\.[a-z0-9\-]+)+(?::\d+)?$")
_BOOL = {"true", "false", "yes", "no", "on", "off", "enabled", "disabled", "1", "0"}
_TRUE = {"true", "yes", "on", "enabled", "1"}
_NUMBER = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|kb|mb|gb|mi|gi|ki)?$", re.I)
_UNIT_SCALE = {None: 1.0, "ms": 1.0, "s": 1000.0, "sec": 1000.0, "m": 60_000.0, "min": 60_000.0,
               "h": 3_600_000.0, "kb": 1.0, "ki": 1.0, "mb": 1024.0, "mi": 1024.0, "gb": 1 << 20,
               "gi": 1 << 20}  # fmt: skip

#: How often a difference of each kind explains "works in A, fails in B", before any symptom.
PRIOR: dict[str, float] = {
    "scheme": 0.55, "tls": 0.5, "magnitude": 0.45, "flag": 0.4, "clock": 0.35, "version": 0.35,
    "region": 0.3, "missing": 0.3, "secret": 0.25, "url": 0.25, "value": 0.2, "number": 0.2,
    "benign": 0.05,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Difference:
    """One key whose value differs between two environments, with what kind of difference it is."""

    key: str
    a: str | None
    b: str | None
    kind: str
    detail: str

    @property
    def prior(self) -> float:
        return PRIOR[self.kind]


def number_of(value: str | None) -> float | None:
    """The value as a number in base units (ms for durations, KiB for sizes), when it is one."""
    if value is None:
        return None
    m = _NUMBER.match(value.strip())
    if m is None:
        return None
    return float(m.group(1)) * _UNIT_SCALE.get((m.group(2) or "").lower() or None, 1.0)


def classify(key: str, a: str | None, b: str | None) -> Difference:
    """Classify the difference between value ``a`` (environment A) and ``b`` (environment B)."""
    leaf = key.rsplit(".", 1)[-1]
    if a is None or b is None:
        side = "only in A" if b is None else "only in B"
        kind = "benign" if _BENIGN_KEYS.search(leaf) else "missing"
        return Difference(key, a, b, kind, side)
    if "«secret:" in a or "«secret:" in b:
        return Difference(key, a, b, "secret", "secret values differ (values redacted)")
    if _BENIGN_KEYS.search(leaf) and not _TLS_KEYS.search(leaf):
        return Difference(key, a, b, "benign", "usually harmless")
    ua, ub = _url(a), _url(b)
    if ua and ub:
        if ua.scheme != ub.scheme:
            return Difference(key, a, b, "scheme", f"scheme {ua.scheme} vs {ub.scheme}")
        if ua.path.rstrip("/") != ub.path.rstrip("/"):
            return Difference(
                key, a, b, "version" if _has_version(ua.path + ub.path) else "url", "path differs"
            )
        return Difference(key, a, b, "url", "host differs")
    la, lb = a.strip().lower(), b.strip().lower()
    if (_HOST.match(la) and _HOST.match(lb)) or leaf.lower().endswith(("host", "hosts")):
        return Difference(key, a, b, "benign", "host name differs")
    if la in _BOOL and lb in _BOOL and (la in _TRUE) != (lb in _TRUE):
        kind = "tls" if _TLS_KEYS.search(key) else "flag"
        return Difference(key, a, b, kind, f"{'enabled' if la in _TRUE else 'disabled'} vs "
                                           f"{'enabled' if lb in _TRUE else 'disabled'}")  # fmt: skip
    if _TLS_KEYS.search(key):
        return Difference(key, a, b, "tls", "TLS setting differs")
    if _CLOCK_KEYS.search(key):
        return Difference(key, a, b, "clock", "clock setting differs")
    na, nb = number_of(a), number_of(b)
    if na is not None and nb is not None:
        if na == 0 or nb == 0:  # no ratio to zero: 3 retries against none is not "3e9x"
            return Difference(key, a, b, "magnitude", "zero in B" if nb == 0 else "zero in A")
        ratio = max(abs(na), abs(nb)) / min(abs(na), abs(nb))
        if ratio >= 10:
            return Difference(
                key, a, b, "magnitude", f"{ratio:.0f}x {'smaller' if nb < na else 'larger'} in B"
            )
        if _TIMEOUT_KEYS.search(key) and ratio >= 2:
            return Difference(
                key, a, b, "magnitude", f"{ratio:.1f}x {'smaller' if nb < na else 'larger'} in B"
            )
        return Difference(key, a, b, "number", f"{ratio:.2f}x")
    if _REGION.match(la) and _REGION.match(lb):
        return Difference(key, a, b, "region", f"region {a} vs {b}")
    if _VERSION.match(la) and _VERSION.match(lb):
        return Difference(key, a, b, "version", f"version {a} vs {b}")
    return Difference(key, a, b, "value", "value differs")


def _url(value: str) -> SplitResult | None:
    if "://" not in value:
        return None
    parts = urlsplit(value.strip())
    return parts if parts.scheme and parts.netloc else None


def _has_version(path: str) -> bool:
    return re.search(r"/v\d+\b|\d{4}-\d{2}-\d{2}", path) is not None


def is_clock_key(key: str) -> bool:
    return _CLOCK_KEYS.search(key) is not None
