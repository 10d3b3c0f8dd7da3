"""Request paths become routes: id segments as ``{id}``, so failures spread over ids add up.

The end-to-end case is an nginx access log where ``GET /v1/refunds/<id>`` starts
failing with 500 for a third of the refunds, every refund a different id, among
other id-bearing routes (hex order ids, UUID profiles with a steady 3% of 404s,
fingerprinted assets) and health checks.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from casework.bugreport import load_case, report_for_case
from casework.bugreport.build import findings_of
from casework.bugreport.facts import route_of
from casework.pipeline import investigate
from casework.routes import route_template


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v1/refunds/48213", "/v1/refunds/{id}"),
        ("/v1/refunds/48213/", "/v1/refunds/{id}/"),
        ("/v1/orders/9f86d081884c7d65/items", "/v1/orders/{id}/items"),
        ("/v2/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/v2/{id}"),
        ("/v2/3FA85F64-5717-4562-B3FC-2C963F66AFA6/x", "/v2/{id}/x"),
        ("/customers/cus_9s6XKzkNRiz8i3/charges", "/customers/{id}/charges"),
        ("/servers/instance-00000123", "/servers/{id}"),
        ("/files/8812.pdf", "/files/{id}.pdf"),
        ("/a/12;jsessionid=x", "/a/{id};jsessionid=x"),
        ("/v1/items", "/v1/items"),
        ("/api/v2/oauth2/token", "/api/v2/oauth2/token"),
        ("/openstack/2013-10-17/meta_data.json", "/openstack/2013-10-17/meta_data.json"),
        ("/v1.2/status", "/v1.2/status"),
        ("/2.0/users", "/2.0/users"),
        ("/deadbeef/cafe", "/deadbeef/cafe"),  # hex letters only: a word as likely as an id
        ("/get-user-settings-v2", "/get-user-settings-v2"),  # long, one digit: a name
        ("/v1/customers/{id}", "/v1/customers/{id}"),
        ("/users/«secret:email:0d8b3d»/reset", "/users/«secret:email:0d8b3d»/reset"),
        ("48213", "48213"),  # no leading slash: not a path segment
    ],
)
def test_id_segments_become_placeholders(path: str, route: str) -> None:
    assert route_template(path) == route


_SEGMENT = st.one_of(
    st.text(alphabet="abcdefABCDEF0123456789-_.xyz{}", max_size=40),
    st.integers(min_value=0, max_value=10**12).map(str),
    st.uuids().map(str),
)


@given(st.lists(_SEGMENT, max_size=6))
@example(["v1", "refunds", "123"])
@example(["", "0a1b2c3d4e5f6a7b"])
def test_templating_keeps_the_shape_and_is_stable(segments: list[str]) -> None:
    path = "/" + "/".join(segments)
    route = route_template(path)
    assert route_template(route) == route
    kept = route.split("/")
    assert len(kept) == len(path.split("/"))
    for before, after in zip(path.split("/"), kept, strict=True):
        assert after == before or re.fullmatch(r"\{id\}(\.[A-Za-z][A-Za-z0-9]{0,4})?", after)
        if not re.search(r"\d", before):
            assert after == before


START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ASSETS = ["/static/app.3f9a1c.js", "/static/vendor.81d2e0.js", "/static/app.css"]
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "acme-sdk-python/2.6.1 CPython/3.11",
    "okhttp/4.12.0",
]


def access_log(rng: random.Random) -> tuple[str, int, set[str]]:
    """Two hours of traffic; from the second hour a third of the refunds fail with 500.

    Returns the log, how many 500s it holds and the paths of the failing lines."""
    lines, failing, paths = [], 0, set()
    ts = START
    for _ in range(9000):
        ts += timedelta(milliseconds=rng.randint(100, 1500))
        kind = rng.random()
        status, query = 200, ""
        if kind < 0.25:
            path = f"/v1/refunds/{rng.randint(100000, 999999)}"
            if ts >= START + timedelta(hours=1) and rng.random() < 0.33:
                status = 500
                failing += 1
                paths.add(path)
        elif kind < 0.5:
            path = f"/v1/orders/{rng.getrandbits(64):016x}/items"
            status = rng.choice([200] * 9 + [304])
            query = f"?page={rng.randint(1, 9)}" if rng.random() < 0.3 else ""
        elif kind < 0.7:
            path = f"/v2/{uuid.UUID(int=rng.getrandbits(128))}/profile"
            status = 404 if rng.random() < 0.03 else 200
        elif kind < 0.8:
            path = rng.choice(ASSETS)
        else:
            path = "/healthz"
        when = ts.strftime("%d/%b/%Y:%H:%M:%S +0000")
        ip = f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        lines.append(
            f'{ip} - - [{when}] "GET {path}{query} HTTP/1.1" {status} {rng.randint(80, 90000)}'
            f' "-" "{rng.choice(AGENTS)}" {rng.uniform(0.002, 0.9):.3f}'
        )
    return "\n".join(lines) + "\n", failing, paths


@pytest.fixture(scope="module")
def refunds_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, set[str]]:
    root = tmp_path_factory.mktemp("routes")
    (root / "bundle").mkdir()
    log, failing, paths = access_log(random.Random(5))
    (root / "bundle" / "access.log").write_text(log)
    investigate(root / "bundle", root / "case")
    return root / "case", failing, paths


def test_failures_spread_over_ids_are_one_route(refunds_case: tuple[Path, int, set[str]]) -> None:
    case, failing, _ = refunds_case
    con = duckdb.connect(str(case / "case.duckdb"), read_only=True)
    routes, paths = con.execute(
        "SELECT count(DISTINCT route), count(DISTINCT json_extract_string(attrs, '$.\"http.path\"'))"
        " FROM requests"
    ).fetchone()  # type: ignore[misc]
    con.close()
    assert paths > 1000 and routes < 10
    doc, con = load_case(case)
    con.close()
    about = [f for f in findings_of(doc) if f.analyzer == "http_status"]
    assert about, "no HTTP status finding"
    top = about[0]
    assert route_of(top) == ("GET", "/v1/refunds/{id}")
    assert top.stats["failures"] == failing


def test_the_reproduction_replays_a_concrete_failing_path(
    refunds_case: tuple[Path, int, set[str]], tmp_path: Path
) -> None:
    case, _, paths = refunds_case
    doc, con = load_case(case)
    con.close()
    fid = next(f.id for f in findings_of(doc) if route_of(f)[1] == "/v1/refunds/{id}")
    report = report_for_case(case, fid)
    assert report.repro is not None
    replayed = re.search(r"/v1/refunds/[^ '\"]*", report.repro.curl)
    assert replayed is not None and replayed.group(0) in paths
