"""Personal data in free text: e-mail, card numbers (Luhn), phones, US SSNs, IBANs, public IPs.

Every detector is validated beyond its regex (Luhn for cards, mod-97 for
IBANs, a public-address check for IPs) so log identifiers that merely look
numeric — block ids, epoch milliseconds, versions — survive.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)
CARD = re.compile(r"(?<![\w.\-+/:])[2-6]\d{3}(?:[ \-]?\d{3,4}){2,3}(?:[ \-]?\d{1,3})?(?![\w.\-/:])")
PHONE = re.compile(
    r"(?<![\w.+\-/:])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}(?![\w.\-/:])"
    r"|(?<![\w.+\-/:])\+\d{1,3}(?:[ .\-]\(?\d{1,4}\)?){2,5}(?![\w.\-/:])"
)
SSN = re.compile(r"(?<![\w\-.])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w\-.])")
IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
)
IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"
    r"(?::\d{1,5})?(?![\w.])"
)

# service addresses are not personal data
_EMAIL_SKIP_LOCAL = frozenset({"git", "noreply", "no-reply", "donotreply"})
# generic top-level domains seen in mail; any two-letter country code also counts
_TLDS = frozenset(
    [
        "com",
        "net",
        "org",
        "edu",
        "gov",
        "mil",
        "int",
        "info",
        "biz",
        "name",
        "pro",
        "aero",
        "coop",
        "museum",
        "mobi",
        "jobs",
        "travel",
        "app",
        "dev",
        "io",
        "ai",
        "cloud",
        "online",
        "site",
        "tech",
        "store",
        "shop",
        "xyz",
        "email",
        "systems",
        "company",
        "solutions",
        "services",
        "network",
        "digital",
        "global",
        "group",
        "agency",
        "blog",
        "live",
        "today",
        "world",
        "life",
        "media",
        "news",
        "space",
        "website",
        "host",
        "support",
        "team",
        "example",
        "test",
        "invalid",
        "local",
        "localhost",
        "internal",
        "corp",
        "lan",
        "home",
        "arpa",
    ]
)


@dataclass(frozen=True, slots=True)
class PiiPolicy:
    """Which personal-data detectors run."""

    email: bool = True
    card: bool = True
    phone: bool = True
    ssn: bool = True
    iban: bool = True
    ip: bool = False


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum that every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# an unseparated 13–19 digit run is a card only in payment context (else: a big number)
_CARD_WORDS = re.compile(r"(?i)card|visa|master|amex|pan\b|credit|payment|cc[_ ]?num|\bcc\b")
_CARD_PREFIX = re.compile(r"4|5[1-5]|2[2-7]|3[47]|3[068]|6(?:011|5|4[4-9]|2)|35")


def is_card(text: str, before: str = "card") -> bool:
    """A brand prefix, a card length and a valid Luhn digit; not one repeated digit.

    ``before`` is the text preceding the number: without separators the
    number counts only after a payment word there.
    """
    digits = re.sub(r"[ \-]", "", text)
    if digits == text and not _CARD_WORDS.search(before):
        return False
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    return bool(_CARD_PREFIX.match(digits)) and luhn_ok(digits)


def is_iban(text: str) -> bool:
    """ISO 13616 mod-97 check."""
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in moved)
    return int(num) % 97 == 1


def is_public_ip(text: str) -> bool:
    """A globally routable IPv4 address (private, loopback and link-local ones are evidence)."""
    try:
        return ipaddress.IPv4Address(text.split(":")[0]).is_global
    except ValueError:
        return False


def is_email(text: str) -> bool:
    """A real top-level domain; not a git or no-reply service address."""
    local, _, domain = text.rpartition("@")
    tld = domain.lower().rsplit(".", 1)[-1]
    if local.lower() in _EMAIL_SKIP_LOCAL:
        return False
    # file names (logo@2x.png) and package specs (Reshape@ai.onnx) look like addresses
    return len(tld) == 2 or tld in _TLDS


def is_phone(text: str) -> bool:
    """Ten or more digits, not a date or a dotted version."""
    digits = sum(c.isdigit() for c in text)
    return 10 <= digits <= 15
