"""Reproductions replayed for real: a generated httpx script against a local server that mimics the failure.

The server (stdlib ``http.server`` on 127.0.0.1) answers ``POST /v1/refunds``
with 401 without the right bearer token, 500 when the JSON field
``account_created`` is on or after 2026-10-15, and 201 otherwise. The case is
made by the real pipeline from a JSON-lines request log whose failing
requests carry a (fake) JWT, a request id, a user agent and a body.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from casework.analyzers.http_status import http_status
from casework.bugreport import load_case, report_for_case
from casework.bugreport.build import findings_of
from casework.bugreport.facts import route_of
from casework.pipeline import investigate
from casework.repro import Verify, captured, python_script, shell_script
from casework.repro.minimize import allowed_target

TOKEN = "test-token-for-the-local-server"
CUTOFF = "2026-10-15"
# A syntactically valid JWT, so the redactor recognizes it; its value must never reach a script.
CAPTURED_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhY2N0XzEyMyIsImlhdCI6MTcwMDAwMDAwMH0"
    ".c2lnbmF0dXJlLW5vdC1yZWFsLWJ1dC1sb25nLWVub3VnaA"
)


class Refunds(BaseHTTPRequestHandler):
    """Fails like refund-service 2.14.3: new accounts get 500, the rest 201; no token, 401."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.split("?")[0] != "/v1/refunds":
            return self._send(404)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._send(400)
        created = str(body.get("account_created", ""))
        self._send(500 if created >= CUTOFF else 201)

    def _send(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request log line."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Refunds)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def request_log(rng: random.Random) -> str:
    """Four hours of refunds; from the third hour, accounts created on or after the cutoff fail."""
    start = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    lines = []
    for i in range(480):
        ts = start + timedelta(seconds=30 * i + rng.randint(0, 20))
        created = (datetime(2025, 1, 1) + timedelta(days=rng.randint(0, 680))).date().isoformat()
        failing = i >= 240 and created >= CUTOFF
        record = {
            "ts": ts.isoformat().replace("+00:00", "Z"),
            "level": "error" if failing else "info",
            "msg": "request",
            "method": "POST",
            "url": "https://refunds.shop.internal:8443/v1/refunds?dry_run=0",
            "status": 500 if failing else 201,
            "duration_ms": rng.randint(20, 300),
            "request": {
                "headers": {
                    "authorization": f"Bearer {CAPTURED_JWT}",
                    "content-type": "application/json",
                    "x-request-id": f"req-{i:05d}",
                    "user-agent": "shop-sdk/1.4.2 (python 3.12)",
                },
                "body": {
                    "account_created": created,
                    "amount_cents": rng.randint(100, 9000),
                    "currency": "EUR",
                },
            },
        }
        lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repro")
    (root / "bundle").mkdir()
    (root / "bundle" / "requests.jsonl").write_text(request_log(random.Random(11)))
    investigate(root / "bundle", root / "case", analyzers=[http_status])
    return root / "case"


def refunds_finding(case: Path) -> str:
    doc, con = load_case(case)
    con.close()
    for f in findings_of(doc):
        if route_of(f)[1] == "/v1/refunds":
            return f.id
    raise AssertionError("no finding about /v1/refunds")


def run_script(script: Path, base_url: str, token: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_")}
    if token is not None:
        env["CASEWORK_AUTH_TOKEN"] = token
    return subprocess.run(
        [sys.executable, str(script), "--base-url", base_url, "--timeout", "5"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def verified(case: Path, server: str) -> tuple[str, Path]:
    fid = refunds_finding(case)
    os.environ["CASEWORK_AUTH_TOKEN"] = TOKEN  # the minimal search replays with the real secret
    try:
        report = report_for_case(case, fid, verify=Verify(base_url=server, enabled=True))
    finally:
        del os.environ["CASEWORK_AUTH_TOKEN"]
    assert report.repro is not None
    assert report.repro.status == 500
    return fid, case


def test_generated_script_reproduces_the_captured_status(
    verified: tuple[str, Path], server: str
) -> None:
    fid, case = verified
    done = run_script(case / "repro" / f"{fid}.py", server, TOKEN)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"status": 500, "expected": 500}


def test_the_secret_comes_from_the_environment_only(
    verified: tuple[str, Path], server: str
) -> None:
    fid, case = verified
    texts = [p.read_text() for p in (case / "repro").iterdir()]
    assert all(CAPTURED_JWT not in t and TOKEN not in t and "«secret" not in t for t in texts)
    assert all(
        'os.environ["CASEWORK_AUTH_TOKEN"]' in t or "os.environ['CASEWORK_AUTH_TOKEN']" in t
        for t in texts
        if t.startswith("#!/usr/bin/env python3")
    )
    # With a wrong token the server refuses, so the script reports a mismatch.
    wrong = run_script(case / "repro" / f"{fid}.py", server, "not-the-token")
    assert wrong.returncode == 1
    assert json.loads(wrong.stdout.strip())["status"] == 401


def test_minimal_version_keeps_only_what_matters(verified: tuple[str, Path], server: str) -> None:
    fid, case = verified
    minimal = (case / "repro" / f"{fid}.min.py").read_text()
    for dropped in ("x-request-id", "user-agent", "amount_cents", "currency", "dry_run"):
        assert dropped not in minimal
    assert "account_created" in minimal and "authorization" in minimal
    full = (case / "repro" / f"{fid}.py").read_text()
    assert "'x-request-id': 'req-" in full and "not needed (verified)" in full
    done = run_script(case / "repro" / f"{fid}.min.py", server, TOKEN)
    assert done.returncode == 0, done.stderr


def test_shell_script_is_valid_and_replays_with_curl(
    verified: tuple[str, Path], server: str
) -> None:
    fid, case = verified
    script = case / "repro" / f"{fid}.sh"
    assert subprocess.run(["sh", "-n", str(script)], check=False).returncode == 0
    env = {**os.environ, "CASEWORK_AUTH_TOKEN": TOKEN}
    done = subprocess.run(
        ["sh", str(script), "--base-url", server],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "500", done.stderr
    unset = subprocess.run(
        ["sh", str(script)],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=False,
    )
    assert unset.returncode != 0 and "CASEWORK_AUTH_TOKEN" in unset.stderr


def test_without_verify_nothing_is_dropped_and_parts_are_marked(case: Path, tmp_path: Path) -> None:
    fid = refunds_finding(case)
    case = Path(shutil.copytree(case, tmp_path / "case"))
    report = report_for_case(case, fid)
    assert report.repro is not None and report.repro.minimal is None
    script = (case / "repro" / f"{fid}.py").read_text()
    assert script.count("# not verified") >= 6
    assert any("--base-url" in step for step in report.steps)


def test_only_loopback_or_a_named_target_is_contacted() -> None:
    assert allowed_target("http://127.0.0.1:8080", user_given=False)
    assert allowed_target("http://localhost", user_given=False)
    assert not allowed_target("https://refunds.shop.internal:8443", user_given=False)
    assert not allowed_target("https://203.0.113.7", user_given=False)
    assert allowed_target("https://staging.example.com", user_given=True)


def test_a_har_row_becomes_a_request_with_secrets_as_variables() -> None:
    row = {
        "method": "POST",
        "url": "https://api.example.com/oauth/token?client_id=web&api_key=«secret:api_key:1a2b3c»",
        "route": "/oauth/token",
        "status": 400,
        "file": "session.har",
        "line": 7,
        "attrs": json.dumps(
            {
                "source": "har",
                "request.authorization": "Basic «secret:basic:9f8e7d»",
                "request.content-type": "application/x-www-form-urlencoded",
                "request.origin": "https://app.example.com",
                "response.content-type": "application/json",
                "timings.wait": 120.0,
            }
        ),
    }
    req = captured(row)
    assert req is not None and req.origin == "https://api.example.com" and req.status == 400
    labels = {p.label: p for p in req.parts}
    assert set(labels) == {
        "header authorization", "header content-type", "header origin", "query client_id", "query api_key",
    }  # fmt: skip
    assert labels["header authorization"].env == "CASEWORK_AUTH_TOKEN"
    assert labels["header authorization"].prefix == "Basic "
    assert (
        labels["query api_key"].env == "CASEWORK_API_KEY" and labels["query client_id"].env is None
    )
    script = python_script(req)
    compile(script, "repro.py", "exec")  # valid Python whatever the captured values were
    assert "«secret" not in script and "os.environ['CASEWORK_API_KEY']" in script
    assert "«secret" not in shell_script(req)


def test_hostile_values_are_quoted_not_executed(tmp_path: Path) -> None:
    row = {
        "method": "GET",
        "url": "http://127.0.0.1/x",
        "route": "/x",
        "status": 500,
        "attrs": json.dumps(
            {"request.headers.x-evil": "$(touch pwned) `touch pwned2` '\"; import os #"}
        ),
    }
    req = captured(row)
    assert req is not None
    sh = tmp_path / "r.sh"
    sh.write_text(shell_script(req))
    subprocess.run(["sh", "-n", str(sh)], check=True)
    compile(python_script(req), "repro.py", "exec")
    # Run it against a closed port: curl fails, and nothing in the header value ran.
    subprocess.run(
        ["sh", str(sh), "--base-url", "http://127.0.0.1:9"],
        cwd=tmp_path, capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_a_secret_in_the_path_becomes_a_variable(tmp_path: Path) -> None:
    row = {
        "method": "DELETE",
        "url": "https://api.example.com/v1/tokens/«secret:api_key:77aa11»/revoke",
        "route": "/v1/tokens/«secret:api_key:77aa11»/revoke",
        "status": 500,
        "attrs": "{}",
    }
    req = captured(row)
    assert req is not None and req.path_secrets() == ["CASEWORK_PATH_SECRET_1"]
    py, sh = python_script(req), shell_script(req)
    assert "«secret" not in py + sh + req.where()
    assert "PATH = '/v1/tokens/' + os.environ['CASEWORK_PATH_SECRET_1'] + '/revoke'" in py
    assert '/v1/tokens/"${CASEWORK_PATH_SECRET_1}"/revoke' in sh
    compile(py, "repro.py", "exec")
    (tmp_path / "r.sh").write_text(sh)
    subprocess.run(["sh", "-n", str(tmp_path / "r.sh")], check=True)
