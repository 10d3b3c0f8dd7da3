"""Parser throughput: MB/s of each log format's parser alone on a generated file (issue 2).

Usage: ``python bench/parsers.py [--mb 50] [--only jsonl,access]``. Files are
generated once into ``bench/.work/`` (git-ignored) and reused; each parser
consumes every record of its file, timed with ``perf_counter``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path

from casework.formats import FORMATS, ParseContext, iter_lines

WORK = Path(__file__).resolve().parent / ".work"
ROUTES = ["/v1/refunds", "/v1/refunds/{id}", "/v1/accounts/{id}", "/healthz", "/v1/payments"]
METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"]
STATUSES = [200] * 40 + [201, 204, 301, 304, 400, 401, 404, 429, 500, 502, 503]
WORDS = [
    "refund",
    "payment",
    "account",
    "ledger",
    "cache",
    "pool",
    "retry",
    "timeout",
    "upstream",
    "user",
    "order",
]


def _clock(rnd: random.Random) -> Callable[[], float]:
    t = [1_772_400_000.0]

    def tick() -> float:
        t[0] += rnd.random() * 0.01
        return t[0]

    return tick


def _iso(ts: float, sep: str = "T", frac: str = ".") -> str:
    s = time.strftime(f"%Y-%m-%d{sep}%H:%M:%S", time.gmtime(ts))
    return f"{s}{frac}{int(ts % 1 * 1000):03d}"


def _words(rnd: random.Random, n: int) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def jsonl(rnd: random.Random, tick: Callable[[], float]) -> str:
    status = rnd.choice(STATUSES)
    return (
        f'{{"@timestamp":"{_iso(tick())}Z","level":"{"error" if status >= 500 else "info"}",'
        f'"logger":"api.http","message":"{_words(rnd, 6)}","service":{{"name":"payments"}},'
        f'"http":{{"method":"{rnd.choice(METHODS)}","route":"{rnd.choice(ROUTES)}",'
        f'"status":{status}}},"duration_ms":{rnd.random() * 900:.2f},'
        f'"account":{{"id":{rnd.randint(1, 99999)},"tier":"{rnd.choice(["free", "pro"])}"}},'
        f'"trace_id":"{rnd.getrandbits(128):032x}"}}\n'
    )


def logfmt(rnd: random.Random, tick: Callable[[], float]) -> str:
    status = rnd.choice(STATUSES)
    return (
        f"time={_iso(tick())}Z level={'error' if status >= 500 else 'info'} "
        f'msg="{_words(rnd, 5)}" method={rnd.choice(METHODS)} path={rnd.choice(ROUTES)} '
        f"status={status} duration={rnd.random() * 900:.1f}ms client_id=c{rnd.randint(1, 500)} "
        f"request_id={rnd.getrandbits(64):016x}\n"
    )


def access(rnd: random.Random, tick: Callable[[], float]) -> str:
    when = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(tick()))
    return (
        f"10.0.{rnd.randint(0, 255)}.{rnd.randint(1, 254)} - - [{when}] "
        f'"{rnd.choice(METHODS)} {rnd.choice(ROUTES)}?page={rnd.randint(1, 9)} HTTP/1.1" '
        f'{rnd.choice(STATUSES)} {rnd.randint(0, 50000)} "https://app.acme.test/" '
        f'"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" {rnd.random():.3f} {rnd.random():.3f}\n'
    )


def java(rnd: random.Random, tick: Callable[[], float]) -> str:
    level = rnd.choice(["INFO"] * 8 + ["WARN", "ERROR"])
    head = (
        f"{_iso(tick(), ' ', ',')} {level:<5} [pool-{rnd.randint(1, 8)}-thread-{rnd.randint(1, 20)}]"
        f" com.acme.payments.{rnd.choice(['RefundService', 'LedgerClient'])}: {_words(rnd, 8)}\n"
    )
    if level == "ERROR" and rnd.random() < 0.3:
        frames = "".join(
            f"\tat com.acme.payments.Svc.m{i}(Svc.java:{rnd.randint(1, 500)})\n" for i in range(12)
        )
        head += f"java.lang.IllegalStateException: {_words(rnd, 4)}\n{frames}\t... 40 more\n"
    return head


def syslog(rnd: random.Random, tick: Callable[[], float]) -> str:
    when = time.strftime("%b %e %H:%M:%S", time.gmtime(tick()))
    prog = rnd.choice(["sshd", "cron", "kernel", "systemd"])
    return f"{when} web{rnd.randint(1, 9)} {prog}[{rnd.randint(100, 30000)}]: {_words(rnd, 9)}\n"


def postgres(rnd: random.Random, tick: Callable[[], float]) -> str:
    pid = rnd.randint(1000, 9000)
    when = f"{_iso(tick(), ' ')} UTC [{pid}] app@payments"
    if rnd.random() < 0.2:
        return (
            f"{when} ERROR:  duplicate key value violates unique constraint\n"
            f"{when} DETAIL:  Key (id)=({rnd.randint(1, 10**6)}) already exists.\n"
            f"{when} STATEMENT:  INSERT INTO refunds (id, amount)\n\tVALUES ($1, $2)\n"
        )
    return f"{when} LOG:  duration: {rnd.random() * 100:.3f} ms  statement: SELECT * FROM t WHERE id = $1\n"


GENERATORS: dict[str, tuple[str, Callable[[random.Random, Callable[[], float]], str]]] = {
    "jsonl": ("jsonl", jsonl),
    "logfmt": ("logfmt", logfmt),
    "access-log": ("access.log", access),
    "java-log": ("java.log", java),
    "syslog": ("syslog.log", syslog),
    "postgres-log": ("postgresql.log", postgres),
}


def generate(kind: str, megabytes: int) -> Path:
    name, line = GENERATORS[kind]
    path = WORK / f"{megabytes}mb-{name}"
    if path.exists():
        return path
    WORK.mkdir(exist_ok=True)
    rnd = random.Random(7)
    tick = _clock(rnd)
    target = megabytes * 1_000_000
    written = 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            chunk = "".join(line(rnd, tick) for _ in range(1000))
            out.write(chunk)
            written += len(chunk)
    return path


def measure(kind: str, path: Path) -> tuple[float, int, float, float]:
    """(CPU seconds, records, MB/s of CPU time, parse time / line-reading time) for one parser.

    CPU time of this process, not wall time: the machine is shared, and the
    ratio to plain line reading (``iter_lines``) on the same file is the figure
    that survives a busy neighbour.
    """
    fmt = next(f for f in FORMATS if f.kind == kind)
    with path.open("rb") as stream:
        assert fmt.sniff(stream.read(65536)) >= 0.5, f"{kind} sniffer rejects its benchmark file"
    size = path.stat().st_size
    started = time.process_time()
    with path.open("rb") as stream:
        for _ in iter_lines(stream, ParseContext(str(path))):
            pass
    baseline = time.process_time() - started
    started = time.process_time()
    records = 0
    with path.open("rb") as stream:
        for _ in fmt.parse(stream, ParseContext(str(path), year=2026)):
            records += 1
    seconds = time.process_time() - started
    return seconds, records, size / 1e6 / seconds, seconds / baseline


def peers(path: Path) -> None:
    """What the JSON-lines figure compares with: orjson alone, and DuckDB's reader on one thread."""
    import duckdb
    import orjson

    size = path.stat().st_size / 1e6
    started = time.process_time()
    with path.open("rb") as stream:
        for line in stream:
            orjson.loads(line)
    print(
        f"{'peer: orjson.loads per line only':<40}{size / (time.process_time() - started):>8.1f} MB/s"
    )
    con = duckdb.connect()
    con.execute("SET threads = 1")
    started = time.perf_counter()
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM read_json_auto('{path}', format='newline_delimited')"
    )
    rate = size / (time.perf_counter() - started)
    print(f"{'peer: DuckDB read_json_auto, 1 thread':<40}{rate:>8.1f} MB/s (wall)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--only", default=",".join(GENERATORS))
    args = parser.parse_args()
    print(f"{'format':<14}{'MB':>6}{'records':>10}{'cpu s':>8}{'MB/s':>8}{'x lines':>9}")
    for kind in args.only.split(","):
        path = generate(kind, args.mb)
        seconds, records, rate, ratio = measure(kind, path)
        size = path.stat().st_size / 1e6
        print(f"{kind:<14}{size:>6.0f}{records:>10}{seconds:>8.2f}{rate:>8.1f}{ratio:>9.1f}")
    if "jsonl" in args.only.split(","):
        peers(generate("jsonl", args.mb))


if __name__ == "__main__":
    main()
