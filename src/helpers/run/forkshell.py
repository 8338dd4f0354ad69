"""What a child of the fork server does to execute one notebook's cells without a Jupyter kernel.

Why: the run's papermill engine :class:`helpers.run.engines.ForkShellEngine` executes a report's cells in an
IPython shell forked from the fork server (:mod:`helpers.run.forkserver`), the process that has imported
the libraries and read the run's tables once. The same work in a forked Jupyter kernel costs, per report,
a launcher process (9.5 ms of CPU), the kernel application's start (about 30 ms: ZeroMQ sockets, the
heartbeat, the IO threads, the kernel's own shell), five messages per cell signed, sent, received,
parsed and validated on both sides (about 2.5 ms a cell in the kernel and as much in the run's process)
and the kernel's shutdown (``docs/kernels.md``, measured 2026-12-06). What a cell does, and what it
shows, is the same: the cell runs in IPython's ``InteractiveShell`` (the class the kernel's shell
extends), with the kernel's display machinery (``encode_images``, ``json_clean``), and its outputs reach
the notebook through nbclient's own message handling.

The child talks to the run's process over the Unix socket it was forked for, in frames (:func:`send`,
:func:`receive`): a request ``{"code": ..., "cell_id": ...}`` per code cell, answered by
``{"messages": [...], "reply": {...}}``, where ``messages`` are the kernel messages the cell would have
published (``stream``, ``display_data``, ``update_display_data``, ``execute_result``, ``clear_output``,
``error``) and ``reply`` the content of its ``execute_reply``. An empty request (or the socket closed)
ends the child.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys

#: a frame's header: the length of its JSON body
_HEADER = struct.Struct("!I")


def send(sock: socket.socket, obj) -> None:
    """Send ``obj`` as one frame (its length, then its JSON, UTF-8)."""
    body = json.dumps(obj, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogateescape")
    sock.sendall(_HEADER.pack(len(body)) + body)


def receive(sock: socket.socket):
    """The next frame's object; ``None`` if the other side closed the socket."""
    head = _read(sock, _HEADER.size)
    if head is None:
        return None
    body = _read(sock, _HEADER.unpack(head)[0])
    if body is None:
        return None
    return json.loads(body.decode("utf-8", "surrogateescape"))


def _read(sock: socket.socket, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class _Messages:
    """The messages a cell publishes, in order (what the kernel would send on its IOPub socket)."""

    def __init__(self):
        self.items: list[dict] = []

    def add(self, msg_type: str, content: dict) -> None:
        self.items.append({"msg_type": msg_type, "content": content})

    def take(self) -> list[dict]:
        items, self.items = self.items, []
        return items


class _Stream:
    """``sys.stdout`` or ``sys.stderr`` of the shell: text kept until flushed into a ``stream`` message,
    as the kernel's ``OutStream`` does (flushed before a display, a traceback and at the cell's end)."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name: str, messages: _Messages):
        self.name, self._messages = name, messages
        self._parts: list[str] = []

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            self._parts.append(text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._parts:
            text, self._parts = "".join(self._parts), []
            self._messages.add("stream", {"name": self.name, "text": text})

    def isatty(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:  # what C code writing to the stream gets: the run's kernels.log
        return 1 if self.name == "stdout" else 2


def _flush_streams() -> None:
    sys.stdout.flush()
    sys.stderr.flush()


def make_shell(messages: _Messages):
    """An IPython shell whose displays, results and tracebacks become kernel messages in ``messages``
    (encoded as ipykernel encodes them), with no input history (as the run's kernels: ``kernel_config``)."""
    from ipykernel.compiler import XCachingCompiler
    from ipykernel.jsonutil import encode_images, json_clean
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class _Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            _flush_streams()
            self._validate_data(data, metadata)
            content = {"data": encode_images(data), "metadata": metadata or {}, "transient": transient or {}}
            messages.add("update_display_data" if update else "display_data", json_clean(content))

        def clear_output(self, wait=False):
            _flush_streams()
            messages.add("clear_output", {"wait": bool(wait)})

    class _Hook(DisplayHook):
        def start_displayhook(self):
            self.msg = {"data": {}, "metadata": {}}

        def write_output_prompt(self):
            self.msg["execution_count"] = self.prompt_count

        def write_format_data(self, format_dict, md_dict=None):
            self.msg["data"] = json_clean(encode_images(format_dict))
            self.msg["metadata"] = md_dict

        def finish_displayhook(self):
            _flush_streams()
            if self.msg and self.msg["data"]:
                messages.add("execute_result", self.msg)
            self.msg = None

    class _Shell(InteractiveShell):
        # as ipykernel's ZMQInteractiveShell names its own
        displayhook_class = Type(_Hook)
        display_pub_class = Type(_Publisher)
        compiler_class = Type(XCachingCompiler)  # cells named as in a kernel (warnings, tracebacks)
        last_error: dict | None = None

        def enable_gui(self, gui=None):
            # what %matplotlib inline asks of the shell (ipykernel's shell does it with its event loops): a report
            # has no window to integrate with, so the inline backend, or none, only
            if gui not in (None, "inline"):
                raise ValueError(f"a report has no GUI event loop: %gui {gui} is not available (use inline)")

        def _showtraceback(self, etype, evalue, stb):
            _flush_streams()
            self.last_error = {"traceback": stb, "ename": str(etype.__name__), "evalue": str(evalue)}
            messages.add("error", dict(self.last_error))

    # the kernel's shell pipes `!command` output into the cell's stream, not the process's stdout
    _Shell.system = InteractiveShell.system_piped  # type: ignore[assignment]
    config = Config()
    config.HistoryManager.enabled = False
    return _Shell.instance(config=config)


#: the shell the fork server made before forking (:func:`prepare`), with its messages: each child its own copy
_PREPARED: tuple[_Messages, object] | None = None


def prepare() -> None:
    """Make the shell now, in the fork server, so that each forked child starts with it made. IPython's input
    history is off (its database then is a stand-in, no SQLite connection to share across forks)."""
    global _PREPARED
    messages = _Messages()
    _PREPARED = (messages, make_shell(messages))


def _no_stdin(prompt: object = "") -> str:
    from IPython.core.error import StdinNotImplementedError

    raise StdinNotImplementedError("input() is not available: a report runs without a person to answer it")


def execute(shell, messages: _Messages, code: str, cell_id: str | None) -> dict:
    """Run one cell's ``code``; its messages and its ``execute_reply`` content (as ipykernel's ``do_execute``)."""
    shell.last_error = None
    try:
        result = shell.run_cell(code, store_history=True, silent=False, cell_id=cell_id)
    except KeyboardInterrupt:  # between statements, outside IPython's own handling
        shell.showtraceback()
        result = None
    _flush_streams()
    count = shell.execution_count - 1
    if result is not None and result.success:
        reply = {"status": "ok", "execution_count": count, "user_expressions": {}, "payload": []}
    else:
        err = shell.last_error or {"traceback": [], "ename": "UnknownError", "evalue": ""}
        reply = {"status": "error", "execution_count": count, **err}
    return {"messages": messages.take(), "reply": reply}


def become_shell(conn: socket.socket, listener: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: execute the cells the run's process sends on ``conn`` until it sends an empty
    request or closes the socket (never returns: the child exits).

    Parameters
    ----------
    conn, listener : socket.socket
        The run's connection (kept) and the server's listening socket (closed).
    request : dict
        ``cwd`` and ``env`` of the notebook's execution.
    fds : list of int
        Where the process's own stdout and stderr go (the run's ``kernels.log``): what C code writes.
    """
    from helpers.run.forkchild import take_over

    take_over(listener, request, [os.open(os.devnull, os.O_RDONLY), *fds])  # no stdin: input() is refused anyway
    code = 0
    try:
        if _PREPARED is not None:
            messages, shell = _PREPARED
        else:
            messages = _Messages()
            shell = make_shell(messages)
        sys.stdout, sys.stderr = _Stream("stdout", messages), _Stream("stderr", messages)
        import builtins

        builtins.input = _no_stdin
        while True:
            cell = receive(conn)
            if not cell:
                break
            send(conn, execute(shell, messages, cell["code"], cell.get("cell_id")))
    except BaseException:  # noqa: BLE001 - report and exit non-zero: the run sees a dead process
        import traceback

        sys.stderr = sys.__stderr__
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)
