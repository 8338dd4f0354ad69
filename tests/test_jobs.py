"""Report jobs (helpers.run.jobs): typed, and retried on a kernel's death by the exception's type."""

from __future__ import annotations

import pickle

import nbformat
import pytest

from helpers.run import jobs
from helpers.run.forkserver import KernelDied, KernelStartTimeout


def _job(tmp_path, retries=1) -> jobs.Job:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("report_input = ''", metadata={"tags": ["parameters"]})])
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, str(path))
    return jobs.Job(section="enforcement", geography="330106", quarter="2025Q4", lang="zh", notebook=str(path),
                    output_dir=str(tmp_path / "run"), parameters={"report_input": "/run/inputs/enforcement/330106.json"},
                    retries=retries, fork_kernels=False, input_hash="abc")


@pytest.fixture
def exported(monkeypatch):
    """The HTML export replaced by a record of its calls (the export is tested in test_html.py)."""
    import helpers.pages.report

    calls = []
    monkeypatch.setattr(helpers.pages.report, "export_html", lambda nb, out, variant, **k: calls.append(variant))
    return calls


def _failing(monkeypatch, *errors):
    """Make the job's execution raise ``errors`` in turn, then succeed; return the count of attempts."""
    seen = []

    def execute(job, nb_out):
        seen.append(job.parameters)
        if len(seen) <= len(errors):
            raise errors[len(seen) - 1]
        return nbformat.v4.new_notebook()

    monkeypatch.setattr(jobs, "_execute", execute)
    return seen


def test_the_fork_servers_kernel_died_is_retried(tmp_path, monkeypatch, exported):
    seen = _failing(monkeypatch, KernelDied("Kernel died before replying to kernel_info"))
    r = jobs.run_job(_job(tmp_path, retries=1))
    assert (r["status"], r["attempts"], r["error"], r["error_type"]) == ("ok", 2, "", "")
    assert seen == [{"report_input": "/run/inputs/enforcement/330106.json"}] * 2  # the one parameter, both times
    assert exported == ["report", "audit"]


def test_a_kernel_that_keeps_dying_fails_with_its_type_after_the_retries(tmp_path, monkeypatch, exported):
    from nbclient.exceptions import DeadKernelError

    _failing(monkeypatch, DeadKernelError("gone"), DeadKernelError("gone"), DeadKernelError("gone"))
    r = jobs.run_job(_job(tmp_path, retries=1))
    assert (r["status"], r["attempts"], r["error_type"]) == ("failed", 2, "DeadKernelError")
    assert r["error"] == "kernel died: gone" and exported == []
    assert (tmp_path / "run" / r["notebook"]).is_file()  # the failed notebook, with the error on top


def test_a_report_killed_while_the_run_stops_is_not_started_again(tmp_path, monkeypatch, exported):
    from nbclient.exceptions import DeadKernelError

    seen = _failing(monkeypatch, DeadKernelError("killed"))
    stopping = __import__("threading").Event()
    stopping.set()  # as execute_jobs does before it kills the reports' processes
    r = jobs.run_job(_job(tmp_path, retries=1), stopping)
    assert (r["status"], r["attempts"], len(seen)) == ("failed", 1, 1)


@pytest.mark.parametrize("error", [KernelStartTimeout("Kernel didn't respond in 60 seconds"),
                                   RuntimeError("the kernel is dead tired")])  # "dead" in a message is not a death
def test_other_errors_are_not_retried(tmp_path, monkeypatch, exported, error):
    _failing(monkeypatch, error)
    r = jobs.run_job(_job(tmp_path, retries=3))
    assert (r["status"], r["attempts"], r["error_type"]) == ("failed", 1, type(error).__name__)


def test_a_cells_error_keeps_the_cells_exception_type(tmp_path, monkeypatch, exported):
    import papermill as pm

    _failing(monkeypatch, pm.PapermillExecutionError(3, 4, "x = 1", "ValueError", "bad value", []))
    r = jobs.run_job(_job(tmp_path))
    assert (r["status"], r["attempts"], r["error"], r["error_type"]) == ("failed", 1, "ValueError: bad value",
                                                                         "ValueError")


def test_a_job_is_frozen_and_crosses_process_boundaries(tmp_path):
    job = _job(tmp_path)
    assert pickle.loads(pickle.dumps(job)) == job and job.key == ("enforcement", "330106")
    with pytest.raises(AttributeError):
        job.section = "judicial"  # type: ignore[misc]
