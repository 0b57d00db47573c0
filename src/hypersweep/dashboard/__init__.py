"""The web dashboard: experiments, sweeps and trials in the browser, live while they run.

Needs the ``dashboard`` extra (``pip install -e '.[dashboard]'`` from a checkout: FastAPI,
uvicorn, Jinja2, plotly, scikit-learn). The pages draw with a partial plotly.js bundle shipped in
``static/vendor/plotly`` (see ``plotly-bundle/README.md``), so nothing is fetched from the
network. ``import hypersweep`` never imports this package.

Examples
--------
``serve(workspace=".hypersweep")`` serves http://127.0.0.1:8765/ (read-only) until Ctrl-C;
``serve(host="0.0.0.0", allow_cancel=True)`` prints a URL with a generated token. In the
background, on a workspace holding one finished sweep:

>>> import json, tempfile, urllib.request
>>> from hypersweep import Workspace
>>> from hypersweep.viz.example import example_sweep
>>> workspace = Workspace(tempfile.mkdtemp())
>>> sweep_id = example_sweep(workspace.store)
>>> with ServerThread(create_app(workspace=workspace.path)) as server:
...     listing = json.load(urllib.request.urlopen(server.url + "/api/sweeps"))
>>> [(s["id"], s["status"], s["trials"], s["metric"]) for s in listing["sweeps"]]
[('HD_example', 'Completed', 6, 'loss')]
"""

from __future__ import annotations

from hypersweep.dashboard.app import create_app
from hypersweep.dashboard.server import ServerThread, serve

__all__ = ["ServerThread", "create_app", "serve"]
