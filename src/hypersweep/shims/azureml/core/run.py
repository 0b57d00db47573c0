"""``from azureml.core.run import Run`` inside a trial: hypersweep's ``Run``."""

from hypersweep.api.run import Run

__all__ = ["Run"]
