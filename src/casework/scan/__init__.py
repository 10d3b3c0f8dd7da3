"""The scan: bundle files cut into tasks, read in parallel, and merged into the case store.

A task is one file, or one line-aligned byte range of a large uncompressed
file in a line-oriented format. Each task is read by a worker (this process,
a process pool, or a Dask cluster) into Parquet parts plus its local
templates and counts; the coordinator merges them in task order. The task
list depends only on the bundle, never on the executor, so the case store
and the findings are the same on one core, on all cores and on Dask.
"""
