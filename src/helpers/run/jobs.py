"""One report job: execute a section notebook for a geography with papermill, export both HTML variants.

A job is a plain dict (so it crosses process and Dask boundaries unchanged)::

    {"section", "geography_code", "quarter", "lang", "notebook", "output_dir", "parameters",
     "start_timeout", "execution_timeout", "retries", "title", "provenance"}

:func:`run_job` never raises for a failing notebook: it returns a result dict with ``status``
``ok`` or ``failed`` and the error, so one failing notebook never stops the others.
"""

from __future__ import annotations

import time
from pathlib import Path


def job_paths(output_dir: str | Path, section: str, geography_code: str) -> dict:
    """Where a job's notebook and HTML files go, relative to the run folder."""
    base = Path("reports") / section
    return {
        "notebook": str(Path("notebooks") / section / f"{geography_code}.ipynb"),
        "report": str(base / f"{geography_code}.report.html"),
        "audit": str(base / f"{geography_code}.audit.html"),
    }


def run_job(job: dict) -> dict:
    """Execute one notebook and export it; return ``{status, error, duration, attempts, ...paths}``.

    The kernel gets ``start_timeout`` seconds to start and every cell ``execution_timeout``
    seconds (a kernel killed by the OS would otherwise leave papermill waiting forever); a kernel
    that dies is retried ``retries`` times.
    """
    import papermill as pm
    from nbclient.exceptions import DeadKernelError

    from helpers.pages.report import export_html, store_notebook

    manager = {}
    if job.get("fork_kernels", True):
        from helpers.run.forkserver import ForkKernelManager

        manager = {"kernel_manager_class": ForkKernelManager}

    out_dir = Path(job["output_dir"])
    paths = job_paths(out_dir, job["section"], job["geography_code"])
    nb_out = out_dir / paths["notebook"]
    nb_out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    attempts, error, status, nb = 0, "", "ok", None
    while True:
        attempts += 1
        try:
            # written once at the end (or by papermill when a cell raises), not at every cell: the
            # notebook carries its charts, and rewriting it 16 times was half the parent's CPU per report
            nb = pm.execute_notebook(
                job["notebook"], str(nb_out), parameters=job["parameters"], kernel_name="python3",
                start_timeout=job.get("start_timeout", 120), execution_timeout=job.get("execution_timeout", 600),
                progress_bar=False, log_output=False, report_mode=False, request_save_on_cell_execute=False,
                **manager,
            )
            status, error = "ok", ""
            break
        except DeadKernelError as exc:
            status, error = "failed", f"kernel died: {exc}"
            if attempts > job.get("retries", 1):
                break
        except pm.PapermillExecutionError as exc:
            status, error = "failed", f"{exc.ename}: {exc.evalue}"
            break
        except Exception as exc:  # noqa: BLE001 - a job's failure is reported, never raised
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            if "dead" not in str(exc).lower() or attempts > job.get("retries", 1):
                break
    if status == "ok":
        prov = dict(job.get("provenance") or {})
        prov["parameters"] = ", ".join(f"{k}={v}" for k, v in job["parameters"].items() if k != "run_dir")
        for variant in ("report", "audit"):
            export_html(nb, out_dir / paths[variant], variant, provenance=prov, title=job.get("title", ""),
                        lang=job.get("lang", "zh"))
        store_notebook(nb, nb_out)  # the charts once, in charts/: the notebook names them
    elif not nb_out.is_file():
        _write_failed_notebook(job, nb_out, error)
    return {"section": job["section"], "geography_code": job["geography_code"], "status": status,
            "error": error[:2000], "attempts": attempts, "duration": round(time.monotonic() - started, 3),
            "input_hash": job.get("input_hash", ""), **paths}


def _write_failed_notebook(job: dict, nb_out: Path, error: str) -> None:
    """A notebook for a report whose kernel died or timed out before papermill could save one:
    the notebook with the run's parameters injected and the error on top, so the index's link to
    the failed notebook shows what ran and why it stopped."""
    import nbformat
    import papermill as pm

    try:
        nb = pm.execute_notebook(job["notebook"], str(nb_out), parameters=job["parameters"], prepare_only=True,
                                 kernel_name="python3", progress_bar=False)
    except Exception:  # noqa: BLE001 - the notebook itself is unreadable: keep the error alone
        nb = nbformat.v4.new_notebook()
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**This report failed and was not executed to the end.**\n\n"
                                                     f"```\n{error}\n```"))
    nbformat.write(nb, str(nb_out))
