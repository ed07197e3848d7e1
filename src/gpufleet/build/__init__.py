"""Running the report: planning, executing notebooks, building and publishing the site.

Builds on :mod:`gpufleet.model` and :mod:`gpufleet.book`; only :mod:`gpufleet.cli` sits above.
"""
