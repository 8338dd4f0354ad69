"""The kernel launcher started by :class:`helpers.run.forkserver.ForkKernelManager` (standard library only: it runs
as `python -I -S forkkernel.py`, without site-packages).

Asks the fork server for a kernel on the given connection file, forwards signals to it, and exits
with its exit code. Falls back to a normal ``ipykernel_launcher`` if the server cannot be reached.
"""

import json
import os
import signal
import socket
import sys


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    sock_path = argv[argv.index("--socket") + 1]
    connection_file = argv[argv.index("-f") + 1]
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock_path)
        request = {"connection_file": os.path.abspath(connection_file), "cwd": os.getcwd(),
                   "launcher_pid": os.getpid(),
                   "env": {k: v for k, v in os.environ.items() if k.startswith(("JPY_", "PYDEVD", "IPEVAL_"))}}
        fds = [0, 1, 2]
        log_path = os.environ.get("IPEVAL_KERNEL_LOG")
        if log_path:  # the kernel's own messages go to the run's kernels.log, not the console of cron
            log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            fds = [0, log_fd, log_fd]
        socket.send_fds(s, [json.dumps(request).encode()], fds)
        f = s.makefile("r")
        child = int(json.loads(f.readline())["pid"])
    except (OSError, ValueError, KeyError):
        os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file])
        return

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except OSError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, forward)
    code = 1
    while True:
        try:
            line = f.readline()
        except InterruptedError:
            continue
        if not line:
            break
        msg = json.loads(line)
        if "exit" in msg:
            code = msg["exit"]
            break
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
