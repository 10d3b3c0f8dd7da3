"""Where scan tasks run: in this process, on a local process pool, or on a Dask cluster.

Every executor returns results in task order whatever order they finish in,
so the merge, and with it the case store and the findings, do not depend on
the executor or the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from casework.errors import CaseworkError
from casework.scan.task import ScanResult, ScanTask
from casework.scan.worker import scan

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


#: Below this much input, starting worker processes costs more than it saves.
POOL_MIN_BYTES = 32 << 20


def run_local(
    tasks: Sequence[ScanTask], workers: int, done: Done, min_bytes: int = POOL_MIN_BYTES
) -> list[ScanResult]:
    """Run tasks in this process (one worker, or little input) or on a process pool."""
    results: list[ScanResult | None] = [None] * len(tasks)
    total = sum(t.size if t.end is None else t.end - t.start for t in tasks)
    if workers <= 1 or len(tasks) <= 1 or total < min_bytes:
        for task in tasks:
            results[task.index] = scan(task)
            done(task, results[task.index])  # type: ignore[arg-type]
        return [r for r in results if r is not None]
    # Spawned workers import casework afresh: no DuckDB handle or lock is inherited.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        futures = {pool.submit(scan, task): task for task in largest_first(tasks)}
        for future in as_completed(futures):
            task = futures[future]
            results[task.index] = future.result()
            done(task, results[task.index])  # type: ignore[arg-type]
    return [r for r in results if r is not None]


def run_dask(
    tasks: Sequence[ScanTask], scheduler: str | None, workers: int, done: Done
) -> list[ScanResult]:
    """Run tasks on a Dask cluster: the given scheduler, or a LocalCluster of worker processes.

    Every worker must reach the bundle (a shared path, or the object-storage URL
    with its fsspec backend installed; storage options travel inside the tasks)
    and write the task output directory (a shared file system).
    """
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise CaseworkError(
            "the dask executor needs the 'dask' extra: pip install 'casework[dask]'"
        ) from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=max(workers, 1), threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=40,
        )  # fmt: skip
        client = Client(cluster)
    results: list[ScanResult | None] = [None] * len(tasks)
    try:
        ordered = largest_first(tasks)
        futures = client.map(scan, ordered, pure=False)
        by_key = {f.key: t for f, t in zip(futures, ordered, strict=True)}
        for future, result in dask_completed(futures, with_results=True):
            task = by_key[future.key]
            results[task.index] = result
            done(task, result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return [r for r in results if r is not None]
