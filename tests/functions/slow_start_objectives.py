"""An objective whose module takes a second to import: a worker process that loads it starts
as slowly as one on a loaded machine, or one importing a heavy framework."""

from __future__ import annotations

import time
from typing import Any

#: Seconds the import takes, in the test process and in every worker process.
IMPORT_SECONDS = 1.0

time.sleep(IMPORT_SECONDS)


def returns_index(params: dict[str, Any], run: Any) -> float:
    return float(params["i"])
