"""gpufleet: the model, data and runner behind the report on Meta's 2024 GPU fleet.

Three layers, imports only going down: :mod:`gpufleet.model` (the domain), :mod:`gpufleet.book`
(what notebooks call to narrate) and :mod:`gpufleet.build` (running and publishing), with
:mod:`gpufleet.cli` on top and :mod:`gpufleet.__main__`, the command, above it.
:mod:`gpufleet.errors` and :mod:`gpufleet.formatting` are leaves every layer may use.
"""

__version__ = "0.1.0"
