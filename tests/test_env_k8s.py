"""Works in dev, fails in prod; OOMKilled after batch imports; CrashLoopBackOff explained by the previous log."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import envcases
import k8scases
from casework.configs.diffkind import classify
from casework.configs.envname import env_of
from casework.formats import sniff
from casework.formats.base import ParseContext
from casework.formats.config import FORMATS as CONFIG_FORMATS
from casework.formats.k8s import parse_describe
from casework.pipeline import Options, investigate


@pytest.mark.parametrize("culprit", envcases.CULPRITS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_config_culprit_ranks_first(tmp_path: Path, culprit: str, seed: int) -> None:
    truth = envcases.make(tmp_path / "bundle", culprit, seed * 7 + len(culprit))
    result = investigate(tmp_path / "bundle", tmp_path / "case")
    top = result.findings[0]
    assert top.key == "ENV_CONFIG_DIFF", [f.title for f in result.findings[:3]]
    assert top.entities["key"].endswith(truth.key_leaf), top.title
    assert top.entities["env_failing"] == truth.bad_env
    assert top.stats["promoted"] is True
    # The five benign differences are listed, but never first.
    diffs = [f for f in result.findings if f.key == "ENV_CONFIG_DIFF"]
    assert all(f.entities["kind"] != "benign" for f in diffs[:1])


def test_secrets_compare_as_placeholders_never_values(tmp_path: Path) -> None:
    envcases.make(tmp_path / "bundle", "scheme", 5)
    investigate(tmp_path / "bundle", tmp_path / "case")
    raw = (tmp_path / "case" / "case.duckdb").read_bytes()
    assert b"-Secret!" not in raw
    for name in ("report.md", "findings.json", "report.html"):
        assert "-Secret!" not in (tmp_path / "case" / name).read_text()


def test_env_given_by_prefix_wins_over_inference(tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    (bundle / "east").mkdir(parents=True)
    (bundle / "west").mkdir()
    (bundle / "east" / "svc.yaml").write_text(
        "client:\n  base_url: https://api.example.com\n  retries: 3\n"
    )
    (bundle / "west" / "svc.yaml").write_text(
        "client:\n  base_url: http://api.example.com\n  retries: 3\n"
    )
    result = investigate(
        bundle, tmp_path / "case", Options(envs=(("east", "east"), ("west", "west")))
    )
    diff = [f for f in result.findings if f.key == "ENV_CONFIG_DIFF"]
    assert diff and diff[0].entities["key"] == "client.base_url"
    assert {diff[0].entities["env_failing"], diff[0].entities["env_working"]} == {"east", "west"}


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_oomkilled_after_batch_imports(tmp_path: Path, seed: int) -> None:
    truth = k8scases.oom_case(tmp_path / "bundle", seed)
    result = investigate(tmp_path / "bundle", tmp_path / "case")
    top = result.findings[0]
    assert top.key == "K8S_OOMKILLED", [f.title for f in result.findings[:3]]
    assert truth.pod in top.title and truth.needle in top.title
    # the pod status dates the last kill and the kubelet's starts the others, each kill once
    assert top.stats["limit"] and top.stats["kills"] == top.stats["restarts"] == truth.kills
    assert float(str(top.stats["preceded_share"])) >= 0.75


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crashloop_cause_comes_from_the_previous_log(tmp_path: Path, seed: int) -> None:
    truth = k8scases.crashloop_case(tmp_path / "bundle", seed)
    result = investigate(tmp_path / "bundle", tmp_path / "case")
    top = result.findings[0]
    assert top.key == "K8S_CRASHLOOP", [f.title for f in result.findings[:3]]
    assert truth.pod in top.title
    assert truth.needle in top.title
    assert top.evidence[0].file.endswith(".previous.log")


def test_env_names_from_folders_and_file_names() -> None:
    assert env_of("configs/prod/app.yaml") == "prod"
    assert env_of("app.development.env") == "dev"
    assert env_of("staging-eu/values.yaml") is None
    assert env_of("deploy/values-staging.yaml") == "staging"
    assert env_of("x/y.yaml", {"x": "blue"}) == "blue"
    # The two sides of a change are environments of their own, inside an environment too.
    assert env_of("config/before-2.13.4/application-prod.yml") == "before-2.13.4"
    assert env_of("prod/after/app.yaml") == "after"
    assert env_of("after-2.14.0/prod/app.yaml") == "after-2.14.0"
    assert env_of("newrelic/app.yaml") is None  # a word that only starts like one
    assert env_of("new-relic/app.yaml") is None and env_of("old_v3/app.yaml") == "old_v3"


def _pool_bundle(root: Path, rng: random.Random, exhausted: bool) -> None:
    """A service's config before and after an upgrade (its pool shrunk from 40 to 8, and four
    harmless differences), and its logback log: steady requests, and with ``exhausted`` the
    pool's timeouts, which state the pool's count, at the day's peaks."""
    base = {
        "server.port": "8080",
        "app.pool.max-size": "40",
        "app.pool.idle-timeout": "600000",
        "app.cache.ttl": "300s",
        "logging.level.root": "INFO",
        "app.feature.beta": "false",
    }
    after = base | {"app.pool.max-size": "8", "app.cache.ttl": "600s", "app.feature.beta": "true",
                    "logging.level.root": "WARN", "app.batch.size": "500"}  # fmt: skip
    for name, conf in (("before-3.1.0", base), ("after-3.2.0", after)):
        folder = root / "config" / name
        folder.mkdir(parents=True)
        (folder / "application.properties").write_text(
            "".join(f"{k}={v}\n" for k, v in conf.items())
        )
    t, lines = datetime(2026, 2, 3, 9, 0, tzinfo=UTC), []
    while t < datetime(2026, 2, 3, 12, 0, tzinfo=UTC):
        t += timedelta(milliseconds=rng.randint(50, 900))
        stamp = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
        thread = f"http-nio-8080-exec-{rng.randint(1, 40)}"
        peak = t.minute % 20 < 3 and t.hour >= 10
        if exhausted and peak and rng.random() < 0.3:
            waiting = rng.randint(3, 60)
            lines.append(f"{stamp} ERROR 1 --- [{thread}] c.e.orders.OrderRepository : Could not"
                         f" get a connection: pool exhausted after 30000ms (total=8, active=8,"
                         f" idle=0, waiting={waiting})")  # fmt: skip
        else:
            lines.append(f"{stamp} INFO 1 --- [{thread}] c.e.orders.OrderController : order"
                         f" {rng.getrandbits(32):08x} placed in {rng.randint(8, 90)} ms")  # fmt: skip
    (root / "orders.log").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("exhausted", [True, False])
def test_a_pool_shrunk_by_an_upgrade_is_named_by_the_count_its_errors_state(
    tmp_path: Path, exhausted: bool
) -> None:
    _pool_bundle(tmp_path / "bundle", random.Random(11), exhausted)
    found = investigate(tmp_path / "bundle", tmp_path / "case", Options(workers=1)).findings
    diffs = {f.entities["key"]: f for f in found if f.key == "ENV_CONFIG_DIFF"}
    pool = diffs.get("app.pool.max-size")
    if not exhausted:  # nothing in the evidence points at it
        assert pool is None or pool.stats["promoted"] is False
        return
    assert pool is not None, sorted(diffs)
    assert (pool.entities["env_failing"], pool.entities["env_working"]) == (
        "after-3.2.0", "before-3.1.0",
    )  # fmt: skip
    assert pool.stats["promoted"] is True and pool.severity == "high"
    assert "total=8" in pool.evidence[-1].excerpt


def test_difference_kinds() -> None:
    assert classify("k", "https://a.example.com", "http://a.example.com").kind == "scheme"
    assert classify("client.timeout", "30s", "500ms").kind == "magnitude"
    assert classify("tls.verify", "true", "false").kind == "tls"
    assert classify("deploy.replicas", "1", "6").kind == "benign"
    assert classify("aws.region", "us-east-1", "eu-west-1").kind == "region"
    assert classify("api.version", "2023-10-16", "2022-11-15").kind == "version"
    assert (
        classify("db.password", "«secret:password:ab12cd»", "«secret:password:ef34aa»").kind
        == "secret"
    )
    assert classify("feature.new_checkout", None, "true").kind == "missing"
    # No ratio to zero: none against three retries is said so, not "3000000000x smaller".
    assert classify("api.retries", "3", "0").detail == "zero in B"
    assert classify("api.retries", "0", "3").detail == "zero in A"


@pytest.mark.parametrize(
    ("field", "value"), [("elapsed_ms", 800), ("took", "800ms"), ("duration_s", 0.8)]
)
def test_a_timeout_given_in_a_field_points_at_the_key(
    tmp_path: Path, field: str, value: object
) -> None:
    """Fails silently in prod: uploads cancelled at info level ("deadline exceeded"), the time
    in a field, not the message; the prod timeout of 800 ms is the key that explains it."""
    rng = random.Random(len(field))
    for env, timeout, retries in (("dev", 30000, 3), ("prod", 800, 0)):
        folder = tmp_path / "bundle" / env
        folder.mkdir(parents=True)
        (folder / "sdk.yaml").write_text(
            f"api:\n  base_url: https://api.{env}.example.com/v2\n  timeout_ms: {timeout}\n"
            f"  retries: {retries}\nlogging:\n  level: {'debug' if env == 'dev' else 'error'}\n"
        )
        ts, lines = datetime(2026, 11, 24, 9, tzinfo=UTC), []
        for _ in range(600):
            ts += timedelta(milliseconds=rng.randint(200, 2500))
            took = rng.randint(300, 2400)
            record: dict[str, object] = {"ts": ts.isoformat(), "level": "info",
                                         "msg": "upload_batch completed", field: took}  # fmt: skip
            if env == "prod" and took > timeout:
                record |= {"msg": "upload_batch cancelled: deadline exceeded", field: value,
                           "error": "context deadline exceeded"}  # fmt: skip
            lines.append(json.dumps(record))
        (folder / "sdk.log").write_text("\n".join(lines) + "\n")
    top = investigate(tmp_path / "bundle", tmp_path / "case").findings[0]
    assert top.key == "ENV_CONFIG_DIFF" and top.entities["key"] == "api.timeout_ms"
    assert top.stats["promoted"] is True and "800 ms" in top.title


CONFIG_SAMPLES = {
    "yaml": b"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n"
    b"      containers:\n      - name: api\n        env:\n        - name: API_URL\n          value: http://x\n",
    "dotenv": b"# app\nAPI_URL=https://x\nexport TIMEOUT_MS=500\n",
    "properties": b"# props\nhttp.client.timeout=500\nhttp.client.base-url=https://x\n",
    "ini": b"[client]\ntimeout = 500\nbase_url = https://x\n",
    "toml": b'[client]\ntimeout = 500\nbase_url = "https://x"\nverify = true\n',
    "json-config": b'{\n  "client": {"timeout": 500, "base_url": "https://x"}\n}\n',
}


@pytest.mark.parametrize("kind", sorted(CONFIG_SAMPLES))
def test_config_syntaxes_sniff_and_flatten(kind: str) -> None:
    data = CONFIG_SAMPLES[kind]
    fmt, _ = sniff(data)
    assert fmt is not None and fmt.kind == kind
    records = list(fmt.parse(io.BytesIO(data), ParseContext(f"x.{kind}")))
    keys = {r.key: r.value for r in records}
    assert keys, kind
    if kind == "yaml":
        assert keys["Deployment/api.spec.template.spec.containers[api].env.API_URL"] == "http://x"
    assert all(r.line >= 1 for r in records)


def test_config_formats_reject_logs() -> None:
    log = (
        b"2026-03-01 10:00:00 INFO server: started\n2026-03-01 10:00:01 WARN server: slow: 500ms\n"
        * 5
    )
    for fmt in CONFIG_FORMATS:
        assert fmt.sniff(log) < 0.5, fmt.kind


def test_describe_text_yields_container_state_and_events() -> None:
    text = b"""Name:         api-7d9f8c6b5-x2x4q
Namespace:    shop
Containers:
  api:
    Image:          registry.example.com/shop/api:3.2.0
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
    Restart Count:  7
    Limits:
      memory:  512Mi
Events:
  Type     Reason     Age                  From     Message
  ----     ------     ----                 ----     -------
  Warning  BackOff    2m (x30 over 40m)    kubelet  Back-off restarting failed container api in pod api-7d9f8c6b5-x2x4q
"""
    records = list(parse_describe(io.BytesIO(text), ParseContext("describe.txt")))
    reasons = {r.reason for r in records}
    assert {"CrashLoopBackOff", "OOMKilled", "BackOff"} <= reasons
    oom = next(r for r in records if r.reason == "OOMKilled")
    assert oom.attrs["limits"]["memory"] == "512Mi" and oom.attrs["restarts"] == 7
    assert next(r for r in records if r.reason == "BackOff").count == 30


def test_a_crashloop_described_by_kubectl_is_one_finding_with_its_restarts_and_back_offs(
    tmp_path: Path,
) -> None:
    """`kubectl describe pod` of a worker in CrashLoopBackOff: its state names the container,
    its BackOff event only in the message. With the previous container's log, one finding says
    how often it restarted and backed off and what the last run died of."""
    fixtures = Path(__file__).resolve().parent / "fixtures" / "k8s"
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    describe = (fixtures / "describe-crashloop.txt").read_text()
    (bundle / "describe-pod.txt").write_text(describe)
    (bundle / "worker-previous.log").write_bytes((fixtures / "worker-previous.log").read_bytes())
    restarts = int(describe.split("Restart Count:")[1].split()[0])
    backoffs = int(describe.split("BackOff")[-1].split("(x")[1].split()[0])
    result = investigate(bundle, tmp_path / "case", Options(workers=1))
    loops = [f for f in result.findings if f.key == "K8S_CRASHLOOP"]
    assert len(loops) == 1, [f.title for f in loops]
    (loop,) = loops
    assert loop.entities["container"] == "worker"
    assert (loop.stats["restarts"], loop.stats["backoffs"]) == (restarts, backoffs)
    assert f"({restarts} restarts, {backoffs} back-offs, last exit code 1)" in loop.title
    assert "DATABASE_URL is not set" in loop.title and loop.rank == 1
