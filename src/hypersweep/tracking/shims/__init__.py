"""Stand-in packages for trials only: this folder goes on a trial's ``PYTHONPATH`` (never on
the user's) when the real package is not installed. See :mod:`hypersweep.tracking.integrations`.
"""
