"""Stand-in packages for trials only: this folder goes on a trial's ``PYTHONPATH`` (never on
the user's) when the real package is not installed. See :mod:`hypersweep.tracking.integrations`.

It sits above :mod:`hypersweep.api` (the ``azureml.core`` stand-in re-exports the v1 ``Run``);
tracking finds the folder by its import spec and never imports it.
"""
