"""Choose an executor from a URI: ``"local"`` or ``"dask://scheduler:8786"``.

The one-line switch between this machine and a cluster: the URI is what a sweep stores (its
``executor`` setting), so a resumed sweep runs where it ran before. Dask is imported only when
a ``dask://`` URI is used.

Examples
--------
>>> executor_from_uri("local").running()
set()
>>> parse_dask_uri("dask://10.0.0.5:8786?resources=GPU:1&retries=0")
('tcp://10.0.0.5:8786', {'resources': {'GPU': 1.0}, 'retries': 0})
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypersweep.execution.base import Executor

__all__ = ["executor_from_uri", "parse_dask_uri"]


def parse_dask_uri(uri: str) -> tuple[str, dict[str, Any]]:
    """The scheduler address and `DaskExecutor` options a ``dask://`` URI names.

    Query keys: ``resources=GPU:1,MEM:4e9``, ``retries=1``, ``shared_dir=/mnt/shared``,
    ``worker_wait=60`` (seconds a sweep with ``resources_per_trial`` waits for a first worker).
    ``dask://`` means the ``tcp://`` protocol, ``dask+tls://`` means ``tls://``; a plain
    ``tcp://`` or ``tls://`` address is accepted as well.
    """
    parts = urlsplit(uri)
    scheme = {"dask": "tcp", "dask+tcp": "tcp", "dask+tls": "tls", "tcp": "tcp",
              "tls": "tls"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"executor: expected 'local' or 'dask://HOST:PORT' (got {uri!r})")
    options: dict[str, Any] = {}
    for key, values in parse_qs(parts.query, strict_parsing=False).items():
        value = values[-1]
        if key == "resources":
            resources: dict[str, float] = {}
            for item in value.split(","):
                name, _, amount = item.partition(":")
                if not name or not amount:
                    raise ValueError(f"executor: resources must look like GPU:1 (got {value!r})")
                resources[name] = float(amount)
            options["resources"] = resources
        elif key == "retries":
            options["retries"] = int(value)
        elif key == "shared_dir":
            options["shared_dir"] = value
        elif key == "worker_wait":
            try:
                options["worker_wait"] = float(value)
            except ValueError:
                raise ValueError(f"executor: worker_wait must be a number of seconds "
                                 f"(got {value!r})") from None
        else:
            raise ValueError(f"executor: unknown option {key!r} in {uri!r} "
                             "(known: resources, retries, shared_dir, worker_wait)")
    return f"{scheme}://{parts.netloc}", options


def executor_from_uri(uri: str | None) -> Executor:
    """A new executor for ``uri``: ``None``/``"local"`` or ``"dask://HOST:PORT[?options]"``."""
    if uri is None or uri in ("local", "local://"):
        from hypersweep.execution.local import LocalProcessExecutor

        return LocalProcessExecutor()
    address, options = parse_dask_uri(uri)
    try:
        from hypersweep.execution.dask import DaskExecutor
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError(
            "a dask:// executor needs Dask: pip install 'dask[distributed]'"
        ) from err
    return DaskExecutor(address, **options)
