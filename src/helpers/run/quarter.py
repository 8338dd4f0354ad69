"""The quarterly executor: validate, assess once, run every report, publish atomically.

``run_quarter`` is what ``ipeval run`` calls. In order:

1. every parameter is checked (quarter, sections, geographies) before it reaches a path or a notebook;
2. the data are validated (invalid data: :class:`DataValidationError`, exit 2, ``outputs/`` untouched);
3. a lock per quarter stops a second run of the same quarter;
4. the run is built in ``outputs/.staging/<quarter>/<run-id>``: assessments (computed once, cached by input
   hash), the charts (drawn once, cached by content: :mod:`helpers.pages.charts`), the job list (sections x
   geographies), the notebooks in parallel, the HTML, the index,
   the tables, a copy of the input data and ``manifest.json``; the workbook and the Word/PDF documents are
   written beside the notebooks, in a process of their own (:mod:`helpers.run.side`);
5. only when all of that is done is it moved to ``outputs/runs/<quarter>/<run-id>`` and the
   pointer ``outputs/<quarter>`` (a symbolic link) replaced atomically (:mod:`helpers.run.publish`).
   An interrupted run (Ctrl-C, SIGTERM) publishes nothing and releases the lock.

A job whose inputs hash the same as in the last published run is not executed again
(:mod:`helpers.run.incremental`).

One module per stage: :mod:`helpers.run.inputs` (1-2), :mod:`helpers.run.stages` (the tables, charts,
changes, copies), :mod:`helpers.run.page_jobs` (the jobs, each with its page's report input),
:mod:`helpers.run.execute` (the notebooks), :mod:`helpers.run.record` (documents, then the manifest and
the index, last) and :mod:`helpers.run.publish` (5). This module orders them.
"""

from __future__ import annotations

import logging
import shutil
import signal
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from helpers.exceptions import RunInterrupted
from helpers.files import refuse_links, seal_manifest
from helpers.run.execute import execute_jobs, fork_server, kill_children, threading_main
from helpers.run.incremental import carry_documents, carry_forward
from helpers.run.inputs import RunInputs, load_run_inputs, plan_jobs, resolve_quarter  # noqa: F401 - the run's API
from helpers.run.lock import QuarterLock
from helpers.run.page_jobs import plan_page_jobs as _plan_jobs
from helpers.run.provenance import json_log_handler, scrub_machine_paths
from helpers.run.publish import publish, published_dir
from helpers.run.pool import WorkerPool
from helpers.run.side import SideStep
from helpers.run.record import write_manifest_and_index as _write_manifest_and_index
from helpers.run.stages import assess as _assess
from helpers.run.stages import changes as _changes
from helpers.run.stages import copy_inputs as _copy_inputs
from helpers.run.stages import data_copy_names  # noqa: F401 - where reproduce and tests look for it
from helpers.run.stages import draw_charts as _draw_charts
from helpers.run.stages import finish_charts as _finish_charts
from helpers.run.stages import provenance as _provenance
from helpers.run.task_status import copy_judgement, write_task_status
from helpers.settings import Settings

log = logging.getLogger("ipeval.run")
log.propagate = False  # the run's log goes to its JSON-lines file; the console gets the progress bar and a summary


@dataclass
class RunResult:
    """What a run did: where it is, and each job's outcome."""

    quarter: str
    run_id: str
    run_dir: Path
    published: Path
    jobs: list = field(default_factory=list)

    @property
    def failed(self) -> list:
        return [j for j in self.jobs if j["status"] == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def run_quarter(settings: Settings, quarter: str = "latest", *, sections=None, geographies=None, lang=None,
                workers=None, force=False, quiet=False, executor="local", scheduler=None, data_paths=None,
                stop_after_jobs=None, as_of=None, log_events=(), documents=True,
                input_fingerprint: str | None = None) -> RunResult:
    """Run one quarter end to end and publish it.

    Parameters
    ----------
    settings : Settings
    quarter : str
        ``2025Q2`` or ``latest``.
    sections, geographies : list of str, optional
        Restrict the job list (default: all).
    lang : {'zh', 'en'}, optional
    workers : int, optional
        Parallel notebooks (default: settings, else the number of CPUs + 1).
    force : bool
        Re-run jobs whose inputs are unchanged.
    executor : {'local', 'dask'}
        ``dask`` submits the same jobs to the Dask distributed scheduler at ``scheduler``.
    as_of : str, optional
        Read the observation store as known at this date or time (default: the latest vintage).
    log_events : sequence of dict
        Written to the run's log first (e.g. the inbox files a scheduled run ingested).
    documents : bool
        Also write the assessment report of each geography as .docx and .pdf (``documents/``).
    input_fingerprint : str, optional
        The hash of the run's inputs (:mod:`helpers.run.fastpath`), recorded in the manifest.

    Returns
    -------
    RunResult

    Raises
    ------
    IpevalError
        Invalid input or configuration (nothing executed, nothing written under ``outputs/``).
    RunLockedError
        Another run of this quarter is in progress.
    """
    started = datetime.now(timezone.utc)
    inp = load_run_inputs(settings, quarter, sections=sections, geographies=geographies, lang=lang,
                          workers=workers, executor=executor, scheduler=scheduler, data_paths=data_paths,
                          as_of=as_of)
    q = inp.quarter
    out_root = settings.outputs_path
    out_root.mkdir(parents=True, exist_ok=True)
    lock = QuarterLock(out_root / f".{q}.lock", str(q)).acquire()  # RunLockedError: nothing written
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    try:
        staging = _fresh_staging(out_root, str(q), run_id)
    except BaseException:
        lock.release()
        raise
    previous_handlers: dict = {}  # signal -> the handler to put back
    try:
        previous_handlers = _raise_on_signals()
        staging.mkdir(parents=True)
        handler = _start_log(staging, inp, run_id, log_events)
        results = _stages(inp, staging, run_id, started, force=force, quiet=quiet, stop_after_jobs=stop_after_jobs,
                          documents=documents, input_fingerprint=input_fingerprint)
        log.removeHandler(handler)
        handler.close()
        scrub_machine_paths(staging, (settings.root, out_root))  # project-relative paths only
        seal_manifest(staging)  # every file's checksum: what the next run may reuse
        published = publish(out_root, q, staging, run_id)
        return RunResult(str(q), run_id, published, out_root / str(q), results)
    except BaseException:
        _discard(staging)
        raise
    finally:
        for sig, h in previous_handlers.items():
            signal.signal(sig, h)
        lock.release()


def _start_log(staging: Path, inp: RunInputs, run_id: str, log_events) -> logging.Handler:
    """The run's JSON-lines log in ``staging``, opened with the start event and ``log_events``."""
    handler = json_log_handler(staging / "run.log.jsonl")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.info("run started", extra={"event": "start", "quarter": str(inp.quarter), "run_id": run_id,
                                   "as_of": (inp.store_state or {}).get("as_of")})
    for ev in log_events:
        log.info(ev.get("message", ev.get("event", "")), extra={k: v for k, v in ev.items() if k != "message"})
    return handler


def _discard(staging: Path) -> None:
    """Nothing is published: the run's log closed, its kernels ended and ``staging`` removed, so the
    previous outputs stay as they were."""
    for h in list(log.handlers):
        if isinstance(h, logging.FileHandler) and str(staging) in str(getattr(h, "baseFilename", "")):
            log.removeHandler(h)
            h.close()
    kill_children()
    shutil.rmtree(staging, ignore_errors=True)


def _on_signal(signum, frame):
    raise RunInterrupted(signum)


def _raise_on_signals() -> dict:
    """SIGTERM and SIGINT raise :class:`RunInterrupted` (nothing is published); returns the handlers to put back.
    Only the main thread can set handlers: a run started elsewhere (the scheduler's thread) keeps them."""
    if not threading_main():
        return {}
    return {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}


def _fresh_staging(out_root: Path, quarter: str, run_id: str) -> Path:
    """The run's staging folder (not yet made). Holding the quarter's lock, anything else in the
    quarter's staging is what a killed run (SIGKILL, power cut) of this quarter left, and goes."""
    staging_root = out_root / ".staging" / quarter
    refuse_links(staging_root, "the staging folder")  # emptied below: never through a link
    if staging_root.is_dir():
        for old in staging_root.iterdir():
            shutil.rmtree(old, ignore_errors=True)
    return staging_root / run_id


def _pack_charts(staging: Path, previous: Path | None) -> None:
    from helpers.pages.chartfiles import pack_charts

    log.info("charts packed", extra={"event": "charts_zip", **pack_charts(staging, previous)})


def _stages(inp: RunInputs, staging: Path, run_id: str, started: datetime, *, force: bool, quiet: bool,
            stop_after_jobs: int | None, documents: bool, input_fingerprint: str | None = None) -> list:
    """Every stage of the run into ``staging``, in order; the jobs' results (a failed documents step among them)."""
    out_root = inp.settings.outputs_path
    # the kernel fork server imports its modules now, beside the assessments and charts; it reads the
    # run's tables when the reports start (execute_jobs)
    local_kernels = inp.executor != "dask" and inp.settings.executor.fork_kernels
    # with the shell engine the server forks shells only (run/engines.py)
    server = fork_server(staging, shells=inp.settings.executor.forks_shells).launch() if local_kernels else None
    pool = side = None
    try:
        table, demo = _assess(inp, staging, out_root)
        write_task_status(inp, staging)  # the plan's tasks as reported (run/task_status.py)
        # the run's worker processes (run/pool.py): they draw the charts while this process writes the
        # report inputs and starts the kernels, then one writes the workbook and documents beside the
        # reports; -j 1: none, one thing at a time
        pool = WorkerPool(min(inp.workers, 2)).start() if inp.workers > 1 else None
        drawing = _draw_charts(inp, staging, out_root, documents, force, pool=pool)
        _changes(inp, table, staging, out_root)
        _copy_inputs(inp, staging)
        copy_judgement(inp, staging)  # the team's 问题与建议 file, recorded with the run (run/task_status.py)
        prov = _provenance(inp, run_id, started)
        jobs, skipped = _plan_jobs(inp, staging, out_root, prov, force, drawing.files if drawing else None)
        if stop_after_jobs is not None:
            jobs = jobs[:stop_after_jobs]
        # the workbook and the documents beside the reports: they read the inputs the page jobs wrote,
        # not the reports (run/side.py); the documents wait for the charts they print
        side = SideStep(inp, staging, out_root, documents=documents, force=force,
                        inline=pool is None, pool=pool, charts=drawing.prints() if drawing else ()).start()
        results = list(skipped) + execute_jobs(jobs, inp.workers, inp.executor, inp.scheduler, quiet,
                                               ready=drawing.wait_for_all if drawing else None, server=server)
        _finish_charts(drawing, staging)
        step = side.result()  # {"status": "skipped"} with --no-documents
    except BaseException:
        if side is not None:
            side.stop()
        if pool is not None:
            pool.stop()
        raise
    finally:
        if server is not None:  # ended by execute_jobs; here when no report ran or the run stopped before
            server.__exit__(None, None, None)
    previous = published_dir(out_root, inp.quarter)
    results += carry_forward(previous, staging, inp.pairs, results)  # a subset never shrinks the quarter
    if step["status"] == "failed":
        results.append(dict(section="documents", geography_code=step["geographies"], status="failed",
                            error=step["error"], error_type=step["error_type"]))
    carry_documents(previous, staging, {c for _, c in inp.pairs})  # other geographies' documents, verified
    _pack_charts(staging, previous)  # charts.zip: the quarter's one copy of the SVG files (pages/chartfiles.py)
    # last, so the record covers every step, the documents' too (a Word/PDF failure shows in both)
    _write_manifest_and_index(inp, staging, run_id, started, prov, results, table, demo, step, input_fingerprint)
    log.info("run finished", extra={"event": "finish", "failed": sum(r["status"] == "failed" for r in results),
                                    "jobs": len(results), "skipped": len(skipped)})
    return results
