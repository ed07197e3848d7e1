"""gpufleet: the model, data and runner behind the report on Meta's 2024 GPU fleet."""

__version__ = "0.1.0"
