"""The kernel launcher started by :class:`helpers.run.forkserver.ForkKernelManager` (standard library only: it runs
as `python -I -S forkkernel.py`, without site-packages).

Asks the fork server for a kernel on the given connection file, forwards signals to it, and exits
with its exit code. Falls back to a normal ``ipykernel_launcher`` if the server cannot be reached.

It imports nothing but ``os`` and the C modules under ``socket`` and ``signal`` (``_socket``, ``_signal``):
``json`` (with ``re``, ``enum``, ``collections``), ``socket`` and ``signal`` (with ``enum``, ``selectors``) and
``array`` cost more CPU to import than the interpreter's own start, and a quarter starts a launcher per
report: 15.7 -> 8 ms of CPU a start (``python -I -S``, 30 starts each, 2026-12-06). So its request goes as a
Python literal (``ascii()``, read by the server with ``ast.literal_eval``) and it reads the server's one-line
JSON answers of integers itself (:func:`_message`).
"""

import _signal
import _socket
import os
import sys

#: the signals forwarded to the kernel (jupyter_client interrupts with SIGINT and ends with SIGTERM)
FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGQUIT, _signal.SIGHUP, _signal.SIGUSR1, _signal.SIGUSR2)


def _message(line: bytes) -> dict:
    """One of the server's lines, ``{"pid": 123}`` or ``{"exit": 0}`` (a JSON object of integers)."""
    text = line.decode().strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"not a message of the fork server: {text!r}")
    out = {}
    for part in text[1:-1].split(","):
        key, colon, value = part.partition(":")
        key = key.strip()
        if not colon or len(key) < 2 or key[0] != '"' or key[-1] != '"':
            raise ValueError(f"not a message of the fork server: {text!r}")
        out[key[1:-1]] = int(value)
    return out


class _Lines:
    """Lines read from a socket (``socket.makefile().readline()`` without the ``io`` layers)."""

    def __init__(self, sock):
        self.sock, self.buffer = sock, b""

    def readline(self) -> bytes:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                line, self.buffer = self.buffer, b""
                return line
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    sock_path = argv[argv.index("--socket") + 1]
    connection_file = argv[argv.index("-f") + 1]
    try:
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        s.connect(sock_path)
        request = {"connection_file": os.path.abspath(connection_file), "cwd": os.getcwd(),
                   "launcher_pid": os.getpid(),
                   "env": {k: v for k, v in os.environ.items() if k.startswith(("JPY_", "PYDEVD", "IPEVAL_"))}}
        fds = [0, 1, 2]
        log_path = os.environ.get("IPEVAL_KERNEL_LOG")
        if log_path:  # the kernel's own messages go to the run's kernels.log, not the console of cron
            log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            fds = [0, log_fd, log_fd]
        # socket.send_fds: the descriptors as an array of C ints in one SCM_RIGHTS message
        s.sendmsg([ascii(request).encode("ascii")],
                  [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds))])
        f = _Lines(s)
        child = int(_message(f.readline())["pid"])
    except (OSError, ValueError, KeyError):
        os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file])
        return

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except OSError:
            pass

    for sig in FORWARDED:
        _signal.signal(sig, forward)
    code = 1
    while True:
        try:
            line = f.readline()
        except InterruptedError:
            continue
        if not line:
            break
        msg = _message(line)
        if "exit" in msg:
            code = msg["exit"]
            break
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
