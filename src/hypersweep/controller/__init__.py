"""The sweep controller: the loop that turns a stored sweep config into finished trials."""

from hypersweep.controller.loop import SweepController, new_owner_token
from hypersweep.controller.settings import SweepSettings

__all__ = ["SweepController", "SweepSettings", "new_owner_token"]
