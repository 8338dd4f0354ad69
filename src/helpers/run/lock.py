"""The per-quarter run lock: an OS lock (``flock``) on an open file, not the file's existence.

The kernel releases a ``flock`` when its holder exits, however it exits (SIGKILL, a crash, a power
cut), so a lock file left behind is harmless and nobody is ever told to delete one. The file is
never deleted by ipeval either: deleting it while a run holds it would let a second run lock a new
file of the same name. It holds the holder's PID and start time, for the message of a refused run.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timezone
from pathlib import Path

from helpers.exceptions import RunLockedError
from helpers.i18n import et


class QuarterLock:
    """``with QuarterLock(path, label):`` holds the lock, or raises :class:`RunLockedError` at once."""

    def __init__(self, path: str | Path, label: str):
        self.path = Path(path)
        self.label = label
        self.fd: int | None = None

    def acquire(self) -> "QuarterLock":
        """Take the lock without waiting; raise :class:`RunLockedError` naming the holder if it is taken."""
        for _ in range(5):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                os.close(fd)
                raise RunLockedError(et("run_locked", label=self.label, holder=holder or et("holder_unknown"),
                                        path=self.path)) from None
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a file someone removed between our open and our lock
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"pid {os.getpid()}, started {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n".encode(), 0)
                self.fd = fd
                return self
            os.close(fd)
        raise RunLockedError(et("lock_changing", path=self.path))

    def release(self) -> None:
        """Let the lock go (the file stays; see the module docstring)."""
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "QuarterLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
