"""Password guessing is told from people mistyping: sources that fail many times within minutes,
on loghub's real Linux syslog and on an OpenSSH auth log with users, red herrings and a
guessed password."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from casework.analyzers.auth_failures import BURST, WINDOW, source_sql, user_sql
from casework.findings import Finding
from casework.pipeline import investigate

LINUX = Path(__file__).resolve().parents[2] / "shared/data/loghub2k/Linux/Linux_2k.log"
T0 = datetime(2026, 10, 6, 1, 0, tzinfo=UTC)


def _guessing(tmp_path: Path, files: dict[str, str]) -> list[Finding]:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name, text in files.items():
        (bundle / name).write_text(text)
    found = investigate(bundle, tmp_path / "case").findings
    return [f for f in found if f.key == "AUTH_GUESSING"]


def _busiest(times: list[datetime]) -> int:
    times = sorted(times)
    return max(sum(1 for u in times[i:] if u - t <= WINDOW) for i, t in enumerate(times))


def test_loghub_linux_brute_force_is_found_with_the_busiest_source(tmp_path: Path) -> None:
    """The oracle reads the raw file by itself: PAM's failures by rhost, their times."""
    by_host: dict[str, list[datetime]] = defaultdict(list)
    for text in LINUX.read_text(errors="replace").splitlines():
        m = re.search(r"authentication failure;.*\brhost=(\S+)", text)
        if m:
            by_host[m.group(1)].append(datetime.strptime("2026 " + text[:15], "%Y %b %d %H:%M:%S"))
    busiest = {h: _busiest(t) for h, t in by_host.items()}
    top = max(busiest, key=lambda h: busiest[h])
    guessing = {h for h, n in busiest.items() if n >= BURST}
    assert len(guessing) >= 5  # the file really holds a brute force
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "messages").write_bytes(LINUX.read_bytes())
    found = investigate(bundle, tmp_path / "case").findings
    f = next(f for f in found if f.key == "AUTH_GUESSING")
    assert f.subject == top and f.stats["busiest_burst"] == busiest[top]
    # Kerberos' "Authentication failed from X" counts too: at least PAM's guessers are in it.
    assert f.stats["guessing_sources"] >= len(guessing)
    assert f.stats["logged_in_after"] == 0 and f.severity == "high"
    assert found[0].key == "AUTH_GUESSING"  # what a reader sees first
    assert any(e.excerpt and top in e.excerpt for e in f.evidence)


def auth_log(rng: random.Random, *, guessed: bool) -> tuple[str, dict[str, int]]:
    """An OpenSSH auth log: logins by staff, staff mistyping (1-3 failures, then in), scanners
    trying one or two names from many addresses, and three guessing sources; the last of them
    gets in when ``guessed``. Returns the log and the guessing sources' failure counts."""
    lines: list[tuple[datetime, str]] = []
    staff = ["alice", "bob", "deploy", "carol"]

    def add(ts: datetime, text: str) -> None:
        lines.append((ts, f"{ts:%b %e %H:%M:%S} bastion sshd[{rng.randint(1000, 65000)}]: {text}"))

    for _ in range(400):  # staff logins over six hours, some after a mistyped password
        ts = T0 + timedelta(seconds=rng.randint(0, 6 * 3600))
        user, ip = rng.choice(staff), f"10.20.{rng.randint(0, 3)}.{rng.randint(2, 250)}"
        for k in range(rng.choice([0, 0, 0, 1, 2, 3])):
            add(
                ts + timedelta(seconds=4 * k),
                f"Failed password for {user} from {ip} port {rng.randint(30000, 60000)} ssh2",
            )
        add(
            ts + timedelta(seconds=15),
            f"Accepted publickey for {user} from {ip} port {rng.randint(30000, 60000)} ssh2",
        )
    for _ in range(150):  # internet background: one or two tries from each of many addresses
        ts = T0 + timedelta(seconds=rng.randint(0, 6 * 3600))
        ip = f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for k in range(rng.choice([1, 2])):
            name = rng.choice(["admin", "test", "oracle", "ubuntu"])
            add(
                ts + timedelta(seconds=k),
                f"Invalid user {name} from {ip} port {rng.randint(30000, 60000)}",
            )
        add(
            ts + timedelta(seconds=2),
            f"Connection closed by {ip} port {rng.randint(30000, 60000)} [preauth]",
        )
    counts: dict[str, int] = {}
    for n, ip in enumerate(["203.0.113.9", "198.51.100.23", "192.0.2.77"]):
        start, tries = (
            T0 + timedelta(hours=1 + 1.5 * n, minutes=rng.randint(0, 20)),
            rng.randint(40, 120),
        )
        for k in range(tries):
            user = rng.choice(["root", "root", "admin", "deploy"])
            text = (f"Failed password for {user} from {ip} port {rng.randint(30000, 60000)} ssh2" if user != "admin"
                    else f"Failed password for invalid user admin from {ip} port {rng.randint(30000, 60000)} ssh2")  # fmt: skip
            add(start + timedelta(seconds=1.7 * k), text)
        counts[ip] = tries
        end = start + timedelta(seconds=1.7 * tries + 1)
        add(
            end,
            f"Disconnected from authenticating user root {ip} port {rng.randint(30000, 60000)} [preauth]",
        )
        add(end, f"session from {ip} closed: user root not logged in")  # says no login
        if guessed and n == 2:
            add(
                start + timedelta(seconds=1.7 * tries + 3),
                f"Accepted password for deploy from {ip} port 41022 ssh2",
            )
    lines.sort(key=lambda x: x[0])
    return "\n".join(text for _, text in lines) + "\n", counts


@pytest.mark.parametrize("guessed", [False, True])
def test_guessing_sources_are_told_from_staff_and_scanners(tmp_path: Path, guessed: bool) -> None:
    log, counts = auth_log(random.Random(11), guessed=guessed)
    found = _guessing(tmp_path, {"auth.log": log})
    assert len(found) == 1
    f = found[0]
    assert f.stats["guessing_sources"] == len(counts)
    assert f.stats["guessing_failures"] == sum(counts.values())
    assert f.subject == max(counts, key=lambda ip: counts[ip])
    assert f.stats["busiest_burst"] == max(counts.values())
    assert f.stats["logged_in_after"] == (1 if guessed else 0)
    assert f.severity == ("critical" if guessed else "high")
    if guessed:
        assert "192.0.2.77" in f.summary and "Logged in afterwards" in f.summary


def test_sporadic_failures_are_no_guessing(tmp_path: Path) -> None:
    rng = random.Random(3)
    lines = []
    for i in range(300):  # one office address fails every 4 minutes or so: 3 at most in WINDOW
        ts = T0 + timedelta(minutes=4 * i + rng.randint(0, 2))
        lines.append(
            f'{ts:%b %e %H:%M:%S} files vsftpd[{rng.randint(100, 9999)}]: [alice] FAIL LOGIN: Client "10.1.1.5"'
        )
        lines.append(
            f"{ts:%b %e %H:%M:%S} files sshd[{rng.randint(100, 9999)}]: Failed password for alice from 10.1.1.5 port 4242 ssh2"
        )
    assert _guessing(tmp_path, {"secure": "\n".join(lines) + "\n"}) == []


def _read(message: str, attrs: str | None = None) -> tuple[str | None, str | None]:
    """The source and the account the store's SQL reads from one record."""
    row = (
        duckdb.connect()
        .execute(
            f"SELECT {source_sql('m', 'a')}, {user_sql('m')} FROM (SELECT ?::VARCHAR m, ?::JSON a)",
            [message, attrs],
        )
        .fetchone()
    )
    assert row is not None
    return row[0], row[1]


def test_source_and_user_are_read_from_the_common_texts() -> None:
    pam = "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4  user=root"
    assert _read(pam) == ("218.188.2.4", "root")
    assert _read("Failed password for invalid user oracle from 2001:db8::7 port 22 ssh2") == (
        "2001:db8::7",
        "oracle",
    )
    assert (
        _read("Authentication failed from host-9.example.net (1.2.3.4): Permission denied")[0]
        == "host-9.example.net"
    )
    assert _read("login failed", '{"client.ip":"198.51.100.4"}') == ("198.51.100.4", None)
    assert _read("authentication failure; rhost= user=bob", '{"src_ip":"10.0.0.9"}') == (
        "10.0.0.9",
        "bob",
    )
    assert _read("Kerberos authentication failed") == (None, None)
