"""Running a notebook's cells in an IPython shell in this process, as a Jupyter kernel would.

A Jupyter kernel is a separate Python that has to start and import pandas, Altair and the
package before a notebook's first line runs: about a second and a half for work that takes a
fraction of that. :mod:`gpufleet.build.forks` instead imports them once and runs each notebook
in a fork of a process that already has them, with this module's papermill engine: the cells
run in an IPython shell whose outputs (streams, displays, results, errors) are written into the
notebook in the form a kernel's messages give them. Papermill still parameterizes the notebook,
records its progress and reports a failing cell, as it does with a kernel.

The shell is IPython's own, so a cell means what it means in a kernel (magics, ``display``,
the value of its last line); a test runs the chapters both ways and compares the notebooks.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from papermill.engines import Engine, papermill_engines
from traitlets.config import Config

#: The name papermill knows this engine by.
ENGINE = "gpufleet-in-process"


def _output(output_type: str, **fields: Any) -> nbformat.NotebookNode:
    """An output, as nbformat's ``new_output`` makes it but without checking it against the
    notebook schema each time (a chapter has hundreds; nbformat checks the whole notebook when
    papermill writes it)."""
    return nbformat.from_dict({"output_type": output_type, **fields})


class _Cell:
    """Where the outputs of the cell being run go."""

    outputs: list[nbformat.NotebookNode] = []
    execution_count: int | None = None

    @classmethod
    def start(cls, cell: nbformat.NotebookNode, execution_count: int) -> None:
        cell.outputs = []
        cell.execution_count = execution_count
        cls.outputs = cell.outputs
        cls.execution_count = execution_count

    @classmethod
    def add(cls, output: nbformat.NotebookNode) -> None:
        cls.outputs.append(output)


class _Stream:
    """``sys.stdout`` or ``sys.stderr`` while a cell runs: text becomes a stream output, one
    per run of writes to the same stream, as a kernel's buffered stream gives them."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text: str) -> int:
        if text:
            last = _Cell.outputs[-1] if _Cell.outputs else None
            if last is not None and last.output_type == "stream" and last.name == self.name:
                last.text += text
            else:
                _Cell.add(_output("stream", name=self.name, text=text))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return "utf-8"


class _Publisher(DisplayPublisher):
    """``display(...)`` in a cell: a display_data output."""

    def publish(  # noqa: PLR0913 - IPython's signature
        self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs
    ) -> None:
        output = _output("display_data", data=data, metadata=metadata or {})
        if transient:
            output.transient = transient
        _Cell.add(output)

    def clear_output(self, wait: bool = False) -> None:
        _Cell.outputs.clear()


class _ResultHook(DisplayHook):
    """The value of a cell's last line: an execute_result output."""

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict, md_dict=None) -> None:
        _Cell.add(
            _output(
                "execute_result",
                data=format_dict,
                metadata=md_dict or {},
                execution_count=_Cell.execution_count,
            )
        )

    def finish_displayhook(self) -> None:
        pass


class _Shell(InteractiveShell):
    """IPython's shell, its outputs going into the notebook and its history kept in memory."""

    display_pub_class = _Publisher
    displayhook_class = _ResultHook

    def _showtraceback(self, etype, evalue, stb) -> None:
        _Cell.add(
            _output(
                "error",
                ename=getattr(etype, "__name__", str(etype)),
                evalue=str(evalue),
                traceback=list(stb),
            )
        )


def shell() -> InteractiveShell:
    """This process's shell, made on first use (no history file, no history thread)."""
    if _Shell.initialized():
        return _Shell.instance()
    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    return _Shell.instance(config=config)


class _CellError(Exception):
    """A cell raised: its error output is in the notebook."""

    def __init__(self, ename: str, evalue: str) -> None:
        super().__init__(f"{ename}: {evalue}")
        self.ename, self.evalue = ename, evalue


class InProcessEngine(Engine):
    """A papermill engine that runs the cells in this process's IPython shell.

    Like papermill's own (nbclient) engine, it skips empty cells, stops at the first cell that
    raises, and records the language as the kernel would; papermill then marks the failing
    cell and raises, as it does for a kernel.
    """

    language_info: ClassVar[dict[str, Any]] = {
        # What IPython's kernel (ipykernel) reports for itself, in the same form.
        "name": "python",
        "version": sys.version.split()[0],
        "mimetype": "text/x-python",
        "codemirror_mode": {"name": "ipython", "version": sys.version_info[0]},
        "pygments_lexer": f"ipython{sys.version_info[0]}",
        "nbconvert_exporter": "python",
        "file_extension": ".py",
    }

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs) -> None:
        the_shell = shell()
        nb_man.nb.metadata["language_info"] = dict(cls.language_info)
        streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Stream("stdout"), _Stream("stderr")
        try:
            for index, cell in enumerate(nb_man.nb.cells):
                nb_man.cell_start(cell, index)
                try:
                    if cell.cell_type == "code" and cell.source.strip():
                        _run(the_shell, cell)
                except _CellError as error:
                    nb_man.cell_exception(cell, cell_index=index, exception=error)
                    break
                finally:
                    nb_man.cell_complete(cell, cell_index=index)
        finally:
            sys.stdout, sys.stderr = streams


def _run(the_shell: InteractiveShell, cell: nbformat.NotebookNode) -> None:
    _Cell.start(cell, the_shell.execution_count)
    result = the_shell.run_cell(cell.source, store_history=True)
    if not result.success and "raises-exception" not in cell.metadata.get("tags", []):
        error = result.error_in_exec or result.error_before_exec
        raise _CellError(type(error).__name__, str(error))


papermill_engines.register(ENGINE, InProcessEngine)
