"""The run's side step: the workbook and the Word/PDF documents, written in a process of their own
while the reports run.

Why: neither needs a report. The workbook reads the city's overview report input and the documents
each geography's, all written with the page jobs (:mod:`helpers.run.page_jobs`), and the tables and
print charts the earlier stages wrote. Run after the reports, they kept one core busy and the other
idle for about 7 s of a 48 s quarter (workbook 1.4 s, documents 6.0 s, measured on the demo's 2025Q2
on 2 cores, 2026-12-06), while during the reports the two cores were on average only 1.5 busy (a
report waits on its kernel's start and end). Beside the reports the same work fills that idle time.

It runs in one of the run's worker processes (:mod:`helpers.run.pool`: forked when the run has no
other thread, spawned under the scheduler), the last task given them after the charts, or, without
that pool, in a process of its own. It runs at a lower priority (``nice`` 10), so the reports, which
the run waits for anyway, keep the cores they use; the documents wait for the charts they print
(drawn by the other worker meanwhile: :func:`helpers.pages.chartpool.wait_for_files`). The documents are
written by two processes (the side process and one it spawns, both at its priority): beside the reports
they take what CPU the reports leave, and since the reports run in forked shells (2026-12-06) the reports
end first, so with one process the documents were the run's last seconds on one core with the other idle
(2025Q2, machine shared: reports done at 27.3 s, documents at 32.9 s). A run asked for one thing at a time (``-j 1``, e.g. on a shared machine) gets no side
process: the workbook and documents are written after the reports, in the run's process (``inline``).

What the side step logs is collected in the side process and written to the run's log by this one,
in order, when the step ends (two processes appending to one file could interleave lines). A failure
of the documents is their step's record, as before (:func:`helpers.run.record.documents_step`); a
failure of the workbook fails the run, as before; a side process that dies (killed, out of memory)
is a failed documents step, and the workbook is written again by the run's process.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable

from helpers.run.pool import WorkerPool, start_method  # noqa: F401 - start_method: named here by the tests

log = logging.getLogger("ipeval.run")

#: how much lower than the run's the side process's scheduling priority is (``os.nice``)
NICE = 10
#: the loggers whose records the side process sends back (the run's, and the documents' own)
LOGGERS = ("ipeval.run", "ipeval")


class SideStep:
    """The workbook and documents of a run, started before the reports and waited for after them.

    Parameters
    ----------
    inp : RunInputs
    staging : Path
        The run folder being built.
    out_root : Path
        ``outputs/`` (the previous published run, the caches).
    documents : bool
        Also the Word/PDF documents (``--no-documents``: the workbook only).
    force : bool
        Write the documents again even if the previous run's would do.
    work : callable
        What the side process runs (:func:`side_work`; a test's stand-in, defined at a module's top level).
    inline : bool
        No side process: :meth:`result` does the work in this process (``-j 1``).
    """

    def __init__(self, inp, staging: Path, out_root: Path, *, documents: bool, force: bool,
                 work=None, inline: bool = False, pool: WorkerPool | None = None,
                 charts=()):
        self.inline = inline
        self._work: Callable[..., dict] = work or side_work
        self._args = (inp, Path(staging), Path(out_root), documents, force, min(inp.workers, 2))
        self._charts = list(charts)
        self._pool: WorkerPool | None = pool
        self._future: Future | None = None
        self._method = ""
        self._started = time.monotonic()

    def start(self) -> "SideStep":
        """Start the side step in the run's worker pool (``pool``, which may still be drawing the charts:
        the documents wait for ``charts``) or in a process of its own; inline, nothing yet."""
        if self.inline:
            return self
        if self._pool is None:
            self._pool = WorkerPool(1).start()
        assert self._pool.executor is not None, "the pool is started"
        self._method = self._pool.method
        kwargs = {"charts": self._charts} if self._charts else {}
        self._future = self._pool.executor.submit(self._work, *self._args, **kwargs)
        return self

    def result(self) -> dict:
        """Wait for the side process; the documents step's record (``{"status": ...}``).

        Its log records go to the run's log first. Raises the workbook's error, if it had one.
        Inline, the work is done here and now.
        """
        if self.inline:
            return _inline_work(*self._args)
        assert self._future is not None and self._pool is not None, "start() first"
        try:
            out = self._future.result()
        except BrokenProcessPool as exc:
            self._pool.stop()
            from helpers.run.stages import workbook

            inp, staging, out_root = self._args[:3]
            workbook(inp, staging, out_root)  # here, again: a run is never published without its workbook
            return _died(inp, exc)
        self._pool.close()  # the side step is the pool's last work
        for record in out["log"]:
            target = logging.getLogger(record.name)
            if target.isEnabledFor(record.levelno):  # as if logged here: handle() alone skips the level
                target.handle(record)
        log.info("side step", extra={"event": "side", "start_method": self._method,
                                     "seconds": round(time.monotonic() - self._started, 2)})
        if out["workbook_error"] is not None:
            raise out["workbook_error"]
        return out["documents"]

    def stop(self) -> None:
        """End the side process now (the run was interrupted or failed: nothing is published)."""
        if self._pool is not None:
            self._pool.stop()
            self._pool = None


def _write_workbook(inp, staging: Path, out_root: Path) -> None:
    """The workbook (:func:`helpers.run.stages.workbook`) and its record in the log."""
    from helpers.run import stages

    t0 = time.monotonic()
    stages.workbook(inp, staging, out_root)
    log.info("workbook", extra={"event": "workbook", "seconds": round(time.monotonic() - t0, 2)})


def _write_documents(inp, staging: Path, out_root: Path, documents: bool, force: bool, workers: int) -> dict:
    """The documents step's record (:func:`helpers.run.record.documents_step`); skipped with ``--no-documents``."""
    from helpers.run import record

    return record.documents_step(inp, staging, out_root, force, workers=workers) if documents else {"status": "skipped"}


def _inline_work(inp, staging: Path, out_root: Path, documents: bool, force: bool, doc_workers: int) -> dict:
    """The side step's work in the run's own process, one thing after the other (``-j 1``)."""
    t0 = time.monotonic()
    _write_workbook(inp, staging, out_root)  # its error fails the run, as from the side process
    step = _write_documents(inp, staging, out_root, documents, force, 1)
    log.info("side step", extra={"event": "side", "start_method": "inline",
                                 "seconds": round(time.monotonic() - t0, 2)})
    return step


def side_work(inp, staging: Path, out_root: Path, documents: bool, force: bool, doc_workers: int, charts=()) -> dict:
    """In the side process: the workbook, then the documents (once the ``charts`` they print are drawn:
    the cache's record of each print picture, :meth:`helpers.pages.chartpool.ChartDrawing.prints`);
    their log records and outcome.

    Returns
    -------
    dict
        ``documents``: the step's record; ``workbook_error``: the workbook's exception or None;
        ``log``: the log records, ready to be handled by the run's loggers.
    """
    import signal

    # Ctrl-C and SIGTERM end the side process at once: the run that started it discards the staging folder
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        os.nice(NICE)
    except OSError:  # a platform without nice: the same work at the same priority
        pass
    collector = _collect_logs()
    workbook_error = None
    try:
        _write_workbook(inp, staging, out_root)
    except Exception as exc:  # noqa: BLE001 - raised again in the run's process, which fails the run
        workbook_error = _portable(exc)
    if documents and charts:
        from helpers.pages.chartpool import wait_for_files

        wait_for_files(staging, charts)
    step = _write_documents(inp, staging, out_root, documents, force, doc_workers)
    return {"documents": step, "workbook_error": workbook_error, "log": collector.portable()}


class _Collector(logging.Handler):
    """Keeps the side process's log records, to be written by the run's process."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def portable(self) -> list[logging.LogRecord]:
        """The records with their message and traceback as text (what pickles)."""
        fmt = logging.Formatter()
        for r in self.records:
            r.msg, r.args = r.getMessage(), None
            if r.exc_info:
                r.exc_text = fmt.formatException(r.exc_info)
                r.exc_info = None
        return self.records


def _collect_logs() -> _Collector:
    """Send this process's records of :data:`LOGGERS` to one collector (the handlers inherited by a
    forked process, the run's log file among them, are this process's no longer)."""
    collector = _Collector()
    for name in LOGGERS:
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            lg.removeHandler(h)
        lg.addHandler(collector)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    return collector


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling unchanged in kind, else a RuntimeError with its text."""
    import pickle

    try:
        back = pickle.loads(pickle.dumps(exc))
        if type(back) is type(exc) and str(back) == str(exc):
            return exc
    except Exception:  # noqa: BLE001 - an exception whose class cannot be rebuilt from its arguments
        pass
    return RuntimeError(f"{type(exc).__name__}: {exc}")


def _died(inp, exc: BaseException) -> dict:
    """The documents step's record when the side process died before it answered."""
    codes = sorted({c for _, c in inp.pairs}, key=inp.geos.codes.index)
    log.error("side process died", extra={"event": "documents_failed", "error": str(exc)})
    return {"status": "failed", "geographies": ",".join(codes),
            "error": f"{type(exc).__name__}: the process writing the workbook and documents ended unexpectedly",
            "error_type": type(exc).__name__}
