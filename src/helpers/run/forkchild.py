"""What a child of the fork server (:mod:`helpers.run.forkserver`) does to become a report's kernel.

Split from :mod:`helpers.run.forkserver` to keep that module short. The child takes the launcher's
stdin/stdout/stderr, watches the launcher, and runs an ordinary ``IPKernelApp`` on the connection file it
was sent, with the settings ``ipykernel_launcher`` would read from its command line (:func:`kernel_config`).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time


def become_kernel(conn: socket.socket, listener: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: become the kernel the launcher asked for (never returns: the child exits with
    the kernel's status).

    Parameters
    ----------
    conn, listener : socket.socket
        The launcher's connection and the server's listening socket (both closed here).
    request : dict
        The launcher's request: ``connection_file``, ``launcher_pid``, ``cwd``, ``env``.
    fds : list of int
        The launcher's stdin, stdout and stderr (or the run's kernels.log for the last two).
    """
    take_over(listener, request, fds)
    launcher = int(request["launcher_pid"])

    def watch():  # the launcher is our only link to the kernel manager: without it, stop
        while True:
            time.sleep(0.5)
            try:
                os.kill(launcher, 0)
            except OSError:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    conn.close()
    code = 0
    try:
        from ipykernel.kernelapp import IPKernelApp

        # the settings as a Config, not as a command line: traitlets builds an argparse parser of every
        # option of every configurable to read even an empty one, 5.8 ms of the kernel's 35 ms start
        # (CPU, median of 15 forked starts, 2026-12-06); with nothing to parse the command line is skipped
        app = IPKernelApp.instance(config=kernel_config(request["connection_file"], launcher))
        app.parse_command_line = _no_command_line  # type: ignore[method-assign]
        app.initialize([])
        app.start()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - report and exit non-zero like a crashed kernel
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def take_over(listener: socket.socket, request: dict, fds: list[int]) -> None:
    """What a forked child of the server does first, as a kernel or as a shell (:mod:`helpers.run.forkshell`):
    close the server's listening socket, take ``fds`` as its stdin, stdout and stderr (closing them), the
    request's environment (``env``) and folder (``cwd``), and the default handling of SIGCHLD, SIGINT and
    SIGTERM (the server's own handlers would keep it running)."""
    listener.close()
    for target, fd in zip((0, 1, 2), fds):
        os.dup2(fd, target)
    for fd in fds:
        os.close(fd)
    os.environ.update(request.get("env") or {})
    if request.get("cwd"):
        os.chdir(request["cwd"])
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def kernel_config(connection_file: str, launcher: int):
    """What a forked kernel is started with: what ``ipykernel_launcher -f CONNECTION_FILE
    --IPKernelApp.parent_handle=LAUNCHER --HistoryManager.enabled=False`` would read from its command line.

    Parameters
    ----------
    connection_file : str
        The kernel's connection file (ports or IPC sockets, the HMAC key).
    launcher : int
        The launcher's pid: ``parent_handle`` marks the kernel as started by a kernel manager (no console
        banner) and turns on ipykernel's poller, which also ends the kernel if the fork server goes away.

    Returns
    -------
    traitlets.config.Config
    """
    from traitlets.config import Config

    config = Config()
    config.IPKernelApp.connection_file = connection_file
    config.IPKernelApp.parent_handle = launcher
    # no input history: IPython writes every cell to one SQLite file shared by all kernels
    # (~7 ms of CPU a cell, 2026-12-06, and a lock the parallel kernels contend for); nothing reads it
    config.HistoryManager.enabled = False
    return config


def _no_command_line(argv=None) -> None:
    """In place of ``Application.parse_command_line`` for a forked kernel: its settings came as a Config
    (:func:`kernel_config`), and the defaults of what parsing would set (``argv``, ``extra_args``,
    ``cli_config``) are those of an empty command line."""
