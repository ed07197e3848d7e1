"""Notebooks run in forks of a process that has imported what they need: each task starts from
the same state, failures are reported by task, and the notebooks are the ones a Jupyter kernel
gives, byte for byte."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from gpufleet.build import forks
from gpufleet.build.execution import execute
from gpufleet.build.planning import plan
from gpufleet.build.runner import _inputs_digest

pytestmark = pytest.mark.skipif(not forks.available(), reason="this platform cannot fork")

#: Changed by tasks: each must see it as it was when the workers forked.
STATE = {"touched_by": None}
PREPARED = {"count": 0}


def _run(jobs: int, task, payloads, **options) -> tuple[dict[int, object], dict[int, str]]:
    done: dict[int, object] = {}
    failed: dict[int, str] = {}
    with forks.Forks(task, **options) as worker:
        worker.run(payloads, done.__setitem__, failed.__setitem__, jobs=jobs)
    return done, failed


def _touch(index: int) -> tuple[int, object]:
    before = STATE["touched_by"]
    STATE["touched_by"] = index
    return os.getpid(), before


def test_each_task_runs_in_its_own_process_from_the_same_state():
    done, failed = _run(2, _touch, range(6))
    assert failed == {}
    assert sorted(done) == list(range(6))
    pids = {pid for pid, _before in done.values()}
    assert len(pids) == 6 and os.getpid() not in pids
    assert all(before is None for _pid, before in done.values())  # nobody saw another's change
    assert STATE["touched_by"] is None  # nor did this process


def _prepared(index: int) -> int:
    return PREPARED["count"]


def _prepare() -> None:
    PREPARED["count"] += 1


def test_prepare_runs_once_in_the_worker_before_the_tasks():
    done, _failed = _run(2, _prepared, range(5), prepare=_prepare)
    assert set(done.values()) == {1}
    assert PREPARED["count"] == 0


def _imported(index: int) -> bool:
    return "colorsys" in sys.modules


def test_the_worker_imports_the_modules_and_this_process_does_not():
    assert "colorsys" not in sys.modules
    with forks.Forks(_imported, modules=("colorsys",)) as worker:
        assert worker.ready() >= 0
        done: dict[int, bool] = {}
        worker.run([0], done.__setitem__, pytest.fail)
    assert done == {0: True}
    assert "colorsys" not in sys.modules


def test_importing_turns_the_collector_off_and_back_as_it_was():
    assert gc.isenabled()
    with forks.importing():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with forks.importing():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left off, as it was
    finally:
        gc.enable()
    with pytest.raises(ValueError), forks.importing():
        raise ValueError
    assert gc.isenabled()


def _collector(index: int) -> tuple[bool, int]:
    return gc.isenabled(), gc.get_freeze_count()


def _check_collector_off() -> None:
    assert not gc.isenabled()


def test_the_worker_imports_with_the_collector_off_and_its_tasks_have_it_on():
    done, failed = _run(1, _collector, [0], prepare=_check_collector_off)
    assert failed == {}
    enabled, frozen = done[0]
    assert enabled
    assert frozen > 0  # what the worker imported is left out of the task's collections


def test_a_module_that_cannot_be_imported_is_named():
    with forks.Forks(_imported, modules=("gpufleet.no_such_module",)) as worker:
        with pytest.raises(forks.TaskError, match="No module named 'gpufleet.no_such_module'"):
            worker.ready()


def test_functions_named_as_text_are_found_in_the_worker():
    """How the command starts the worker before it imports what the tasks need."""
    done, failed = _run(2, "math:sqrt", [4.0, 9.0, 2.25], prepare="gc:collect")
    assert done == {0: 2.0, 1: 3.0, 2: 1.5} and failed == {}
    with forks.Forks("math:no_such_function") as worker:
        with pytest.raises(forks.TaskError, match="no_such_function"):
            worker.ready()


def _mixed(index: int) -> str:
    if index == 1:
        raise forks.TaskError("notebook one failed in cell 3")
    if index == 2:
        raise ValueError("bad value")
    if index == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return f"ok {index}"


def test_a_failing_task_is_reported_and_the_others_still_run():
    done, failed = _run(2, _mixed, range(6))
    assert done == {0: "ok 0", 4: "ok 4", 5: "ok 5"}
    assert failed[1] == "notebook one failed in cell 3"  # the task's own message, as it is
    assert failed[2] == "ValueError: bad value"  # anything else, by name
    assert failed[3] == "the process running it ended without a result (killed by SIGKILL)"


def _slow(index: int) -> None:
    Path(os.environ["GPUFLEET_TEST_PIDS"], str(index)).write_text(str(os.getpid()))
    time.sleep(60)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_an_error_in_this_process_kills_the_worker_and_its_tasks(tmp_path, monkeypatch):
    monkeypatch.setenv("GPUFLEET_TEST_PIDS", str(tmp_path))
    with pytest.raises(RuntimeError), forks.Forks(_slow) as worker:
        giver = threading.Thread(
            target=worker.run, args=([0, 1], print, print), kwargs={"jobs": 2}, daemon=True
        )
        giver.start()
        deadline = time.monotonic() + 30
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        tasks = [int(path.read_text()) for path in tmp_path.iterdir()]
        assert len(tasks) == 2 and not any(_gone(pid) for pid in [worker.pid, *tasks])
        raise RuntimeError("stop")
    giver.join(timeout=10)
    assert not giver.is_alive()  # run() returns once the worker is gone
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in [worker.pid, *tasks]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in [worker.pid, *tasks])


def test_the_chapters_run_in_forks_are_byte_identical_to_those_run_in_kernels(site, tmp_path):
    """The `site` fixture ran every chapter the default way (in forks); the same chapters run
    in Jupyter kernels give the same files, outputs, charts and metadata included."""
    the_plan = plan(site)
    into = tmp_path / "kernels"
    into.mkdir()
    execute(
        the_plan,
        the_plan.notebooks,
        into,
        inputs=_inputs_digest(site),
        jobs=2,
        log=lambda line: None,
        kernels=True,
    )
    names = sorted(nb.name for nb in the_plan.notebooks)
    assert names == sorted(path.stem for path in into.glob("*.ipynb"))
    for name in names:
        forked = (site / "book" / f"{name}.ipynb").read_bytes()
        assert (into / f"{name}.ipynb").read_bytes() == forked, f"{name} differs"
    assert len(names) == 10 and Path(site / "book" / "power.ipynb").stat().st_size > 10_000


#: Cells that exercise what a kernel does with outputs: streams, displays, a last value, a
#: silenced one, empty cells, errors a cell expects, then one that stops the notebook. (Not
#: stdout and stderr in one cell: a kernel sends each stream when it flushes, in no set order.)
CELLS = (
    'print("a")\nprint("b")',
    'import sys\nprint("to stderr", file=sys.stderr)\n1 + 1',
    'from IPython.display import Markdown, display\ndisplay(Markdown("**x**"))\n"last"',
    "x = 3;",
    "",
    "x",
    "x * 2;",
    "%time_never_defined",
    'raise ValueError("expected")',
    'print("after")',
    "1 / 0",
    'print("never")',
)


def _outputs(path: Path) -> tuple[list[list[dict]], list[int | None]]:
    """Each cell's outputs (an error's traceback left out: its colours differ) and counts."""
    import json

    cells = json.loads(path.read_text())["cells"]
    found = []
    for cell in cells:
        outputs = []
        for output in cell.get("outputs", []):
            output = dict(output)
            if output["output_type"] == "error":
                output.pop("traceback")
            outputs.append(output)
        found.append(outputs)
    return found, [c.get("execution_count") for c in cells]


def _in_process(task_index: int) -> None:
    import papermill

    from gpufleet.build import inprocess

    inprocess.shell()
    papermill.execute_notebook(
        os.environ["GPUFLEET_TEST_NB"],
        os.environ["GPUFLEET_TEST_OUT"],
        engine_name=inprocess.ENGINE,
        progress_bar=False,
        kernel_name="python3",
    )


@pytest.mark.slow
def test_the_in_process_engine_writes_outputs_as_a_kernel_does(tmp_path, monkeypatch):
    import nbformat
    import papermill

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    for expected in (7, 8):
        notebook.cells[expected].metadata["tags"] = ["raises-exception"]
    source = tmp_path / "source.ipynb"
    nbformat.write(notebook, source)
    with pytest.raises(papermill.PapermillExecutionError, match="ZeroDivisionError"):
        papermill.execute_notebook(
            str(source), str(tmp_path / "kernel.ipynb"), progress_bar=False, kernel_name="python3"
        )
    monkeypatch.setenv("GPUFLEET_TEST_NB", str(source))
    monkeypatch.setenv("GPUFLEET_TEST_OUT", str(tmp_path / "process.ipynb"))
    done, failed = _run(1, _in_process, [0])
    assert "PapermillExecutionError" in failed[0] and "ZeroDivisionError" in failed[0]
    kernel, kernel_counts = _outputs(tmp_path / "kernel.ipynb")
    process, process_counts = _outputs(tmp_path / "process.ipynb")
    assert process == kernel
    # Counts differ by where each starts; which cells ran, and in what order, do not.
    assert [c is None for c in process_counts] == [c is None for c in kernel_counts]
    texts = ["".join(o["text"]) for cell in process for o in cell if o["output_type"] == "stream"]
    assert texts == [
        "a\nb\n",
        "to stderr\n",
        "UsageError: Line magic function `%time_never_defined` not found.\n",
        "after\n",
    ]
    errors = [(o["ename"], o["evalue"]) for cell in process for o in cell if "ename" in o]
    assert errors == [("ValueError", "expected"), ("ZeroDivisionError", "division by zero")]
    results = [o["data"] for cell in process for o in cell if "data" in o]
    assert [data.get("text/plain") for data in results] == [
        ["2"],
        ["<IPython.core.display.Markdown object>"],
        ["'last'"],
        ["3"],
    ]


def test_a_processor_is_said_free_once_fewer_notebooks_are_left_than_run_at_once():
    from gpufleet.build.execution import _Left

    said: list[str] = []
    three = _Left(3, 2, lambda: said.append("free"))
    three.check()  # two running, one waiting
    three.one_done()  # two running
    assert said == []
    three.one_done()  # one running, on two processors
    three.one_done()
    assert said == ["free"]  # once
    one = _Left(1, 2, lambda: said.append("free at once"))
    one.check()
    assert said == ["free", "free at once"]


def _validators(index: int) -> list[tuple]:
    from nbformat import validator

    return sorted(validator.validators)


def test_the_worker_compiles_the_check_of_the_notebooks_papermill_writes():
    import nbformat

    from gpufleet.build.execution import prepare_worker

    done, failed = _run(1, _validators, [0], prepare=prepare_worker)
    assert failed == {}
    assert any(key[1:3] == (4, nbformat.v4.nbformat_minor) for key in done[0])
