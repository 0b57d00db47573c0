"""The Azure ML v2 ``type: sweep`` YAML schema: load a file into a `SweepSpec`, and back.

This layer builds specs and never imports ``hypersweep.api`` (which sits above it). The checks
both faces share are in `hypersweep.config.validate` and `hypersweep.config.command`.

The names below load PyYAML and the schema when first used, not with the package: the Python
face (``tune``, ``HyperDriveConfig``) imports only the shared checks.

Examples
--------
>>> from hypersweep.config import load_sweep, sweep_to_yaml   # doctest: +SKIP
>>> loaded = load_sweep("examples/sklearn_digits/sweep.yml")  # doctest: +SKIP
>>> print(sweep_to_yaml(loaded.spec))                          # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypersweep.lazy import lazy_exports

if TYPE_CHECKING:
    from hypersweep.config.dump import sweep_to_dict, sweep_to_yaml
    from hypersweep.config.schema import LoadedSweep, load_sweep
    from hypersweep.config.yamlfile import SweepFileError

# Name -> the module that defines it, imported on first use (PEP 562).
_LAZY = {
    "LoadedSweep": ".schema",
    "load_sweep": ".schema",
    "SweepFileError": ".yamlfile",
    "sweep_to_dict": ".dump",
    "sweep_to_yaml": ".dump",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = ["LoadedSweep", "SweepFileError", "load_sweep", "sweep_to_dict", "sweep_to_yaml"]
