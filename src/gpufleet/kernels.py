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

import nbformat
from jupyter_client.manager import AsyncKernelManager

KERNEL = "python3"


RESET_TAG = "gpufleet-reset"


def with_reset(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with a first cell that clears the kernel's namespace, tagged for removal."""
    reset = nbformat.v4.new_code_cell("%reset -f")
    reset.metadata["tags"] = [RESET_TAG]
    reset.pop("id", None)
    notebook.cells.insert(0, reset)
    return notebook


class KernelPool:
    def __init__(self) -> None:
        self._local = threading.local()
        self._managers: list[AsyncKernelManager] = []
        self._lock = threading.Lock()

    def acquire(self) -> AsyncKernelManager:
        """This thread's kernel manager (papermill starts its kernel on first use)."""
        manager = getattr(self._local, "manager", None)
        if manager is None:
            manager = AsyncKernelManager(kernel_name=KERNEL)
            self._local.manager = manager
            with self._lock:
                self._managers.append(manager)
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
