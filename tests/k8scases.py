"""Generated Kubernetes bundles: OOMKilled after batch imports, CrashLoopBackOff explained only by the previous log.

The objects are shaped like ``kubectl get pods|events -o json`` output; names,
limits, log formats and the crash's real error vary with the seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Truth:
    pod: str
    container: str
    needle: str  # text the rank-1 finding must contain
    kills: int = 0  # how many times the container was killed


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _suffix(rng: random.Random) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return (
        "".join(rng.choice(alphabet) for _ in range(9))
        + "-"
        + "".join(rng.choice(alphabet) for _ in range(5))
    )


def _event(obj_kind: str, name: str, reason: str, message: str, t: datetime, *, count: int = 1,
           container: str | None = None, type_: str = "Normal", ns: str = "shop") -> dict[str, Any]:  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{abs(hash((reason, t))) % 10**16:x}", "namespace": ns},
        "involvedObject": {
            "kind": obj_kind, "name": name, "namespace": ns, "apiVersion": "v1",
            **({"fieldPath": f"spec.containers{{{container}}}"} if container else {}),
        },
        "reason": reason, "message": message, "type": type_, "count": count,
        "firstTimestamp": _stamp(t), "lastTimestamp": _stamp(t),
        "source": {"component": "kubelet", "host": "ip-10-0-3-17.ec2.internal"},
    }  # fmt: skip


def _pod(
    name: str,
    container: str,
    limit: str,
    restarts: int,
    state: dict[str, Any],
    last: dict[str, Any],
) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": container}},
        "spec": {"nodeName": "ip-10-0-3-17.ec2.internal", "containers": [{
            "name": container, "image": f"registry.example.com/shop/{container}:1.8.2",
            "resources": {"limits": {"memory": limit, "cpu": "1"}, "requests": {"memory": limit, "cpu": "250m"}},
        }]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": container, "ready": False, "restartCount": restarts, "image": f"registry.example.com/shop/{container}:1.8.2",
            "state": state, "lastState": last,
        }]},
    }  # fmt: skip


def oom_case(root: Path, seed: int) -> Truth:
    rng = random.Random(seed)
    container = rng.choice(["importer", "catalog-sync", "ledger-worker"])
    pod = f"{container}-{_suffix(rng)}"
    limit = rng.choice(["512Mi", "768Mi", "1Gi"])
    start = datetime(2026, 4, rng.randint(1, 25), 6, tzinfo=UTC)
    kills = sorted(
        start + timedelta(minutes=rng.randint(30, 420)) for _ in range(rng.randint(3, 5))
    )
    job_word = rng.choice(["batch import", "bulk import", "nightly import"])
    logs: list[tuple[datetime, str, str]] = []
    t = start
    while t < kills[-1] + timedelta(minutes=20):
        t += timedelta(seconds=rng.uniform(20, 40))
        logs.append(
            (
                t,
                "INFO",
                f"processed {rng.randint(50, 400)} catalog updates in {rng.randint(20, 900)} ms",
            )
        )
        if t.minute % 5 == 0 and t.second < 40:
            logs.append((t, "INFO", f"cache refreshed entries={rng.randint(1000, 5000)}"))
    for k in kills:
        begin = k - timedelta(minutes=rng.uniform(2, 9))
        logs.append(
            (
                begin,
                "INFO",
                f"Starting {job_word} job={rng.getrandbits(32):08x} rows={rng.randint(200_000, 900_000)}",
            )
        )
        for j in range(4):
            logs.append(
                (
                    begin + (k - begin) * (j + 1) / 5,
                    "WARN",
                    f"heap used {300 + 50 * j + rng.randint(0, 30)} MB",
                )
            )
        logs.append((k + timedelta(seconds=15), "INFO", f"Starting {container} version 1.8.2"))
    logs.sort()
    style = rng.choice(["json", "logfmt"])
    (root / "logs").mkdir(parents=True)
    with (root / "logs" / f"{container}.log").open("w") as fh:
        for ts, level, msg in logs:
            if style == "json":
                fh.write(
                    json.dumps(
                        {
                            "time": ts.isoformat().replace("+00:00", "Z"),
                            "level": level.lower(),
                            "msg": msg,
                        }
                    )
                    + "\n"
                )
            else:
                fh.write(
                    f'ts={ts.isoformat().replace("+00:00", "Z")} level={level.lower()} msg="{msg}"\n'
                )
    last = {"terminated": {"reason": "OOMKilled", "exitCode": 137, "startedAt": _stamp(kills[-2] + timedelta(seconds=15)),
                           "finishedAt": _stamp(kills[-1])}}  # fmt: skip
    running = {"running": {"startedAt": _stamp(kills[-1] + timedelta(seconds=15))}}
    other = _pod(
        f"web-{_suffix(rng)}", "web", "256Mi", 0, {"running": {"startedAt": _stamp(start)}}, {}
    )
    (root / "k8s").mkdir()
    (root / "k8s" / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        _pod(pod, container, limit, len(kills), running, last), other]}, indent=2))  # fmt: skip
    events = [
        _event("Pod", pod, "Started", f"Started container {container}", start, container=container)
    ]
    events += [
        _event(
            "Pod",
            pod,
            "Started",
            f"Started container {container}",
            k + timedelta(seconds=12),
            container=container,
        )
        for k in kills
    ]
    events += [_event("Pod", other["metadata"]["name"], "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                      start + timedelta(minutes=rng.randint(1, 300)), container="web", type_="Warning") for _ in range(2)]  # fmt: skip
    (root / "k8s" / "events.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": events}, indent=2)
    )
    return Truth(pod, container, job_word, len(kills))


_CRASHES = (
    ("python", "KeyError: 'DATABASE_URL'", "DATABASE_URL"),
    (
        "java",
        "Caused by: java.net.UnknownHostException: postgres-primary.db.svc.cluster.local",
        "UnknownHostException",
    ),
    ("go", "panic: dial tcp 10.0.3.12:5432: connect: connection refused", "connection refused"),
)


def _previous_log(kind: str, error: str, t: datetime) -> str:
    stamp = t.strftime("%Y-%m-%d %H:%M:%S")
    boot = [
        f"{stamp},101 INFO  app.main: starting api version 3.2.0",
        f"{stamp},214 INFO  app.config: loading settings",
    ]
    if kind == "python":
        return "\n".join([*boot, f"{stamp},377 ERROR app.main: fatal error during startup", "Traceback (most recent call last):",
                          '  File "/app/main.py", line 41, in <module>', "    settings = load()",
                          '  File "/app/config.py", line 12, in load', '    url = os.environ["DATABASE_URL"]', error]) + "\n"  # fmt: skip
    if kind == "java":
        return "\n".join([*boot, f"{stamp}.377 ERROR [main] o.s.boot.SpringApplication - Application run failed",
                          "org.springframework.beans.factory.BeanCreationException: Error creating bean 'dataSource'",
                          "\tat org.springframework.beans.factory.support.AbstractBeanFactory.getBean(AbstractBeanFactory.java:208)",
                          "\tat com.example.api.Application.main(Application.java:10)", error,
                          "\tat java.base/java.net.InetAddress.getAllByName0(InetAddress.java:1530)", "\t... 42 common frames omitted"]) + "\n"  # fmt: skip
    return (
        "\n".join(
            [
                *boot,
                error,
                "",
                "goroutine 1 [running]:",
                "main.main()",
                "\t/src/cmd/api/main.go:57 +0x1d4",
            ]
        )
        + "\n"
    )


def crashloop_case(root: Path, seed: int) -> Truth:
    rng = random.Random(seed)
    kind, error, needle = _CRASHES[seed % len(_CRASHES)]
    container = rng.choice(["api", "checkout-api", "orders"])
    pod = f"{container}-{_suffix(rng)}"
    t = datetime(2026, 5, rng.randint(1, 25), rng.randint(0, 20), tzinfo=UTC)
    restarts = rng.randint(6, 15)
    (root / "logs").mkdir(parents=True)
    (root / "logs" / f"{pod}.previous.log").write_text(_previous_log(kind, error, t))
    (root / "logs" / f"{pod}.log").write_text(
        f"{t.strftime('%Y-%m-%d %H:%M:%S')},902 INFO  app.main: starting api version 3.2.0\n"
        f"{t.strftime('%Y-%m-%d %H:%M:%S')},950 INFO  app.config: loading settings\n"
    )
    noisy = root / "logs" / "cart.log"
    with noisy.open("w") as fh:
        for i in range(300):
            ts = t + timedelta(seconds=7 * i)
            level = "WARN" if i % 17 == 0 else "INFO"
            fh.write(f"{ts.strftime('%Y-%m-%d %H:%M:%S')},{i % 1000:03d} {level} cart.service: "
                     f"{'cache miss for key cart:' + str(i) if level == 'WARN' else 'served cart in ' + str(rng.randint(3, 80)) + ' ms'}\n")  # fmt: skip
    waiting = {"waiting": {"reason": "CrashLoopBackOff",
                           "message": f"back-off 5m0s restarting failed container={container} pod={pod}"}}  # fmt: skip
    last = {"terminated": {"reason": "Error", "exitCode": 1 if kind != "go" else 2, "startedAt": _stamp(t),
                           "finishedAt": _stamp(t + timedelta(seconds=2))}}  # fmt: skip
    (root / "k8s").mkdir()
    (root / "k8s" / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                                        "items": [_pod(pod, container, "512Mi", restarts, waiting, last)]}))  # fmt: skip
    events = [
        _event("Pod", pod, "BackOff", f"Back-off restarting failed container {container} in pod {pod}_shop(1f0e)",
               t, count=restarts * 3, container=container, type_="Warning"),
        _event("Pod", pod, "Pulled", f'Container image "registry.example.com/shop/{container}:3.2.0" already present on machine',
               t, count=restarts, container=container),
        _event("Pod", f"cart-{_suffix(rng)}", "Unhealthy", "Readiness probe failed: Get \"http://10.0.4.9:8080/ready\": context deadline exceeded",
               t, count=2, container="cart", type_="Warning"),
    ]  # fmt: skip
    (root / "k8s" / "events.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "EventList", "items": events}, indent=1)
    )
    return Truth(pod, container, needle)
