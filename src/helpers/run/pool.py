"""The run's worker processes: they draw the charts (:mod:`helpers.pages.chartpool`) while the run
writes its report inputs and starts its kernels' fork server; one of them then writes the workbook and
the Word/PDF documents beside the reports (:mod:`helpers.run.side`).

One pool for both, so that it is started once, before the run has any other thread: forked then
(everything imported, Matplotlib and the CJK font loaded, nothing to do again), or spawned when the
run is one thread of several (the scheduler's), since forking a threaded process can copy a lock
another thread holds. Its processes share a private temporary folder (openpyxl writes each sheet to a
temporary file first), removed however the run ends short of SIGKILL and then by the next run (the
run's pid is in its name: :mod:`helpers.run.stale_kernels`).
"""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import ProcessPoolExecutor


def start_method() -> str:
    """``fork`` when this process runs one thread only, else ``spawn`` (see the module's notes)."""
    return "fork" if threading.active_count() == 1 else "spawn"


class WorkerPool:
    """``workers`` processes for the run's charts and side step; :meth:`start` them, :meth:`close` or
    :meth:`stop` (kill) them. The processes are forked (or spawned) at the first task given them.

    Parameters
    ----------
    workers : int
        Processes in the pool (the charts use all of them; the side step one).
    """

    def __init__(self, workers: int):
        self.workers = workers
        self.method = ""
        self.tmp: str | None = None
        self.executor: ProcessPoolExecutor | None = None

    def start(self) -> "WorkerPool":
        import multiprocessing
        import tempfile

        self.tmp = tempfile.mkdtemp(prefix=f"ipeval-run-{os.getpid()}-side-")
        self.method = start_method()
        self.executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context(self.method),
                                            initializer=_use_tmp, initargs=(self.tmp,))
        return self

    def close(self) -> None:
        """Wait for the processes to end (their work done) and remove the temporary folder."""
        if self.executor is not None:
            self.executor.shutdown(wait=True)
            self.executor = None
        self._remove_tmp()

    def stop(self) -> None:
        """End the processes now (the run was interrupted or failed: nothing is published)."""
        if self.executor is None:
            self._remove_tmp()
            return
        procs = list((getattr(self.executor, "_processes", None) or {}).values())
        for proc in procs:
            try:
                proc.kill()
            except (OSError, AttributeError):
                pass
        for proc in procs:
            proc.join(5)  # gone before their temporary folder is removed
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = None
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def _use_tmp(folder: str) -> None:
    """In each worker, before its work: temporary files go to ``folder`` (its own processes' too)."""
    import tempfile

    os.environ["TMPDIR"] = folder
    tempfile.tempdir = folder
