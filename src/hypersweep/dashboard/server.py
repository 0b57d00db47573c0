"""Running the dashboard: `serve` (blocking, for the CLI) and `ServerThread` (tests, bench).

Examples
--------
>>> import tempfile
>>> with ServerThread(create_app(workspace=tempfile.mkdtemp())) as server:
...     server.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from typing import Any

from hypersweep.dashboard.app import create_app
from hypersweep.dashboard.security import is_loopback

__all__ = ["ServerThread", "serve"]


def serve(
    store_url: str | None = None, workspace: str | os.PathLike[str] = ".hypersweep",
    host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
    allow_cancel: bool = False,
) -> None:
    """Serve the dashboard until interrupted (Ctrl-C).

    Listening beyond loopback needs a token: one is generated (and printed in the URL) when
    none is given. The token is required on every request.

    Parameters
    ----------
    store_url : str, optional
        Database URL; default: the workspace's SQLite file.
    workspace : path, default ".hypersweep"
        The workspace folder.
    host : str, default "127.0.0.1"
        Interface to listen on.
    port : int, default 8765
        Port (0: any free port).
    token : str, optional
        Access token (required when ``host`` is not loopback; generated if absent).
    allow_cancel : bool, default False
        Enable the cancel buttons.

    It runs in the foreground; `ServerThread` serves in the background (the package's
    example shows both).
    """
    import uvicorn

    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    app = create_app(store_url=store_url, workspace=workspace, token=token,
                     allow_cancel=allow_cancel, warm=True)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    suffix = f"/?token={token}" if token else "/"
    print(f"hypersweep dashboard: http://{shown}:{port}{suffix}"
          + ("" if allow_cancel else "  (read-only)"), flush=True)
    server.run()


class ServerThread:
    """The dashboard (or any ASGI app) served by uvicorn in a background thread.

    Parameters
    ----------
    app : ASGI app
        What to serve.
    host : str, default "127.0.0.1"
    port : int, default 0
        0 picks a free port; read it from `port` / `url` once started.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.host = host
        config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="hypersweep-dashboard",
                                       daemon=True)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the dashboard server did not start")
            time.sleep(0.02)
        sockets = [s for server in self.server.servers for s in server.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
