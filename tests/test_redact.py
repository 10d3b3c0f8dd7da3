"""Redaction rules: one secret of every kind, placeholders, JWT claims, and what must survive."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from casework.redact import RedactionPolicy, Redactor, jwt_claims_from_placeholder
from casework.redact.placeholder import PLACEHOLDER_RE
from redact_catalogue import Plant, catalogue, jwt

KEY = b"k" * 32
PLANTS = catalogue()


@pytest.fixture
def r() -> Redactor:
    return Redactor(KEY)


@pytest.mark.parametrize("plant", PLANTS, ids=[p.kind for p in PLANTS])
def test_every_kind_is_redacted_and_context_survives(plant: Plant, r: Redactor) -> None:
    out = r.text(plant.text)
    assert plant.secret not in out
    assert "«secret:" in out
    # no half of the secret may survive either
    half = max(8, len(plant.secret) // 2)
    assert not any(plant.secret[i : i + half] in out for i in range(len(plant.secret) - half + 1))
    if plant.keeps_context:
        before, _, after = plant.text.partition(plant.secret)
        assert out.startswith(before) and out.endswith(after)
    assert sum(r.counts.values()) >= 1


def test_hyperscan_and_re_prefilters_agree() -> None:
    fast, slow = Redactor(KEY), Redactor(KEY, use_hyperscan=False)
    for plant in PLANTS:
        assert fast.text(plant.text) == slow.text(plant.text)


def test_placeholders_are_stable_per_key_and_differ_across_keys() -> None:
    a1, a2, b = Redactor(KEY), Redactor(KEY), Redactor(b"other-key-" * 4)
    line = "login user=bob password=Sup3rSecret! retry password=Sup3rSecret!"
    out = a1.text(line)
    first, second = PLACEHOLDER_RE.findall(out)
    assert first == second
    assert a2.text(line) == out
    assert b.text(line) != out
    assert a1.text("password=AnotherOne9") != a1.text("password=Sup3rSecret!")


def test_jwt_placeholder_keeps_expiry_claims(r: Redactor) -> None:
    token = jwt(__import__("random").Random(1), iat=1_767_000_000, exp=1_767_003_600)
    out = r.header("Authorization", f"Bearer {token}")
    assert out.startswith("Bearer «secret:jwt:")
    claims = jwt_claims_from_placeholder(out)
    assert claims == {
        "alg": "RS256",
        "typ": "JWT",
        "iat": 1_767_000_000,
        "exp": 1_767_003_600,
        "iss": "https://login.example-idp.com",
    }
    assert token.split(".")[1] not in out


def test_cookies_keep_names_and_attributes(r: Redactor) -> None:
    out = r.header("Set-Cookie", "sid=9f2c4e1a7b3d5f60a8c2e4b6d8f0a1c3; Path=/; Secure; HttpOnly")
    assert re.fullmatch(r"sid=«secret:cookie:[0-9a-f]{6}»; Path=/; Secure; HttpOnly", out)
    out = r.header("Cookie", "theme=dark; csrftoken=a7zdcXWq0lIhJA6ViUb1hVT7J5wX")
    assert out.startswith("theme=dark; csrftoken=«secret:cookie:")


def test_value_json_url_are_name_aware(r: Redactor) -> None:
    assert r.value("client_secret", "abc") != "abc"
    assert r.value("token_endpoint", "https://login.example.com/oauth2/token") == (
        "https://login.example.com/oauth2/token"
    )
    assert r.value("api_key", "${API_KEY}") == "${API_KEY}"
    assert r.value("key", "tenant:48213:settings") == "tenant:48213:settings"
    doc: dict[str, Any] = {
        "user": {"name": "x", "password": "hunter22", "tags": ["a", "b"]},
        "n": 3,
        "headers": [{"name": "Authorization", "value": "Basic dXNlcjpwYXNz"}],
    }
    out = r.json(doc)
    assert out["user"]["password"].startswith("«secret:password:")
    assert out["user"]["tags"] == ["a", "b"] and out["n"] == 3
    assert out["headers"][0]["value"].startswith("Basic «secret:basic:")
    assert doc["user"]["password"] == "hunter22"  # a copy, not in place
    url = r.url("https://bob:pa55word@host.example.com/x?sig=AbC123dEf456GhI789&page=2")
    assert "pa55word" not in url and "AbC123dEf456GhI789" not in url and url.endswith("&page=2")


def test_take_counts_resets(r: Redactor) -> None:
    r.text("password=abcdefgh1")
    assert r.take_counts() == {"password": 1}
    assert not r.counts


CLEAN = [
    "request_id=9f1c2a7e-3b4d-4e8a-9c1f-2d3e4f5a6b7c method=GET status=200 duration_ms=87",
    "sha256:4bc453b53cb3d914b45f4b250294236adba2c0e09ff6f03793949e7e39fd4cc1  agent.tar.gz",
    "commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39 (HEAD -> release/5.0)",
    "081109 203615 148 INFO dfs.DataNode$PacketResponder: Received block blk_-1608999687919862906 of "
    "size 91178 from /10.250.10.6",
    "segfault at 00007f3a2b4c5d6e ip 0x00007f3a2b4c5d6e sp 00007ffd1234abcd error 4 in libc.so.6",
    "2024-05-14T08:21:09.532Z INFO retry attempt=2 backoff_ms=400 epoch_ms=1715674869532",
    "Trace ID: 4bf92f3577b34da6a3ce929d0e0e4736, Span ID: 00f067aa0ba902b7",
    'ETag: "33a64df551425fcc55e4d42a148795d9f25f89d4"',
    "password_min_length: 12\ntoken_endpoint: https://login.example.com/oauth2/v2.0/token",
    'api_key: ${API_KEY}\nclient_secret: <redacted>\ndb_password: "{{ vault.db_password }}"',
    "Failed password for invalid user admin from 10.0.0.5 port 22 ssh2",
    "Set the token expiry to 30 days and ask the user to regenerate their API key.",
    '{"level":"info","msg":"cache miss","key":"tenant:48213:settings","ttl":300}',
    "Skipping AppWindowToken{9f4ef63 token=Token{a64f992 ActivityRecord{de9231d u0 t761}}}",
]


@pytest.mark.parametrize("line", CLEAN)
def test_clean_text_is_untouched(line: str, r: Redactor) -> None:
    assert r.text(line) == line


def test_ip_addresses_only_when_asked() -> None:
    line = "client 203.0.113.77 via 10.0.0.5 and 8.8.8.8:53"
    assert Redactor(KEY).text(line) == line
    out = Redactor(KEY, RedactionPolicy(pii_ip=True)).text(line)
    assert "8.8.8.8" not in out and "10.0.0.5" in out


def test_redaction_is_idempotent(r: Redactor) -> None:
    for plant in PLANTS:
        once = r.text(plant.text)
        assert r.text(once) == once, plant.kind


def test_bad_input_never_raises(r: Redactor) -> None:
    for s in [
        "",
        "\x00\xff\ud800",
        "password=" * 1000,
        "«secret:",
        "eyJ" + "A" * 10_000,
        "-----BEGIN PRIVATE KEY-----\n" + "A" * 5000,
    ]:
        assert isinstance(r.text(s), str)
    assert r.json({1: [None, 1.5, True, {"password": 123456789}]}) == {
        1: [None, 1.5, True, {"password": r.json({"password": 123456789})["password"]}]
    }


def test_config_and_command_line_shapes(r: Redactor) -> None:
    cases = {
        '<add key="DbPassword" value="Hunter2!x" />': "Hunter2!x",
        "mysql --password Hunter2xx --host db": "Hunter2xx",
        "vault login --token s.abcdef123456 --verbose": "s.abcdef123456",
        "  .dockerconfigjson: eyJhdXRocyI6eyJyZWcuZXhhbXBsZS5jb20iOnsiYXV0aCI6ImRYTmxjanB3In19fQ==": "eyJhdXRocyI6eyJyZWcuZXhhbXBsZS5jb20iOnsiYXV0aCI6ImRYTmxjanB3In19fQ==",
        "Server=db;Database=app;User Id=sa;Password=Pa55w0rd!;": "Pa55w0rd!",
        "jdbc:postgresql://db:5432/app?user=app&password=Pa55w0rd!": "Pa55w0rd!",
    }
    for line, secret in cases.items():
        assert secret not in r.text(line), line
    for prose in (
        "use --password to set it",
        "Authorization: Bearer <your token>",
        'curl -u "$USER:$PASS" https://x',
    ):
        assert r.text(prose) == prose


def test_redactor_pickles_for_worker_processes(r: Redactor) -> None:
    import pickle

    clone = pickle.loads(pickle.dumps(r))
    line = "password=Sup3rSecret!"
    assert clone.text(line) == r.text(line)


def test_flattened_attribute_paths_keep_header_semantics(r: Redactor) -> None:
    out = r.value("request.headers.authorization", "Token ak_9nWkvmoyEpD6hcmVjbOhWL")
    assert out.startswith("Token «secret:") and "ak_9nW" not in out
    out = r.value("headers.cookie", "sid=9f2c4e1a7b3d5f60a8c2e4b6d8f0a1c3; theme=dark")
    assert out.startswith("sid=«secret:cookie:") and out.endswith("; theme=dark")


def test_texts_batches_like_text(r: Redactor) -> None:
    items = [p.text for p in PLANTS] + ["", "plain line", "password:", "hunter2hunter2"]
    single = Redactor(KEY)
    assert r.texts(items) == [single.text(s) for s in items]
    assert r.counts == single.counts


def test_pathological_lines_are_redacted_whole(r: Redactor) -> None:
    """Lines made of one secret-like unit repeated: every unit redacted, at 8x the length
    too (bench/redaction.py prints the time per unit at both lengths: linear, not 8x)."""
    for unit in ("password=x1y2z3 ", '"name": "token", "value": "abc1234567", ', "a@b.co "):
        small, big = r.text(unit * 2_000), r.text(unit * 16_000)
        found = len(PLACEHOLDER_RE.findall(small))
        assert found >= 2_000 and len(PLACEHOLDER_RE.findall(big)) == 8 * found, unit


def test_set_cookie_lines_joined_by_the_browser(r: Redactor) -> None:
    out = r.header("set-cookie", "a=Zx81kPq0Lm; Path=/\nsid=Qw72nBv5Rt9y; Secure")
    assert "Zx81kPq0Lm" not in out and "Qw72nBv5Rt9y" not in out
    assert out.count("\n") == 1 and out.endswith("; Secure")


def test_tokens_inside_urls_and_paths(r: Redactor) -> None:
    cases = {
        "POST https://api.telegram.org/bot7213808860:AAH1bjqpKKW3maRSPAxzIU-0v6xNuq2-NjM/send 200": "AAH1bjqpKKW3maRSPAxzIU",
        "https://discord.com/api/webhooks/1234567890/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd": "AbCdEfGhIjKlMnOpQrStUvWxYz",
        "GET /app;jsessionid=0A1B2C3D4E5F60718293A4B5C6D7E8F9 HTTP/1.1": "0A1B2C3D4E5F6071",
        "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&se=2026&sp=r&sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5%3D": "Zm9vYmFyYmF6cXV4",
    }
    for line, secret in cases.items():
        out = r.text(line)
        assert secret not in out, line
        assert out.startswith(line[:12]), line  # the rest of the line stays


@pytest.mark.parametrize("plant", PLANTS, ids=lambda p: p.kind)
def test_clean_record_says_clean_only_when_nothing_would_change(plant: Plant) -> None:
    """The ingest's one-pass check must never let through what the per-field path redacts."""
    neutral = {"http.method": "GET", "http.status": 200, "latency_ms": 12.5, "account.id": "a-1"}
    records: list[tuple[str, dict[str, Any]]] = [
        (plant.text, neutral),
        ("handled request", {**neutral, "detail": plant.text}),
        ("handled request", {**neutral, "detail": plant.secret}),
        ("handled request", {**neutral, "api_key": plant.secret}),
        ("handled request", {**neutral, "session": plant.secret}),
        ("handled request", {**neutral, "nested": {"inner": plant.text}}),
        ("handled request", {**neutral, "tags": [plant.secret]}),
        ("handled request", {**neutral, plant.text: 1}),
    ]
    for message, attrs in records:
        fast = Redactor(KEY)
        if fast.clean_record((message, None, None), attrs):
            slow = Redactor(KEY)
            assert slow.text(message) == message and slow.json(attrs) == attrs, (message, attrs)


@pytest.mark.parametrize("use_hyperscan", [True, False], ids=["hyperscan", "re"])
def test_one_prefilter_call_per_batch_judges_each_record_as_alone(use_hyperscan: bool) -> None:
    """Batched, a secret is flagged in its own record only, wherever it sits in the batch."""
    plain = ("handled request in 12 ms", {"http.method": "GET", "http.status": 200, "n": 1})
    batch: list[tuple[tuple[str | None, ...], dict[str, Any]]] = []
    for i, plant in enumerate(PLANTS):
        batch.append(((plant.text, None, None), {"http.status": 200}))
        batch.append(((plain[0], None, None), {**plain[1], "detail": plant.secret, "i": i}))
        batch.append(((plain[0], "api", None), plain[1]))
        # keys that look like an assignment inside JSON ("status_code": ...): values scanned alone
        batch.append(((plain[0], None, None), {"status_code": 500, "detail": plant.secret}))
    batch.insert(0, ((plain[0], None, None), plain[1]))
    r = Redactor(KEY, use_hyperscan=use_hyperscan)
    dumps = r.clean_json(batch)
    verdicts = [dump is not None for dump in dumps]
    assert verdicts == [r.clean_record(texts, attrs) for texts, attrs in batch]
    assert verdicts[0] and all(verdicts[3::4])  # the plain records between the secrets
    for (texts, attrs), dump in zip(batch, dumps, strict=True):
        if dump is not None:
            slow = Redactor(KEY)
            assert all(slow.text(t) == t for t in texts if t) and slow.json(attrs) == attrs
            assert orjson.loads(dump) == attrs


def test_clean_record_takes_the_fast_path_for_plain_records(r: Redactor) -> None:
    plain = {"http.method": "POST", "http.route": "/v1/items/{id}", "http.status": 502,
             "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "user_agent": "sdk/2.1 (linux)"}  # fmt: skip
    assert r.clean_record(("upstream timed out after 30000 ms", "api", None), plain)
    assert not r.clean_record(("login with password=hunter2hunter2", None, None), plain)
    assert not r.clean_record(("ok", None, None), {**plain, "password": "x"})
