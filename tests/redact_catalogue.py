"""A catalogue of secrets of every kind issue 3 lists, freshly generated, in realistic text.

Values are random for every run (seeded per test for reproducibility), so the
rules are tested on shapes, never on particular strings.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Plant:
    """One planted secret: ``text`` contains ``secret``; ``kind`` names the rule family."""

    kind: str
    text: str
    secret: str
    #: whether everything around the secret must survive byte for byte
    keeps_context: bool = True


def rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(obj: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def jwt(rng: random.Random, *, iat: int = 1_767_000_000, exp: int = 1_767_003_600) -> str:
    header = _b64url({"alg": "RS256", "typ": "JWT", "kid": rand(rng, LOWER_ALNUM, 6)})
    payload = _b64url(
        {
            "sub": rand(rng, string.digits, 8),
            "iss": "https://login.example-idp.com",
            "iat": iat,
            "exp": exp,
        }
    )
    return f"{header}.{payload}.{rand(rng, ALNUM + '-_', 86)}"


def luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d2 = d * 2 if i % 2 == 0 else d
        total += d2 - 9 if d2 > 9 else d2
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i : i + 4] for i in range(0, 16, 4))


def pem(rng: random.Random) -> str:
    body = "\n".join(rand(rng, ALNUM + "+/", 64) for _ in range(6))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


def catalogue(seed: int = 7) -> list[Plant]:
    """At least one secret of every kind, each in the kind of text it is found in."""
    rng = random.Random(seed)
    tok = jwt(rng)
    bearer = rand(rng, ALNUM, 40)
    basic = base64.b64encode(
        f"svc-{rand(rng, LOWER_ALNUM, 5)}:{rand(rng, ALNUM, 14)}".encode()
    ).decode()
    sid = rand(rng, HEX, 32)
    api_key = rand(rng, ALNUM, 32)
    pw = rand(rng, ALNUM, 10) + "!#"
    aws_id = "AKIA" + rand(rng, string.ascii_uppercase + string.digits, 16)
    aws_secret = rand(rng, ALNUM + "/+", 40)
    code, sig, sess = rand(rng, ALNUM, 24), rand(rng, HEX, 64), rand(rng, ALNUM, 28)
    ghp, glpat = "ghp_" + rand(rng, ALNUM, 36), "glpat-" + rand(rng, ALNUM + "-_", 20)
    slack = (
        f"xoxb-{rand(rng, string.digits, 12)}-{rand(rng, string.digits, 12)}-{rand(rng, ALNUM, 24)}"
    )
    stripe, google = "sk_live_" + rand(rng, ALNUM, 24), "AIza" + rand(rng, ALNUM + "-_", 35)
    azure = rand(rng, ALNUM + "+/", 86) + "=="
    twilio = "SK" + rand(rng, HEX, 32)
    sendgrid = f"SG.{rand(rng, ALNUM + '-_', 22)}.{rand(rng, ALNUM + '-_', 43)}"
    npm, pypi = "npm_" + rand(rng, ALNUM, 36), "pypi-AgEIcHlwaS5vcmc" + rand(rng, ALNUM + "-_", 60)
    signing = rand(rng, ALNUM, 40)
    card = luhn_card(rng)
    key = pem(rng)
    return [
        Plant("authorization", f"Authorization: Bearer {tok}", tok),
        Plant(
            "bearer",
            f"2026-03-01T10:00:00Z DEBUG sending request with Bearer {bearer} upstream",
            bearer,
        ),
        Plant("proxy-authorization", f"Proxy-Authorization: Basic {basic}", basic),
        Plant("cookie", f"Cookie: theme=dark; sessionid={sid}; lang=en", sid),
        Plant(
            "set-cookie", f"Set-Cookie: SESSION={sid}; Path=/; Secure; HttpOnly; SameSite=Lax", sid
        ),
        Plant("x-api-key", f"x-api-key: {api_key}", api_key),
        Plant(
            "url-userinfo", f"GET https://deploy:{pw}@repo.example.com/v1/artifacts 200", pw, False
        ),
        Plant(
            "query-access_token",
            f"GET /v2/export?format=csv&access_token={bearer}&page=2 HTTP/1.1",
            bearer,
        ),
        Plant(
            "query-refresh_token",
            f"POST /oauth/token?grant_type=refresh&refresh_token={api_key}",
            api_key,
        ),
        Plant(
            "query-id_token",
            f"redirect to https://app.example.com/cb#id_token={tok}&state=xyz",
            tok,
        ),
        Plant("query-code", f"GET /callback?code={code}&state=abc", code),
        Plant("query-signature", f"GET /file.pdf?X-Amz-Expires=300&X-Amz-Signature={sig}", sig),
        Plant("query-key", f"GET /maps/api/geocode/json?address=x&key={api_key} 200", api_key),
        Plant("query-session", f"GET /app?session={sess} 302", sess),
        Plant("json-field", json.dumps({"user": "jdoe", "password": pw, "remember": True}), pw),
        Plant("jwt", f"token refreshed: {tok} (exp in 3600s)", tok),
        Plant("pem", f"loaded key:\n{key}\nend of config", key),
        Plant("aws-access-key-id", f"aws_access_key_id = {aws_id}", aws_id),
        Plant("aws-secret-key", f"aws_secret_access_key = {aws_secret}", aws_secret),
        Plant("github", f"git push with token {ghp} failed", ghp),
        Plant("gitlab", f"CI_JOB uses {glpat} for the registry", glpat),
        Plant("slack", f"posting with {slack} to #ops", slack),
        Plant("stripe", f"charge failed for key {stripe}", stripe),
        Plant("google", f"maps request key={google} quota exceeded", google),
        Plant(
            "azure",
            f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={azure};"
            "EndpointSuffix=core.windows.net",
            azure,
        ),
        Plant("twilio", f"twilio client {twilio} rejected", twilio),
        Plant("sendgrid", f"mail via {sendgrid} ok", sendgrid),
        Plant("npm", f"//registry.npmjs.org/:_authToken={npm}", npm),
        Plant("pypi", f"TWINE_PASSWORD={pypi}", pypi),
        Plant(
            "password-assignment",
            f"2026-03-01 12:00:01 WARN connecting with password={pw} user=app",
            pw,
        ),
        Plant("secret-colon", f"client_secret: {api_key}", api_key),
        Plant("api_key-assignment", f'settings.api_key = "{api_key}"', api_key),
        Plant("database-url", f"DATABASE_URL=postgres://app:{pw}@db.internal:5432/app", pw, False),
        Plant("high-entropy-name", f"export STRIPE_WEBHOOK_SIGNING_SECRET={signing}", signing),
        Plant(
            "yaml-password", f"smtp:\n  host: smtp.example.com\n  password: {pw}\n  port: 587", pw
        ),
        Plant(
            "k8s-env",
            f"env:\n- name: DB_PASSWORD\n  value: {pw}\n- name: LOG_LEVEL\n  value: debug",
            pw,
        ),
        Plant(
            "email",
            "Customer contact: maria.gonzalez@acme-widgets.com, please reply.",
            "maria.gonzalez@acme-widgets.com",
        ),
        Plant("card", f"Payment failed for card {card} exp 12/27", card),
        Plant("phone", "Call me back on +1 (415) 555-0137 after 3pm PT.", "+1 (415) 555-0137"),
    ]
