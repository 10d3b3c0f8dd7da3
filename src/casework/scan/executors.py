"""Where scan tasks run: in this process, on a local process pool, or on a Dask cluster.

Every executor returns results in task order whatever order they finish in,
so the merge, and with it the case store and the findings, do not depend on
the executor or the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from queue import SimpleQueue

from casework.errors import CaseworkError
from casework.scan.task import ScanResult, ScanTask
from casework.scan.worker import lost, scan

Done = Callable[[ScanTask, ScanResult], None]


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: How many times its size on disk a compressed file is assumed to expand (for scheduling only).
_EXPANSION = 6
_COMPRESSED = (".gz", ".bz2", ".xz")


def largest_first(tasks: Sequence[ScanTask]) -> list[ScanTask]:
    """Tasks in decreasing estimated work, so a big file started last does not leave a core idle.

    Results still merge in task order: the order of running never changes the case store.
    """

    def work(task: ScanTask) -> int:
        size = task.size if task.end is None else task.end - task.start
        return size * _EXPANSION if task.disk.lower().endswith(_COMPRESSED) else size

    return sorted(tasks, key=lambda t: (-work(t), t.index))


#: Below this much input, starting worker processes costs more than it saves. A worker
#: starts its first task 0.5-0.6 s after it is spawned; with 2 workers, a 27 MB bundle of two
#: files was read in 3.1-4.0 s with the pool and 4.1-4.8 s without it, and at 12 MB the two
#: were even.
POOL_MIN_BYTES = 16 << 20


def run_local(
    tasks: Sequence[ScanTask], workers: int, done: Done, min_bytes: int = POOL_MIN_BYTES
) -> list[ScanResult]:
    """Run tasks in this process and, with enough input, on ``workers - 1`` pool processes
    beside it, all taking the next task from one queue, largest first.

    This process scans from the first second, while the pool's workers start (each
    imports what a scan needs afresh: 0.5-0.6 s). When a worker dies, its task is reported as not
    read (``worker.lost``) and the pool's other tasks run here.
    """
    results: list[ScanResult | None] = [None] * len(tasks)
    total = sum(t.size if t.end is None else t.end - t.start for t in tasks)
    helpers = max(min(workers, len(tasks)) - 1, 0) if total >= min_bytes else 0
    queue = deque(largest_first(tasks))
    lock = threading.Lock()
    # What the pool finished; a None future is a task the pool could not take.
    arrived: SimpleQueue[tuple[ScanTask, Future[ScanResult] | None]] = SimpleQueue()
    in_pool = 0  # tasks handed to the pool and not yet collected here

    def take(for_pool: bool = False) -> ScanTask | None:
        nonlocal in_pool
        with lock:
            if not queue:
                return None
            if for_pool:
                in_pool += 1
            return queue.popleft()

    def collect() -> None:
        nonlocal in_pool
        task, future = arrived.get()
        with lock:
            in_pool -= 1
        try:
            result = scan(task) if future is None else future.result()
        except BrokenExecutor:
            # its worker died (the OOM killer, a crash): the rest goes on
            result = lost(task, "rerun with fewer --workers, or split the file")
        report(task, result)

    def report(task: ScanTask, result: ScanResult) -> None:
        results[task.index] = result
        done(task, result)

    if helpers == 0:
        while (task := take()) is not None:
            report(task, scan(task))
        return [r for r in results if r is not None]
    # Spawned workers import casework afresh: no DuckDB handle or lock is inherited.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=helpers, mp_context=context) as pool:

        def feed() -> None:
            """Hand the pool its next task (run by the pool's thread when one finishes)."""
            task = take(for_pool=True)
            if task is None:
                return
            try:
                future = pool.submit(scan, task)
            except Exception:  # the pool is broken or closing: this process runs the task
                arrived.put((task, None))
                return

            def finished(f: Future[ScanResult]) -> None:
                arrived.put((task, f))
                feed()

            future.add_done_callback(finished)

        for _ in range(helpers):
            feed()
        while True:
            if (task := take()) is not None:
                report(task, scan(task))
            else:
                with lock:
                    if not in_pool:
                        break
                collect()
            while not arrived.empty():
                collect()
    return [r for r in results if r is not None]


def run_dask(
    tasks: Sequence[ScanTask], scheduler: str | None, workers: int, done: Done
) -> list[ScanResult]:
    """Run tasks on a Dask cluster: the given scheduler, or a LocalCluster of worker processes.

    Every worker must reach the bundle (a shared path, or the object-storage URL
    with its fsspec backend installed; storage options travel inside the tasks)
    and write the task output directory (a shared file system). A task whose
    workers die is reported as not read, like a dead local worker's.
    """
    try:
        from distributed import Client, KilledWorker, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise CaseworkError(
            "the dask executor needs the 'dask' extra: pip install 'casework[dask]'"
        ) from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        # The dashboard on a free loopback port: a busy 8787 (another cluster, a notebook)
        # must not stop the investigation, and it is not offered to the network.
        cluster = LocalCluster(
            n_workers=max(workers, 1), threads_per_worker=1, processes=True,
            dashboard_address="127.0.0.1:0", silence_logs=40,
        )  # fmt: skip
        client = Client(cluster)
    results: list[ScanResult | None] = [None] * len(tasks)
    try:
        ordered = largest_first(tasks)
        futures = client.map(scan, ordered, pure=False)
        by_key = {f.key: t for f, t in zip(futures, ordered, strict=True)}
        for future, result in dask_completed(futures, with_results=True, raise_errors=False):
            task = by_key[future.key]
            if future.status == "error":
                if not isinstance(future.exception(), KilledWorker):
                    future.result()  # raises what the task raised
                # Every worker that tried it died (the scheduler retries a task on another
                # worker ``distributed.scheduler.allowed-failures`` times): the rest goes on.
                result = lost(task, "give the Dask workers more memory, or split the file")
            results[task.index] = result
            done(task, result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return [r for r in results if r is not None]
