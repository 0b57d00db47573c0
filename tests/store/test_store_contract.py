"""One Store contract, two siblings: Store(url) opens the right one, neither inherits the other."""

from __future__ import annotations

import inspect
from datetime import timezone
from pathlib import Path

import pytest

from hypersweep.store import MemoryStore, SqliteStore, SqlStore, Store, open_store, utcnow
from hypersweep.store.base import CONTRACT


@pytest.mark.parametrize(("url", "sibling"), [
    ("memory://", MemoryStore), ("sqlite://", SqlStore), ("sqlite:///{tmp}/h.db", SqliteStore),
    ("sqlite+pysqlite:///{tmp}/h.db", SqlStore),
    ("sqlite:///file:{tmp}/h.db?mode=rwc&uri=true", SqlStore),
])
def test_store_url_opens_the_sibling_for_the_url(url: str, sibling: type[Store],
                                                 tmp_path: Path) -> None:
    url = url.format(tmp=tmp_path)
    for opened in (Store(url), open_store(url), Store(url=url)):
        with opened as store:
            assert type(store) is sibling
            assert isinstance(store, Store)


def test_the_siblings_share_only_the_contract() -> None:
    siblings = (MemoryStore, SqlStore, SqliteStore)
    assert not any(issubclass(a, b) for a in siblings for b in siblings if a is not b)
    for name in CONTRACT:
        for sibling in siblings:
            assert name in vars(sibling), f"{sibling.__name__}.{name}"
        # the contract is documented once, on the base
        assert inspect.getdoc(getattr(Store, name))
    public = {n for n, v in inspect.getmembers(Store, inspect.isroutine) if not n.startswith("_")}
    assert public == {*CONTRACT, "serves", "check_url"}


def test_a_sibling_missing_a_method_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match=r"HalfStore does not implement Store\.create_sweep"):
        type("HalfStore", (Store,), {"close": lambda self: None})


def test_sibling_classes_construct_themselves(tmp_path: Path) -> None:
    assert repr(SqlStore("sqlite://")) == "SqlStore('sqlite://')"
    assert repr(MemoryStore()) == "MemoryStore('memory://')"
    url = f"sqlite:///{tmp_path / 'h.db'}"
    with SqliteStore(url) as store:
        assert repr(store) == f"SqliteStore({url!r})"


def test_utcnow_is_aware_utc() -> None:
    assert utcnow().tzinfo is timezone.utc
