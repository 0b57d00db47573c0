"""The process driver: trials run as processes through an executor (local or Dask)."""

from hypersweep.controller.loop import SweepController

__all__ = ["SweepController"]
