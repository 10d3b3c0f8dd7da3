"""A log in local time without a zone is put on UTC by the request ids it shares with a zoned log.

The bundles: an nginx access log in UTC (``+0000``) and a service log whose
timestamps carry no zone, written in the service's local time; both name each
request's id. From the deploy the service logs, a share of refunds fail.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from casework.clockalign import Alignment
from casework.pipeline import Options, investigate

T0 = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
DEPLOY = T0 + timedelta(minutes=64)


def bundle(root: Path, offset: timedelta, seed: int, *, shared: bool = True) -> None:
    """Two and a half hours of refunds; the service log is written at UTC``offset``."""
    rng = random.Random(seed)
    local = timezone(offset)
    root.mkdir(parents=True)
    access, service = [], []
    ts = T0
    while ts < T0 + timedelta(hours=2, minutes=30):
        ts += timedelta(milliseconds=rng.randint(300, 3000))
        rid = f"{rng.getrandbits(64):016x}"
        refund = rng.random() < 0.3
        fail = refund and ts > DEPLOY + timedelta(minutes=1) and rng.random() < 0.45
        path = "/v1/refunds" if refund else rng.choice(["/v1/orders", "/v1/cart"])
        status = 500 if fail else 200
        access.append(
            f"10.2.{rng.randint(0, 9)}.{rng.randint(1, 250)} - - [{ts:%d/%b/%Y:%H:%M:%S} +0000]"
            f' "POST {path} HTTP/1.1" {status} {rng.randint(100, 5000)} "-" "shop-app/5.2"'
            f" {rng.uniform(0.02, 0.3):.3f} req_id={rid}"
        )
        if not refund:
            continue
        own = rid if shared else f"{rng.getrandbits(64):016x}"
        at = (ts + timedelta(milliseconds=rng.randint(1, 40))).astimezone(local)
        level, text = ("ERROR", f"refund failed request_id={own}: no fee schedule") if fail else (
            "INFO", f"refund accepted request_id={own}")  # fmt: skip
        service.append(
            f"{at:%Y-%m-%d %H:%M:%S},{at.microsecond // 1000:03d} {level:<5} [exec-{rng.randint(1, 9)}]"
            f" c.e.refunds.RefundController - {text}"
        )
    deployed = DEPLOY.astimezone(local)
    service.append(
        f"{deployed:%Y-%m-%d %H:%M:%S},000 INFO  [main] c.e.refunds.Application"
        " - Starting refund-service version 2.14.3"
    )
    service.sort()
    (root / "nginx-access.log").write_text("\n".join(access) + "\n")
    (root / "refund-service.log").write_text("\n".join(service) + "\n")


def _tz(case: Path, file: str) -> str:
    con = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    row = con.execute("SELECT tz FROM files WHERE path = ?", [file]).fetchone()
    con.close()
    return str(row[0]) if row else ""


@pytest.mark.parametrize(
    ("hours", "zone"), [(1, "UTC+01:00"), (5.5, "UTC+05:30"), (-7, "UTC-07:00")]
)
def test_a_naive_log_is_put_on_utc_by_shared_request_ids(
    tmp_path: Path, hours: float, zone: str
) -> None:
    bundle(tmp_path / "bundle", timedelta(hours=hours), seed=int(hours * 10))
    found = investigate(tmp_path / "bundle", tmp_path / "case").findings
    assert _tz(tmp_path / "case", "refund-service.log").startswith(f"{zone} (inferred")
    con = duckdb.connect(str(tmp_path / "case" / "case.duckdb"), read_only=True)
    gaps = con.execute(
        "SELECT max(abs(epoch(s.ts) - epoch(a.ts))) FROM events s JOIN events a"
        " ON regexp_extract(s.message, 'request_id=([0-9a-f]+)', 1)"
        "  = regexp_extract(CAST(a.attrs AS VARCHAR), 'req_id\\W+([0-9a-f]+)', 1)"
        " WHERE s.file = 'refund-service.log' AND a.file = 'nginx-access.log'"
        " AND s.message LIKE '%request_id=%'"
    ).fetchone()
    deploy = con.execute("SELECT ts FROM changes WHERE version = '2.14.3'").fetchone()
    con.close()
    assert (
        gaps is not None and gaps[0] is not None and gaps[0] < 1.5
    )  # the access log keeps whole seconds
    assert deploy is not None and deploy[0] == DEPLOY
    # One incident, tied to the deploy the service logged.
    assert found[0].key == "INCIDENT" and "2.14.3" in found[0].title


def test_without_shared_ids_or_with_a_chosen_zone_nothing_moves(tmp_path: Path) -> None:
    bundle(tmp_path / "apart", timedelta(hours=2), seed=3, shared=False)
    investigate(tmp_path / "apart", tmp_path / "case1")
    assert "(assumed)" in _tz(tmp_path / "case1", "refund-service.log")
    bundle(tmp_path / "chosen", timedelta(hours=2), seed=4)
    investigate(tmp_path / "chosen", tmp_path / "case2", Options(tz="UTC"))
    assert _tz(tmp_path / "case2", "refund-service.log") != "" and "inferred" not in _tz(
        tmp_path / "case2", "refund-service.log"
    )


def test_zone_names() -> None:
    def zone(seconds: int) -> str:
        return Alignment("a", "b", timedelta(seconds=seconds), 30, 30).zone()

    assert zone(3600) == "UTC+01:00"
    assert zone(19800) == "UTC+05:30"
    assert zone(-25200) == "UTC-07:00"
    assert zone(-12600) == "UTC-03:30"
