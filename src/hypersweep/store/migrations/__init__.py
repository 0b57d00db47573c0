"""Alembic environment of the store (run through :mod:`hypersweep.store.migrate`)."""
