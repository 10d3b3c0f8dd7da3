"""The catalogue of secrets recognised by their own shape (vendor prefixes, JWTs, PEM keys).

Each rule has a ``kind`` (the placeholder's KIND), a Python regex whose group
``s`` (or the whole match) is the secret, and a cheap ``trigger``: a pattern
that must occur for the rule to possibly match. Triggers are what the
prefilter scans for in one pass; the full regex runs only on the few lines
they flag. Shapes follow the public gitleaks and detect-secrets rules, widened
where a vendor's documented format allows more than those rules accept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Characters that may not touch a token on either side (so a prefix inside a
#: longer word does not count).
_B = r"(?<![A-Za-z0-9_])"
_E = r"(?![A-Za-z0-9_])"


@dataclass(frozen=True, slots=True)
class TokenRule:
    """One secret shape: ``regex`` finds it, ``trigger`` (bytes regex) pre-selects lines."""

    kind: str
    regex: re.Pattern[str]
    trigger: bytes
    caseless: bool = False


def _r(kind: str, pattern: str, trigger: str, caseless: bool = False) -> TokenRule:
    flags = re.IGNORECASE if caseless else 0
    return TokenRule(kind, re.compile(pattern, flags), trigger.encode(), caseless)


_T = r"[A-Za-z0-9_\-]"  # URL-safe token character

TOKEN_RULES: tuple[TokenRule, ...] = (
    _r(
        "jwt",
        # three parts (JWS) or five (JWE)
        r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]*){0,3}",
        r"eyJ[A-Za-z0-9_\-]{4}",
    ),
    _r(
        "aws_access_key",
        _B
        + r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}"
        + _E,
        r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{4}",
    ),
    _r(
        "github",
        _B + r"(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})",
        r"gh[pousr]_[A-Za-z0-9]{4}|github_pat_",
    ),
    _r(
        "gitlab",
        _B + r"(?:gl(?:pat|ptt|dt|rt|cbt|ft|imt|agent|oas|soat|ffct|wt|feed|cbt)-"
        r"[A-Za-z0-9_\-.=]{10,}|GR1348941[A-Za-z0-9_\-]{16,}|_gitlab_session=[a-z0-9]{16,})",
        r"gl(?:pat|ptt|dt|rt|cbt|ft|imt|agent|oas|soat|ffct|wt|feed)-|GR1348941|_gitlab_session=",
    ),
    _r(
        "slack",
        _B + r"(?:xox[abposer](?:\.xox[a-z])?-[A-Za-z0-9\-]{10,}|xapp-\d-[A-Za-z0-9\-]{10,})",
        r"xox[abposer]|xapp-\d-",
    ),
    _r(
        "slack_webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{16,}",
        r"hooks\.slack\.com/",
    ),
    _r(
        "stripe",
        _B + r"(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,}",
        r"[sr]k_(?:live|test|prod)_",
    ),
    _r(
        "google",
        _B + r"(?:AIza[A-Za-z0-9_\-]{35}|ya29\.[A-Za-z0-9_\-]{20,}|GOCSPX-[A-Za-z0-9_\-]{20,})",
        r"AIza|ya29\.|GOCSPX-",
    ),
    _r(
        "azure",
        r"(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s*=\s*(?P<s>[A-Za-z0-9+/=%]{20,})",
        r"AccountKey|SharedAccess",
        caseless=True,
    ),
    _r(
        "azure",
        r"(?<![A-Za-z0-9_~.\-])(?P<s>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?![A-Za-z0-9_~.\-])",
        r"\dQ~",
    ),
    _r("twilio", _B + r"(?:SK|AC)[0-9a-z]{32}" + _E, r"(?:SK|AC)[0-9a-z]{8}"),
    _r("sendgrid", _B + r"SG\.[A-Za-z0-9_\-=.]{20,}", r"SG\.[A-Za-z0-9_\-=]{6}"),
    _r("npm", _B + r"npm_[A-Za-z0-9]{20,}" + _E, r"npm_"),
    _r("pypi", _B + r"pypi-AgE[A-Za-z0-9_\-]{40,}", r"pypi-AgE"),
    _r(
        "private_key",
        r"-----BEGIN[ A-Z0-9_\-]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END[ A-Z0-9_\-]*PRIVATE KEY(?: BLOCK)?-----|$)",
        r"-----BEGIN[ A-Z0-9_\-]*PRIVATE KEY",
    ),
    _r(
        "openai",
        _B + r"sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{16,}",
        r"T3BlbkFJ",
    ),
    _r("anthropic", _B + r"sk-ant-[a-z]{3,6}\d{2}-[A-Za-z0-9_\-]{30,}", r"sk-ant-"),
    _r("api_key", _B + r"sk-[A-Za-z0-9]{32,}" + _E, r"sk-[A-Za-z0-9]{8}"),
    _r(
        "api_key",
        _B + r"(?:"
        r"do[opr]_v1_[a-f0-9]{64}|dapi[a-f0-9]{32}(?:-\d)?|shp(?:ss|at|ca|pa)_[a-fA-F0-9]{32}"
        r"|xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}|sntr[ysu]s?_[A-Za-z0-9_=\-]{40,}"
        r"|gl(?:c|sa)_[A-Za-z0-9_+/=\-]{32,}|NR(?:AK|JS|II|AA)-[A-Za-z0-9]{19,32}"
        r"|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|pnu_[A-Za-z0-9]{36}|rdme_[a-z0-9]{70}"
        r"|rubygems_[a-f0-9]{48}|pscale_(?:pw|tkn|oauth)_[A-Za-z0-9=._\-]{32,64}"
        r"|dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}|FLW(?:SECK|PUBK)_TEST-[A-Za-z0-9]{12,}(?:-X)?"
        r"|fo1_[A-Za-z0-9_\-]{43}|fio-u-[A-Za-z0-9_=\-]{64}|CLOJARS_[a-z0-9]{60}"
        r"|AKC[A-Za-z0-9]{10,}|cmVmdGtu[A-Za-z0-9]{20,}|EAA[A-Za-z0-9]{100,}|EAAA[A-Za-z0-9_\-+=]{22,}"
        r"|EZ[AT]K[A-Za-z0-9]{54}|sq0(?:csp|atp|idp)-[A-Za-z0-9_\-\\^\]]{22,}"
        r"|AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}|tk-us-[A-Za-z0-9_\-]{48}"
        r"|duffel_(?:test|live)_[A-Za-z0-9_\-=]{43}|dnkey-[A-Za-z0-9=_\-]{26}-[A-Za-z0-9=_\-]{52}"
        r"|pat[A-Za-z0-9]{14}\.[a-f0-9]{64}|ntn_[A-Za-z0-9]{40,}|sgp_(?:[a-fA-F0-9]{16}_)?[a-fA-F0-9]{40}"
        r"|sm_(?:pat|aat|sat)_[A-Za-z0-9]{16}|shippo_(?:live|test)_[a-f0-9]{40}"
        r"|key-[a-f0-9]{32}|pubkey-[a-f0-9]{32}|lin_(?:api|oauth)_[A-Za-z0-9]{40}|hf_[A-Za-z]{34}(?![A-Za-z0-9_])"
        r"|gsk_[A-Za-z0-9]{52}|pplx-[A-Za-z0-9]{48}'?|sha256~[A-Za-z0-9_\-]{43}|ATATT3[A-Za-z0-9_\-=]{180,}"
        r"|v1\.0-[a-f0-9]{24}-[a-f0-9]{146}|AQVN[A-Za-z0-9_\-]{35,38}|YC[A-Za-z0-9_\-]{38}"
        r"|t1\.[A-Z0-9a-z_\-]+=*\.[A-Z0-9a-z_\-]{86}=*|bedrock-api-key-[A-Za-z0-9+/=]{20,}"
        r"|ABSK[A-Za-z0-9+/]{100,}|LTAI[A-Za-z0-9]{20}|A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})"
        r"-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}|ops_eyJ[A-Za-z0-9+/]{100,}={0,3}"
        r"|hv[sb]\.[A-Za-z0-9_\-]{24,}|dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}"
        r"|live_[A-Za-z0-9_=\-]{40}|API-[A-Z0-9]{26}|glpat-[A-Za-z0-9_\-]{20}"
        r"|p8e-[A-Za-z0-9]{32}|s-s4t2(?:ud|af)-[a-f0-9]{64}|sgp_local_[a-fA-F0-9]{40}"
        r"|access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        r"|whsec_[A-Za-z0-9+/=]{24,}|[a-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}|HRKU-[A-Za-z0-9_\-]{50,}"
        r"|oy2[a-z0-9]{43}|dckr_pat_[A-Za-z0-9_\-]{27}|sbp_[a-f0-9]{40}|r8_[A-Za-z0-9]{37}"
        r"|IQoJb3JpZ2luX2Vj[A-Za-z0-9+/=]{60,}|FwoGZXIvYXdzE[A-Za-z0-9+/=]{60,}"
        r")",
        r"do[opr]_v1_|dapi[a-f0-9]{8}|shp(?:ss|at|ca|pa)_|xkeysib-|sntr[ysu]|gl(?:c|sa)_|NR(?:AK|JS|II|AA)-"
        r"|PMAK-|pnu_|rdme_|rubygems_|pscale_|dp\.(?:pt|st|sa|ct|scim|audit)\.|FLW(?:SECK|PUBK)_|fo1_"
        r"|fio-u-|CLOJARS_|AKC[A-Za-z0-9]{6}|cmVmdGtu|EAA|EZ[AT]K|sq0(?:csp|atp|idp)-|AGE-SECRET-KEY-1"
        r"|tk-us-|duffel_|dnkey-|pat[A-Za-z0-9]{14}\.|ntn_|sgp_|sm_(?:pat|aat|sat)_|shippo_|key-[a-f0-9]{32}"
        r"|pubkey-|lin_(?:api|oauth)_|hf_[A-Za-z]{8}|gsk_|pplx-|sha256~|ATATT3|v1\.0-|AQVN|YC[A-Za-z0-9_\-]{12}"
        r"|t1\.|bedrock-api-key-|ABSK|LTAI|A3-|ops_eyJ|hv[sb]\.|dt0c01\.|live_|API-[A-Z0-9]{8}"
        r"|p8e-|s-s4t2|access-(?:sandbox|development|production)-|whsec_|\.atlasv1\.|HRKU-|oy2[a-z0-9]{8}"
        r"|dckr_pat_|sbp_|r8_[A-Za-z0-9]{8}|IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE",
    ),
    _r(
        "webhook",
        r"webhook\.office\.com/webhookb2/(?P<s>[^\s\"'<>]{20,})",
        r"webhook\.office\.com/",
    ),
    _r("mailchimp", _B + r"[0-9a-f]{32}-us\d{1,2}" + _E, r"-us[0-9]"),
    _r(
        "mailgun",
        _B + r"[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}" + _E,
        r"[a-f0-9]{4}-[a-f0-9]{8}-[a-f0-9]{8}",
    ),
    _r(
        "telegram",  # also inside bot API URLs: api.telegram.org/bot<token>/sendMessage
        r"(?:(?<=/bot)|(?<![A-Za-z0-9_]))\d{8,10}:AA[A-Za-z0-9_\-]{32,33}" + _E,
        r"[0-9]:AA[A-Za-z0-9_\-]{4}",
    ),
    _r(
        "webhook",
        r"discord(?:app)?\.com/api/webhooks/\d+/(?P<s>[A-Za-z0-9_\-]{30,})",
        r"discord(?:app)?\.com/api/webhooks/",
    ),
    _r(
        "discord",
        r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27}",
        r"\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27}",
    ),
    _r(
        "artifactory",
        r"(?:(?<=[\s=:\"'])|^)(?P<s>AP[0-9A-F][A-Za-z0-9]{8,})(?=[\s\"']|$)",
        r"AP[0-9A-F][A-Za-z0-9]{8}",
    ),
    _r("facebook", _B + r"\d{15,16}\|[A-Za-z0-9_\-]{27}" + _E, r"[0-9]{15}\|[A-Za-z0-9_\-]{4}"),
)
