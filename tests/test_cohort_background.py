"""A cohort that only restates a steady background error ranks below a new failure."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from casework.pipeline import Options, investigate

_USERS = ["deploy", "alice", "bob", "ci-runner", "root"]


def syslog(rng: random.Random, sshd: bool, days: int = 8) -> str:
    """A bastion host's logs: with ``sshd``, its auth log (sessions, and from the last day on,
    logins that fail); else its syslog (cron, kernel noise, systemd, and a logrotate job that
    fails every night, before and after)."""
    start = datetime(2026, 3, 1)
    trouble = start + timedelta(days=days - 1, hours=9)
    lines: list[tuple[datetime, str]] = []
    t = start
    while t < start + timedelta(days=days):
        t += timedelta(seconds=rng.randint(20, 400))
        pid = rng.randint(1000, 32000)
        ip = f"10.20.{rng.randint(0, 9)}.{rng.randint(2, 250)}"
        user = rng.choice(_USERS)
        roll = rng.random()
        if not sshd:
            roll = 0.55 + roll * 0.45
        if t >= trouble and roll < 0.35:
            lines.append(
                (
                    t,
                    f"sshd[{pid}]: error: Received disconnect from {ip} port {rng.randint(30000, 60000)}:14: No more user authentication methods available. [preauth]",
                )
            )
        elif roll < 0.55:
            lines.append(
                (
                    t,
                    f"sshd[{pid}]: Accepted publickey for {user} from {ip} port {rng.randint(30000, 60000)} ssh2: ED25519 SHA256:{rng.getrandbits(64):016x}",
                )
            )
            lines.append(
                (
                    t + timedelta(seconds=1),
                    f"sshd[{pid}]: pam_unix(sshd:session): session opened for user {user} by (uid=0)",
                )
            )
        elif roll < 0.75:
            lines.append((t, f"CRON[{pid}]: (root) CMD (/usr/lib/sysstat/debian-sa1 1 1)"))
        elif roll < 0.9:
            lines.append(
                (
                    t,
                    f"kernel: [{rng.randint(1000, 900000)}.{rng.randint(0, 999999):06d}] IPv4: martian source 10.20.0.{rng.randint(1, 9)} from {ip}, on dev eth0",
                )
            )
        else:
            lines.append(
                (t, f"systemd[1]: Started Session {rng.randint(100, 9999)} of user {user}.")
            )
    for day in range(0 if sshd else days):
        at = start + timedelta(days=day, hours=6, minutes=25, seconds=rng.randint(0, 59))
        lines.append((at, "logrotate: ALERT exited abnormally with [1]"))
        lines.append(
            (
                at + timedelta(seconds=2),
                'logrotate: error: skipping "/var/log/nginx/access.log" because parent directory has insecure permissions',
            )
        )
    lines.sort(key=lambda x: x[0])
    return "\n".join(f"{ts:%b %e %H:%M:%S} bastion {text}" for ts, text in lines) + "\n"


def test_a_steady_error_cohort_is_background_and_ranks_below_the_new_failure(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "auth.log").write_text(syslog(random.Random(5), sshd=True))
    (bundle / "syslog").write_text(syslog(random.Random(6), sshd=False))
    result = investigate(bundle, tmp_path / "case", Options(workers=1))
    cohorts = [f for f in result.findings if f.key == "FAILURE_COHORT"]
    steady = [f for f in cohorts if f.stats.get("steady")]
    assert steady, [f.title for f in cohorts]
    background = steady[0]
    assert "logrotate" in background.title
    assert background.severity == "low"
    assert background.title.endswith("; steady over the window")
    first, second = background.stats["first_half"], background.stats["second_half"]
    assert isinstance(first, int) and isinstance(second, int) and abs(first - second) <= 2
    # The new failure (sshd refusing logins since the last morning) is stated above it.
    new = [
        f
        for f in result.findings
        if "No more user authentication methods" in f.title + f.summary
        and f.severity in ("high", "critical")
    ]
    assert new, [f.title for f in result.findings[:8]]
    assert min(f.rank for f in new) < background.rank
    # No cohort whose failures began inside the window is called steady.
    assert not any("sshd" in f.title for f in steady)
