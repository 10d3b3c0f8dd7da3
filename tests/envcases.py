"""Generated "works in dev, fails in prod" bundles: a culprit config key, benign differences, realistic logs.

Each seed picks a layout (folders or file-name suffixes), a config syntax,
key spellings, host names and log field names, so nothing downstream can be
fitted to one instance. ``make`` returns the ground truth the tests check.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CULPRITS = ("scheme", "timeout", "clock")


@dataclass(frozen=True)
class Truth:
    culprit: str
    key_leaf: str  # the culprit key's last path component as written in the config
    bad_env: str


def _keys(rng: random.Random, upper: bool) -> dict[str, str]:
    names = {
        "base": rng.choice(["base_url", "endpoint", "api_url", "upstream_url"]),
        "timeout": rng.choice(["timeout_ms", "request_timeout_ms", "read_timeout_ms"]),
        "ntp": rng.choice(["ntp_enabled", "time_sync_enabled", "chrony_enabled"]),
        "db_host": rng.choice(["db_host", "database_host", "pg_host"]),
        "replicas": rng.choice(["replicas", "worker_replicas", "instances"]),
        "log_level": rng.choice(["log_level", "loglevel"]),
        "title": rng.choice(["display_name", "banner", "dashboard_title"]),
        "pool": rng.choice(["pool_size", "max_connections"]),
        "password": rng.choice(["db_password", "database_password"]),
        "region": "region",
    }
    return {k: v.upper() if upper else v for k, v in names.items()}


def _config(
    rng: random.Random, env: str, culprit: str, host: str, keys: dict[str, str]
) -> dict[str, Any]:
    prod = env == "prod"
    scheme = "http" if prod and culprit == "scheme" else "https"
    timeout = 500 if prod and culprit == "timeout" else 5000
    return {
        "sdk": {
            keys["base"]: f"{scheme}://{host}/v2",
            keys["timeout"]: timeout,
            keys["pool"]: 20 if prod else 16,  # within 2x: a difference of degree
        },
        "system": {keys["ntp"]: not (prod and culprit == "clock"), keys["region"]: "us-east-1"},
        "database": {
            keys["db_host"]: f"{env}-db-{rng.randint(1, 9)}.internal",
            keys["password"]: f"pw-{env}-{rng.randrange(10**8):08d}-Secret!",
        },
        "deploy": {
            keys["replicas"]: 6 if prod else 1,
            keys["log_level"]: "info" if prod else "debug",
        },
        "ui": {keys["title"]: f"Payments ({env.upper()})"},
    }


def _write_config(
    root: Path, rng: random.Random, env: str, doc: dict[str, Any], layout: str, syntax: str
) -> None:
    folder = root / ("config" if layout == "suffix" else env)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"app.{env}" if layout == "suffix" else "app"
    if syntax == "yaml":
        lines = []
        for section, values in doc.items():
            lines.append(f"{section}:")
            for k, v in values.items():
                text = json.dumps(v) if isinstance(v, str) and rng.random() < 0.5 else (
                    str(v).lower() if isinstance(v, bool) else str(v))  # fmt: skip
                lines.append(f"  {k}: {text}")
        (folder / f"{stem}.yaml").write_text("# payments service\n" + "\n".join(lines) + "\n")
    elif syntax == "env":
        body = [
            f"{k.upper()}={str(v).lower() if isinstance(v, bool) else v}"
            for s in doc.values()
            for k, v in s.items()
        ]
        (folder / (f"{stem}.env" if layout == "suffix" else ".env")).write_text(
            "\n".join(body) + "\n"
        )
    elif syntax == "properties":
        body = [
            f"{s}.{k}={str(v).lower() if isinstance(v, bool) else v}"
            for s, vals in doc.items()
            for k, v in vals.items()
        ]
        (folder / f"{stem}.properties").write_text("# generated\n" + "\n".join(body) + "\n")
    else:
        (folder / f"{stem}.json").write_text(json.dumps(doc, indent=2))


def _log(
    root: Path, env: str, rng: random.Random, culprit: str, host: str, start: datetime
) -> None:
    prod = env == "prod"
    f_ts, f_lvl, f_msg = rng.choice(
        [("ts", "level", "msg"), ("@timestamp", "severity", "message"), ("time", "lvl", "event")]
    )
    f_status, f_lat = rng.choice(
        [("status", "duration_ms"), ("http_status", "latency_ms"), ("statusCode", "elapsed_ms")]
    )
    lines = []
    t = start
    for _ in range(600):
        t += timedelta(seconds=rng.uniform(2, 8))
        path = rng.choice(["/v2/charges", "/v2/refunds", "/v2/customers"])
        method = "POST" if path != "/v2/customers" else "GET"
        rec: dict[str, Any] = {
            f_ts: t.isoformat().replace("+00:00", "Z"),
            f_lvl: "info",
            "component": "payments-sdk",
        }
        status, latency = 200, round(rng.lognormvariate(4.6, 0.5), 1)
        url = f"https://{host}{path}"
        if prod and culprit == "scheme" and method == "POST":
            rec.update(
                {f_lvl: "warn", "url": f"http://{host}{path}", "location": f"https://{host}{path}"}
            )
            status, latency = 301, round(rng.uniform(20, 60), 1)
            rec[f_msg] = f"{method} http://{host}{path} -> 301 Moved Permanently"
            lines.append(rec | {f_status: status, f_lat: latency, "method": method})
            rec = {f_ts: (t + timedelta(milliseconds=80)).isoformat().replace("+00:00", "Z"), f_lvl: "error",
                   "component": "payments-sdk", "url": url, "method": "GET"}  # fmt: skip
            status = 405
            rec[f_msg] = (
                f"GET {url} -> 405 Method Not Allowed (request body dropped after redirect)"
            )
        elif prod and culprit == "timeout" and (latency > 500 or rng.random() < 0.25):
            latency = round(rng.uniform(500.0, 503.0), 1)
            status = 504
            rec.update({f_lvl: "error", "url": url,
                        f_msg: f"{method} {path} failed: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"})  # fmt: skip
        elif prod and culprit == "clock" and rng.random() < 0.3:
            status = 401
            rec.update({f_lvl: "error", "url": url,
                        f_msg: f"{method} {path} -> 401 invalid_token: The token is not yet valid (nbf is in the future)"})  # fmt: skip
        else:
            rec.update({"url": url, f_msg: f"{method} {path} -> {status}"})
        if rng.random() < 0.02:
            lines.append(
                {
                    f_ts: rec[f_ts],
                    f_lvl: "warn",
                    f_msg: "connection pool near capacity",
                    "component": "db",
                }
            )
        rec.update(
            {
                f_status: status,
                f_lat: latency,
                "method": method,
                "request_id": f"{rng.getrandbits(64):016x}",
            }
        )
        lines.append(rec)
    folder = root / "logs" / env
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sdk.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n")


def make(root: Path, culprit: str, seed: int) -> Truth:
    rng = random.Random(seed)
    layout = rng.choice(["folders", "suffix"])
    syntax = rng.choice(["yaml", "env", "properties", "json"])
    keys = _keys(rng, upper=False)
    host = rng.choice(
        ["api.payments.example.com", "gateway.acme-pay.io", "pay.internal.example.net"]
    )
    start = datetime(2026, 3, rng.randint(1, 20), rng.randint(0, 20), tzinfo=UTC)
    for env in ("dev", "prod"):
        _write_config(root, rng, env, _config(rng, env, culprit, host, keys), layout, syntax)
        _log(root, env, rng, culprit, host, start)
    (root / "case.md").write_text(
        "# Payments SDK works in dev, fails in prod\n\nThe customer says charges succeed from their dev "
        "environment but fail from production with the same SDK version. Configs and SDK logs attached.\n"
    )
    leaf = {"scheme": keys["base"], "timeout": keys["timeout"], "clock": keys["ntp"]}[culprit]
    return Truth(culprit, leaf.upper() if syntax == "env" else leaf, "prod")
