"""Running tasks in forks of a process that has imported the modules they need.

:class:`Forks` forks one worker at once, before this process starts any thread (a fork copies
only the thread that calls it, so forking a process with threads can copy a lock another one
holds). The worker imports the given modules, while this process goes on with its own work,
then runs each task it is sent in a fresh fork of itself, up to ``jobs`` at a time: a task
starts with the modules imported and with nothing any other task did, so every notebook runs
in the same starting state whichever ran before it. A task's result, or the error it raised,
comes back through a pipe.

The worker leads its own process group: stopping the run (Ctrl-C, SIGTERM, an error) kills it
and every task it runs, and a worker whose parent has gone stops when its pipe closes.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any


class TaskError(Exception):
    """What a task raises for a failure it has described: its message is reported as it is."""


def available() -> bool:
    """Whether this platform can fork (not Windows)."""
    return hasattr(os, "fork")


#: A function, or where to find one once the worker has imported its modules: ``"module:name"``
#: (so that this process need not import what the tasks need before forking).
Function = Callable[..., Any] | str


@contextlib.contextmanager
def importing() -> Iterator[None]:
    """The garbage collector off while a block imports modules, then back as it was.

    Importing a hundred packages makes millions of objects that live as long as the process:
    the collector's passes over them free nothing and took about a tenth of the import time.
    The switch is the whole process's: a thread that imports (the build's, while the notebooks
    run) turns the collector off for the others too, for that second.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def resolve(function: Function) -> Callable[..., Any]:
    """The function itself, importing its module if it is named ``"module:name"``."""
    if callable(function):
        return function
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


class Forks:
    """A worker forked from this process that imports ``modules``, runs ``prepare()`` and then
    ``task(payload)`` for each payload it is given, each in a fork of itself.

    ``task`` and ``prepare`` are functions or ``"module:name"`` (found in the worker). A payload
    is anything that pickles. Use as a context manager: :meth:`run` gives the tasks out,
    :meth:`close` stops the worker (and kills it, with its tasks, when the block raised).
    """

    def __init__(
        self,
        task: Function,
        *,
        modules: Iterable[str] = (),
        prepare: Function | None = None,
    ) -> None:
        #: How long the worker took to import ``modules`` and prepare, in seconds (once ready).
        self.import_seconds: float | None = None
        ours, theirs = Pipe()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        self.pid = os.fork()
        if self.pid == 0:
            ours.close()
            _serve(theirs, task, tuple(modules), prepare)
        theirs.close()
        self._connection: Connection | None = ours

    def __enter__(self) -> Forks:
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.close(kill=error is not None)

    def ready(self) -> float:
        """Wait until the worker has imported its modules; how long that took, in seconds."""
        if self.import_seconds is None:
            message = self._receive()
            if message is None or message[0] != "ready":
                raise TaskError(
                    f"the worker could not start: {message[1] if message else 'it stopped'}"
                )
            self.import_seconds = message[1]
        return self.import_seconds

    def run(
        self,
        payloads: Sequence[Any],
        done: Callable[[int, Any], None],
        failed: Callable[[int, str], None],
        *,
        jobs: int = 1,
    ) -> None:
        """Run a task for every payload, ``jobs`` at a time; ``done(index, result)`` or
        ``failed(index, why)`` is called in this process as each ends, in the order they end
        (``index``: the payload's position)."""
        self.ready()
        waiting = deque(enumerate(payloads))
        running: set[int] = set()
        while waiting or running:
            while waiting and len(running) < max(1, jobs):
                index, payload = waiting.popleft()
                self._connection.send((index, payload))
                running.add(index)
            message = self._receive()
            if message is None:  # the worker has gone: nothing more will run
                for index in sorted(running) + [index for index, _ in waiting]:
                    failed(index, "the process running the tasks stopped")
                return
            index, outcome, value = message
            running.discard(index)
            (done if outcome == "done" else failed)(index, value)

    def _receive(self) -> tuple | None:
        try:
            return self._connection.recv()
        except (EOFError, OSError):
            return None

    def close(self, *, kill: bool = False) -> None:
        """Stop the worker: ask it to, or with ``kill``, kill it and its tasks."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if kill:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        else:
            with contextlib.suppress(OSError):
                connection.send(None)
        connection.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _serve(
    parent: Connection, task: Function, modules: tuple[str, ...], prepare: Function | None
) -> None:
    """The worker: import, then fork a process for each task sent, and report each outcome."""
    code = 0
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops
        started = time.perf_counter()
        try:
            with importing():
                for name in modules:
                    importlib.import_module(name)
                task = resolve(task)
                if prepare is not None:
                    resolve(prepare)()
        except Exception as error:  # noqa: BLE001 - reported to the parent
            parent.send(("failed", _named(error)))
            raise
        gc.freeze()  # what is imported lives as long as the process: leave its pages shared
        parent.send(("ready", time.perf_counter() - started))
        running: dict[Connection, tuple[int, int]] = {}  # a task's pipe: its process, its index
        accepting = True
        while accepting or running:
            for ready in wait([parent, *running] if accepting else list(running)):
                if ready is parent:
                    try:
                        message = parent.recv()
                    except EOFError:  # the parent has gone
                        message = None
                    if message is None:
                        accepting = False
                    else:
                        index, payload = message
                        reader, pid = _start(task, payload, parent)
                        running[reader] = (pid, index)
                else:
                    pid, index = running.pop(ready)
                    parent.send((index, *_outcome(ready, pid)))
    except BaseException:  # noqa: BLE001 - a worker never returns into the parent's code
        code = 1
    finally:
        os._exit(code)


def _start(task: Callable[[Any], Any], payload: Any, parent: Connection) -> tuple[Connection, int]:
    """Fork a process that runs ``task(payload)`` and sends its outcome down a pipe of its own."""
    reader, writer = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the task's own process
        reader.close()
        parent.close()
        code = 0
        try:
            try:
                outcome: tuple[str, Any] = ("done", task(payload))
            except Exception as error:  # noqa: BLE001 - reported to the parent, by name
                outcome = ("failed", str(error) if isinstance(error, TaskError) else _named(error))
            writer.send(outcome)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)
    writer.close()
    return reader, pid


def _outcome(reader: Connection, pid: int) -> tuple[str, Any]:
    """What a task's process sent, once it has ended; a failure if it sent nothing."""
    try:
        outcome = reader.recv()
    except EOFError:
        outcome = None
    reader.close()
    _, status = os.waitpid(pid, 0)
    if outcome is None:
        return "failed", f"the process running it ended without a result ({_status(status)})"
    return outcome


def _named(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
