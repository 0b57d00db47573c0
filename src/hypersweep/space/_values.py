"""The earlier, private name of :mod:`hypersweep.space.values`; import from there instead.

Kept only while ``hypersweep.api.jobs`` still imports these two names from here.
"""

from hypersweep.space.values import check_text, describe

__all__ = ["check_text", "describe"]
