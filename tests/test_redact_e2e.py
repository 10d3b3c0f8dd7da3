"""End to end: secrets planted in every format the ingest reads never reach a case output.

The catalogue (one secret of every kind, freshly generated) is planted into
JSON logs, text logs, an access log, a HAR, configs (.env, YAML, INI,
properties), Kubernetes events and URLs; ``casework investigate`` runs on the
bundle; no planted value may appear, even as a substring, in any file of the
case directory (``case.duckdb`` read as bytes included) or in what it printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from redact_catalogue import Plant, catalogue

PLANTS = catalogue(seed=23)
ONE_LINE = [p for p in PLANTS if "\n" not in p.text]
MULTI_LINE = [p for p in PLANTS if "\n" in p.text]


def _ts(i: int) -> str:
    return f"2026-03-01T10:{i // 60:02d}:{i % 60:02d}.000Z"


def _har(plants: list[Plant]) -> dict[str, object]:
    entries = []
    for i, p in enumerate(plants):
        entries.append(
            {
                "startedDateTime": _ts(i),
                "time": 12.5,
                "request": {
                    "method": "POST",
                    "url": f"https://api.example.com/v1/items?access_token={p.secret}",
                    "httpVersion": "HTTP/1.1",
                    "headers": [
                        {"name": "Authorization", "value": f"Bearer {p.secret}"},
                        {"name": "Cookie", "value": f"sid={p.secret}"},
                        {"name": "X-Note", "value": p.text},
                    ],
                    "queryString": [{"name": "access_token", "value": p.secret}],
                    "cookies": [{"name": "sid", "value": p.secret}],
                    "postData": {"mimeType": "text/plain", "text": p.text},
                    "headersSize": -1,
                    "bodySize": -1,
                },
                "response": {
                    "status": 500 if i % 3 else 200,
                    "statusText": "",
                    "httpVersion": "HTTP/1.1",
                    "headers": [{"name": "Set-Cookie", "value": f"sid={p.secret}; Path=/"}],
                    "cookies": [],
                    "content": {"size": 0, "mimeType": "text/plain", "text": p.text},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": -1,
                },
                "cache": {},
                "timings": {"send": 1, "wait": 10, "receive": 1.5},
            }
        )
    return {
        "log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}
    }


def _k8s(plants: list[Plant]) -> dict[str, object]:
    items = [
        {
            "apiVersion": "v1",
            "kind": "Event",
            "reason": "Failed",
            "type": "Warning",
            "count": 1,
            "message": f"Error: {p.text}",
            "firstTimestamp": _ts(i),
            "lastTimestamp": _ts(i),
            "involvedObject": {"kind": "Pod", "name": f"api-{i}", "namespace": "prod"},
            "metadata": {"name": f"api-{i}.evt", "namespace": "prod"},
        }
        for i, p in enumerate(plants)
    ]
    return {"apiVersion": "v1", "kind": "List", "items": items}


def _bundle(root: Path) -> None:
    (root / "logs").mkdir(parents=True)
    (root / "config").mkdir()
    (root / "k8s").mkdir()
    with (root / "logs" / "app.jsonl").open("w") as f:
        for i, p in enumerate(ONE_LINE):
            f.write(
                json.dumps(
                    {
                        "ts": _ts(i),
                        "level": "error",
                        "service": "api",
                        "msg": p.text,
                        "password": p.secret,
                        "url": f"https://u:{p.secret}@h.example.com/x",
                        "headers": {"authorization": f"Bearer {p.secret}"},
                    }
                )
                + "\n"
            )
    with (root / "logs" / "app.log").open("w") as f:
        for i, p in enumerate(ONE_LINE):
            f.write(f"{_ts(i)} ERROR [main] com.example.Api - request failed: {p.text}\n")
    with (root / "logs" / "access.log").open("w") as f:
        for i, p in enumerate(ONE_LINE):
            f.write(
                f'10.0.0.{i % 250} - - [01/Mar/2026:10:00:{i % 60:02d} +0000] "GET /v1/x?token='
                f'{p.secret}&page=1 HTTP/1.1" 500 12 "https://app.example.com/?code={p.secret}" "curl/8"\n'
            )
    (root / "session.har").write_text(json.dumps(_har(ONE_LINE), indent=2))
    (root / "k8s" / "events.json").write_text(json.dumps(_k8s(ONE_LINE), indent=2))
    (root / "config" / "app.env").write_text(
        "".join(
            f"SECRET_{i}={p.secret}\nAPI_TOKEN_{i}={p.secret}\n" for i, p in enumerate(ONE_LINE)
        )
    )
    (root / "config" / "app.yaml").write_text("\n".join(p.text for p in MULTI_LINE) + "\n")
    (root / "config" / "app.ini").write_text(
        "[db]\n" + "".join(f"password_{i} = {p.secret}\n" for i, p in enumerate(ONE_LINE))
    )
    (root / "config" / "app.properties").write_text(
        "".join(f"spring.datasource.password{i}={p.secret}\n" for i, p in enumerate(ONE_LINE))
    )
    # A ticket whose reporter pasted credentials into the prose: the reports quote it.
    (root / "case.md").write_text(
        "# Case 7731: login fails for the admin console\n\n"
        "Since this morning our admins cannot log in. We tried again after lunch.\n"
        + "".join(f"They pasted this from the settings page, as asked: {p.text}.\n" for p in PLANTS)
    )


def _needles(p: Plant) -> list[bytes]:
    s = p.secret
    chunks = [s]
    if len(s) >= 24:
        chunks.append(s[len(s) // 4 : len(s) // 4 + 16])
    return [c.encode() for c in chunks]


@pytest.mark.slow
def test_no_planted_secret_reaches_any_output(tmp_path: Path) -> None:
    bundle, out = tmp_path / "bundle", tmp_path / "case"
    _bundle(bundle)
    exe = Path(sys.executable).parent / "casework"
    proc = subprocess.run(
        [str(exe), "investigate", str(bundle), "--out", str(out), "-q"],
        capture_output=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "case.duckdb" for p in files)
    blobs = {str(p.relative_to(out)): p.read_bytes() for p in files}
    blobs["<stdout>"], blobs["<stderr>"] = proc.stdout, proc.stderr
    leaks = [
        (p.kind, name)
        for p in PLANTS
        for needle in _needles(p)
        for name, blob in blobs.items()
        if needle in blob
    ]
    assert not leaks
    # The description was read and quoted, redacted, not skipped.
    kinds = {
        e["path"]: e["kind"] for e in json.loads((out / "inventory.json").read_text())["files"]
    }
    assert kinds["case.md"] == "description"
    report = (out / "report.md").read_text()
    assert "## Case description" in report and "admins cannot log in" in report
