"""Third-party analyzers load through the ``casework.analyzers`` entry-point group, and cannot break a run."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from casework.engine import load_analyzers
from casework.pipeline import investigate

PLUGIN = '''
from casework.engine import analyzer
from casework.findings import Finding

@analyzer(key="team_rule", needs=("events",))
def team_rule(case):
    """Counts events: a support team's own rule."""
    (n,) = case.one("SELECT count(*) FROM events")
    yield Finding(key="TEAM_RULE", analyzer="team_rule", subject="all", severity="low", score=0.2,
                  title=f"{n} events seen by the team rule", summary="A plugin finding.")

@analyzer(key="team_broken", needs=())
def team_broken(case):
    """A rule with a bug."""
    raise RuntimeError("secret-looking detail that must not be shown")
'''


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "team_rules.py").write_text(PLUGIN)
    (site / "team_rules_unimportable.py").write_text("raise ImportError('nope')\n")
    dist = site / "team_rules-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: team-rules\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[casework.analyzers]\nteam_rule = team_rules:team_rule\nteam_broken = team_rules:team_broken\n"
        "team_missing = team_rules_unimportable:rule\nnot_an_analyzer = team_rules:PLUGIN\n"
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


def test_entry_point_analyzers_are_loaded_after_the_builtins(plugin: Path) -> None:
    keys = [a.key for a in load_analyzers()]
    assert "team_rule" in keys and "team_broken" in keys
    assert keys.index("team_rule") > keys.index("http_status")
    assert "team_missing" not in keys  # could not be imported: skipped with a warning


def test_casework_plugins_limits_what_loads(plugin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEWORK_PLUGINS", "team_rule")
    keys = [a.key for a in load_analyzers()]
    assert "team_rule" in keys and "team_broken" not in keys
    monkeypatch.setenv("CASEWORK_PLUGINS", "")
    assert not {"team_rule", "team_broken"} & {a.key for a in load_analyzers()}


def test_a_plugin_runs_and_a_broken_one_is_recorded_not_raised(
    plugin: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "app.log").write_text("2026-03-01 10:00:00,000 INFO main - started\n" * 5)
    result = investigate(bundle, tmp_path / "case")
    runs = {r.key: r for r in result.runs}
    assert runs["team_rule"].status == "ok"
    assert runs["team_broken"].status == "error"
    assert "RuntimeError" in runs["team_broken"].reason
    assert "secret-looking" not in runs["team_broken"].reason
    assert any(f.key == "TEAM_RULE" and f.title.startswith("5 events") for f in result.findings)
    assert "team_broken" in (tmp_path / "case" / "report.md").read_text()
