"""Realistic generated cases end to end: files built with real framing, parsed, redacted, stored, analyzed."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from casework.analyzers.har_auth import har_auth
from casework.analyzers.har_oauth_refresh import har_oauth_refresh
from casework.analyzers.har_post_redirect import har_post_redirect
from casework.analyzers.net_connect_failures import net_connect_failures
from casework.analyzers.net_dns_failures import net_dns_failures
from casework.analyzers.net_idle_resets import net_idle_resets
from casework.analyzers.net_retransmissions import net_retransmissions
from casework.analyzers.net_tls_alerts import net_tls_alerts
from casework.analyzers.net_zero_window import net_zero_window
from casework.findings import Finding
from casework.net.inspect import inspect_file
from netgen import (
    ACK,
    FIN,
    PSH,
    RST,
    SYN,
    PcapWriter,
    TcpConn,
    dns_message,
    har_entry,
    load_case,
    tls_alert,
    tls_client_hello,
    write_har,
)  # fmt: skip

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


def _idle_reset_capture(path: Path, idle: float, connections: int) -> Path:
    """A client reusing pooled keep-alive connections; the LB resets each after ``idle`` s of silence."""
    rng = random.Random(7)
    w = PcapWriter()
    for i in range(connections):
        conn = TcpConn(w, "10.1.0.15", 50000 + i, "10.2.0.80", 80, rng)
        t = conn.handshake(T0 + i * 3.1)
        body = b'{"ok":true}'
        response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s" % (
            len(body), body)  # fmt: skip
        t = conn.exchange(t + 0.01, b"GET /api/items HTTP/1.1\r\nHost: api\r\n\r\n", response, 0.05)
        t += idle + rng.uniform(-0.2, 0.2)
        if i % 2:  # the LB's reset reaches the client when it times the connection out ...
            conn.seg(t, False, RST | ACK)
        else:  # ... or answers the client's next request on the connection it forgot
            conn.seg(t, True, PSH | ACK, b"GET /api/items HTTP/1.1\r\nHost: api\r\n\r\n")
            conn.seg(t + 0.0004, False, RST)
    # One healthy connection closed normally, so not every flow resets.
    conn = TcpConn(w, "10.1.0.15", 51000, "10.2.0.80", 80, rng)
    t = conn.handshake(T0)
    conn.seg(t + 1, True, FIN | ACK)
    conn.seg(t + 1.01, False, FIN | ACK)
    conn.seg(t + 1.02, True, ACK)
    return w.write(path)


def test_load_balancer_idle_reset_states_the_timeout(tmp_path: Path) -> None:
    pcap = _idle_reset_capture(tmp_path / "lb.pcap", idle=350.0, connections=6)
    counts = inspect_file(pcap)["counts"]
    assert counts["tcp_rst"] == 6
    findings = list(net_idle_resets.run(load_case(tmp_path, [pcap])))
    assert len(findings) == 1
    f = findings[0]
    assert f.key == "NET_IDLE_RESET"
    assert f.stats["resets"] == 6 and abs(float(f.stats["idle_s"] or 0) - 350) < 1
    assert "350 s" in f.title and "server" in f.title
    assert len(f.evidence[0].refs) == 6 and f.evidence[0].kind == "frames"
    # The excerpt shows the first connections, each with its reset's frame and idle time.
    lines = f.evidence[0].excerpt.splitlines()
    assert len(lines) == 6 and lines[-1] == "... and 1 more"
    for line in lines[:5]:
        frame = int(line.split("(frame ")[1].split(")")[0])
        assert str(frame) in f.evidence[0].refs and "10.2.0.80:80" in line
        assert 349 < float(line.split(" after ")[1].split(" s idle")[0]) < 351


def test_refused_connection_names_its_packets(tmp_path: Path) -> None:
    w = PcapWriter()
    conn = TcpConn(w, "10.1.0.15", 42000, "10.2.0.9", 5432, random.Random(5))
    conn.seg(T0, True, SYN)
    conn.seg(T0 + 0.0003, False, RST | ACK)
    pcap = w.write(tmp_path / "refused.pcap")
    (f,) = list(net_connect_failures.run(load_case(tmp_path, [pcap])))
    assert f.key == "NET_CONNECT_REFUSED"
    assert f.title.startswith("1 connection to 10.2.0.9:5432 refused")
    assert f.evidence[0].refs == ("1",)
    (line,) = f.evidence[0].excerpt.splitlines()
    assert "10.1.0.15:42000 -> 10.2.0.9:5432" in line
    assert line.endswith("SYN (frame 1) answered by RST (frame 2)")


def _refusals(tmp_path: Path, refused: int, opened: int) -> list[Finding]:
    """``refused`` connections to 10.2.0.9:5432 answered by RST and ``opened`` that opened."""
    rng = random.Random(6)
    w = PcapWriter()
    t = T0
    for i in range(refused + opened):
        conn = TcpConn(w, "10.1.0.15", 42000 + i, "10.2.0.9", 5432, rng)
        if i % max(1, (refused + opened) // max(refused, 1)) == 0 and refused > 0:
            refused -= 1
            conn.seg(t, True, SYN)
            conn.seg(t + 0.0003, False, RST | ACK)
        else:
            t = conn.exchange(conn.handshake(t), b"Q\x00\x00\x00\x05x", b"T" * 40, 0.002)
        t += 1.0
    return list(net_connect_failures.run(load_case(tmp_path, [w.write(tmp_path / "db.pcap")])))


def test_refusals_are_rated_by_how_many_attempts_fail(tmp_path: Path) -> None:
    """All attempts refused: the service is unreachable (high). One attempt alone: medium.
    One refusal among thirty connections that opened: a restart's moment (low)."""
    cases = {(3, 0): "high", (1, 0): "medium", (1, 30): "low", (6, 30): "medium"}
    for (refused, opened), severity in cases.items():
        folder = tmp_path / f"{refused}-{opened}"
        folder.mkdir()
        (f,) = _refusals(folder, refused, opened)
        assert (f.severity, f.stats["connections"], f.stats["opened"]) == (
            severity, refused, opened
        ), f.title  # fmt: skip
        assert f.title.endswith(f"; {opened} others to it opened") == (opened > 1)


def _unreachable_from(path: Path, before: int, after: int, mixed: bool = False) -> Path:
    """TLS connections to 10.2.0.12:443 for api.partner.example, ``before`` of them opening,
    then ``after`` whose SYN and its three retransmissions go unanswered (with ``mixed``, one
    more opens after the first failure)."""
    rng = random.Random(12)
    w = PcapWriter()
    t = T0
    plan = [True] * before + [False] * after + ([True] if mixed else [])
    for i, opens in enumerate(plan):
        conn = TcpConn(w, "10.1.0.20", 45000 + i, "10.2.0.12", 443, rng)
        t += rng.uniform(2.0, 5.0)
        if opens:
            end = conn.handshake(t)
            conn.seg(
                end + 0.001, True, PSH | ACK, tls_client_hello("api.partner.example", (0x0304,))
            )
            conn.seg(end + 0.03, False, ACK)
        else:
            for back in (0.0, 1.0, 3.0, 7.0):
                conn.seg(t + back, True, SYN, seq=conn.cseq)
    return w.write(path)


def test_a_server_unreachable_from_a_moment_says_since_when_and_its_name(tmp_path: Path) -> None:
    case = load_case(tmp_path, [_unreachable_from(tmp_path / "node.pcap", 12, 9)])
    (f,) = list(net_connect_failures.run(case))
    assert f.key == "NET_SYN_UNANSWERED" and f.severity == "high" and f.stats["since"] is True
    assert f.stats["connections"] == 9 and f.stats["syns"] == 36 and f.stats["opened"] == 12
    assert f.entities["host"] == "api.partner.example"
    assert "(api.partner.example) never answered (36 SYNs) since " in f.title
    assert f.title.endswith("every attempt since failed; 12 before it opened")
    first_failure = min(
        t
        for (t,) in case.rows("SELECT start FROM flows WHERE attrs->>'$.handshake' = 'unanswered'")
    )
    assert f.stats["onset_epoch"] == first_failure.timestamp()
    # Their resent SYNs are failed connections, not data lost on the way.
    assert not list(net_retransmissions.run(case))
    # One attempt that opened after the first failure: no moment it became unreachable.
    folder = tmp_path / "mixed"
    folder.mkdir()
    (g,) = list(
        net_connect_failures.run(
            load_case(folder, [_unreachable_from(folder / "n.pcap", 12, 9, True)])
        )
    )
    assert g.stats["since"] is False and "since" not in g.title and g.severity == "medium"


def _resends(path: Path, segments: int, resent: set[int]) -> Path:
    """A server sending ``segments`` segments to one client; those in ``resent`` are sent
    again 0.3 s later (a retransmission timeout), then acknowledged."""
    w = PcapWriter()
    conn = TcpConn(w, "10.1.0.20", 51000, "10.2.0.7", 443, random.Random(8))
    t = conn.handshake(T0)
    for i in range(segments):
        seq = conn.sseq
        conn.seg(t, False, PSH | ACK, b"d" * 1000)
        if i in resent:
            t += 0.3
            conn.seg(t, False, PSH | ACK, b"d" * 1000, seq=seq)
        t += 0.001
        conn.seg(t, True, ACK)
        t += 0.001
    return w.write(path)


def test_retransmissions_are_rated_by_how_many_follow_loss(tmp_path: Path) -> None:
    """Six resent segments in a short capture are worth a look (medium), not an incident;
    fifty in four hundred segments (6% of all packets) are (high)."""
    few = _resends(tmp_path / "few.pcap", 50, {5, 12, 20, 28, 35, 44})
    many = _resends(tmp_path / "many.pcap", 400, set(range(3, 400, 8)))
    for path, resent, severity in ((few, 6, "medium"), (many, 50, "high")):
        folder = tmp_path / path.stem
        folder.mkdir()
        (f,) = list(net_retransmissions.run(load_case(folder, [path])))
        assert f.stats["retransmissions"] == resent, f.title
        assert f.severity == severity, f.title


def test_tls_version_mismatch(tmp_path: Path) -> None:
    rng = random.Random(3)
    w = PcapWriter()
    for i in range(2):
        conn = TcpConn(w, "10.1.0.15", 41000 + i, "10.9.9.9", 443, rng)
        t = conn.handshake(T0 + i)
        hello = tls_client_hello("legacy.example.com", (0x0302, 0x0301), legacy=0x0302)
        conn.seg(t + 0.001, True, PSH | ACK, hello)
        conn.seg(t + 0.03, False, PSH | ACK, tls_alert(2, 70, 0x0302))
        conn.seg(t + 0.031, False, FIN | ACK)
    pcap = w.write(tmp_path / "tls.pcap")
    counts = inspect_file(pcap)["counts"]
    assert counts["tls_alert_records"] == 2 and counts["tls_alert_descs"] == "2/70:2"
    findings = list(net_tls_alerts.run(load_case(tmp_path, [pcap])))
    assert [f.key for f in findings] == ["NET_TLS_VERSION_MISMATCH"]
    assert "TLS 1.1" in findings[0].title and "protocol_version" in findings[0].title
    assert findings[0].stats["alerts"] == 2


def test_dns_failure_for_one_host(tmp_path: Path) -> None:
    w = PcapWriter()
    names = ["api.example.com", "cdn.example.com", "db.internal.example.com"]
    for i in range(9):
        name = names[i % 3]
        t = T0 + i
        w.udp(t, "10.1.0.15", 40000 + i, "10.0.0.2", 53, dns_message(100 + i, name))
        rcode = 2 if name.startswith("db.") else 0
        w.udp(t + 0.004, "10.0.0.2", 53, "10.1.0.15", 40000 + i,
              dns_message(100 + i, name, True, rcode, b"\x0a\x02\x00\x05"))  # fmt: skip
    # A browser's one probe of a name that does not exist: noise beside a failing resolver.
    w.udp(T0 + 10, "10.1.0.15", 40010, "10.0.0.2", 53, dns_message(110, "qkzvhtmwpa.example.com"))
    w.udp(T0 + 10.003, "10.0.0.2", 53, "10.1.0.15", 40010,
          dns_message(110, "qkzvhtmwpa.example.com", True, 3))  # fmt: skip
    pcap = w.write(tmp_path / "dns.pcap")
    assert inspect_file(pcap)["counts"]["dns_rcodes"] == "2:3,3:1"
    findings = list(net_dns_failures.run(load_case(tmp_path, [pcap])))
    probe = [f for f in findings if f.stats.get("NXDOMAIN")]
    assert len(probe) == 1 and probe[0].severity == "low" and probe[0].stats["failed"] == 1
    findings = [f for f in findings if f not in probe]
    assert len(findings) == 1 and findings[0].severity == "high"
    assert findings[0].entities["name"] == "db.internal.example.com"
    assert findings[0].stats["SERVFAIL"] == 3 and findings[0].stats["queries"] == 3
    excerpt = findings[0].evidence[0].excerpt.splitlines()
    assert len(excerpt) == 3
    assert all("db.internal.example.com A" in x and "-> SERVFAIL" in x for x in excerpt)
    assert all("10.1.0.15" in x and "10.0.0.2:53" in x for x in excerpt)


def test_zero_window_stalls_with_their_durations(tmp_path: Path) -> None:
    """Clients downloading from one server: in one connection the client's application stops
    reading for 3.5 s (window 0, the server probes, the window reopens); in another it never
    reads again before the capture ends; a third connection is healthy."""
    rng = random.Random(5)
    w = PcapWriter()
    server, port, stall, tail = "10.9.9.20", 8443, 3.5, 6.0
    starts: list[float] = []
    for i, reopens in enumerate((True, False, None)):
        conn = TcpConn(w, f"10.1.0.{30 + i}", 50000 + i, server, port, rng)
        t = conn.handshake(T0 + 10 * i)
        conn.seg(t + 0.001, True, PSH | ACK, b"GET /export/2026-01.csv HTTP/1.1\r\nHost: x\r\n\r\n")
        t += 0.05
        for k in range(4):
            conn.seg(t + 0.0001 * k, False, ACK, bytes(1448))
        t += 0.001
        if reopens is None:  # healthy: the client keeps reading
            conn.seg(t, True, ACK, win=64240)
            continue
        conn.seg(t, True, ACK, win=0)  # the buffer is full: nothing read since
        starts.append(t)
        probes = [1.0, 2.0, 3.0] if reopens else [1.0, 3.0, 5.0]
        for p in probes:  # one byte past what the client acked: zero-window probes
            conn.seg(t + p, False, ACK, b"x", seq=conn.sseq)
            conn.seg(t + p + 0.0002, True, ACK, win=0)
        if reopens:
            conn.seg(t + stall, True, ACK, win=65535)
            conn.seg(t + stall + 0.001, False, PSH | ACK, bytes(1448))
        else:
            conn.seg(t + tail, False, ACK, b"x", seq=conn.sseq)
    pcap = w.write(tmp_path / "downloads.pcap")
    counts = inspect_file(pcap)["counts"]
    findings = list(net_zero_window.run(load_case(tmp_path, [pcap])))
    assert len(findings) == 1
    f = findings[0]
    assert f.entities == {"receiver": "client", "server": f"{server}:{port}"}
    assert f.stats["stalls"] == 2 and f.stats["connections"] == 2
    assert f.stats["never_reopened"] == 1
    assert f.stats["advertisements"] == counts["tcp_zero_window"] == 8
    assert f.stats["probes"] == counts["tcp_zw_probe"]
    # The reopened stall lasted from the zero window to the window update; the other until
    # the connection's last packet (the server's probe at ``tail``).
    assert abs(float(f.stats["longest_s"]) - tail) < 0.01
    assert abs(float(f.stats["stalled_s"]) - (stall + tail)) < 0.01
    assert f.severity == "high" and "never reopened" in f.title
    assert "reopened at frame" in f.evidence[0].excerpt
    assert "not reopened" in f.evidence[0].excerpt


def test_zero_windows_in_real_captures_agree_with_wireshark() -> None:
    """Every real capture with zero windows in the tshark oracle: the stalls account for every
    zero-window advertisement tshark counted, and a stall that ended has its window update."""
    import csv

    data = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pcap"
    with (data / "ORACLE_COUNTS.tsv").open(newline="") as fh:
        oracle = {r["file"]: r for r in csv.DictReader(fh, delimiter="\t")}
    checked = 0
    for name, row in sorted(oracle.items()):
        if int(row["tcp_zero_window"]) == 0:
            continue
        facts = inspect_file(data / name)
        stalls = [s for c in facts["conversations"] for s in c.get("zero_windows", [])]
        assert sum(s["advertisements"] for s in stalls) == int(row["tcp_zero_window"]), name
        for s in stalls:
            assert s["stalled_s"] >= 0 and (s["reopened_frame"] or 0) in (
                0,
                *range(s["frame"] + 1, int(row["frames"]) + 1),
            )
        checked += 1
    assert checked >= 2


def test_post_redirect_trap(tmp_path: Path) -> None:
    entries = [
        har_entry("2026-01-01T10:00:00.000Z", "POST", "http://shop.example.com/api/orders", 301,
                  resp_headers={"Location": "https://shop.example.com/api/orders"},
                  redirect="https://shop.example.com/api/orders", post="item=42"),
        har_entry("2026-01-01T10:00:00.120Z", "GET", "https://shop.example.com/api/orders", 405),
    ]  # fmt: skip
    har = write_har(tmp_path / "trap.har", entries, bom=True)
    findings = list(har_post_redirect.run(load_case(tmp_path, [har])))
    assert len(findings) == 1
    f = findings[0]
    assert f.key == "HAR_POST_REDIRECT_TRAP" and f.severity == "high"
    assert f.stats["became_get"] is True and f.stats["follow_up_status"] == 405
    assert f.evidence[0].refs == ("1", "2")


def _jwt(claims: str) -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = b64(b'{"alg":"HS256"}')
    return f"{header}.{b64(claims.encode())}.c2lnbmF0dXJlc2lnbmF0dXJl"


def test_oauth_refresh_race_and_expired_jwt(tmp_path: Path) -> None:
    token = "def50200a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4"
    form = f"grant_type=refresh_token&refresh_token={token}&client_id=web"
    ok = '{"access_token":"x","refresh_token":"def50200ffffeeee","expires_in":300}'
    bad = '{"error":"invalid_grant","error_description":"refresh token already used"}'
    expired = _jwt('{"sub":"u1","iat":1767261000,"exp":1767261300}')  # expired at 09:55
    entries = [
        har_entry("2026-01-01T10:00:00.000Z", "POST", "https://id.example.com/oauth/token", 200,
                  post=form, body=ok),
        har_entry("2026-01-01T10:00:00.040Z", "POST", "https://id.example.com/oauth/token", 400,
                  post=form, body=bad),
        har_entry("2026-01-01T10:00:01.000Z", "GET", "https://api.example.com/v1/me", 401,
                  req_headers={"Authorization": f"Bearer {expired}"},
                  resp_headers={"WWW-Authenticate":
                                'Bearer error="invalid_token", error_description="token expired"'}),
    ]  # fmt: skip
    har = write_har(tmp_path / "oauth.har", entries)
    case = load_case(tmp_path, [har])
    race = list(har_oauth_refresh.run(case))
    assert [f.key for f in race] == ["HAR_OAUTH_REFRESH_REUSED"]
    assert race[0].stats["uses"] == 2 and race[0].stats["failed"] == 1
    assert race[0].stats["gap_ms"] == 40.0
    assert token not in repr(race[0].to_json())  # only the placeholder reaches a finding
    auth = {f.key: f for f in har_auth.run(case)}
    assert "invalid_token: token expired" in auth["HAR_AUTH_FAILED"].title
    assert auth["HAR_JWT_EXPIRED"].stats["max_seconds"] == 301.0  # sent at 10:00:01, exp 09:55:00


def test_a_jwt_used_before_its_nbf_is_named_with_how_early(tmp_path: Path) -> None:
    """A token issued by a server whose clock runs 90 s ahead: its time claims (iat, nbf) are
    times, not secrets, so the redactor keeps them and the check can run."""
    early = _jwt('{"sub":"u1","iat":1767261690,"nbf":1767261690,"exp":1767262590}')
    entries = [
        har_entry("2026-01-01T10:00:00.000Z", "GET", "https://api.example.com/v1/me", 401,
                  req_headers={"Authorization": f"Bearer {early}"},
                  resp_headers={"WWW-Authenticate":
                                'Bearer error="invalid_token", error_description="not yet valid"'}),
    ]  # fmt: skip
    case = load_case(tmp_path, [write_har(tmp_path / "login.har", entries)])
    auth = {f.key: f for f in har_auth.run(case)}
    assert auth["HAR_JWT_NOT_YET_VALID"].stats["max_seconds"] == 90.0  # sent at 10:00:00
    assert early not in repr([f.to_json() for f in auth.values()])


def test_cors_slow_phase_and_big_payload(tmp_path: Path) -> None:
    from casework.analyzers.har_big_payloads import har_big_payloads
    from casework.analyzers.har_cors import har_cors
    from casework.analyzers.har_slow_phases import har_slow_phases

    api = "https://api.example.com/v1/cart"
    slow: dict[str, float] = {
        "blocked": 2,
        "dns": 5,
        "connect": 40,
        "ssl": 30,
        "send": 1,
        "wait": 4200,
        "receive": 60,
    }
    entries = [
        har_entry("2026-01-01T10:00:00.000Z", "OPTIONS", api, 204,
                  req_headers={"Origin": "https://shop.example.com",
                               "Access-Control-Request-Method": "PUT",
                               "Access-Control-Request-Headers": "x-csrf-token"},
                  resp_headers={"Access-Control-Allow-Origin": "https://shop.example.com",
                                "Access-Control-Allow-Methods": "GET, POST, PUT"}),
        har_entry("2026-01-01T10:00:00.050Z", "PUT", api, 0),
        har_entry("2026-01-01T10:00:01.000Z", "GET", "https://api.example.com/v1/report", 200,
                  time=4340, timings=slow, body="x" * 2_000_000),
    ]  # fmt: skip
    case = load_case(tmp_path, [write_har(tmp_path / "app.har", entries)])
    cors = list(har_cors.run(case))
    assert len(cors) == 1 and "x-csrf-token" in cors[0].title
    assert cors[0].stats["actual_status"] == 0
    phase = list(har_slow_phases.run(case))
    assert phase[0].entities["phase"] == "wait" and float(phase[0].stats["share"] or 0) > 0.9
    big = list(har_big_payloads.run(case))
    assert big[0].stats["largest_bytes"] == 2_000_000
    assert big[0].title == "1 response of 1 MB or more: 2.0 MB from GET api.example.com/v1/report"


def test_a_real_page_load_is_split_into_the_site_third_parties_and_idle_time(
    tmp_path: Path,
) -> None:
    from datetime import datetime

    from casework.analyzers.har_page_load import har_page_load

    har = SHARED / "har" / "haralyzer__cnn-chrome.har"
    entries = json.loads(har.read_text())["log"]["entries"]
    starts = [datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00")) for e in entries]
    first = min(starts)
    spans = sorted(
        ((t - first).total_seconds() * 1000, (t - first).total_seconds() * 1000 + max(e["time"], 0))
        for t, e in zip(starts, entries, strict=True)
    )
    busy, end = 0.0, float("-inf")
    for a, b in spans:  # the time at least one request was in flight
        if b > end:
            busy, end = busy + b - max(a, end), b
    site = [e for e in entries if urlsplit(e["request"]["url"]).hostname.endswith("cnn.com")]
    (f,) = list(har_page_load.run(load_case(tmp_path, [har])))
    assert f.stats["requests"] == len(entries) and f.stats["site_requests"] == len(site)
    assert f.stats["span_ms"] == pytest.approx(max(b for _, b in spans), abs=0.1)
    assert f.stats["busy_ms"] == pytest.approx(busy, abs=0.1)
    assert f.entities["site"] == "cnn.com"
    # The browser's own page timings, counted from the first request's start.
    (page,) = json.loads(har.read_text())["log"]["pages"]
    offset = (
        datetime.fromisoformat(page["startedDateTime"].replace("Z", "+00:00")) - first
    ).total_seconds() * 1000
    load = offset + page["pageTimings"]["onLoad"]
    assert f.stats["load_ms"] == pytest.approx(load, abs=0.1)
    assert f.stats["content_loaded_ms"] == pytest.approx(
        offset + page["pageTimings"]["onContentLoad"], abs=0.1
    )
    assert f.stats["after_load_requests"] == sum(1 for _, b in spans if b > load)
    assert "the load event at" in f.title and "DOMContentLoaded" in f.title


def test_a_page_without_page_timings_says_nothing_of_them(tmp_path: Path) -> None:
    from casework.analyzers.har_page_load import har_page_load

    entries = [
        har_entry(f"2026-01-01T10:00:0{i // 5}.{i % 5 * 150:03d}Z", "GET",
                  f"https://www.shop.example/a{i}.js", 200, time=900)
        for i in range(12)
    ]  # fmt: skip
    for e in entries:
        e["pageref"] = "page_1"
    (f,) = list(har_page_load.run(load_case(tmp_path, [write_har(tmp_path / "shop.har", entries)])))
    assert "load_ms" not in f.stats and "load event" not in f.title


def test_third_parties_that_keep_a_page_loading_are_named(tmp_path: Path) -> None:
    from casework.analyzers.har_page_load import har_page_load

    entries = [
        har_entry("2026-01-01T10:00:00.000Z", "GET", "https://www.shop.co.uk/", 200, time=300)
    ]
    for i in range(12):  # the site's own assets, done by 1.5 s
        entries.append(har_entry(f"2026-01-01T10:00:00.{300 + i * 50:03d}Z", "GET",
                                 f"https://static.shop.co.uk/app-{i}.js", 200, time=400))  # fmt: skip
    for i in range(4):  # a chat widget and an ad tag until 6 s
        entries.append(har_entry(f"2026-01-01T10:00:0{1 + i}.600Z", "GET",
                                 f"https://{'widget.chatvendor.io' if i % 2 else 'ads.tracker.net'}/t?{i}",
                                 200, time=1200))  # fmt: skip
    for e in entries:
        e["pageref"] = "page_1"
    (f,) = list(har_page_load.run(load_case(tmp_path, [write_har(tmp_path / "shop.har", entries)])))
    assert f.entities["site"] == "shop.co.uk" and f.stats["site_requests"] == 13
    assert f.stats["site_end_ms"] == pytest.approx(1250.0) and f.stats["span_ms"] == pytest.approx(
        5800.0
    )
    assert f.severity == "medium" and "only third parties (" in f.title
    assert "widget.chatvendor.io" in f.title and "ads.tracker.net" in f.title
    # nothing in flight between the last asset (1.25 s) and the first widget call (1.6 s)
    assert f.stats["idle_ms"] == pytest.approx(350.0)


def test_failed_requests_rank_by_how_often_they_fail(tmp_path: Path) -> None:
    from casework.analyzers.har_failed_requests import har_failed_requests
    from casework.rank import rank

    entries = [har_entry("2026-01-01T10:00:00.000Z", "GET", "https://stats.example.net/beacon", 0)]
    for i in range(10):  # the API fails six times in ten
        entries.append(har_entry(f"2026-01-01T10:00:{i + 1:02d}.000Z", "GET",
                                 f"https://api.example.com/v1/cart?n={i}", 503 if i % 5 < 3 else 200))  # fmt: skip
    entries.append(
        har_entry("2026-01-01T10:00:30.000Z", "GET", "https://cdn.example.com/a.js", 404)
    )
    har = write_har(tmp_path / "failing.har", entries)
    found = rank(har_failed_requests.run(load_case(tmp_path, [har])))
    by_host = {f.entities["host"]: f for f in found}
    api = by_host["api.example.com"]
    assert api.rank == 1 and api.severity == "high"
    assert api.stats["failed"] == 6 and api.stats["requests_to_host"] == 10
    assert api.stats["share"] == 0.6
    beacon = by_host["stats.example.net"]
    assert beacon.severity == "medium" and beacon.stats["failed"] == 1
    assert by_host["cdn.example.com"].severity == "medium"
