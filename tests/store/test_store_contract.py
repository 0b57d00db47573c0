"""One Store contract, two siblings: Store(url) opens the right one, neither inherits the other."""

from __future__ import annotations

import inspect
from datetime import timezone
from pathlib import Path

import pytest

from hypersweep.store import MemoryStore, SqlStore, Store, open_store, utcnow
from hypersweep.store.base import CONTRACT


@pytest.mark.parametrize(("url", "sibling"), [
    ("memory://", MemoryStore), ("sqlite://", SqlStore), ("sqlite:///{tmp}/h.db", SqlStore),
])
def test_store_url_opens_the_sibling_for_the_url(url: str, sibling: type[Store],
                                                 tmp_path: Path) -> None:
    url = url.format(tmp=tmp_path)
    for opened in (Store(url), open_store(url), Store(url=url)):
        with opened as store:
            assert type(store) is sibling
            assert isinstance(store, Store)


def test_the_siblings_share_only_the_contract() -> None:
    assert not issubclass(MemoryStore, SqlStore) and not issubclass(SqlStore, MemoryStore)
    for name in CONTRACT:
        for sibling in (MemoryStore, SqlStore):
            assert name in vars(sibling), f"{sibling.__name__}.{name}"
        # the contract is documented once, on the base
        assert inspect.getdoc(getattr(Store, name))
    public = {n for n, v in inspect.getmembers(Store, inspect.isroutine) if not n.startswith("_")}
    assert public == {*CONTRACT, "serves"}


def test_a_sibling_missing_a_method_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match=r"HalfStore does not implement Store\.create_sweep"):
        type("HalfStore", (Store,), {"close": lambda self: None})


def test_sibling_classes_construct_themselves() -> None:
    assert repr(SqlStore("sqlite://")) == "SqlStore('sqlite://')"
    assert repr(MemoryStore()) == "MemoryStore('memory://')"


def test_utcnow_is_aware_utc() -> None:
    assert utcnow().tzinfo is timezone.utc
