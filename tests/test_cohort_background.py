"""A cohort that only restates a steady background error, or a past episode, ranks below a new failure."""

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


def quorum_log(rng: random.Random, days: int = 10, trickle: float = 0.0) -> str:
    """A coordination service's log: errors for a few minutes at start-up while its peers are
    not up yet (and after that in a ``trickle`` share of the records), then quiet traffic,
    and from a day and a half before the end, election time-outs (warnings) in 30% of its
    records."""
    start = datetime(2026, 4, 2, 8, 0, 0)
    trouble = start + timedelta(days=days - 2, hours=11)
    lines: list[tuple[datetime, str, str, str]] = []
    t = start
    while t < start + timedelta(minutes=14):
        t += timedelta(seconds=rng.randint(10, 90))
        peer = rng.choice([2, 3])
        if rng.random() < 0.5:
            where = f"QuorumPeer[myid=1]/0.0.0.0:2181:QuorumCnxManager@{rng.choice([300, 312])}"
            lines.append(
                (t, "ERROR", where, f"Exception while connecting to id {peer}, closing socket")
            )
        else:
            lines.append((t, "WARN", "WorkerSender[myid=1]:QuorumCnxManager@368",
                          f"Cannot open channel to {peer} at election address /10.10.34.1{peer}:3888"))  # fmt: skip
    while t < start + timedelta(days=days):
        t += timedelta(seconds=rng.randint(30, 900))
        ip = f"10.10.34.{rng.randint(20, 90)}:{rng.randint(30000, 60000)}"
        roll = rng.random()
        if t >= trouble and roll < 0.3:
            lines.append((t, "WARN", "QuorumPeer[myid=1]/0.0.0.0:2181:FastLeaderElection@691",
                          f"Notification time out: {rng.choice([400, 800, 1600, 3200, 6400])}"))  # fmt: skip
        elif roll < 0.45:
            lines.append((t, "INFO", "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@197",
                          f"Accepted socket connection from /{ip}"))  # fmt: skip
        elif roll < 0.75:
            lines.append((t, "INFO", "CommitProcessor:1:ZooKeeperServer@595",
                          f"Established session 0x{rng.getrandbits(52):x} with negotiated timeout 10000 for client /{ip}"))  # fmt: skip
        elif roll < 0.93:
            lines.append((t, "INFO", "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@1001",
                          f"Closed socket connection for client /{ip} which had sessionid 0x{rng.getrandbits(52):x}"))  # fmt: skip
        else:
            lines.append((t, "WARN", "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxn@349",
                          "caught end of stream exception"))  # fmt: skip
        if rng.random() < trickle:
            lines.append((t, "ERROR", "QuorumPeer[myid=1]/0.0.0.0:2181:QuorumCnxManager@312",
                          "Exception while connecting to id 3, closing socket"))  # fmt: skip
        if rng.random() < 0.002:
            lines.append((t, "ERROR", "SyncThread:1:FileTxnLog@321",
                          "fsync-ing the write ahead log in SyncThread:1 took 1523ms"))  # fmt: skip
    return "".join(
        f"{ts:%Y-%m-%d %H:%M:%S},{rng.randint(0, 999):03d} - {level:<5} [{where}] - {message}\n"
        for ts, level, where, message in sorted(lines, key=lambda x: x[0])
    )


def test_a_start_up_burst_is_a_past_episode_and_ranks_below_the_new_failure(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    text = quorum_log(random.Random(4))
    (bundle / "zookeeper.log").write_text(text)
    result = investigate(bundle, tmp_path / "case", Options(workers=1))
    findings = result.findings
    # What rose at the end leads: the election time-outs, as a change point or a new message.
    assert "Notification time out" in findings[0].title, [f.title for f in findings[:5]]
    burst_end = max(
        datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")
        for line in text.splitlines()
        if " ERROR " in line and "Exception while connecting" in line
    )
    # The cohorts of the start-up burst are past episodes: low, and below the new failure.
    episodes = [
        f
        for f in findings
        if f.key == "FAILURE_COHORT" and (f.title.startswith("Before ") or "none after" in f.title)
    ]
    assert episodes, [f.title for f in findings if f.key == "FAILURE_COHORT"]
    for f in episodes:
        assert f.severity == "low" and f.rank > 1, f.title
        assert "past episode" in f.summary
    closed = [f for f in episodes if "none after" in f.title]
    for f in closed:
        assert f.stats["ended"] == f"{burst_end:%Y-%m-%d %H:%M} UTC"
        assert f.stats["steady"] is False
    # Nothing from the burst is called steady: its errors all came in the first minutes.
    burst = [f for f in findings if "Exception while connecting" in f.title + f.summary]
    assert burst and not any("steady" in f.title for f in burst), [f.title for f in burst]
    signature = next(f for f in burst if f.key == "ERROR_SIGNATURE")
    assert signature.stats["fell"] is True and "fell within the window" in signature.title


def test_errors_that_eased_but_went_on_are_not_called_stopped(tmp_path: Path) -> None:
    """After the start-up burst the same error goes on now and then: fewer, not none."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "zookeeper.log").write_text(quorum_log(random.Random(4), trickle=0.01))
    result = investigate(bundle, tmp_path / "case", Options(workers=1))
    cohorts = [f for f in result.findings if f.key == "FAILURE_COHORT"]
    assert not any("none after" in f.title or "ended" in f.stats for f in cohorts)
    eased = [f for f in cohorts if "; fewer " in f.title]
    assert eased, [f.title for f in cohorts]
    for f in eased:
        start, end, at = f.stats["fell_from"], f.stats["fell_to"], f.stats["fell_at"]
        assert isinstance(start, float) and isinstance(end, float) and 0 < end <= start / 2
        # The title names the split where the rate fell: a time, or the window's halves.
        assert f.title.endswith(
            f"; fewer after {at}" if at else "; fewer in the window's second half"
        )
        assert f.severity == "low" and f.stats["steady"] is False and "eased" in f.summary
