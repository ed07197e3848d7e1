"""The ``gpufleet`` command (also ``python -m gpufleet``).

A run's first second is mostly imports: the command's own, and pandas, Altair and IPython in
the worker that runs the notebooks (:mod:`gpufleet.build.notebook_worker`). So when the command
may run notebooks, it forks that worker before importing anything else, and the two import
side by side. A wrong guess (``run`` given as the value of an option) costs a worker that is
stopped, unused, when the command ends.
"""

from __future__ import annotations

import sys
from typing import NoReturn


def main() -> NoReturn:
    worker = None
    if "run" in sys.argv[1:] and not {"-h", "--help"} & set(sys.argv[1:]):
        from gpufleet.build import forks, notebook_worker

        if forks.available():
            worker = notebook_worker.start()
    from gpufleet import cli

    cli.run_and_exit(worker=worker)


if __name__ == "__main__":
    main()
