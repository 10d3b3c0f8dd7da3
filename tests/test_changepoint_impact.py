"""A shift's size counts its records: a brute force of hundreds of failed logins, logged with no
level, heads the story over a dozen error lines in the log's last minute."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.findings import Finding
from casework.pipeline import Options, investigate

SHARED = Path(__file__).resolve().parents[2] / "shared"
OPENSSH = SHARED / "data" / "loghub2k" / "OpenSSH" / "OpenSSH_2k.log"

START = datetime(2026, 3, 3, 7, 0, tzinfo=UTC)
ATTACK = START + timedelta(hours=3, minutes=50, seconds=20)
END = START + timedelta(hours=4, minutes=10)


def _stamp(t: datetime) -> str:
    return f"{t:%b} {t.day:2d} {t:%H:%M:%S} bastion"


def _bastion(path: Path, rng: random.Random) -> tuple[int, int]:
    """A bastion's sshd log: logins and cron all day, a mistyped password now and then, a
    brute force on root from one address from ``ATTACK`` on, and in the last 90 seconds a
    dozen ``error:`` lines (the only records with a level) from another scanner. Returns the
    brute force's failed logins and the error lines."""
    out: list[tuple[datetime, str]] = []
    t, failed, errors = START, 0, 0
    while t < END:
        t += timedelta(seconds=rng.randint(2, 14))
        pid = rng.randint(2000, 30000)
        kind = rng.random()
        ip = f"10.0.{rng.randint(0, 3)}.{rng.randint(2, 250)}"
        port = rng.randint(1024, 65535)
        if kind < 0.55:
            who = rng.choice(["deploy", "alice", "ci-runner", "backup"])
            out += [
                (t, f"sshd[{pid}]: Accepted publickey for {who} from {ip} port {port} ssh2"),
                (t, f"sshd[{pid}]: pam_unix(sshd:session): session opened for user {who}"),
                (t, f"sshd[{pid}]: Received disconnect from {ip}: 11: Bye Bye [preauth]"),
            ]
        elif kind < 0.6:  # a user mistypes
            who = rng.choice(["alice", "bob"])
            out += [
                (t, f"sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0"
                    f" euid=0 tty=ssh ruser= rhost={ip}  user={who}"),
                (t, f"sshd[{pid}]: Failed password for {who} from {ip} port {port} ssh2"),
            ]  # fmt: skip
        else:
            out.append((t, f"CRON[{pid}]: pam_unix(cron:session): session opened for user root"))
    t = ATTACK
    while t < END:
        t += timedelta(seconds=rng.randint(1, 3))
        pid = rng.randint(2000, 30000)
        out += [
            (t, f"sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0"
                " euid=0 tty=ssh ruser= rhost=198.51.100.7  user=root"),
            (t, f"sshd[{pid}]: Failed password for root from 198.51.100.7 port"
                f" {rng.randint(1024, 65535)} ssh2"),
        ]  # fmt: skip
        failed += 1
    t = END - timedelta(seconds=90)
    while errors < 12:
        t += timedelta(seconds=rng.randint(3, 7))
        out.append((t, f"sshd[{rng.randint(2000, 30000)}]: error: Received disconnect from"
                       " 203.0.113.9: 14: No more user authentication methods available."
                       " [preauth]"))  # fmt: skip
        errors += 1
    out.sort(key=lambda x: x[0])
    path.write_text("".join(f"{_stamp(t)} {text}\n" for t, text in out))
    return failed, errors


def _run(bundle: Path, out: Path) -> list[Finding]:
    return investigate(bundle, out, Options(workers=1)).findings


def test_a_brute_force_logged_without_a_level_heads_the_story(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    failed, errors = _bastion(bundle / "auth.log", random.Random(8))
    findings = _run(bundle, tmp_path / "out")
    shifts = [f for f in findings if f.key.startswith("CHANGEPOINT_") and f.stats["increased"]]
    attack = [
        f for f in shifts if "Failed password" in f.title or "authentication failure" in f.title
    ]
    assert attack, [f.title for f in shifts]
    # Level-less records whose text says they failed are failures: high, not medium.
    for f in attack:
        assert f.stats["failure"] is True and f.severity == "high", f.title
        assert abs(f.stats["onset_epoch"] - ATTACK.timestamp()) <= 120, f.title
        expected = f.stats["after_hits"] - f.stats["before_rate"] * f.stats["after_total"]
        assert f.stats["excess"] == round(expected, 1)
        assert f.stats["excess"] >= 0.8 * failed
    late = [f for f in shifts if f.stats["onset_epoch"] > (END - timedelta(minutes=3)).timestamp()]
    assert late, "the last minute's error lines are a shift of their own"
    assert all(f.stats["excess"] <= errors for f in late)
    # The story says since when the brute force runs, not since the last minute's errors;
    # it outranks the late shifts on its own too.
    story = findings[0]
    assert story.key == "INCIDENT", story.title
    assert abs(float(story.stats["onset_epoch"]) - ATTACK.timestamp()) <= 120, story.title
    assert "198.51.100.7" in story.title or "root" in story.title, story.title
    assert max(f.score for f in attack) > max(f.score for f in late)


def test_a_real_sshd_log_s_story_follows_its_largest_rise_of_failures(tmp_path: Path) -> None:
    """loghub's OpenSSH log: the story's headline is a rising failure shift carrying at least
    half the excess records of the largest one among the story's members."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(OPENSSH, bundle / "sshd.log")
    findings = _run(bundle, tmp_path / "out")
    by_id = {f.id: f for f in findings}
    story = next(f for f in findings if f.key == "INCIDENT")
    members = [by_id[r] for r in story.related if r in by_id]
    rising = [
        m for m in members
        if m.key.startswith("CHANGEPOINT_") and m.stats["increased"] and m.stats["failure"]
    ]  # fmt: skip
    assert rising
    head = next(m for m in rising if m.stats["onset_epoch"] == story.stats["onset_epoch"])
    assert head.stats["excess"] >= max(m.stats["excess"] for m in rising) / 2
    # Whom the headline names is a value of the headline's own message.
    named = story.title.partition("; the failures name ")[2].partition(" (")[0]
    if named:
        value = next(m for m in members if m.key == "FAILURE_VALUE" and m.subject == named)
        assert value.entities["template_id"] == head.entities["subject"], (value.title, head.title)
