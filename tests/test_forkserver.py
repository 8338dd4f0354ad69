"""The fork server (helpers.run.forkserver, forkkernel, stale_kernels), fast: the launcher's fallback to an
ordinary kernel and its signal forwarding against a stand-in server; the kernel manager without a server; the
real ``serve`` loop with nothing preloaded and a stand-in kernel app for the orphan rules; the folders a
``kill -9`` leaves in TMPDIR."""

from __future__ import annotations

import ast
import json
import os
import shutil
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
        state["request"] = ast.literal_eval(msg.decode("ascii"))
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


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads a process's signal handlers from /proc")
def test_the_launcher_forwards_sigint_too(stand_in_server, tmp_path):
    path, state = stand_in_server
    launcher = subprocess.Popen([sys.executable, "-m", "helpers.run.forkkernel", "--socket", path,
                                 "-f", str(tmp_path / "kernel-1.json")], env=dict(os.environ, PYTHONPATH=SRC))
    deadline = time.monotonic() + 20
    # Python itself catches SIGINT from its start (KeyboardInterrupt): wait for SIGUSR2, the last signal the
    # launcher sets its forwarding handler for
    while ("kernel" not in state or not _catches(launcher.pid, signal.SIGUSR2)) and time.monotonic() < deadline:
        time.sleep(0.01)
    launcher.send_signal(signal.SIGINT)  # what jupyter_client's interrupt_kernel sends
    assert state["kernel"].wait(10) == -signal.SIGINT
    assert launcher.wait(10) == 128 + signal.SIGINT


def test_a_server_that_answers_nothing_makes_the_launcher_exec_an_ordinary_kernel(tmp_path, monkeypatch):
    """The server accepts but closes without naming a kernel (it died mid-request): still a report, only slower."""
    path = str(tmp_path / "mute.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def hang_up():
        conn, _ = listener.accept()
        _msg, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
        for fd in fds:
            os.close(fd)
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    execs = []
    monkeypatch.setattr(os, "execv", lambda p, args: execs.append(args))
    forkkernel.main(["--socket", path, "-f", "kernel-2.json"])
    thread.join(5)
    listener.close()
    assert execs == [[sys.executable, "-m", "ipykernel_launcher", "-f", "kernel-2.json"]]


def test_the_kernel_manager_starts_an_ordinary_kernel_without_a_server(tmp_path, monkeypatch):
    from helpers.run.forkserver import SOCKET_ENV, ForkKernelManager

    monkeypatch.delenv(SOCKET_ENV, raising=False)
    km = ForkKernelManager(kernel_name="python3")
    cmd = km.format_kernel_cmd()
    assert "ipykernel_launcher" in cmd and not any("forkkernel" in part for part in cmd)
    assert km.transport == "ipc"  # still Unix sockets, not TCP ports (papermill #511)
    sock = tmp_path / "run" / "ipeval-fork-1.sock"
    monkeypatch.setenv(SOCKET_ENV, str(sock))
    km = ForkKernelManager(kernel_name="python3")
    launcher = str(Path(forkkernel.__file__))  # run as a file, isolated, without site: it needs the stdlib only
    assert km.format_kernel_cmd() == [sys.executable, "-I", "-S", launcher, "--socket", str(sock),
                                      "-f", km.connection_file]
    # the kernel's files in the run's private folder, which the run removes however it ends
    assert Path(km.connection_file).parent == sock.parent and Path(km.ip).parent == sock.parent


# --------------------------------------------------------------------------- orphans, with a stub server

#: the real fork server (``serve``) with nothing preloaded and a stand-in kernel app that writes its pid
#: beside its connection file and sleeps: the server's fork, reaping and orphan rules, in about a second
STUB_SERVER = """
import os, sys, time, types
from helpers.run import forkserver

class App:
    @classmethod
    def instance(cls, config):
        app = cls()
        app.connection_file = config.IPKernelApp.connection_file
        return app

    def initialize(self, argv):
        pass

    def start(self):
        with open(self.connection_file + ".pid", "w") as f:
            f.write(str(os.getpid()))
        while True:
            time.sleep(1)

module = types.ModuleType("ipykernel.kernelapp")
module.IPKernelApp = App
sys.modules["ipykernel.kernelapp"] = module
forkserver.PRELOAD = ()
forkserver.serve(sys.argv[1])
"""

#: a stand-in run: starts the stub server as its child (so the server's parent is the run), says its pid
STUB_RUN = """
import subprocess, sys, time
server = subprocess.Popen([sys.executable, sys.argv[1], sys.argv[2]], stdout=subprocess.PIPE, text=True)
assert server.stdout.readline().strip() == "ready"
print(server.pid, flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (nobody reaped it yet: it runs nothing)."""
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait(predicate, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _launch(sock: str, connection_file: Path) -> tuple[subprocess.Popen, int]:
    """A launcher asking the server for a kernel; with the forked kernel's pid once it runs."""
    launcher = subprocess.Popen([sys.executable, "-m", "helpers.run.forkkernel", "--socket", sock,
                                 "-f", str(connection_file)], env=dict(os.environ, PYTHONPATH=SRC))
    pid_file = Path(str(connection_file) + ".pid")
    assert _wait(lambda: pid_file.is_file() and pid_file.read_text().strip()), "no kernel was forked"
    return launcher, int(pid_file.read_text())


@pytest.fixture
def stub(tmp_path):
    script = tmp_path / "stub_server.py"
    script.write_text(STUB_SERVER)
    started: list[subprocess.Popen] = []
    pids: list[int] = []  # processes that are not our children (forked kernels, the run's server): end them too
    yield script, started, pids
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    import psutil

    for pid in pids:  # only if still the stub's (a forked kernel has the server's command line), never a reused pid
        try:
            proc = psutil.Process(pid)
            if str(script) in proc.cmdline():
                proc.kill()
        except psutil.Error:
            pass


def test_a_kernel_whose_launcher_is_killed_exits(stub, tmp_path):
    script, started, pids = stub
    sock = str(tmp_path / "fork.sock")
    server = subprocess.Popen([sys.executable, str(script), sock], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=SRC))
    started.append(server)
    assert server.stdout and server.stdout.readline().strip() == "ready"
    launcher, kernel = _launch(sock, tmp_path / "kernel-1.json")
    started.append(launcher)
    pids.append(kernel)
    assert not _gone(kernel)
    launcher.kill()  # jupyter_client's hard kill reaches the launcher, not the forked kernel
    launcher.wait(5)
    assert _wait(lambda: _gone(kernel), timeout=10)  # the kernel's watch thread checks every 0.5 s
    assert server.poll() is None  # the server goes on serving the run's other reports
    launcher2, kernel2 = _launch(sock, tmp_path / "kernel-2.json")
    started.append(launcher2)
    pids.append(kernel2)
    assert kernel2 != kernel and not _gone(kernel2)


def test_when_the_run_is_killed_the_server_kills_its_kernels_and_stops(stub, tmp_path):
    script, started, pids = stub
    sock = str(tmp_path / "fork.sock")
    run_script = tmp_path / "stub_run.py"
    run_script.write_text(STUB_RUN)
    run = subprocess.Popen([sys.executable, str(run_script), str(script), sock], stdout=subprocess.PIPE, text=True,
                           env=dict(os.environ, PYTHONPATH=SRC))
    started.append(run)
    assert run.stdout
    server = int(run.stdout.readline())
    pids.append(server)
    launcher, kernel = _launch(sock, tmp_path / "kernel-1.json")
    started.append(launcher)
    pids.append(kernel)
    run.kill()  # kill -9 of the run alone: nothing of it runs any cleanup
    run.wait(5)
    assert _wait(lambda: _gone(server) and _gone(kernel), timeout=10)  # the server checks its parent every 50 ms
    assert not Path(sock).exists()  # and removed its socket on the way out
    assert launcher.wait(10) == 1  # the launcher lost its server: jupyter_client sees a dead kernel


# --------------------------------------------------------------------------- what a kill -9 leaves in TMPDIR

def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _left_behind(tmpdir: Path, name: str, pid: int) -> Path:
    """A run folder as a killed run leaves it: the server's socket file and a kernel's connection file with its key."""
    folder = tmpdir / name
    folder.mkdir(mode=0o700)
    (folder / f"ipeval-fork-{pid}.sock").write_text("")
    (folder / "ipeval-k-0123456789ab.json").write_text('{"key": "secret"}')
    return folder


def test_a_later_run_removes_the_folders_of_killed_runs_it_proves_dead(tmp_path):
    from helpers.run.forkserver import ForkServer
    from helpers.run.stale_kernels import remove_stale_run_folders

    dead = _dead_pid()
    alive = subprocess.Popen(["sleep", "30"])
    try:
        killed = _left_behind(tmp_path, f"ipeval-run-{dead}-abcd1234", dead)
        older = _left_behind(tmp_path, "ipeval-run-efgh5678", dead)  # made before the pid was in the name
        running = _left_behind(tmp_path, f"ipeval-run-{alive.pid}-ijkl9012", alive.pid)
        reused = _left_behind(tmp_path, f"ipeval-run-{alive.pid}-mnop3456", alive.pid)
        os.utime(reused, (time.time() - 3600, time.time() - 3600))  # last changed an hour before `sleep` started
        unknown = tmp_path / "ipeval-run-qrst7890"  # no pid to check: left alone
        unknown.mkdir()
        assert sorted(remove_stale_run_folders(tmp_path)) == sorted([killed, older, reused])
        assert running.is_dir() and unknown.is_dir() and not killed.exists()

        dead2 = _dead_pid()
        again = _left_behind(tmp_path, f"ipeval-run-{dead2}-uvwx1234", dead2)
        server = ForkServer(tmp_path)  # the next run's fork server cleans up before it makes its own folder
        try:
            assert not again.exists() and running.is_dir()
            assert Path(server.folder).name.startswith(f"ipeval-run-{os.getpid()}-")
            assert remove_stale_run_folders(tmp_path) == []  # this run's own folder is never stale
        finally:
            import shutil

            shutil.rmtree(server.folder)
    finally:
        alive.kill()
        alive.wait()


def test_a_fork_server_that_does_not_start_leaves_ordinary_kernels(tmp_path, monkeypatch, caplog):
    """A server that dies before ``ready`` (say, a preloaded module fails to import) is no failed run: the
    kernel manager then starts ordinary kernels, and the run's folder is still removed."""
    from helpers.run import forkserver

    monkeypatch.delenv(forkserver.SOCKET_ENV, raising=False)
    monkeypatch.setattr(forkserver.sys, "executable", shutil.which("false"))  # exits at once, says nothing
    with caplog.at_level("WARNING", logger="ipeval.run"), forkserver.ForkServer(tmp_path) as server:
        assert forkserver.SOCKET_ENV not in os.environ
        monkeypatch.undo()  # the real interpreter again, for the kernel command
        cmd = forkserver.ForkKernelManager(kernel_name="python3").format_kernel_cmd()
        assert "ipykernel_launcher" in cmd and not any("forkkernel" in part for part in cmd)
    assert "did not start: reports run in ordinary kernels" in caplog.text
    assert not Path(server.folder).exists()


def test_a_fork_server_launched_early_reads_the_run_only_when_told_and_ends_unused(tmp_path, monkeypatch):
    """``launch`` starts the server while the run still writes its tables; ``__enter__`` tells it to read
    them ("go" on its stdin) and waits for ``ready``; a server launched but never entered (no report
    to run, a run stopped before its reports) is ended, its folder removed."""
    from helpers.run import forkserver

    monkeypatch.delenv(forkserver.SOCKET_ENV, raising=False)
    said = tmp_path / "said.txt"
    stand_in = tmp_path / "server.sh"  # what the server does with its stdin, without its imports
    stand_in.write_text(f'#!/bin/sh\nread line\necho "$line $@" > {said}\necho ready\nsleep 30\n', encoding="utf-8")
    stand_in.chmod(0o755)
    monkeypatch.setattr(forkserver.sys, "executable", str(stand_in))
    server = forkserver.ForkServer(tmp_path, run_dir=tmp_path / "run").launch()
    time.sleep(0.2)
    assert server.proc.poll() is None and not said.exists()  # waiting for the run
    with server:
        assert said.read_text(encoding="utf-8").split()[0] == "go"
        assert str(tmp_path / "run") in said.read_text(encoding="utf-8") and "wait" in said.read_text(encoding="utf-8")
        assert os.environ[forkserver.SOCKET_ENV] == server.path
    assert server.proc.poll() is not None and not Path(server.folder).exists()

    unused = forkserver.ForkServer(tmp_path).launch()
    unused.__exit__(None, None, None)
    assert unused.proc.poll() is not None and not Path(unused.folder).exists()


# --------------------------------------------------------------------------- the forked kernel's settings

def test_a_forked_kernel_gets_the_settings_of_the_launchers_command_line():
    """The Config a forked kernel starts with (``kernel_config``, no command line parsed) holds what
    ``ipykernel_launcher`` reads from ``-f FILE --IPKernelApp.parent_handle=PID --HistoryManager.enabled=False``."""
    from IPython.core.history import HistoryManager
    from ipykernel.kernelapp import IPKernelApp
    from traitlets.config.loader import DeferredConfigString

    from helpers.run.forkchild import kernel_config

    parsed = IPKernelApp()
    parsed.parse_command_line(["-f", "/tmp/k.json", "--IPKernelApp.parent_handle=4321",
                               "--HistoryManager.enabled=False"])
    config = kernel_config("/tmp/k.json", 4321)
    assert set(config) == set(parsed.cli_config) == {"IPKernelApp", "HistoryManager"}
    assert dict(config.IPKernelApp) == dict(parsed.cli_config.IPKernelApp) == {
        "connection_file": "/tmp/k.json", "parent_handle": 4321}
    enabled = parsed.cli_config.HistoryManager.enabled  # typed once HistoryManager reads it
    if isinstance(enabled, DeferredConfigString):
        enabled = enabled.get_value(HistoryManager.class_traits()["enabled"])
    assert enabled is False and config.HistoryManager.enabled is False
    # and an app built from it reads the same values as from the command line
    app = IPKernelApp(config=config)
    assert (app.connection_file, app.parent_handle) == (parsed.connection_file, parsed.parent_handle)


def test_the_launchers_request_reads_back_whole_and_it_reads_the_servers_lines():
    """The launcher sends its request as a Python literal and reads the server's lines without the json module
    (its import cost more than Python's start); the server reads the request as ``_accept`` does."""
    request = {"connection_file": "/tmp/ipeval-run-1/ipeval-k-a.json", "cwd": "/work/项目 \"x\"\\y", "launcher_pid": 4321,
               "env": {"JPY_SESSION_NAME": "a\tb\nc\r\x00\x1f\x7f\b\f", "IPEVAL_KERNEL_LOG": "/tmp/日志/k.log",
                       "IPEVAL_X": "\udcff\U0001f600é~ "}}
    sent = ascii(request).encode("ascii")  # what main() sends
    assert ast.literal_eval(sent.decode("ascii")) == request
    assert forkkernel._message(json.dumps({"pid": 123}).encode() + b"\n") == {"pid": 123}
    assert forkkernel._message(json.dumps({"exit": -15}).encode()) == {"exit": -15}
    for bad in (b"", b"pid 1\n", b'{"pid": "x"}\n', b"{pid: 1}\n"):
        with pytest.raises(ValueError):
            forkkernel._message(bad)
