"""One report job: execute a section notebook for a geography with papermill, export both HTML variants.

A job is a frozen :class:`Job` (it pickles, so it crosses process and Dask boundaries unchanged): the
section and geography once, and the notebook's parameters, which for a section page are one: the path
of the page's report input (:mod:`helpers.pages.report_input`).

:func:`run_job` never raises for a failing notebook: it returns a result dict with ``status``
``ok`` or ``failed``, the error and its type (``error_type``), so one failing notebook never stops
the others. A kernel that dies (:data:`KERNEL_DEATHS`) is retried by the type of the exception.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbclient.exceptions import DeadKernelError

from helpers.run.forkserver import KernelDied

#: Exceptions that mean the kernel process died, not that the report failed: retried ``retries`` times.
#: ``KernelDied`` is the fork server's "Kernel died before replying to kernel_info".
KERNEL_DEATHS: tuple[type[BaseException], ...] = (DeadKernelError, KernelDied)


@dataclass(frozen=True)
class Job:
    """One report to execute: a section notebook for one geography of one quarter."""

    section: str
    geography: str  # the geography's official code
    quarter: str
    lang: str
    notebook: str
    output_dir: str
    #: what papermill injects: for a section page, ``{"report_input": <path>}`` and nothing else
    parameters: dict = field(default_factory=dict)
    input_hash: str = ""
    start_timeout: float = 120
    execution_timeout: float = 600
    retries: int = 1
    fork_kernels: bool = True
    #: ``executor.engine``: ``shell`` (a forked IPython shell, :mod:`helpers.run.engines`) or ``kernel``
    engine: str = "kernel"
    title: str = ""
    provenance: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.section, self.geography)


def is_kernel_death(exc: BaseException) -> bool:
    """Whether ``exc`` means the kernel process died (retry) rather than the report failing."""
    return isinstance(exc, KERNEL_DEATHS)


def job_paths(output_dir: str | Path, section: str, geography_code: str) -> dict:
    """Where a job's notebook and HTML files go, relative to the run folder."""
    base = Path("reports") / section
    return {
        "notebook": str(Path("notebooks") / section / f"{geography_code}.ipynb"),
        "report": str(base / f"{geography_code}.report.html"),
        "audit": str(base / f"{geography_code}.audit.html"),
    }


def run_job(job: Job, stopping: threading.Event | None = None) -> dict:
    """Execute one notebook and export it; return ``{status, error, error_type, duration, attempts, ...paths}``.

    The kernel gets ``start_timeout`` seconds to start and every cell ``execution_timeout``
    seconds (a kernel killed by the OS would otherwise leave papermill waiting forever); a kernel
    that dies (:func:`is_kernel_death`) is retried ``retries`` times, unless ``stopping`` is set: the run
    is stopping (interrupted: :func:`helpers.run.execute.execute_jobs` sets it, then kills the reports'
    processes). A shell's death is seen at once (its socket closes), so a retry then would start a kernel
    while the run removes its folders (files left in TMPDIR).
    """
    from helpers.pages.report import export_html, store_notebook

    out_dir = Path(job.output_dir)
    paths = job_paths(out_dir, job.section, job.geography)
    nb_out = out_dir / paths["notebook"]
    nb_out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    attempts, nb, failure = 0, None, None
    while True:
        attempts += 1
        try:
            nb = _execute(job, nb_out)
            failure = None
            break
        except Exception as exc:  # noqa: BLE001 - a job's failure is reported, never raised
            failure = exc
            if not is_kernel_death(exc) or attempts > job.retries or (stopping is not None and stopping.is_set()):
                break
    status, error, error_type = ("ok", "", "") if failure is None else ("failed", *_describe(failure))
    if status == "ok":
        prov = dict(job.provenance or {})
        prov["parameters"] = f"section={job.section}, geography={job.geography}, quarter={job.quarter}, lang={job.lang}"
        for variant in ("report", "audit"):
            export_html(nb, out_dir / paths[variant], variant, provenance=prov, title=job.title, lang=job.lang)
        store_notebook(nb, nb_out)  # the charts once, in charts/: the notebook names them
    elif not nb_out.is_file():
        _write_failed_notebook(job, nb_out, error)
    return {"section": job.section, "geography_code": job.geography, "status": status,
            "error": error[:2000], "error_type": error_type, "attempts": attempts,
            "duration": round(time.monotonic() - started, 3), "input_hash": job.input_hash, **paths}


def _execute(job: Job, nb_out: Path):
    """papermill on the job's notebook: in a forked shell (``engine="shell"``, :mod:`helpers.run.engines`), else
    in a Jupyter kernel, forked unless the job says otherwise."""
    import papermill as pm

    from helpers.run.engines import SHELL

    manager: dict = {}
    if job.fork_kernels and job.engine == "shell":  # without the run's fork server, an ordinary kernel
        manager = {"engine_name": SHELL}
    elif job.fork_kernels:
        from helpers.run.forkserver import ForkKernelManager

        manager = {"kernel_manager_class": ForkKernelManager}
    # written once at the end (or by papermill when a cell raises), not at every cell: the
    # notebook carries its charts, and rewriting it 16 times was half the parent's CPU per report
    return pm.execute_notebook(
        job.notebook, str(nb_out), parameters=job.parameters, kernel_name="python3",
        start_timeout=job.start_timeout, execution_timeout=job.execution_timeout,
        progress_bar=False, log_output=False, report_mode=False, request_save_on_cell_execute=False,
        **manager,
    )


def _describe(exc: BaseException) -> tuple[str, str]:
    """The failure as (message, type name); a cell's own error is named by the cell's exception type."""
    import papermill as pm

    if isinstance(exc, pm.PapermillExecutionError):
        return f"{exc.ename}: {exc.evalue}", exc.ename
    if is_kernel_death(exc):
        return f"kernel died: {exc}", type(exc).__name__
    return f"{type(exc).__name__}: {exc}", type(exc).__name__


def _write_failed_notebook(job: Job, nb_out: Path, error: str) -> None:
    """A notebook for a report whose kernel died or timed out before papermill could save one:
    the notebook with the run's parameters injected and the error on top, so the index's link to
    the failed notebook shows what ran and why it stopped."""
    import nbformat
    import papermill as pm

    try:
        nb = pm.execute_notebook(job.notebook, str(nb_out), parameters=job.parameters, prepare_only=True,
                                 kernel_name="python3", progress_bar=False)
    except Exception:  # noqa: BLE001 - the notebook itself is unreadable: keep the error alone
        nb = nbformat.v4.new_notebook()
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**This report failed and was not executed to the end.**\n\n"
                                                     f"```\n{error}\n```"))
    nbformat.write(nb, str(nb_out))
