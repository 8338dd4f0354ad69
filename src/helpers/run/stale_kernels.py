"""Remove the kernel files a killed run left in the temporary folder, once its process is proven gone.

Each run's fork server works in a private folder ``ipeval-run-<pid>-XXXX`` of ``TMPDIR``
(:class:`helpers.run.forkserver.ForkServer`): the server's socket ``ipeval-fork-<pid>.sock`` and, per
report, a kernel's connection file (with its HMAC key) and its IPC socket files. The run removes the
folder however it ends, except when the whole process group is killed with SIGKILL (``kill -9``,
the OOM killer): then the folder stays, key files included. The next run's fork server removes such
folders before it makes its own (:func:`remove_stale_run_folders`).

A folder is removed only when it is proven dead: the run's pid (in the folder's name; in folders
made before the pid was put there, in the socket's name) is not a running process, or is one that
started after the folder last changed (the pid was reused by another program). A folder with no
pid, or of another user, is left alone.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
from pathlib import Path

log = logging.getLogger("ipeval.run")

PREFIX = "ipeval-run-"
_NAMED = re.compile(r"^ipeval-run-(\d+)-")
_SOCKET = re.compile(r"^ipeval-fork-(\d+)\.sock$")
#: seconds a process's start must follow the folder's last change to count as a reused pid: Linux
#: gives the boot time to whole seconds, so a start time read back can be off by up to one
CLOCK_SLACK = 2.0


def run_pid(folder: Path) -> int | None:
    """The pid of the run that made ``folder``: from its name, else from its fork server's socket."""
    m = _NAMED.match(folder.name)
    if m:
        return int(m.group(1))
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    return next((int(s.group(1)) for s in map(_SOCKET.match, names) if s), None)


def proven_dead(pid: int, changed_at: float) -> bool:
    """Whether no process that could have made a folder last changed at ``changed_at`` runs as ``pid``.

    Dead: no such process, or a process with that pid that started after ``changed_at`` (a reused
    pid: the run that made the folder started before it). A zombie is dead too.
    """
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc.status() == psutil.STATUS_ZOMBIE or proc.create_time() > changed_at + CLOCK_SLACK
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # AccessDenied: someone's process, alive
        return False


def remove_stale_run_folders(tmpdir: str | Path) -> list[Path]:
    """Remove the run folders in ``tmpdir`` whose run is proven dead (:func:`proven_dead`); return them.

    Never raises: a folder that cannot be read or removed stays, and the run goes on.
    """
    removed: list[Path] = []
    try:
        entries = list(Path(tmpdir).glob(PREFIX + "*"))
    except OSError:
        return removed
    for folder in entries:
        try:
            st = folder.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():  # a link, a file, another user's
            continue
        pid = run_pid(folder)
        if pid is None or pid == os.getpid() or not proven_dead(pid, st.st_mtime):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    if removed:
        # names only: the run's log is published, and holds no machine paths
        log.warning("removed %d kernel folder(s) of killed runs from the temporary folder", len(removed),
                    extra={"event": "stale_kernel_folders", "removed": [p.name for p in removed]})
    return removed
