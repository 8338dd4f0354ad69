"""The papermill engines a run executes its notebooks with, registered in papermill's engine registry.

``ipeval-shell`` (:class:`ForkShellEngine`, the default, ``executor.engine: shell``) executes a notebook's
cells in an IPython shell forked from the run's fork server (:mod:`helpers.run.forkshell`): no Jupyter
kernel, no launcher process, no messages over ZeroMQ. ``executor.engine: kernel`` keeps papermill's own
engine (nbclient and a Jupyter kernel per report, forked by the same server unless ``fork_kernels`` is
false): the path every plain ``papermill`` run takes, and the one a Dask worker takes.

What the engine leaves in the notebook is what papermill's nbclient engine leaves: the same cells run
in the same order in a fresh process, their outputs built by nbclient's own message handling
(``NotebookClient.process_message``: display ids, ``clear_output``, execution counts) from the same
messages a kernel would send, papermill's per-cell metadata and error handling (a failing cell stops
the notebook, papermill marks it and raises ``PapermillExecutionError``), a cell that runs longer than
``execution_timeout`` stops the notebook with nbclient's ``CellTimeoutError``, and a process that dies
is nbclient's ``DeadKernelError`` (retried by :func:`helpers.run.jobs.run_job`). The notebook's
``language_info`` is the IPython kernel's.

Measured on the demo's 2025Q2 (112 reports, 2 cores, 2026-12-06, ``benchmarks/bench_reports.py``): see
``docs/kernels.md``, "A shell instead of a kernel".
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import signal
import socket

from papermill.engines import Engine, NBClientEngine, papermill_engines

from helpers.run import forkshell

log = logging.getLogger("ipeval.run")

#: the engine's name in papermill's registry (``papermill.execute_notebook(..., engine_name=SHELL)``)
SHELL = "ipeval-shell"


def language_info() -> dict:
    """The notebook's ``language_info``: what the IPython kernel reports (``IPythonKernel.language_info``)."""
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


class ShellProcess:
    """A forked shell of the run's fork server, for one notebook (a context manager: it ends with the block).

    Parameters
    ----------
    socket_path : str
        The fork server's socket (``$IPEVAL_FORKSERVER``).
    start_timeout : float
        Seconds to wait for the server to fork it.
    """

    def __init__(self, socket_path: str, start_timeout: float = 60):
        self.socket_path, self.start_timeout = socket_path, start_timeout
        self.sock: socket.socket | None = None
        self.pid = 0

    def __enter__(self) -> "ShellProcess":
        return self if self.sock is not None else self.start()

    def start(self) -> "ShellProcess":
        """Ask the server to fork the shell; raises ``KernelDied`` if it does not."""
        from helpers.run.forkserver import LOG_ENV, KernelDied

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.start_timeout)
        log_fd = None
        try:
            sock.connect(self.socket_path)
            log_path = os.environ.get(LOG_ENV)
            log_fd = os.open(log_path or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            request = {"kind": "shell", "cwd": os.getcwd(),
                       "env": {k: v for k, v in os.environ.items() if k.startswith(("JPY_", "PYDEVD", "IPEVAL_"))}}
            socket.send_fds(sock, [ascii(request).encode("ascii")], [log_fd, log_fd])
            line = b""
            while not line.endswith(b"\n"):  # the server's one line, {"pid": N}; the shell says nothing unasked
                chunk = sock.recv(64)
                if not chunk:
                    raise KernelDied("the fork server closed the connection before forking a shell")
                line += chunk
            self.pid = int(json.loads(line)["pid"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            sock.close()
            raise KernelDied(f"the fork server did not fork a shell: {exc}") from None
        finally:
            if log_fd is not None:
                os.close(log_fd)
        self.sock = sock
        return self

    def execute(self, code: str, cell_id: str | None, timeout: float | None) -> dict | None:
        """Run one cell; its ``messages`` and ``reply`` (:func:`helpers.run.forkshell.execute`), or None if
        it ran longer than ``timeout`` seconds (the process is then killed)."""
        from nbclient.exceptions import DeadKernelError

        assert self.sock is not None, "enter the ShellProcess first"
        self.sock.settimeout(timeout)
        try:
            forkshell.send(self.sock, {"code": code, "cell_id": cell_id})
            answer = forkshell.receive(self.sock)
        except TimeoutError:
            self.kill()
            return None
        except OSError as exc:
            raise DeadKernelError(f"Kernel died: {exc}") from None
        if answer is None:
            raise DeadKernelError("Kernel died")
        return answer

    def kill(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass

    def __exit__(self, *exc) -> None:
        if self.sock is not None:
            try:
                self.sock.settimeout(1)
                forkshell.send(self.sock, {})  # the end: the shell exits
            except OSError:
                self.kill()
            self.sock.close()
            self.sock = None


def _now(msg: dict) -> dict:
    msg["header"] = {"msg_type": msg["msg_type"], "date": datetime.datetime.now(datetime.timezone.utc)}
    msg["parent_header"] = {}
    return msg


class ForkShellEngine(Engine):
    """papermill engine: each notebook's cells in an IPython shell forked from the run's fork server.

    Without a fork server (``$IPEVAL_FORKSERVER`` unset: a notebook executed outside a run, a Dask
    worker), the notebook runs with papermill's own engine in an ordinary kernel.
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, start_timeout=60,
                                 execution_timeout=None, **kwargs):
        from helpers.run.forkserver import SOCKET_ENV

        path = os.environ.get(SOCKET_ENV)
        in_kernel = dict(kernel_name=kernel_name, log_output=log_output, start_timeout=start_timeout,
                         execution_timeout=execution_timeout, **kwargs)
        if not path:
            return _in_a_kernel(nb_man, in_kernel)
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        from helpers.run.forkserver import KernelDied

        try:
            shell = ShellProcess(path, start_timeout).start()
        except KernelDied:  # the server is gone (killed?): the notebook still runs, in a kernel, as a launcher's would
            log.warning("the kernel fork server did not answer: this report runs in an ordinary kernel (slower)",
                        extra={"event": "shell_fallback", "socket": path})
            return _in_a_kernel(nb_man, in_kernel)
        nb = nb_man.nb
        client = NotebookClient(nb, kernel_name=kernel_name)  # for its message handling only: no kernel
        client.reset_execution_trackers()
        with shell:
            for index, cell in enumerate(nb.cells):
                try:
                    nb_man.cell_start(cell, index)
                    _execute_cell(client, shell, cell, index, execution_timeout)
                except CellExecutionError as ex:
                    nb_man.cell_exception(nb.cells[index], cell_index=index, exception=ex)
                    break
                finally:
                    nb_man.cell_complete(nb.cells[index], cell_index=index)
        nb.metadata["language_info"] = language_info()
        return nb


def _in_a_kernel(nb_man, kwargs: dict):
    """papermill's own engine, with the kernel manager of a run's kernels: its files in the run's private
    folder (removed however the run ends), an ordinary kernel when the server is gone."""
    from helpers.run.forkserver import ForkKernelManager

    kernel_name = kwargs.pop("kernel_name")
    kwargs.setdefault("kernel_manager_class", ForkKernelManager)
    return NBClientEngine.execute_managed_notebook(nb_man, kernel_name, **kwargs)


def _execute_cell(client, shell: ShellProcess, cell, index: int, timeout: float | None) -> None:
    """One cell as nbclient's ``async_execute_cell`` handles it, the messages from the shell."""
    from nbclient.client import timestamp
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    if cell.cell_type != "code" or not cell.source.strip():
        return
    if client.skip_cells_with_tag in cell.metadata.get("tags", []):
        return
    cell["metadata"]["execution"] = {}
    timing = cell["metadata"]["execution"]  # the notebook's own node (a dict assigned to a cell is copied)
    cell.outputs = []
    client.clear_before_next_output = False
    timing["iopub.status.busy"] = timestamp(_now({"msg_type": "status"}))
    timing["iopub.execute_input"] = timing["iopub.status.busy"]
    answer = shell.execute(cell.source, cell.get("id"), timeout)
    if answer is None:
        raise CellTimeoutError.error_from_timeout_and_cell("Cell execution timed out", int(timeout or 0), cell)
    for msg in answer["messages"]:
        client.process_message(_now(msg), cell, index)
    reply = answer["reply"]
    timing["shell.execute_reply"] = timing["iopub.status.idle"] = timestamp(_now({"msg_type": "status"}))
    cell["execution_count"] = reply["execution_count"]
    if reply["status"] == "error" and "raises-exception" not in cell.metadata.get("tags", []):
        raise CellExecutionError.from_cell_and_msg(cell, reply)


papermill_engines.register(SHELL, ForkShellEngine)

