"""The client side of a report kernel's start: waiting for a kernel until it is ready, without idle waits.

Split from :mod:`helpers.run.forkserver` (whose :class:`~helpers.run.forkserver.ForkKernelManager` uses it) to keep
that module short; ``docs/kernels.md`` says which of jupyter_client's private methods it relies on.
"""

from __future__ import annotations

import time
from queue import Empty

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from traitlets import default


class KernelDied(RuntimeError):
    """A kernel that exited before it answered ``kernel_info``: retried like a kernel that dies
    mid-cell (:func:`helpers.run.jobs.run_job` retries by this type, not by the message)."""


class KernelStartTimeout(RuntimeError):
    """A kernel that did not answer ``kernel_info`` within the start timeout (not retried)."""


class ReadyKernelClient(AsyncKernelClient):
    """An async kernel client whose ``wait_for_ready`` returns as soon as the kernel is ready.

    jupyter_client's own ``wait_for_ready`` ends by reading IOPub until nothing has arrived for
    0.2 s, so every kernel costs at least 0.2 s of idle waiting, 20 s over a quarter's reports.
    Here the end is an event, not a silence: the kernel publishes ``status: idle`` for our
    ``kernel_info`` request once it has replied, and IOPub messages arrive in order, so when that
    message arrives IOPub is connected and every message before it has been read.
    """

    @default("context")
    def _context_default(self) -> zmq.asyncio.Context:
        # the client connects to the kernel's IPC sockets before the kernel has bound them (the launcher
        # is still starting): ZeroMQ then retries after RECONNECT_IVL, 100 ms by default, so a kernel's
        # first answer waited for the next multiple of 100 ms. Retry every 5 ms instead (the default of
        # the client's own ZeroMQ context, which its channels' sockets are made from).
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.RECONNECT_IVL, 5)
        return context

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        sent: set[str] = set()
        while True:
            sent.add(self.kernel_info())
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                # IOPub may still be joining (ZeroMQ's slow joiner) and our idle message lost:
                # wait a moment for it; if it does not come, ask again, as jupyter_client does
                idle_by = time.monotonic() + 0.1
                while time.monotonic() < idle_by:
                    try:
                        msg = await self.iopub_channel.get_msg(timeout=0.05)
                    except Empty:
                        continue
                    if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                            and msg["parent_header"].get("msg_id") in sent):
                        self._handle_kernel_info_reply(reply)
                        return
                    if msg["msg_type"] == "iopub_welcome":
                        # ipykernel 7 greets each IOPub subscriber as it joins: from here on nothing
                        # published is lost, so ask once more and wait for that idle instead of
                        # the 0.1 s above. The idle of the first request was lost for 5 kernels of
                        # 14 (2026-12-06, one report at a time), 0.1 s of each one's start.
                        sent.add(self.kernel_info())
                        idle_by = time.monotonic() + 0.1
            if not await self._async_is_alive():
                raise KernelDied("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise KernelStartTimeout(f"Kernel didn't respond in {timeout:.0f} seconds")
