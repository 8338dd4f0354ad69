"""The run's side step (run/side.py): the workbook and documents in a process of their own, beside the reports."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.exceptions import ConfigError
from helpers.run import side
from helpers.run.side import SideStep


def _inp():
    return SimpleNamespace(workers=3, pairs=[("overview", "330106"), ("overview", "330100")],
                           geos=SimpleNamespace(codes=["330100", "330106"]))


# the side process's stand-ins: at the module's top level, so the pool can name them
def work_ok(inp, staging, out_root, documents, force, doc_workers):
    collector = side._collect_logs()
    logging.getLogger("ipeval.run").info("workbook", extra={"event": "workbook", "pid": os.getpid()})
    logging.getLogger("ipeval").info("documents written")  # below the console's level in the run
    logging.getLogger("ipeval").warning("a font fell back", extra={"event": "font"})
    (Path(staging) / "side.txt").write_text(f"{doc_workers}", encoding="utf-8")
    return {"documents": {"status": "ok", "files": 4}, "workbook_error": None, "log": collector.portable()}


def work_dies(*args):
    os._exit(3)


def work_workbook_fails(*args):
    return {"documents": {"status": "ok"}, "workbook_error": side._portable(ConfigError("工作簿写不了")),
            "log": []}


def work_sleeps(inp, staging, *args):
    (Path(staging) / "pid").write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(60)


class _Keep(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def run_log():
    """The run's logger with a handler, and the documents' logger at the console's level (WARNING)."""
    keep, run, docs = _Keep(), logging.getLogger("ipeval.run"), logging.getLogger("ipeval")
    old = (run.level, docs.level, run.propagate)
    run.propagate = False  # as in a run (run/quarter.py)
    run.addHandler(keep)
    docs.addHandler(keep)
    run.setLevel(logging.INFO)
    docs.setLevel(logging.WARNING)
    yield keep
    run.removeHandler(keep)
    docs.removeHandler(keep)
    run.setLevel(old[0])
    docs.setLevel(old[1])
    run.propagate = old[2]


def test_the_side_process_result_and_its_log_reach_the_run(tmp_path, run_log):
    step = SideStep(_inp(), tmp_path, tmp_path, documents=True, force=False, work=work_ok).start()
    assert step.result() == {"status": "ok", "files": 4}
    records = [(r.name, r.getMessage(), getattr(r, "event", None)) for r in run_log.records]
    # the run's record and the warning, in order; the documents' INFO stays below the console's level
    assert records == [("ipeval.run", "workbook", "workbook"), ("ipeval", "a font fell back", "font"),
                       ("ipeval.run", "side step", "side")]  # the step's own record last: how it was started
    assert run_log.records[-1].start_method == side.start_method()
    assert run_log.records[0].pid != os.getpid()  # written in another process
    assert (tmp_path / "side.txt").read_text(encoding="utf-8") == "2"  # two processes, at the side's priority


def test_a_side_process_that_dies_is_a_failed_documents_step_and_the_workbook_is_written_here(
        tmp_path, monkeypatch, run_log):
    written = []
    monkeypatch.setattr("helpers.run.stages.workbook", lambda inp, staging, out_root: written.append(staging))
    step = SideStep(_inp(), tmp_path, tmp_path, documents=True, force=False, work=work_dies).start().result()
    assert step["status"] == "failed" and step["error_type"] == "BrokenProcessPool"
    assert step["geographies"] == "330100,330106"  # in the geographies' order
    assert written == [tmp_path]
    assert [r.event for r in run_log.records] == ["documents_failed"]


def test_a_workbook_error_fails_the_run_with_its_own_type(tmp_path, run_log):
    with pytest.raises(ConfigError, match="工作簿写不了"):
        SideStep(_inp(), tmp_path, tmp_path, documents=True, force=False, work=work_workbook_fails).start().result()


def test_stop_ends_the_side_process_at_once(tmp_path):
    step = SideStep(_inp(), tmp_path, tmp_path, documents=True, force=False, work=work_sleeps).start()
    for _ in range(200):
        if (tmp_path / "pid").is_file() and (tmp_path / "pid").read_text(encoding="utf-8"):
            break
        time.sleep(0.02)
    pid = int((tmp_path / "pid").read_text(encoding="utf-8"))
    t0 = time.monotonic()
    step.stop()
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the side process is still running")
    assert time.monotonic() - t0 < 5


def test_forked_when_alone_spawned_beside_another_thread():
    assert side.start_method() == ("fork" if threading.active_count() == 1 else "spawn")
    seen = []
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        seen.append(side.start_method())
    finally:
        stop.set()
        t.join()
    assert seen == ["spawn"]


def test_an_exception_that_does_not_pickle_back_becomes_text():
    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a}/{b}")

    out = side._portable(Odd(1, 2))
    assert type(out) is RuntimeError and str(out) == "Odd: 1/2"
    kept = ConfigError("配置有误")
    assert side._portable(kept) is kept


def work_leaves_a_temporary_file(inp, staging, *args):
    import tempfile

    fd, name = tempfile.mkstemp(prefix="sheet")
    os.close(fd)
    (Path(staging) / "tmpname").write_text(name, encoding="utf-8")
    if args[0] == "sleep":  # `documents` carries the test's wish here
        time.sleep(60)
    return {"documents": {"status": "ok"}, "workbook_error": None, "log": []}


@pytest.mark.parametrize("how", ["finished", "stopped"])
def test_the_side_process_temporary_files_are_removed_however_it_ends(tmp_path, monkeypatch, how):
    """openpyxl writes each sheet to a temporary file first: a side process killed mid-workbook
    (the run interrupted) must not leave them in TMPDIR."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    step = SideStep(_inp(), tmp_path, tmp_path, documents="sleep" if how == "stopped" else "no", force=False,
                    work=work_leaves_a_temporary_file).start()
    if how == "finished":
        step.result()
    else:
        for _ in range(200):
            if (tmp_path / "tmpname").is_file():
                break
            time.sleep(0.02)
        step.stop()
    name = Path((tmp_path / "tmpname").read_text(encoding="utf-8"))
    assert name.parent.parent == tmp_path / "tmp" and name.parent.name.startswith(f"ipeval-run-{os.getpid()}-side-")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_started_from_a_thread_the_side_process_is_spawned_and_works(tmp_path, run_log):
    """As under the scheduler (APScheduler runs a quarter in a thread of its own)."""
    out = {}

    def go():
        out["method"] = side.start_method()
        out["step"] = SideStep(_inp(), tmp_path, tmp_path, documents=True, force=False, work=work_ok).start().result()

    t = threading.Thread(target=go)
    t.start()
    t.join(120)
    assert out == {"method": "spawn", "step": {"status": "ok", "files": 4}}
    assert [r.getMessage() for r in run_log.records] == ["workbook", "a font fell back", "side step"]
    assert run_log.records[-1].start_method == "spawn"


def test_one_worker_means_no_side_process_the_work_after_the_reports_here(tmp_path, monkeypatch, run_log):
    """``-j 1`` (a shared machine): one thing at a time, the workbook and documents in the run's process."""
    calls = []
    monkeypatch.setattr("helpers.run.stages.workbook", lambda inp, staging, out_root: calls.append(("workbook", os.getpid())))

    def documents_step(inp, staging, out_root, force, workers=None):
        calls.append(("documents", os.getpid(), workers))
        return {"status": "ok", "files": 2}

    monkeypatch.setattr("helpers.run.record.documents_step", documents_step)
    step = SideStep(_inp(), tmp_path, tmp_path, documents=True, force=False, work=work_dies, inline=True).start()
    assert calls == []  # nothing before the reports
    assert step.result() == {"status": "ok", "files": 2}
    assert calls == [("workbook", os.getpid()), ("documents", os.getpid(), 1)]
    assert [(r.getMessage(), r.start_method) for r in run_log.records if r.getMessage() == "side step"] == [
        ("side step", "inline")]
