"""``casework inspect``: JSON facts for a capture and a HAR, one clear line and exit 2 for anything else."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from casework.cli import main

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def test_inspect_pcap_json() -> None:
    result = CliRunner().invoke(
        main, ["inspect", str(DATA / "pcap" / "zeek__tls_tls1.2.pcap"), "--json"]
    )
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts["counts"]["tls_alert_records"] == 1 and facts["counts"]["tls_alert_plain"] == 0
    assert facts["timing"]["tcp_streams"] == 1
    conv = facts["conversations"][0]
    assert conv["server_port"] == 443 and conv["tls"]["version"] == "TLS 1.2"


def test_inspect_har_json() -> None:
    path = DATA / "har" / "harviewer__issue-49_chrome51.har"
    result = CliRunner().invoke(main, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts["entries"] == 4 and "net::ERR_INSECURE_RESPONSE" in facts["status0_errors"]


def test_inspect_table_and_bad_input(tmp_path: Path) -> None:
    ok = CliRunner().invoke(main, ["inspect", str(DATA / "pcap" / "zeek__tcp_syn.pcap")])
    assert ok.exit_code == 0 and "tcp_syn_no_synack" in ok.output
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    bad = CliRunner().invoke(main, ["inspect", str(text)])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    missing = CliRunner().invoke(main, ["inspect", str(tmp_path / "nope.pcap")])
    assert missing.exit_code == 2


def test_inspect_help() -> None:
    result = CliRunner().invoke(main, ["inspect", "--help"])
    assert result.exit_code == 0 and "--json" in result.output
