"""The web dashboard: experiments, sweeps and trials in the browser, live while they run.

Needs the ``dashboard`` extra (``pip install -e '.[dashboard]'`` from a checkout: FastAPI,
uvicorn, Jinja2, plotly, scikit-learn). The pages draw with a partial plotly.js bundle shipped in
``static/vendor/plotly`` (see ``plotly-bundle/README.md``), so nothing is fetched from the
network. ``import hypersweep`` never imports this package.

Examples
--------
>>> from hypersweep.dashboard import serve
>>> # serve(workspace=".hypersweep")           # http://127.0.0.1:8765/, read-only
>>> # serve(host="0.0.0.0", allow_cancel=True)  # prints a URL with a generated token
"""

from __future__ import annotations

from hypersweep.dashboard.app import create_app
from hypersweep.dashboard.server import ServerThread, serve

__all__ = ["ServerThread", "create_app", "serve"]
