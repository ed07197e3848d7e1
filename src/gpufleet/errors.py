"""Errors a run can end with once its inputs were accepted."""


class RunError(RuntimeError):
    """A run that failed after its inputs were accepted (a notebook raised, the build failed)."""
