"""The example bundle: generated deterministically, small, and investigated to the right answer."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from casework.pipeline import investigate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BUNDLE = EXAMPLES / "checkout-incident"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_example", EXAMPLES / "make_example.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_example", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_committed_bundle_matches_the_generator(tmp_path: Path) -> None:
    _generator().generate(tmp_path / "bundle")
    fresh, committed = _files(tmp_path / "bundle"), _files(BUNDLE)
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"regenerate with examples/make_example.py: {changed}"


def test_bundle_is_small_and_has_the_promised_formats() -> None:
    files = _files(BUNDLE)
    assert sum(len(b) for b in files.values()) < 2 * 1024 * 1024
    assert gzip.decompress(files["checkout-api/api.log.1.gz"]).startswith(b'{"@timestamp"')
    assert b"\n\tat com.example" in files["refund-service/refund-service.log"]
    assert b"level=warn" in files["settlement-worker/worker.log"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "case"
    investigate(BUNDLE, out)
    return out


def test_rank_one_is_the_refund_incident(demo: Path) -> None:
    doc = json.loads((demo / "findings.json").read_text())
    top = doc["findings"][0]
    gen = _generator()
    title = top["title"]
    # What fails, for whom, since when, and what changed: the generator's ground truth.
    assert "/v1/refunds" in title and "500" in title
    assert f">= {gen.COHORT:%Y-%m-%d}" in title
    assert "2.14.3" in title and "refund-service" in title
    assert f"{gen.RELEASE:%Y-%m-%d %H}" in title
    catalog = [f for f in doc["findings"] if "/v1/catalog" in f["title"]]
    assert catalog and all(
        f["rank"] > top["rank"] and f["severity"] in ("low", "info") for f in catalog
    )
    java = [f for f in doc["findings"] if "IllegalStateException" in f["title"]]
    assert java and java[0]["severity"] == "high"
    # Told once: the called service's errors, which rose in the same minutes, join the story as
    # another view of it (with their evidence) instead of making a second one.
    assert [f["key"] for f in doc["findings"]].count("INCIDENT") == 1
    services = {e["file"].split("/")[0] for e in top["evidence"]}
    assert {"checkout-api", "refund-service"} <= services


def test_no_planted_secret_reaches_an_output(demo: Path) -> None:
    gen = _generator()
    secrets = [gen.FAKE_JWT, gen.DB_PASSWORD, gen.AWS_KEY, gen.AWS_SECRET]
    for path in demo.iterdir():
        if path.suffix in {".json", ".md", ".html"}:
            text = path.read_text()
            assert not [s for s in secrets if s in text], path.name
