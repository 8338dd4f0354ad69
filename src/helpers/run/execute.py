"""Executing a run's jobs: a local pool of fork-server kernels, or a Dask distributed cluster."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from helpers.i18n import et
from helpers.run.jobs import Job, run_job

log = logging.getLogger("ipeval.run")


def default_workers(shells: bool = True) -> int:
    """Reports run at once by default: one per CPU when they run in forked shells (``shells``), one more
    than the CPUs in kernels.

    A report's kernel is busy for about two thirds of the report's time; the rest is the kernel
    starting and stopping and this process exporting HTML, when that core would otherwise idle.
    Measured on 2 cores (benchmarks/bench_quarter.py): 3 reports at a time finish a quarter about
    18% sooner than 2; 4 gain nothing more. Again 2026-12-06 on the reports stage alone
    (benchmarks/bench_reports.py, 2025Q2, quiet machine): -j 2 21.3-21.5 s, -j 3 19.3-19.8 s, -j 4 19.2-19.5 s.
    A forked shell (:mod:`helpers.run.engines`) starts and ends in milliseconds: a report more than the CPUs
    only takes CPU from the documents written beside the reports (the fresh demo quarter with documents on
    2 cores, -j 2 and -j 3 alternated, 3 pairs, 2026-12-06: 20.2-21.2 against 20.7-21.6 s, 0.36-0.48 s sooner
    each time; -j 4 against 3 gained nothing either).
    """
    return (os.cpu_count() or 1) + (0 if shells else 1)


#: Upper bound of ``-j``, per CPU: each report holds a kernel (~60 MB) and more of them than this
#: only queue for the CPUs (42 kernels on 2 cores used 2.4 GB for nothing).
MAX_WORKERS_PER_CPU = 4


def max_workers() -> int:
    """The most reports run at once: :data:`MAX_WORKERS_PER_CPU` times the CPUs."""
    return MAX_WORKERS_PER_CPU * (os.cpu_count() or 1)


def worker_count(requested: int | None, configured: int | None, shells: bool = True) -> int:
    """The number of parallel reports: ``-j``, else the settings, else :func:`default_workers` (``shells``:
    the reports run in forked shells), capped at :func:`max_workers` (the cap is logged). ``-j 0`` or less is
    refused."""
    from helpers.exceptions import ConfigError

    if requested is not None and requested < 1:
        raise ConfigError(et("workers_at_least_1", n=requested, default=default_workers(shells)))
    n = int(requested or configured or default_workers(shells))
    if n > max_workers():
        log.warning("workers capped", extra={"event": "workers_capped", "requested": n, "used": max_workers()})
        n = max_workers()
    return n


def check_scheduler(address: str, timeout: float = 3.0) -> None:
    """Fail fast on a Dask scheduler address that is malformed (exit 2) or does not answer (exit 3)."""
    import socket
    from urllib.parse import urlsplit

    from helpers.exceptions import ConfigError, EnvironmentFailure

    text = address if "://" in address else f"tcp://{address}"
    try:
        u = urlsplit(text)
        host, port = u.hostname, u.port
    except ValueError:
        host = port = None
    if u.scheme not in ("tcp", "tls") or not host or not port:
        raise ConfigError(et("scheduler_address", address=repr(address)))
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise EnvironmentFailure(et("scheduler_unreachable", address=address, reason=exc.strerror or exc)) from None


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def kill_children() -> None:
    """Stop kernels still running for an interrupted run."""
    try:
        import psutil
    except ImportError:  # psutil comes with distributed; without it kernels end with their parent
        return
    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.Error:
            pass


def execute_jobs(jobs: list[Job], workers: int, executor: str, scheduler, quiet: bool, ready=None,
                 server=None) -> list:
    """Run every job, ``workers`` at a time; return their result dicts in the jobs' order.

    Locally, reports run in threads, each with its own kernel process: forked from ``server``, the run's
    :class:`~helpers.run.forkserver.ForkServer` (launched early: :func:`fork_server`; ``docs/kernels.md``),
    or without one started as ordinary ipykernel processes. ``executor="dask"`` submits the same jobs to
    the cluster at ``scheduler``. ``ready``: called before a job starts, returns once the run's charts are
    drawn (:meth:`helpers.pages.chartpool.ChartDrawing.wait_for_all`); for Dask, before the jobs are submitted.
    """

    results: list[dict] = []
    if not jobs:
        return results
    progress = None
    if not quiet:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("failed: {task.fields[failed]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                            transient=False)
        progress.start()
        task = progress.add_task("reports", total=len(jobs), failed=0)
    failed = 0

    def collect(r: dict) -> None:
        nonlocal failed
        results.append(r)
        failed += r["status"] == "failed"
        _log_job(r)
        if progress:
            progress.update(task, advance=1, failed=failed)

    try:
        if executor == "dask":
            from distributed import Client
            from distributed import as_completed as dask_completed

            if ready is not None:
                ready()
            with Client(scheduler, timeout="10s") as client:  # reachable: checked before the run
                futures = [client.submit(run_job, j, pure=False, key=f"ipeval-{j.section}-{j.geography}-{uuid.uuid4().hex[:6]}")
                           for j in jobs]
                for fut in dask_completed(futures):
                    collect(fut.result())
        else:
            stopping = threading.Event()  # set when the run stops: no report is started again (run/jobs.py)
            with server if server is not None else contextlib.nullcontext():
                pool = ThreadPoolExecutor(max_workers=workers)
                futures = [pool.submit(_when_ready, ready, j, stopping) for j in jobs]
                try:
                    for fut in as_completed(futures):
                        collect(fut.result())
                except BaseException:
                    # don't wait for running notebooks: kill their kernels, and the threads see them die
                    stopping.set()
                    pool.shutdown(wait=False, cancel_futures=True)
                    kill_children()
                    raise
                pool.shutdown(wait=True)
    finally:
        if progress:
            progress.stop()
    order = {j.key: n for n, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order.get((r["section"], r["geography_code"]), 0))


def fork_server(run_dir, shells: bool = False):
    """The run's fork server (``docs/kernels.md``), not yet started: its kernels' (or with ``shells``, its
    shells') output goes to ``kernels.log`` in ``run_dir``, whose tables it reads before forking."""
    import tempfile

    from helpers.run.forkserver import ForkServer

    return ForkServer(tempfile.gettempdir(), kernel_log=Path(run_dir) / "kernels.log", run_dir=run_dir, shells=shells)


def _when_ready(ready, job: Job, stopping=None) -> dict:
    """``run_job(job)`` once the charts are drawn (``ready``; a chart worker's error is raised here and
    ends the run, as a chart step's error did)."""
    if ready is not None:
        ready()
    return run_job(job, stopping)


def _log_job(r: dict) -> None:
    log.info("job", extra={"event": "job", **{k: r.get(k, "") for k in ("section", "geography_code", "status", "duration",
                                                                      "attempts", "error", "error_type")}})


