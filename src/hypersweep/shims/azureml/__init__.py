"""hypersweep's stand-in for ``azureml`` inside a trial, where ``azureml-core`` is not installed.

Only ``azureml.core.Run`` (also as ``azureml.core.run.Run``) is provided: it is hypersweep's
:class:`hypersweep.Run`, so ``Run.get_context().log(...)`` logs to the trial.
"""
