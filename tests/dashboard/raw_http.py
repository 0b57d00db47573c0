"""Requests to a live dashboard server, sent as written (the API and token tests share them)."""

from __future__ import annotations

import http.client
import json
from typing import Any

from hypersweep.dashboard import ServerThread


def request(server: ServerThread, path: str, method: str = "GET",
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP request (raw: path traversal must reach the server unnormalised)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def get_json(server: ServerThread, path: str, **kw: Any) -> Any:
    status, _, body = request(server, path, **kw)
    assert status == 200, body
    return json.loads(body)
