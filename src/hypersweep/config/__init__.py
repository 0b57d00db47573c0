"""The Azure ML v2 ``type: sweep`` YAML schema: load a file into a `SweepSpec`, and back.

This layer builds specs and never imports ``hypersweep.api`` (which sits above it). The checks
both faces share are in `hypersweep.config.validate` and `hypersweep.config.command`.

Examples
--------
>>> from hypersweep.config import load_sweep, sweep_to_yaml   # doctest: +SKIP
>>> loaded = load_sweep("examples/sklearn_digits/sweep.yml")  # doctest: +SKIP
>>> print(sweep_to_yaml(loaded.spec))                          # doctest: +SKIP
"""

from hypersweep.config.dump import sweep_to_dict, sweep_to_yaml
from hypersweep.config.schema import LoadedSweep, load_sweep
from hypersweep.config.yamlfile import SweepFileError

__all__ = ["LoadedSweep", "SweepFileError", "load_sweep", "sweep_to_dict", "sweep_to_yaml"]
