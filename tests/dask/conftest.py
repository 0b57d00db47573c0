"""A real Dask cluster for the tests: 4 worker processes talking TCP on loopback."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="session")
def cluster() -> Iterator[distributed.LocalCluster]:
    """``LocalCluster(n_workers=4, processes=True, threads_per_worker=1)`` on 127.0.0.1."""
    with distributed.LocalCluster(
        n_workers=4, processes=True, threads_per_worker=1, host="127.0.0.1",
        dashboard_address=None, worker_dashboard_address=None,
    ) as c:
        yield c


@pytest.fixture
def address(cluster: distributed.LocalCluster) -> str:
    """The scheduler's ``tcp://127.0.0.1:PORT``, after waiting for all four workers."""
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        client.wait_for_workers(4, timeout=60)
    return str(cluster.scheduler_address)


@pytest.fixture
def make_source(tmp_path: Path) -> Callable[..., Path]:
    """Write ``train.py`` into a fresh source folder; return the folder."""
    counter = iter(range(1000))

    def make(body: str, name: str = "train.py") -> Path:
        source = tmp_path / f"src{next(counter)}"
        source.mkdir()
        (source / name).write_text(textwrap.dedent(body))
        return source

    return make
