"""The run's papermill engine (helpers.run.engines, forkshell): a notebook's cells in a shell forked from the fork
server leave the notebook a Jupyter kernel leaves; a cell over its time, a shell that dies, no server at all."""

from __future__ import annotations

import json
import os
import socket
import time

import nbformat
import papermill as pm
import pytest
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from helpers.run import engines, forkshell, jobs
from helpers.run.forkserver import SOCKET_ENV, ForkKernelManager, ForkServer

#: a notebook that shows every kind of output a cell can make, then fails
CELLS = [
    "x = 1",
    "print('out'); import sys; print('err', file=sys.stderr); print('out again')",
    "from IPython.display import HTML, Markdown, clear_output, display\n"
    "display(HTML('<b>a</b>'), display_id='d1')\nprint('between')\ndisplay(Markdown('*m*'))",
    "import warnings\nwarnings.warn('careful')\n42",
    "h = display(HTML('<i>v1</i>'), display_id=True)\nh.update(HTML('<i>v2</i>'))",
    "from IPython.display import update_display\nupdate_display(HTML('<b>a2</b>'), display_id='d1')\n"
    "print('gone'); clear_output(wait=True); print('kept')",
    "import pandas as pd\npd.DataFrame({'a': [1, 2]})",
    "!echo from-a-shell-command",
    "import base64\nfrom IPython.display import Image\nImage(base64.b64decode("
    "'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='))",
    "try:\n    input('who?')\nexcept Exception as e:\n    print(type(e).__name__)",
    "def f():\n    raise ValueError('bad value')\nf()",
    "print('never run')",
]


def _notebook(path, cells=CELLS):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A fork server of kernels (and shells it makes as they are asked for), no run folder to preload."""
    folder = tmp_path_factory.mktemp("fork")
    with ForkServer(folder, kernel_log=folder / "kernels.log") as s:
        assert os.environ.get(SOCKET_ENV), "the fork server started"
        yield s


@pytest.fixture
def shell_server(tmp_path):
    """A fork server of shells only, its shell made before forking, as a run with ``executor.engine: shell``
    starts one (its socket in a short folder: a Unix socket's path has at most 107 bytes)."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="ish-", dir="/tmp")
    try:
        with ForkServer(folder, kernel_log=tmp_path / "kernels.log", shells=True) as s:
            assert os.environ.get(SOCKET_ENV) == s.path, "the fork server started"
            yield s
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(nb, out, **kw):
    try:
        pm.execute_notebook(str(nb), str(out), parameters={"x": 2}, kernel_name="python3", progress_bar=False, **kw)
    except pm.PapermillExecutionError as exc:
        return exc
    return None


def _without_times(cell: dict) -> dict:
    cell = json.loads(json.dumps(cell))
    cell["metadata"].pop("execution", None)
    for key in ("start_time", "end_time", "duration"):
        cell["metadata"].get("papermill", {}).pop(key, None)
    cell.pop("id", None)  # papermill's injected-parameters cell gets a new random id each time
    return cell


@pytest.fixture(scope="module")
def in_kernel(server, tmp_path_factory):
    """The test notebook executed by papermill's own engine in a forked kernel: its error and its file."""
    folder = tmp_path_factory.mktemp("kernel")
    nb = _notebook(folder / "t.ipynb")
    return _run(nb, folder / "kernel.ipynb", kernel_manager_class=ForkKernelManager), folder / "kernel.ipynb"


@pytest.mark.parametrize("made", ["in the child", "before forking"])
def test_a_shell_leaves_the_notebook_a_kernel_leaves(made, in_kernel, request, tmp_path, monkeypatch):
    if made == "before forking":
        request.getfixturevalue("shell_server")  # the environment now names a server of shells
    nb = _notebook(tmp_path / "t.ipynb")
    in_kernel, kernel_file = in_kernel
    forks = []
    real_start = engines.ShellProcess.start
    monkeypatch.setattr(engines.ShellProcess, "start", lambda self: forks.append(1) or real_start(self))
    in_shell = _run(nb, tmp_path / "shell.ipynb", engine_name=engines.SHELL)
    assert len(forks) == 1  # one shell a notebook (a first version forked a second, idle one)
    assert in_kernel is not None and in_shell is not None  # the failing cell stops both, as papermill does
    assert (in_shell.ename, in_shell.evalue, in_shell.exec_count) == (in_kernel.ename, in_kernel.evalue,
                                                                      in_kernel.exec_count) == ("ValueError", "bad value", 12)
    a = json.loads(kernel_file.read_text())
    b = json.loads((tmp_path / "shell.ipynb").read_text())
    text = {json.dumps(o) for c in b["cells"] for o in c.get("outputs", [])}
    # every kind of output is there: streams in order, displays, updates by display id, a cleared output,
    # results with their counts, an image, a warning, a shell command's output, input() refused, the traceback
    for expected in ("<i>v2</i>", "<b>a2</b>", "kept", "text/markdown", "careful", "from-a-shell-command",
                     "image/png", "StdinNotImplementedError", "bad value", '"execution_count": 5'):
        assert any(expected in t for t in text), expected
    assert not any("gone" in t for t in text) and not any("never run" in t for t in text)
    for ca, cb in zip(a["cells"], b["cells"]):
        # the only difference: the warning names the cell's file under the process's own /tmp/ipykernel_<pid>
        sa, sb = (json.dumps(_without_times(c)) for c in (ca, cb))
        pa, pb = (f"ipykernel_{c}" for c in _pids(sa, sb))
        assert sa.replace(pa, "X") == sb.replace(pb, "X")
        if ca["cell_type"] == "code" and ca["metadata"]["papermill"]["status"] == "completed":
            assert set(cb["metadata"]["execution"]) == set(ca["metadata"]["execution"])  # nbclient's timings
    assert a["metadata"]["language_info"] == b["metadata"]["language_info"]
    # the parameters papermill injected, its error banner on top and its marker at the failing cell
    assert len(a["cells"]) == len(b["cells"]) == len(CELLS) + 3


def _pids(*texts: str) -> list[str]:
    import re

    return [(re.findall(r"ipykernel_(\d+)", t) or ["none"])[0] for t in texts]


def test_matplotlibs_inline_backend_shows_a_figure_and_a_gui_is_refused_in_the_cell(server, tmp_path):
    nb = _notebook(tmp_path / "plot.ipynb", ["x = 1", "%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                                             "plt.plot([1, 2, 3])\nplt.show()", "%gui qt"])
    error = _run(nb, tmp_path / "out.ipynb", engine_name=engines.SHELL)
    out = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    shown = [c for c in out.cells if c.cell_type == "code" and "plt.plot" in c.source][0]
    assert [o["output_type"] for o in shown.outputs] == ["display_data"] and "image/png" in shown.outputs[0]["data"]
    said = json.dumps([c.outputs for c in out.cells if c.cell_type == "code" and "%gui" in c.source])
    assert error is None and "no GUI event loop" in said, said  # a report has no window: IPython says so in the cell


def test_a_server_of_shells_gives_a_launcher_no_kernel(shell_server):
    # the launcher then starts an ordinary kernel (tests/test_forkserver.py): a forked one would find the server's
    # shell in place of its own
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(shell_server.path)
        request = {"connection_file": "k.json", "cwd": "/", "launcher_pid": os.getpid(), "env": {}}
        r, w = os.pipe()
        socket.send_fds(s, [ascii(request).encode("ascii")], [r, w, w])
        os.close(r)
        os.close(w)
        assert s.recv(100) == b""  # closed without naming a kernel


def test_a_cell_over_its_time_stops_the_notebook_and_its_shell(server, tmp_path):
    nb = _notebook(tmp_path / "slow.ipynb", ["x = 1", "import os\nprint(os.getpid(), flush=True)", "import time\ntime.sleep(60)"])
    started = time.monotonic()
    with pytest.raises(CellTimeoutError):
        pm.execute_notebook(str(nb), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False,
                            engine_name=engines.SHELL, execution_timeout=1)
    assert time.monotonic() - started < 30
    out = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    pid = int(out.cells[1].outputs[0]["text"].split()[0])
    assert _gone(pid), "the shell over its time is killed"


def _gone(pid: int, timeout: float = 10) -> bool:
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_a_shell_that_dies_is_a_dead_kernel_and_the_job_is_retried(server, tmp_path, monkeypatch):
    import helpers.pages.report

    monkeypatch.setattr(helpers.pages.report, "export_html", lambda *a, **k: None)
    monkeypatch.setattr(helpers.pages.report, "store_notebook", lambda *a, **k: None)
    flag = tmp_path / "died-once"
    nb = _notebook(tmp_path / "dies.ipynb", ["report_input = ''", f"import os, pathlib\np = pathlib.Path({str(flag)!r})\n"
                                             "if not p.exists():\n    p.touch()\n    os._exit(3)\nprint('second time')"])
    with pytest.raises(DeadKernelError):
        pm.execute_notebook(str(nb), str(tmp_path / "once.ipynb"), kernel_name="python3", progress_bar=False,
                            engine_name=engines.SHELL)
    flag.unlink()
    job = jobs.Job(section="enforcement", geography="330106", quarter="2025Q4", lang="zh", notebook=str(nb),
                   output_dir=str(tmp_path / "run"), parameters={"report_input": "x"}, engine="shell", retries=1)
    r = jobs.run_job(job)
    assert (r["status"], r["attempts"]) == ("ok", 2), r
    out = nbformat.read(str(tmp_path / "run" / r["notebook"]), as_version=4)
    assert out.cells[-1].outputs[0]["text"] == "second time\n"


def test_without_a_fork_server_the_notebook_runs_in_a_kernel(tmp_path, monkeypatch):
    ran = []
    monkeypatch.delenv(SOCKET_ENV, raising=False)
    monkeypatch.setattr(engines.NBClientEngine, "execute_managed_notebook",
                        classmethod(lambda cls, nb_man, kernel_name, **kw: ran.append((kernel_name, kw["kernel_manager_class"]))))
    _run(_notebook(tmp_path / "t.ipynb", ["x = 1"]), tmp_path / "o.ipynb", engine_name=engines.SHELL)
    # the run's kernel manager: its connection file in the run's private folder, not left in TMPDIR
    assert ran == [("python3", ForkKernelManager)]
    # a server that no longer answers: the same way, with a warning in the run's log
    monkeypatch.setenv(SOCKET_ENV, str(tmp_path / "nobody-listens.sock"))
    _run(_notebook(tmp_path / "t.ipynb", ["x = 1"]), tmp_path / "o.ipynb", engine_name=engines.SHELL)
    assert ran == [("python3", ForkKernelManager)] * 2


@pytest.mark.parametrize("obj", [{}, {"code": "print('é\\u2028\\x00')", "cell_id": None},
                                 {"big": "界" * 600_000, "n": [1, 2.5, None, True]}])
def test_a_frame_reads_back_whole(obj):
    a, b = socket.socketpair()
    with a, b:
        import threading

        sender = threading.Thread(target=forkshell.send, args=(a, obj))  # a big frame fills the socket's buffer
        sender.start()
        assert forkshell.receive(b) == obj
        sender.join()
        a.close()
        assert forkshell.receive(b) is None  # the other side gone: no frame, not an error
