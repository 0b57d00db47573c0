"""Who may talk to the dashboard, and which files it may serve.

- **Token.** When a token is set (always, when the server listens beyond loopback), every
  request must carry it: ``Authorization: Bearer <token>``, ``X-Hypersweep-Token``, a
  ``?token=`` query parameter (which also sets an HttpOnly cookie, so links keep working), or
  that cookie. Compared in constant time.
- **Host.** Without a token the server listens on loopback only, and refuses requests whose
  ``Host`` is not a loopback name: a web page on another site cannot reach it by DNS
  rebinding.
- **Writes.** POST requests must carry ``X-Hypersweep-Action: 1``; a cross-site form cannot
  set a custom header, so a malicious page cannot cancel a sweep through the user's browser.
- **Files.** Trial files are read through `hypersweep.execution.trial_files`, which never
  leaves the trial's folder (links included).

Examples
--------
>>> is_loopback("::1")
True
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from typing import Any
from urllib.parse import parse_qs

__all__ = ["COOKIE", "SecurityMiddleware", "check_token", "is_loopback"]

COOKIE = "hypersweep_token"
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# A token travels in headers, a cookie and the printed URL: characters none of them mangle.
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~!$*:@=-]+")

# Plotly's WebGL traces (parcoords, scatter3d) compile shader code with Function(): hence
# 'unsafe-eval'. Inline scripts stay forbidden: nothing the server sends is ever a script.
_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_token(token: str | None, name: str = "token") -> str | None:
    """``token`` when it can protect the dashboard; raises ``ValueError`` (naming ``name``)
    for an empty one, which would let anyone in, or one a header or URL would mangle.

    Examples
    --------
    >>> check_token("s3cret-token")
    's3cret-token'
    >>> check_token("")
    Traceback (most recent call last):
    ...
    ValueError: token: an empty token would leave the dashboard open; give one, or leave it out
    """
    if token is None:
        return None
    if not token.strip():
        raise ValueError(f"{name}: an empty token would leave the dashboard open; "
                         "give one, or leave it out")
    if _TOKEN_CHARS.fullmatch(token) is None:
        raise ValueError(f"{name}: use letters, digits and . _ ~ ! $ * : @ = - only "
                         "(the token travels in headers, a cookie and the URL)")
    return token


def _matches(given: str, token: str) -> bool:
    # bytes, not str: compare_digest refuses non-ASCII str (a 500 for a mistyped header)
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode())


def _host_name(header: str) -> str:
    if header.startswith("["):  # [::1]:8765
        return header[: header.find("]") + 1]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class SecurityMiddleware:
    """ASGI middleware enforcing the token, the loopback ``Host`` and the write header.

    Parameters
    ----------
    app : ASGI app
        The wrapped application.
    token : str, optional
        Required on every request when given.
    """

    def __init__(self, app: Any, token: str | None = None) -> None:
        self.app = app
        self.token = check_token(token)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        set_cookie = False
        if self.token is None:
            if not is_loopback(_host_name(headers.get("host", "localhost"))):
                await _refuse(send, 403, "forbidden: not a loopback Host")
                return
        else:
            given = _given_token(headers, scope.get("query_string", b""))
            if given is None or not _matches(given[0], self.token):
                await _refuse(send, 401, "unauthorized: a valid token is required")
                return
            set_cookie = given[1]
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and headers.get(
            "x-hypersweep-action"
        ) != "1":
            await _refuse(send, 403, "forbidden: write requests need X-Hypersweep-Action: 1")
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                if set_cookie and self.token is not None:
                    cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
                    extra.append((b"set-cookie", cookie.encode("latin-1")))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _given_token(headers: dict[str, str], query: bytes) -> tuple[str, bool] | None:
    """The token the request carries and whether it came in the query (set the cookie)."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    if "x-hypersweep-token" in headers:
        return headers["x-hypersweep-token"], False
    values = parse_qs(query.decode("latin-1")).get("token")
    if values:
        return values[0], True
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value, False
    return None


async def _refuse(send: Any, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
