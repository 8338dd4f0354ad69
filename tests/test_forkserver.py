"""The fork server's launcher (helpers.run.forkkernel): its fallback to an ordinary kernel and its signal
forwarding, against a stand-in server (no kernel, no preload: fast)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers.run import forkkernel

SRC = str(Path(__file__).resolve().parents[1] / "src")


def test_without_a_server_the_launcher_execs_an_ordinary_kernel(tmp_path, monkeypatch):
    execs = []
    monkeypatch.setattr(os, "execv", lambda path, args: execs.append((path, args)))
    forkkernel.main(["--socket", str(tmp_path / "nobody-listens.sock"), "-f", "kernel-1.json"])
    assert execs == [(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", "kernel-1.json"])]


@pytest.fixture
def stand_in_server(tmp_path):
    """A Unix socket that answers one launcher as the fork server does, with a ``sleep`` process as the "kernel"."""
    path = str(tmp_path / "fork.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    state: dict = {}

    def serve():
        conn, _ = listener.accept()
        msg, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
        state["request"] = json.loads(msg.decode())
        for fd in fds:
            os.close(fd)
        kernel = state["kernel"] = subprocess.Popen(["sleep", "30"])
        conn.sendall(json.dumps({"pid": kernel.pid}).encode() + b"\n")
        code = kernel.wait(20)  # as the server's waitpid: the exit status goes back to the launcher
        conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, state
    if "kernel" in state and state["kernel"].poll() is None:
        state["kernel"].kill()
    listener.close()


def _catches(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (Linux: the SigCgt mask of /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(mask >> (sig - 1) & 1)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads a process's signal handlers from /proc")
def test_the_launcher_forwards_sigterm_and_exits_with_the_kernels_status(stand_in_server, tmp_path):
    path, state = stand_in_server
    launcher = subprocess.Popen([sys.executable, "-m", "helpers.run.forkkernel", "--socket", path,
                                 "-f", str(tmp_path / "kernel-1.json")], env=dict(os.environ, PYTHONPATH=SRC))
    deadline = time.monotonic() + 20
    while "kernel" not in state and time.monotonic() < deadline:  # the launcher asked for its kernel
        time.sleep(0.01)
    assert state["request"]["launcher_pid"] == launcher.pid
    assert state["request"]["connection_file"] == str(tmp_path / "kernel-1.json")
    while not _catches(launcher.pid, signal.SIGTERM) and time.monotonic() < deadline:  # its handlers are in place
        time.sleep(0.01)
    launcher.send_signal(signal.SIGTERM)
    assert state["kernel"].wait(10) == -signal.SIGTERM  # the kernel got the launcher's SIGTERM
    assert launcher.wait(10) == 128 + signal.SIGTERM  # and the launcher ends as its kernel did
