"""Generated bundles where a caller fails while a dependency restarts ("it comes and goes").

A caller's log (zap JSON or an nginx access log) and the dependency's own log
(logrus text; it logs "Starting <service> version <v>" at each start), with
Kubernetes events and pods (``kubectl get … -o json``) unless the seed says the
customer sent only logs. From a release on, the dependency's pods are killed for
memory every 20-40 minutes; while one is down (``DOWN``) most of the caller's
requests to the route that needs it fail with one 5xx code. Noise: a route with
steady 404s, a route with a steady trickle of 500s all day, slow-provider
warnings, a cron job and a probe failure on another workload. With ``tied``
false the failing route's failures come at random times instead, as many.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DOWN = timedelta(seconds=40)


@dataclass(frozen=True)
class Truth:
    workload: str
    route: str  # "POST /api/checkout"
    status: int
    failures: int
    kills: int
    pods: tuple[str, ...]
    k8s: bool


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _suffix(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def make(root: Path, seed: int, *, tied: bool = True, k8s: bool | None = None) -> Truth:
    rng = random.Random(seed)
    k8s = seed % 3 != 2 if k8s is None else k8s
    service = rng.choice(["inventory", "pricing", "stock-api"])
    route = rng.choice(
        [("POST", "/api/checkout"), ("POST", "/v2/orders"), ("PUT", "/api/basket/confirm")]
    )
    status = rng.choice([502, 503, 504])
    rs = _suffix(rng, 9)
    pods = tuple(f"{service}-{rs}-{_suffix(rng, 5)}" for _ in range(rng.randint(2, 4)))
    release = START + timedelta(hours=1, minutes=rng.randint(0, 50))
    end = START + timedelta(hours=4)
    kills: list[tuple[datetime, str]] = []
    for pod in pods:
        t = release + timedelta(minutes=rng.uniform(15, 30))
        while t < end - timedelta(minutes=5):
            kills.append((t, pod))
            t += timedelta(minutes=rng.uniform(20, 40))
    kills.sort()

    def down(t: datetime) -> bool:
        return any(k <= t < k + DOWN for k, _ in kills)

    (root / "logs").mkdir(parents=True)
    failures = _caller(root, rng, route, status, down, tied, release, end)
    _dependency(root, rng, service, pods, kills, release, end)
    if k8s:
        _kubernetes(root, rng, service, pods, kills, release)
    return Truth(service, f"{route[0]} {route[1]}", status, failures, len(kills), pods, k8s)


def _caller(root: Path, rng: random.Random, route: tuple[str, str], status: int, down: Any,
            tied: bool, release: datetime, end: datetime) -> int:  # fmt: skip
    """The caller's log; returns how many requests of the route failed with ``status``."""
    zap = rng.random() < 0.5
    routes = [(route, 0.3), (("GET", "/api/cart"), 0.3), (("GET", "/api/items/{}"), 0.25),
              (("GET", "/api/recommendations"), 0.15)]  # fmt: skip
    tied_rate = 0.85
    rows: list[tuple[datetime, str, str, int, float]] = []
    t = START
    while t < end:
        t += timedelta(milliseconds=rng.randint(100, 900))
        r, acc = rng.random(), 0.0
        method, path = routes[-1][0]
        for (m, p), w in routes:
            acc += w
            if r < acc:
                method, path = m, p
                break
        path = path.format(rng.randint(10000, 99999)) if "{}" in path else path
        code, seconds = 200, rng.lognormvariate(-2.3, 0.5)
        if path.startswith("/api/items/") and rng.random() < 0.01:
            code = 404
        elif path == "/api/recommendations" and rng.random() < 0.004:
            code = 500  # a steady trickle all day: not about the restarts
        elif (method, path) == route and tied and down(t) and rng.random() < tied_rate:
            code, seconds = status, 5.0 + rng.random() * 0.05
        rows.append((t, method, path, code, seconds))
    if not tied:  # as many failures, at random times after the release
        n = sum(1 for t, m, p, c, _ in rows if (m, p) == route and t > release and down(t)) or 20
        candidates = [
            i for i, (t, m, p, _, _) in enumerate(rows) if (m, p) == route and t > release
        ]
        for i in rng.sample(candidates, min(n, len(candidates))):
            t, m, p, _, _ = rows[i]
            rows[i] = (t, m, p, status, 5.0)
    failures = sum(1 for _, m, p, c, _ in rows if (m, p) == route and c == status)
    if zap:
        with (root / "logs" / "gateway.jsonl").open("w") as fh:
            for t, method, path, code, seconds in rows:
                rid = f"{rng.getrandbits(64):016x}"
                if code == status and (method, path) == route:
                    fh.write(json.dumps({"level": "error", "ts": t.timestamp(), "caller": "proxy/upstream.go:131",
                                         "msg": "upstream call failed", "request_id": rid,
                                         "error": "context deadline exceeded"}) + "\n")  # fmt: skip
                if rng.random() < 0.01:
                    fh.write(json.dumps({"level": "warn", "ts": t.timestamp(), "msg": "slow response from payment provider",
                                         "elapsed": round(rng.uniform(1.2, 2.5), 3)}) + "\n")  # fmt: skip
                fh.write(json.dumps({"level": "info" if code < 500 else "error", "ts": t.timestamp(),
                                     "caller": "httpx/log.go:55", "msg": "request completed", "method": method,
                                     "path": path, "status": code, "duration": round(seconds, 4), "request_id": rid,
                                     "tier": rng.choice(["free", "pro", "enterprise"])}) + "\n")  # fmt: skip
    else:
        with (root / "logs" / "access.log").open("w") as fh:
            for t, method, path, code, seconds in rows:
                ip = f"10.1.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                agent = rng.choice(
                    ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)", "shop-android/4.2.0"]
                )
                fh.write(f'{ip} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "{method} {path} HTTP/1.1" {code} '
                         f'{rng.randint(200, 9000)} "-" "{agent}" {seconds:.3f}\n')  # fmt: skip
    return failures


def _dependency(root: Path, rng: random.Random, service: str, pods: tuple[str, ...],
                kills: list[tuple[datetime, str]], release: datetime, end: datetime) -> None:  # fmt: skip
    lines: list[tuple[datetime, str, str, str]] = []
    for pod in pods:
        lines.append(
            (
                START + timedelta(seconds=rng.randint(1, 30)),
                pod,
                "info",
                f"Starting {service} version 1.7.4",
            )
        )
        lines.append(
            (
                release + timedelta(seconds=rng.randint(5, 60)),
                pod,
                "info",
                f"Starting {service} version 1.8.0",
            )
        )
    for k, pod in kills:
        lines.append((k + DOWN, pod, "info", f"Starting {service} version 1.8.0"))
    t = START
    while t < end:
        t += timedelta(seconds=rng.uniform(1, 4))
        lines.append(
            (
                t,
                rng.choice(pods),
                "info",
                f"reserved {rng.randint(1, 6)} items for order {rng.getrandbits(40):010x}",
            )
        )
        if rng.random() < 0.02:
            lines.append(
                (
                    t,
                    rng.choice(pods),
                    "warning",
                    f"stock level low for sku SKU-{rng.randint(1000, 9999)}",
                )
            )
    lines.sort()
    with (root / "logs" / f"{service}.log").open("w") as fh:
        for t, pod, level, msg in lines:
            fh.write(
                f'time="{t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]}Z" level={level} msg="{msg}" pod={pod}\n'
            )


def _event(rng: random.Random, kind: str, name: str, reason: str, message: str, t: datetime,
           type_: str = "Normal", container: str | None = None, component: str = "kubelet") -> dict[str, Any]:  # fmt: skip
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{name}.{rng.getrandbits(60):x}", "namespace": "shop"},
        "involvedObject": {"kind": kind, "name": name, "namespace": "shop", "apiVersion": "v1",
                           **({"fieldPath": f"spec.containers{{{container}}}"} if container else {})},
        "reason": reason, "message": message, "type": type_, "count": 1,
        "firstTimestamp": _stamp(t), "lastTimestamp": _stamp(t),
        "source": {"component": component, "host": "ip-10-0-3-17.ec2.internal"},
    }  # fmt: skip


def _kubernetes(root: Path, rng: random.Random, service: str, pods: tuple[str, ...],
                kills: list[tuple[datetime, str]], release: datetime) -> None:  # fmt: skip
    (root / "k8s").mkdir()
    events = []
    for pod in pods:
        events.append(
            _event(
                rng,
                "Pod",
                pod,
                "Started",
                f"Started container {service}",
                release,
                container=service,
            )
        )
    for k, pod in kills:
        events.append(_event(rng, "Pod", pod, "BackOff", f"Back-off restarting failed container {service} in pod {pod}",
                             k + timedelta(seconds=4), "Warning", service))  # fmt: skip
        events.append(_event(rng, "Pod", pod, "Started", f"Started container {service}", k + DOWN - timedelta(seconds=2),
                             container=service))  # fmt: skip
    for h in range(9, 13):
        job = f"report-export-{h}"
        events.append(_event(rng, "Job", job, "SuccessfulCreate", f"Created pod: {job}-x", START.replace(hour=h, minute=5),
                             component="job-controller"))  # fmt: skip
    events.append(_event(rng, "Pod", "web-7c9d8f6b4-abcde", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                         START + timedelta(minutes=47), "Warning", "web"))  # fmt: skip
    events.sort(key=lambda e: e["lastTimestamp"])
    (root / "k8s" / "events.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": events}, indent=1)
    )
    items = []
    for pod in pods:
        mine = [k for k, p in kills if p == pod]
        last = {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": _stamp(mine[-1]),
                               "startedAt": _stamp(mine[-2] + DOWN if len(mine) > 1 else release)}} if mine else {}  # fmt: skip
        items.append({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": "shop", "labels": {"app": service}},
            "spec": {"containers": [{"name": service, "image": f"registry.example.com/shop/{service}:1.8.0",
                                     "resources": {"limits": {"memory": "512Mi"}}}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": service, "ready": True, "restartCount": len(mine), "lastState": last,
                "state": {"running": {"startedAt": _stamp((mine[-1] if mine else release) + DOWN)}}}]},
        })  # fmt: skip
    (root / "k8s" / "pods.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1)
    )
