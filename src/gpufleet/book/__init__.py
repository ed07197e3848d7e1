"""What the notebooks call to narrate: glue, page tables, charts, and the source notebooks'
parameter cells.

Builds on :mod:`gpufleet.model`; imports nothing from :mod:`gpufleet.build`.
"""
