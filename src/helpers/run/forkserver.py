"""Start report kernels by forking a process that has already imported the heavy libraries.

Why: a fresh kernel spends about 3 s importing pandas, Matplotlib, seaborn and the helpers before
a report's first cell does any work (measured on this project's 2-core machine, 2026-11: ``docs/kernels.md``); a quarter runs >100
reports. Forking a parent that imported them once (as ``multiprocessing``'s forkserver with
preload does) gives each report a fresh interpreter state in a few milliseconds. A kernel is
never reused for a second report: every report gets its own forked process, which exits with it.

Pieces:

* the **server** (``python -m helpers.run.forkserver SOCKET``) imports, listens on a Unix socket and,
  per request, forks a child that runs an ordinary ``IPKernelApp`` on the connection file it was
  given, with the requesting process's stdin/stdout/stderr (passed over the socket);
* the **launcher** (``python -I -S .../forkkernel.py``) is what the kernel manager starts instead of
  ``ipykernel_launcher``: it asks the server for a kernel, forwards signals (interrupt, terminate)
  to it and exits with its exit code, so jupyter_client sees an ordinary kernel process; if the
  server cannot be reached it execs a normal kernel instead;
* :class:`ForkKernelManager` is the jupyter_client ``KernelManager`` that starts the launcher.

A child watches its launcher: if the launcher is killed (jupyter_client's hard kill), the child exits.
"""

from __future__ import annotations

import ast
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
from pathlib import Path

from jupyter_client import AsyncKernelManager
from traitlets import DottedObjectName, Type

# the client that waits for a kernel (in its own module); KernelDied and KernelStartTimeout are imported from here
from helpers.run.kernelclient import KernelDied, KernelStartTimeout, ReadyKernelClient  # noqa: F401
from helpers.run.forkchild import become_kernel  # what a forked child does to become a kernel

# what a page of a run uses: the run's chart step has drawn every chart, so a page inlines files and
# imports neither Matplotlib nor seaborn (a page run without a chart, or on its own, imports them then)
PRELOAD = ("numpy", "pandas", "IPython", "ipykernel.kernelapp",
           "ipykernel.ipkernel", "ipykernel.zmqshell",
           # imported by every kernel at start for a debugger no report uses: import it once here
           "ipykernel.debugger", "IPython.display",
           "yaml", "helpers.pages.sections", "helpers.pages.charts", "helpers.pages.chartfiles", "helpers.data.quality", "helpers.data.series",
           "helpers.i18n", "helpers.run.forkshell",
           # what every report kernel still imported after the fork (its sys.modules against the server's,
           # 2026-12-06): the page parts, and IPython's shell pieces ipykernel loads as it starts
           "helpers.pages.analysis", "helpers.pages.analysis_blocks", "helpers.pages.changes", "helpers.pages.numbers",
           "helpers.pages.published", "helpers.pages.standard", "helpers.data.reference", "helpers.model.assess",
           "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.logger", "IPython.core.oinspect",
           "IPython.extensions.storemagic", "tornado.platform.asyncio", "pandas.core.methods.to_dict",
           # still imported by every kernel (its sys.modules at exit against the server's, 56 kernels,
           # 2026-12-06): psutil by ipykernel's shutdown, to look for child processes (a report's
           # shutdown 26 -> 20 ms, one at a time), and the pieces below as it starts
           "psutil", "faulthandler", "importlib.readers", "importlib.resources.readers")


#: what only a kernel imports (its application, ZeroMQ shell, debugger, event loop, psutil for its shutdown): a
#: server that forks shells (``executor.engine: shell``, :mod:`helpers.run.forkshell`) leaves them out
KERNEL_ONLY = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
               "tornado.platform.asyncio", "psutil")


def _warm_up() -> None:
    """Nothing to warm up: pages draw no charts in a run (kept as the hook a preload would use)."""


SOCKET_ENV = "IPEVAL_FORKSERVER"
LOG_ENV = "IPEVAL_KERNEL_LOG"  # where forked kernels write their stdout/stderr


class ForkKernelManager(AsyncKernelManager):
    """A KernelManager whose kernels are forked by the fork server named in ``$IPEVAL_FORKSERVER``.

    Asynchronous, as nbclient's default: with a blocking client nbclient waits for output with a
    blocking read, and a kernel that dies mid-cell is never noticed.
    """

    client_class = DottedObjectName("helpers.run.kernelclient.ReadyKernelClient")
    client_factory = Type(ReadyKernelClient, klass="jupyter_client.asynchronous.AsyncKernelClient")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # IPC (Unix socket files with unique names) instead of TCP ports: parallel kernels cannot
        # race for a port (papermill #511), and nothing listens on the network.
        import tempfile
        import uuid

        self.transport = "ipc"
        # beside the fork server's socket, in the run's private folder that ForkServer removes
        # however the run ends (the files of a SIGTERMed run are not left in /tmp)
        sock = os.environ.get(SOCKET_ENV)
        folder = os.path.dirname(sock) if sock else tempfile.gettempdir()
        self.ip = os.path.join(folder, f"ipeval-k-{uuid.uuid4().hex[:12]}")
        if sock:  # the connection file too (jupyter_client would otherwise make a tmp*.json in TMPDIR)
            self.connection_file = self.ip + ".json"

    async def _async_interrupt_kernel(self) -> None:
        # jupyter_client interrupts every kernel before asking it to shut down. Ours are idle by
        # then (nbclient shuts down after the last cell), so the SIGINT only makes some of them log
        # "KeyboardInterrupt caught in kernel" into kernels.log, burying real errors; a kernel
        # still busy is terminated by the shutdown itself after its grace period.
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # jupyter_client checks every 100 ms whether a kernel asked to shut down has exited; ours
        # exit within milliseconds, and a quarter shuts down over a hundred of them
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))

    def format_kernel_cmd(self, extra_arguments=None):
        sock = os.environ.get(SOCKET_ENV)
        if not sock:
            return super().format_kernel_cmd(extra_arguments)
        # the launcher needs the standard library only: isolated and without site (no site-packages to add,
        # no .pth files to run) it starts in 17 ms of CPU instead of 20 (2026-12-06, 2 x 30 starts)
        return [sys.executable, "-I", "-S", str(Path(__file__).with_name("forkkernel.py")), "--socket", sock,
                "-f", self.connection_file]


def serve(path: str, run_dir: str | None = None, wait: bool = False, shells: bool = False) -> None:
    """Run the fork server on the Unix socket ``path`` until SIGTERM; with ``run_dir``, its kernels find
    the run's tables already read (:func:`helpers.pages.context.preload_run`). ``wait``: the modules
    imported, read a line from stdin (the run has written its tables: :meth:`ForkServer.launch`)
    before reading them. ``shells``: the server forks shells only (:func:`_prepare`); a launcher asking it for a
    kernel is answered with nothing, and starts an ordinary kernel itself."""
    _prepare(run_dir, wait, shells)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)
    listener.bind(path)
    listener.listen(64)
    children: dict[int, socket.socket | None] = {}
    stop = False

    def _stop(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    # a kernel's end wakes the loop at once (SIGCHLD written to a pipe it watches): its launcher, and so
    # jupyter_client's shutdown, learned of it only at the next 50 ms tick, 25 ms of every report's
    # shutdown on average
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the signal is delivered (and written)
    sel.register(wake_r, selectors.EVENT_READ)
    print("ready", flush=True)
    parent = os.getppid()
    while not stop:
        if os.getppid() != parent:  # the run that started us is gone (killed): stop, kill our kernels
            break
        for key, _ in sel.select(timeout=0.05):
            if key.fileobj is listener:
                _accept(listener, children, (wake_r, wake_w), shells)
            else:
                _drain(wake_r)
        _reap(children)
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    listener.close()
    try:
        os.unlink(path)
    except FileNotFoundError:  # the run already removed its private folder
        pass


def _prepare(run_dir: str | None, wait: bool = False, shells: bool = False) -> None:
    """What every kernel shares, loaded once before any fork: the modules of :data:`PRELOAD`, the
    run's tables, and the heap frozen."""
    # debugpy (imported with ipykernel.debugger) warns about frozen modules on import; the
    # warning concerns breakpoints, which reports never set
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import importlib

    for name in PRELOAD:
        if not (shells and name in KERNEL_ONLY):
            importlib.import_module(name)
    if shells:
        # the shell made once, here: 8 ms of CPU less a report (16.4 -> 8.0 ms a forked child that shows one
        # HTML output, 2 x 30 forks, 2026-12-06). Not in a server that forks kernels: ipykernel's shell is a
        # singleton of another class and would refuse to start beside it
        from helpers.run.forkshell import prepare

        prepare()
    _warm_up()
    if wait and not sys.stdin.readline():  # the run ended before its tables were written
        sys.exit(0)
    if run_dir:
        try:
            from helpers.pages.context import preload_run

            preload_run(run_dir)
        except Exception:  # noqa: BLE001 - each kernel then reads the tables itself (and reports a real error)
            import traceback

            traceback.print_exc()
    # what the server has loaded lives as long as it does: moved out of the collector's sight, a kernel's
    # collections do not walk (and copy, page by page) the shared heap; 0.012 s of CPU less a kernel (5%,
    # two runs of 12 reports, 2026-12-06) and less memory copied per kernel
    import gc

    gc.collect()
    gc.freeze()


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _accept(listener: socket.socket, children: dict, wake: tuple[int, ...] = (), shells: bool = False) -> None:
    """One launcher's request: fork a kernel for it and answer with the kernel's pid (``wake``: the
    server's signal pipe, which the kernel closes)."""
    conn, _ = listener.accept()
    try:
        msg, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
        request = ast.literal_eval(msg.decode("ascii"))  # the launcher's ascii() of a dict (run/forkkernel.py)
        if not isinstance(request, dict):
            raise ValueError(f"not a launcher's request: {msg[:80]!r}")
    except (OSError, ValueError, SyntaxError):
        conn.close()
        return
    shell = request.get("kind") == "shell"  # a notebook's cells without a kernel (run/engines.py)
    if shells and not shell:  # a kernel from a server of shells: no answer, the launcher starts an ordinary one
        for fd in fds:
            os.close(fd)
        conn.close()
        return
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        for fd in wake:
            os.close(fd)
        if shell:
            from helpers.run.forkshell import become_shell

            become_shell(conn, listener, request, fds)
        become_kernel(conn, listener, request, fds)
    for fd in fds:
        os.close(fd)
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    if shell:  # the connection is the shell's from now on; the run learns of its end by the socket closing
        conn.close()
        children[pid] = None
    else:
        children[pid] = conn


#: a file the server appends ``pid user_s system_s`` to for each kernel it reaps (benchmarks/bench_reports.py)
RUSAGE_ENV = "IPEVAL_KERNEL_RUSAGE"


def _reap(children: dict) -> None:
    """Reap the kernels that have ended and tell each one's launcher how it ended."""
    while children:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if os.environ.get(RUSAGE_ENV):
            with open(os.environ[RUSAGE_ENV], "a") as f:
                f.write(f"{pid} {usage.ru_utime:.4f} {usage.ru_stime:.4f}\n")
        conn = children.pop(pid, None)
        if conn is not None:
            code = os.waitstatus_to_exitcode(status)
            try:
                conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
            except OSError:
                pass
            conn.close()


class ForkServer:
    """Start and stop a fork server for the duration of a run (a context manager)."""

    def __init__(self, folder: str | Path, kernel_log: str | Path | None = None, run_dir: str | Path | None = None,
                 shells: bool = False):
        import tempfile

        from helpers.run.stale_kernels import remove_stale_run_folders

        # a private folder (mkdtemp: unique, mode 0700) for the socket and the kernels' IPC files,
        # removed in __exit__ even when the run is interrupted and the server was killed; named
        # with the run's pid so that a later run can remove it after a kill -9 (stale_kernels)
        remove_stale_run_folders(folder)
        self.folder = tempfile.mkdtemp(prefix=f"ipeval-run-{os.getpid()}-", dir=folder)
        self.path = str(Path(self.folder) / f"ipeval-fork-{os.getpid()}.sock")
        self.kernel_log = str(kernel_log) if kernel_log else None
        self.run_dir = str(run_dir) if run_dir else None  # whose tables the server reads before forking
        self.shells = shells  # forks shells only (executor.engine: shell), made ready before forking
        self.proc: subprocess.Popen[str] | None = None
        self._previous: str | None = None
        self._previous_log: str | None = None

    def launch(self) -> "ForkServer":
        """Start the server process now, to import its modules while the run is still writing the
        tables it reads: it reads them once :meth:`__enter__` tells it to (the demo's 2025Q2 on 2 cores,
        2026-12-06: the imports are about 1 s of CPU that delayed the first report when the server started
        only then)."""
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
        self.proc = subprocess.Popen([sys.executable, "-m", "helpers.run.forkserver", self.path,
                                      self.run_dir or "", "wait", *(["shells"] if self.shells else [])],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
        return self

    def __enter__(self) -> "ForkServer":
        """Start the server (or, launched already, let it read the run's tables) and wait until it is ready."""
        if self.proc is None:
            self.launch()
        proc = self.proc
        assert proc is not None
        try:
            if proc.stdin:
                proc.stdin.write("go\n")
                proc.stdin.close()
        except OSError:  # the server ended already (it failed to import): the warning below
            pass
        line = proc.stdout.readline().strip() if proc.stdout else ""
        self._previous = os.environ.get(SOCKET_ENV)
        self._previous_log = os.environ.get(LOG_ENV)
        if line != "ready":
            # e.g. a preloaded module that fails to import (its traceback is on stderr): the reports
            # still run, in ordinary kernels (ForkKernelManager without a server), only slower
            proc.kill()
            proc.wait()
            import logging

            logging.getLogger("ipeval.run").warning(
                "the kernel fork server did not start: reports run in ordinary kernels (slower)",
                extra={"event": "forkserver_fallback"})
            return self
        os.environ[SOCKET_ENV] = self.path
        if self.kernel_log:
            os.environ[LOG_ENV] = self.kernel_log
        return self

    def __exit__(self, *exc):
        for name, value in ((SOCKET_ENV, self._previous), (LOG_ENV, self._previous_log)):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
        return False


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None, "wait" in sys.argv[3:],
          "shells" in sys.argv[3:])
