"""The domain: formulas with units in their names, the input data and its checks, parameters,
and the assembly of the fleet, training runs, headlines, uncertainty, sensitivity and scenarios.

Imports nothing from :mod:`gpufleet.book` or :mod:`gpufleet.build`.
"""
