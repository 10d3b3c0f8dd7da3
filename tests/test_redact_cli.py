"""``casework redact``: HAR, logs, configs, folders and archives come back in the same format."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from casework.cli import main
from redact_catalogue import catalogue, jwt

PLANTS = catalogue(seed=11)
SECRETS = [p.secret for p in PLANTS]


def _har(token: str, sid: str, pw: str) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "entries": [
                {
                    "startedDateTime": "2026-03-01T10:00:00.000Z",
                    "time": 87.3,
                    "request": {
                        "method": "POST",
                        "url": f"https://api.example.com/v1/login?access_token={token}&page=2",
                        "headers": [
                            {"name": "Authorization", "value": f"Bearer {token}"},
                            {"name": "Cookie", "value": f"sid={sid}; theme=dark"},
                            {"name": "Accept", "value": "application/json"},
                        ],
                        "cookies": [{"name": "sid", "value": sid, "httpOnly": True}],
                        "queryString": [
                            {"name": "access_token", "value": token},
                            {"name": "page", "value": "2"},
                        ],
                        "postData": {
                            "mimeType": "application/json",
                            "text": json.dumps({"user": "jdoe", "password": pw}),
                        },
                    },
                    "response": {
                        "status": 200,
                        "headers": [
                            {"name": "Set-Cookie", "value": f"sid={sid}; Path=/; HttpOnly"}
                        ],
                        "content": {
                            "size": 10,
                            "mimeType": "application/json",
                            "text": json.dumps({"access_token": token}),
                        },
                        "redirectURL": "",
                    },
                    "timings": {"send": 0.1, "wait": 85.4, "receive": 0.6},
                }
            ],
        }
    }


def _shape(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_shape(v) for v in obj]
    return type(obj).__name__


def test_har_round_trip_is_a_valid_har_without_secrets(tmp_path: Path) -> None:
    import random

    token, sid, pw = jwt(random.Random(3)), "e55ecfde6a9a8026c83166a550e16243", "pr0d-Passw0rd!"
    har = _har(token, sid, pw)
    src, dst = tmp_path / "session.har", tmp_path / "clean.har"
    src.write_text(json.dumps(har, indent=2))
    result = CliRunner().invoke(main, ["redact", str(src), str(dst)])
    assert result.exit_code == 0, result.output
    text = dst.read_text()
    out = json.loads(text)
    assert _shape(out) == _shape(har)
    for secret in (token, sid, pw):
        assert secret not in text
    req = out["log"]["entries"][0]["request"]
    assert req["headers"][0]["value"].startswith("Bearer «secret:jwt:")
    assert req["headers"][1]["value"].startswith("sid=«secret:cookie:")
    assert req["headers"][2]["value"] == "application/json"
    assert req["cookies"][0]["name"] == "sid" and req["url"].endswith("&page=2")
    assert "jwt" in result.stderr and token not in result.stderr


def test_stdin_text_and_json_are_sniffed() -> None:
    runner = CliRunner()
    text = "\n".join(p.text for p in PLANTS) + "\n"
    result = runner.invoke(main, ["redact", "-", "-"], input=text.encode())
    assert result.exit_code == 0
    for secret in SECRETS:
        assert secret not in result.stdout
    doc = {"config": {"db_password": "s3cr3t-Value-9", "timeout": 30}}
    result = runner.invoke(main, ["redact", "-", "-"], input=json.dumps(doc).encode())
    out = json.loads(result.stdout)
    assert out["config"]["timeout"] == 30 and "s3cr3t-Value-9" not in result.stdout


def test_clean_input_is_byte_identical() -> None:
    clean = '{"level":"info","ts":1715674869.532,"msg":"cache miss","key":"tenant:1:settings"}\n'
    result = CliRunner().invoke(main, ["redact", "-", "-"], input=clean.encode())
    assert result.stdout == clean


def _bundle(folder: Path) -> None:
    (folder / "logs").mkdir(parents=True)
    (folder / "logs" / "app.log").write_text("\n".join(p.text for p in PLANTS) + "\n")
    (folder / "config.env").write_text(
        "DATABASE_URL=postgres://app:Zx9!pass@db:5432/app\nDEBUG=1\n"
    )
    (folder / "capture.pcap").write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 64)


def _assert_clean(files: dict[str, bytes]) -> None:
    blob = b"\n".join(files.values())
    for secret in [*SECRETS, "Zx9!pass"]:
        assert secret.encode() not in blob
    assert "capture.pcap" not in " ".join(files)
    assert b"DEBUG=1" in files["config.env"]


def test_folder_zip_and_tar_bundles(tmp_path: Path) -> None:
    src = tmp_path / "bundle"
    _bundle(src)
    runner = CliRunner()
    result = runner.invoke(main, ["redact", str(src), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    _assert_clean({str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert "skipped capture.pcap" in result.stderr

    zpath, tpath = tmp_path / "b.zip", tmp_path / "b.tar.gz"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in src.rglob("*"):
            if p.is_file():
                zf.write(p, p.relative_to(src).as_posix())
    with tarfile.open(tpath, "w:gz") as tf:
        tf.add(src, ".")
    assert runner.invoke(main, ["redact", str(zpath), str(tmp_path / "c.zip")]).exit_code == 0
    with zipfile.ZipFile(tmp_path / "c.zip") as zf:
        _assert_clean({n: zf.read(n) for n in zf.namelist()})
    assert runner.invoke(main, ["redact", str(tpath), str(tmp_path / "c.tar.gz")]).exit_code == 0
    with tarfile.open(tmp_path / "c.tar.gz") as tf:
        files = {}
        for m in tf.getmembers():
            fh = tf.extractfile(m)
            if fh is not None:
                files[m.name.removeprefix("./")] = fh.read()
    _assert_clean(files)


def test_unsafe_archive_members_are_skipped(tmp_path: Path) -> None:
    zpath = tmp_path / "evil.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("../escape.txt", "password=hunter2hunter2")
        zf.writestr("ok.txt", "fine")
    result = CliRunner().invoke(main, ["redact", str(zpath), str(tmp_path / "out.zip")])
    assert result.exit_code == 0
    assert not (tmp_path / "escape.txt").exists()
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.namelist() == ["ok.txt"]


def test_missing_input_and_binary_stdin_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["redact", str(tmp_path / "nope"), "-"]).exit_code == 2
    result = runner.invoke(main, ["redact", "-", "-"], input=io.BytesIO(b"\x00\x01binary").read())
    assert result.exit_code == 2 and "binary" in result.stderr


def test_base64_har_bodies_are_redacted_too() -> None:
    import base64

    from casework.redact import Redactor
    from casework.redact.har import redact_json_text

    body = base64.b64encode(b'{"access_token": "zQ8vN2kLm4Rt7Yp1Xs9Wc3Bd"}').decode()
    har = {
        "log": {
            "version": "1.2",
            "entries": [
                {
                    "response": {
                        "content": {
                            "mimeType": "application/json",
                            "encoding": "base64",
                            "text": body,
                        }
                    }
                }
            ],
        }
    }
    out = json.loads(redact_json_text(Redactor(b"k" * 32), json.dumps(har)))
    text = out["log"]["entries"][0]["response"]["content"]["text"]
    decoded = base64.b64decode(text).decode()
    assert "zQ8vN2kLm4Rt7Yp1Xs9Wc3Bd" not in decoded
    assert decoded.startswith('{"access_token": "«secret:')


def test_text_chunks_never_split_a_private_key() -> None:
    from casework.redact import Redactor, files

    key = (
        "-----BEGIN PRIVATE KEY-----\n"
        + "\n".join(["QUJD" * 16] * 40)
        + "\n-----END PRIVATE KEY-----"
    )
    text = "x\n" * 30 + key + "\nafter\n"
    old = files.CHUNK
    files.CHUNK = 200  # force the boundary inside the key
    try:
        out = files.redact_bytes(Redactor(b"k" * 32), text.encode())
    finally:
        files.CHUNK = old
    assert out is not None and b"QUJD" not in out and out.endswith(b"\nafter\n")


def test_real_hars_stay_valid_with_the_same_shape() -> None:
    from casework.redact import Redactor
    from casework.redact.har import redact_json_text

    folder = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "har"
    checked = 0
    for path in sorted(folder.glob("*.har")):
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            original = json.loads(text)
        except ValueError:
            continue  # the corpus holds deliberately broken files too
        out = json.loads(redact_json_text(Redactor(b"k" * 32), text))
        assert _shape(out) == _shape(original), path.name
        checked += 1
    assert checked >= 10
