"""Opening a dashboard page in the browser: the browser tests share it."""

from __future__ import annotations

from typing import Any


def open_page(page: Any, url: str) -> None:
    """Go to ``url`` and wait until the page says it has drawn (``body[data-ready='1']``)."""
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")
