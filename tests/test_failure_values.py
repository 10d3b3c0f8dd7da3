"""Who the failures name: the value most records of a failure message carry in one place."""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from casework.findings import Finding
from casework.pipeline import Options, investigate

SHARED = Path(__file__).resolve().parents[2] / "shared"
OPENSSH = SHARED / "data" / "loghub2k" / "OpenSSH" / "OpenSSH_2k.log"


def _values(bundle: Path, out: Path) -> list[Finding]:
    run = investigate(bundle, out, Options(workers=1))
    return [f for f in run.findings if f.key == "FAILURE_VALUE"]


def test_a_real_sshd_log_names_the_address_most_failed_logins_come_from(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    shutil.copy(OPENSSH, bundle / "auth.log")
    # The oracle: PAM's failure lines that name a user, counted by address with a plain regex.
    lines = [x for x in OPENSSH.read_text().splitlines() if "authentication failure;" in x]
    hosts = Counter(m[1] for x in lines if (m := re.search(r" rhost=(\S+)\s+user=\S+$", x)))
    (address, count), _ = hosts.most_common(2)
    found = {f.subject: f for f in _values(bundle, tmp_path / "out")}
    assert address in found, sorted(found)
    f = found[address]
    assert (f.stats["records"], f.stats["total"]) == (count, sum(hosts.values()))
    assert f.stats["distinct"] == len(hosts)
    assert f.evidence and all(address in e.excerpt for e in f.evidence)
    assert "Failed password for <*> from <*> port <*> ssh2" in f.summary  # it leads there too


def _auth_log(path: Path, rng: random.Random, attackers: list[tuple[str, str | None, float]],
              users: list[str], attempts: int) -> Counter[str]:  # fmt: skip
    """A bastion's sshd log: failed logins from ``attackers`` (address, its reverse name or
    None, weight) among spread ones, and the day's ordinary traffic around them. Returns the
    failed logins per address."""
    t = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    failed: Counter[str] = Counter()
    out = []
    for _ in range(attempts * 3):
        t += timedelta(seconds=rng.randint(1, 20))
        stamp = f"{t:%b} {t.day:2d} {t:%H:%M:%S} bastion"
        pid = rng.randint(2000, 30000)
        kind = rng.random()
        if kind < 0.33:
            ip, name, _ = rng.choices(attackers, weights=[a[2] for a in attackers])[0]
            if ip == "*":
                n = rng.randint(1, 254)
                ip, name = f"203.0.113.{n}", rng.choice([None, f"dyn-{n}.isp.example"])
            user = rng.choice(users)
            if name:
                out.append(f"{stamp} sshd[{pid}]: reverse mapping checking getaddrinfo for "
                           f"{name} [{ip}] failed - POSSIBLE BREAK-IN ATTEMPT!")  # fmt: skip
            out.append(f"{stamp} sshd[{pid}]: pam_unix(sshd:auth): authentication failure;"
                       f" logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={user}")  # fmt: skip
            out.append(f"{stamp} sshd[{pid}]: Failed password for {user} from {ip} port"
                       f" {rng.randint(1024, 65535)} ssh2")  # fmt: skip
            failed[ip] += 1
        elif kind < 0.8:
            who = rng.choice(["deploy", "alice", "ci-runner"])
            ip = f"10.0.{rng.randint(0, 3)}.{rng.randint(2, 250)}"
            port = rng.randint(1024, 65535)
            out.append(f"{stamp} sshd[{pid}]: Accepted publickey for {who} from {ip} port {port}"
                       " ssh2: ED25519 SHA256:q0bX")  # fmt: skip
            out.append(f"{stamp} sshd[{pid}]: pam_unix(sshd:session): session opened for user"
                       f" {who} by (uid=0)")  # fmt: skip
            out.append(f"{stamp} sshd[{pid}]: Received disconnect from {ip} port {port}:11:"
                       " disconnected by user")  # fmt: skip
        else:
            out.append(f"{stamp} CRON[{pid}]: pam_unix(cron:session): session opened for user"
                       " root by (uid=0)")  # fmt: skip
    path.write_text("\n".join(out) + "\n")
    return failed


def test_failed_logins_from_one_address_name_it_and_its_reverse_name(tmp_path: Path) -> None:
    rng = random.Random(21)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    attackers = [("198.51.100.77", "scan-77.bad.example", 6.0), ("*", None, 2.0),
                 ("192.0.2.9", None, 1.0)]  # fmt: skip
    failed = _auth_log(bundle / "auth.log", rng, attackers, [f"u{i}" for i in range(40)], 900)
    found = {f.subject: f for f in _values(bundle, tmp_path / "out")}
    lead = found["198.51.100.77"]
    assert lead.stats["records"] == failed["198.51.100.77"]
    assert lead.stats["total"] == sum(failed.values())
    assert lead.stats["messages"] == 2  # the PAM line and sshd's own
    # its reverse name is in exactly the same records: one finding names both
    reverse = next(f for f in found.values() if "scan-77.bad.example" in f.title)
    assert "(198.51.100.77)" in reverse.title
    # 40 users tried evenly and random ports name no one; neither does the other address
    assert all(not re.fullmatch(r"u\d+|\d+", v) for v in found), sorted(found)
    assert "192.0.2.9" not in found


def test_failures_spread_over_many_addresses_name_no_one_nor_their_date(tmp_path: Path) -> None:
    """Failed logins from addresses all over, and a backup failing on most volumes on one day:
    the day a failure message names says when, not who."""
    rng = random.Random(5)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    _auth_log(bundle / "auth.log", rng, [("*", None, 1.0)], [f"u{i}" for i in range(40)], 900)
    backups = [
        f"2026-03-0{3 + (i >= 50)}T23:{i % 60:02d}:00Z backup: snapshot failed on"
        f" 2026.03.0{3 + (i >= 50)} for vol-{rng.randint(100, 999)}"
        for i in range(60)
    ]  # fmt: skip
    (bundle / "backup.log").write_text("\n".join(backups) + "\n")
    assert _values(bundle, tmp_path / "out") == []


def test_one_merchant_named_by_every_new_failure_is_in_the_story(tmp_path: Path) -> None:
    """Charges fail for one merchant since a moment (its gateway credentials rotated); the
    merchant is only in the message text (``merchant m-4417``: the miner makes it ``m-<*>``),
    among steady declines for merchants all over. The failures also carry an error code and
    a stack frame, the same in each."""
    rng = random.Random(3)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    target = f"m-{rng.randint(1000, 9999)}"
    t = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    onset = t + timedelta(minutes=100)
    lines: list[str] = []
    rejected: list[datetime] = []
    while t < onset + timedelta(minutes=80):
        t += timedelta(milliseconds=rng.randint(50, 900))
        merchant, amount = (
            f"m-{rng.randint(100, 999)}",
            f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}",
        )
        if t >= onset and rng.random() < 0.08:
            rejected.append(t)
            level, text = (
                "error",
                f"charge failed for merchant {target} amount {amount} EUR: gateway auth rejected"
                " (401) code 0x80070005 at com.pay.Gateway.charge(Gateway.java:212)",
            )
        elif rng.random() < 0.01:
            level, text = (
                "error",
                f"charge failed for merchant {merchant} amount {amount} EUR: card_declined",
            )
        else:
            level, text = "info", f"charge ok for merchant {merchant} amount {amount} EUR"
        lines.append(json.dumps({"ts": t.isoformat(), "level": level, "logger": "payments.charge",
                                 "msg": text, "trace_id": f"{rng.getrandbits(64):016x}"}))  # fmt: skip
    (bundle / "payments.jsonl").write_text("\n".join(lines) + "\n")
    run = investigate(bundle, tmp_path / "out", Options(workers=1))
    # the constant error code and the stack frame's file are in every failure too: not who
    [value] = [f for f in run.findings if f.key == "FAILURE_VALUE"]
    assert value.subject == target and "every one of" in value.title
    assert "0x8007" not in value.title and "Gateway.java" not in value.title
    assert value.stats["records"] == value.stats["total"] == len(rejected)
    assert value.window is not None
    assert (value.window.start, value.window.end) == (min(rejected), max(rejected))
    story = run.findings[0]
    assert (
        story.key == "INCIDENT"
        and f"the failures name {target} ({len(rejected):,} of" in story.title
    )
    assert value.id in story.related


def test_records_are_matched_to_their_template_word_by_word() -> None:
    """Each word of a record takes its template token's place (a token may hold several values,
    ``<*>:<*>``); a record with other words or another length does not fit. Word by word, a
    record that does not fit costs one pass, where one regular expression over the message
    backtracks through every split of it."""
    from casework.analyzers.failure_values import _matcher

    template = "Failed password for <*> from <*>:<*> port <*> ssh2"
    match = _matcher(template.split(" "))
    assert match("Failed password for root from 10.0.0.7:4242 port 22 ssh2") == (
        "root", "10.0.0.7", "4242", "22",
    )  # fmt: skip
    assert match("Failed  password for root\tfrom 10.0.0.7:4242 port 22 ssh2") is not None
    assert match("Failed password for invalid user root from 10.0.0.7:4242 port 22 ssh2") is None
    assert match("Failed password for root from 10.0.0.7 port 22 ssh2") is None  # no ":"
    long = "Failed password for " + " ".join(["x"] * 400) + " NOPE"
    assert match(long) is None
