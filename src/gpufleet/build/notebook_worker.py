"""The worker that runs the notebooks, started as early as a run allows.

It is a :class:`gpufleet.build.forks.Forks` whose task is
:func:`gpufleet.build.execution.run_job`. The worker imports what the chapters need (pandas,
Altair, IPython, the package: most of a second) while this process goes on, so the
``gpufleet`` command starts it before importing anything of its own (:mod:`gpufleet.__main__`);
this module imports only the standard library, so that starting it costs nothing else.
"""

from __future__ import annotations

from gpufleet.build import forks


def start() -> forks.Forks:
    """Fork the worker; the functions it runs are found there, not imported here."""
    return forks.Forks(
        task="gpufleet.build.execution:run_job",
        prepare="gpufleet.build.execution:prepare_worker",
    )
