"""Jupyter kernels reused across notebooks: one per worker thread, its namespace reset between.

Starting a kernel and importing pandas and Altair in it costs about a second; a chapter's own
work is a fraction of that. Each worker thread keeps its kernel and hands it to papermill
(which accepts a kernel manager). Every notebook is run with :func:`with_reset` first, a cell
that clears the namespace with ``%reset -f``, so a notebook never sees another's variables; the
runner removes that cell from the executed copy. A kernel that ran a failing notebook is shut
down rather than reused.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

from gpufleet.build.execution import KERNEL, RESET_TAG


def with_reset(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with a first cell that clears the kernel's namespace, tagged for removal."""
    reset = nbformat.v4.new_code_cell("%reset -f")
    reset.metadata["tags"] = [RESET_TAG]
    reset.pop("id", None)
    notebook.cells.insert(0, reset)
    return notebook


class ReadyClient(AsyncKernelClient):
    """A kernel client that is ready as soon as the kernel is.

    papermill (through nbclient) opens a new client for every notebook and waits until the
    kernel answers; jupyter_client's own wait then listens for 0.2 s of silence on the output
    channel, twice, to be sure it is connected: most of a small notebook's overhead on a kernel
    already running. This client is sure as soon as it has seen, on the output channel, the
    kernel go idle after its own request, which proves the same. Output from anything earlier
    is ignored by nbclient, which matches every message to its request.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            request = self.kernel_info()
            if await self._answered(request) and await self._went_idle(request):
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    async def _answered(self, request: str) -> bool:
        try:
            while True:
                reply = await self.shell_channel.get_msg(timeout=1)
                if reply["parent_header"].get("msg_id") == request:
                    self._handle_kernel_info_reply(reply)
                    return True
        except Empty:
            return False

    async def _went_idle(self, request: str) -> bool:
        try:
            while True:
                message = await self.iopub_channel.get_msg(timeout=0.2)
                if (
                    message["parent_header"].get("msg_id") == request
                    and message["msg_type"] == "status"
                    and message["content"]["execution_state"] == "idle"
                ):
                    return True
        except Empty:  # not connected yet: ask again
            return False


class KernelPool:
    def __init__(self, log: Path) -> None:
        """A pool whose kernels write their own messages to ``log`` (emptied here)."""
        self._log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("", encoding="utf-8")
        self._local = threading.local()
        self._managers: list[AsyncKernelManager] = []
        self._lock = threading.Lock()
        #: How long each kernel took to start, in seconds (for ``gpufleet run --timings``).
        self.start_seconds: list[float] = []

    def acquire(self, cwd: str) -> AsyncKernelManager:
        """This thread's kernel manager, its kernel started in ``cwd`` on first use.

        The kernel's own messages (such as its notice that it talks over local TCP) go to the
        pool's log rather than the run's output; a notebook's errors are in the notebook.
        """
        manager = getattr(self._local, "manager", None)
        if manager is None:
            started = time.perf_counter()
            manager = AsyncKernelManager(
                kernel_name=KERNEL, client_class="gpufleet.build.kernels.ReadyClient"
            )
            with self._log.open("a", encoding="utf-8") as stream:
                asyncio.run(manager.start_kernel(cwd=cwd, stdout=stream, stderr=stream))
            self._local.manager = manager
            with self._lock:
                self._managers.append(manager)
                self.start_seconds.append(time.perf_counter() - started)
        return manager

    def discard(self) -> None:
        """Shut down this thread's kernel (after a failure); the next notebook gets a new one."""
        manager = getattr(self._local, "manager", None)
        self._local.manager = None
        if manager is not None:
            _shutdown(manager)

    def close(self, *, wait: bool = True) -> None:
        """Shut every kernel down; with ``wait=False`` in a background thread."""
        with self._lock:
            managers, self._managers = self._managers, []

        def stop() -> None:
            for manager in managers:
                _shutdown(manager)

        if wait:
            stop()
        else:
            threading.Thread(target=stop, name="gpufleet-kernels-stop").start()


def _shutdown(manager: AsyncKernelManager) -> None:
    if manager.has_kernel:
        try:
            asyncio.run(manager.shutdown_kernel(now=True))
        except Exception:  # a kernel that already died has nothing left to stop
            pass
