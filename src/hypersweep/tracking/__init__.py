"""The child side of metric logging: ``get_context()`` and the metrics journal.

Standard library only, so that a training script's ``from hypersweep import Run`` is fast.

Examples
--------
>>> from hypersweep.tracking import get_context
>>> run = get_context()          # an OfflineRun outside a sweep
>>> run.get_status()
'Running'
"""

from hypersweep.tracking.context import OfflineRun, TrialRun, get_context
from hypersweep.tracking.journal import JournalReader, JournalRecord, JournalWriter

__all__ = [
    "JournalReader",
    "JournalRecord",
    "JournalWriter",
    "OfflineRun",
    "TrialRun",
    "get_context",
]
