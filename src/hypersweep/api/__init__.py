"""The public v1-style objects: configs, workspace, experiment, sweep and trial runs.

Import them from `hypersweep` itself. This package imports none of its modules eagerly, so a
training script's ``from hypersweep import Run`` loads only `hypersweep.api.run`.
"""
