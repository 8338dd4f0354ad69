"""The processes that fit the assessments (:func:`helpers.model.assess.assess_all`), started warm.

The pool uses the ``forkserver`` start method: a server process, started once, forks every worker.
Plain ``fork`` would copy the parent, but ``ipeval schedule`` runs quarters from a thread of
APScheduler, and forking a threaded process can copy a lock another thread holds. The server is
told to import the model before it forks anything (``set_forkserver_preload``), so the import
happens once, in the server, instead of in every worker; and :func:`start_early` starts it while
the run still loads its inputs, so that import overlaps the parent's work.

Measured on the 2-core machine: importing :data:`PRELOAD` takes 0.46-0.49 s CPU, which each of the two
workers paid before its first fit (0.96 s in all, on the stage's critical path); now the server pays it
once, beside ``load_run_inputs``. The stage (fresh project, 2025Q2, means of 3): 3.45 -> 2.92 s CPU
(parent, server and workers), with each job's rows only and the results cached as they arrive.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Generator, Sequence

#: what the server imports before forking: the main module (the default), then what every fit needs
#: (the model, its forecast engines, ``scipy.special``)
PRELOAD = ("__main__", "helpers.model.assess", "helpers.model.forecast", "scipy.special")


def context() -> multiprocessing.context.ForkServerContext:
    """The ``forkserver`` context, with :data:`PRELOAD` for a server not yet running.

    The number of BLAS threads is set first, as numpy reads it when it is imported (in the server):
    on 2 cores, threaded BLAS in two processes is slower than one thread each.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))  # no effect once the server runs: it keeps what it imported
    return ctx  # type: ignore[return-value]  # get_context's stub returns the base class


def start_early() -> None:
    """Start the fork server now, without waiting for it: its imports run beside the caller's.

    Called when a run starts loading its inputs with more than one worker; the server stays up for
    the rest of the process (the next quarter of ``ipeval schedule`` finds it warm).
    """
    from multiprocessing import forkserver

    context()
    forkserver.ensure_running()


def map_jobs(fn: Callable, args: Sequence, workers: int) -> Generator:
    """``fn(a) for a in args`` in ``workers`` processes, yielded in order as they arrive.

    Interrupted (a signal raised as :class:`~helpers.exceptions.RunInterrupted`, Ctrl-C), failed, or
    closed before its end, the queued jobs are cancelled instead of waited for.
    """
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=context()) as pool:
        try:
            # a few chunks per worker: ~300 jobs of a few milliseconds each, and a chunk is one message
            yield from pool.map(fn, args, chunksize=max(1, len(args) // (workers * 4)))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
