"""The errors gpufleet raises on purpose, under one base class.

The command line maps them to exit statuses: an :class:`InputError` (bad data, a bad
parameter, a notebook that breaks the conventions) is refused with status 2 before anything
runs; a :class:`RunError` (a notebook raised, the build failed) ends a run with status 1.
"""


class GpufleetError(Exception):
    """Anything gpufleet reports on purpose; the message says what and where."""


class InputError(GpufleetError, ValueError):
    """Input refused before anything runs: the message names the file, row, column or
    parameter, and what is allowed."""


class RunError(GpufleetError, RuntimeError):
    """A run that failed after its inputs were accepted (a notebook raised, the build failed)."""
