"""The dashboard's ASGI application: three HTML pages and the JSON API they draw from.

Pages are static shells rendered by Jinja2 (autoescaped); small vanilla scripts fetch
``/api/...`` and build the DOM with ``textContent`` only, so no user string — experiment
names, parameter values, metric names, log lines — is ever parsed as HTML. Live pages poll
with ``If-None-Match``; a poll that finds nothing new is a ``304`` costing one cached lookup.
The API schema is served at ``/api/openapi.json`` (FastAPI builds it).

Static files are addressed by content (``/static/sweep.js?v=<hash>``, and the vendored
plotly.js files carry a hash in their names), so browsers keep them for a year and never ask
again; an unversioned request is revalidated (``no-cache`` + ``ETag``). Charts draw with a
partial plotly.js bundle (``static/vendor/plotly``, built by ``plotly-bundle/``): the
1.1 MB core with ``scatter`` and ``bar`` loads with the page, the WebGL traces (parallel
coordinates, 3-D) only when a page draws them.

Examples
--------
>>> import tempfile
>>> app = create_app(workspace=tempfile.mkdtemp())
>>> sorted(r.path for r in app.routes if r.path.startswith("/api/sweeps"))[:2]
['/api/sweeps', '/api/sweeps/{sweep_id}']
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hypersweep.api.reproduce import reproduce_command
from hypersweep.api.run import Run, placement_text
from hypersweep.api.workspace import Experiment, Workspace
from hypersweep.dashboard import first_screen, objectives, views
from hypersweep.dashboard.cache import Snapshot, SweepCache
from hypersweep.dashboard.security import SecurityMiddleware, check_token
from hypersweep.execution import layout
from hypersweep.execution.trial_files import list_trial_files, open_trial_file
from hypersweep.spec import SweepSpec
from hypersweep.store import TrialBests
from hypersweep.store.codec import strict_json
from hypersweep.viz import importance
from hypersweep.viz.analysis import stride_downsample

__all__ = ["create_app", "plotly_assets"]

_HERE = Path(__file__).parent
_STATIC = _HERE / "static"
_PLOTLY = "vendor/plotly"
#: Cache-Control of content-addressed static files (the URL changes when the content does).
IMMUTABLE = "public, max-age=31536000, immutable"
_HASHED_NAME = re.compile(r"^vendor/plotly/[a-z]+-[A-Z0-9]{8}\.js$")
#: Bytes of a log sent when the page first asks (the tail), and most bytes of one follow-up.
LOG_TAIL, LOG_CHUNK = 64 * 1024, 256 * 1024
#: Most files an outputs listing shows.
MAX_LISTED = 10_000


# repeatable query parameters (module-level: FastAPI reads the defaults once)
_RANGE = Query([], alias="range", description="name:low:high (repeat)")
_MATCH = Query([], description="name:text — the value contains text (repeat)")


def plotly_assets() -> dict[str, Any]:
    """URLs of the vendored plotly.js bundle: ``base`` (core, scatter, bar), ``gl`` (the
    WebGL traces, imported on demand) and ``preload`` (the chunks ``base`` imports)."""
    manifest = json.loads((_STATIC / _PLOTLY / "manifest.json").read_text())
    return {"version": manifest["plotly.js"],
            "base": f"/static/{_PLOTLY}/{manifest['base']}",
            "gl": f"/static/{_PLOTLY}/{manifest['gl']}",
            "preload": [f"/static/{_PLOTLY}/{name}" for name in manifest.get("preload", [])]}


@lru_cache(maxsize=256)
def _digest(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset_version(name: str) -> str | None:
    """A short hash of ``static/<name>``'s content (None when there is no such file)."""
    path = _STATIC / name
    try:
        stat = path.stat()
    except OSError:
        return None
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def asset_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: cached for good, new URL when the file changes."""
    return f"/static/{name}?v={asset_version(name)}"


class _Assets(StaticFiles):
    """Static files; versioned URLs (see `asset_url`) and hashed vendor names are immutable."""

    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            query = scope.get("query_string", b"").decode("latin-1")
            version = next((part[2:] for part in query.split("&") if part.startswith("v=")),
                           None)
            fixed = _HASHED_NAME.match(path) is not None or (
                version is not None and version == asset_version(path))
            response.headers["Cache-Control"] = IMMUTABLE if fixed else "no-cache"
        return response


def _encode(value: Any) -> bytes:
    return json.dumps(strict_json(value), ensure_ascii=False, separators=(",", ":")).encode()


def _json(request: Request, etag: str | None, build: Any,
          memo: tuple[Snapshot, Any] | None = None, lasting: bool = False) -> Response:
    """``304`` when the client holds ``etag``; else the JSON of ``build()`` tagged with it.

    With ``memo`` (a snapshot and a key) the encoded body is kept on the snapshot: every
    client of a big sweep's charts gets the same bytes without re-encoding them. With
    ``lasting`` too, it is kept from snapshot to snapshot as the value is (`Snapshot.lasting`:
    re-encoding a 100,000-trial sweep's charts at every poll cost more than the rest).
    """
    headers = {"Cache-Control": "no-cache"}
    if etag is not None:
        headers["ETag"] = etag
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
    if memo is None:
        body = _encode(build())
    else:
        snap, key = memo
        body = (snap.lasting if lasting else snap.derive)(("body", key),
                                                          lambda: _encode(build()))
    return Response(body, media_type="application/json", headers=headers)


#: Trials from which a sweep page's first screen is answered before the sweep's snapshot is
#: read (`hypersweep.dashboard.first_screen`); a smaller sweep is read at once.
FIRST_SCREEN_FROM = 20_000
#: Seconds an unread sweep's `Store.trial_bests` answers its first screen's charts.
FIRST_BESTS_FOR = 5.0
#: Seconds without a quick request after which the warm-up builds the newest sweep's charts.
QUIET = 1.0


class Dashboard:
    """State shared by the requests: the workspace and one `SweepCache` per sweep.

    A big sweep (``first_screen_from`` trials or more) not read yet has its page's first
    screen answered from the store's aggregate and paged queries (`first_screen`) while a
    background thread reads its snapshot; that read pauses between pages while such quick
    requests are answered (`foreground`), so it does not slow them down through the GIL.
    Until a sweep's charts are built (the importance chart imports scikit-learn, a second of
    CPU, and a big sweep's needs every trial read), its charts are answered partial at once
    and complete when asked (``complete``).
    """

    def __init__(self, workspace: Workspace, allow_cancel: bool,
                 first_screen_from: int = FIRST_SCREEN_FROM) -> None:
        self.workspace = workspace
        self.store = workspace.store
        self.allow_cancel = allow_cancel
        self.first_screen_from = first_screen_from
        self._caches: dict[str, SweepCache] = {}
        self._lock = threading.Lock()
        self._reading: set[str] = set()
        # sweep -> (monotonic time, TrialBests) of its first screen's charts, read once for
        # the charts and the curves, which the page asks for together
        self._bests: dict[str, tuple[float, TrialBests]] = {}
        self._bests_lock = threading.Lock()
        self._busy = 0  # quick requests being answered
        self._answered = time.monotonic()  # when the last one was (the start, at first)
        self._idle = threading.Condition()

    def cache(self, sweep_id: str) -> SweepCache:
        with self._lock:
            if sweep_id not in self._caches:
                self._caches[sweep_id] = SweepCache(self.store, sweep_id, pause=self.wait_idle)
            return self._caches[sweep_id]

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Mark a quick request being answered: background reads wait for it (`wait_idle`)."""
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._answered = time.monotonic()
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait (at most ``timeout`` s: a stream of requests must not starve the read) until
        no quick request is being answered."""
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)

    def wait_quiet(self, quiet: float = QUIET, timeout: float = 30.0) -> None:
        """Wait (at most ``timeout`` s) until no quick request has been answered for ``quiet``
        seconds (nor since the start): what cannot pause (importing scikit-learn for the
        importance chart, a second of CPU) waits until a page's first screen is out."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while (now := time.monotonic()) < deadline:
                calm = self._answered + quiet - now
                if self._busy == 0 and calm <= 0:
                    return
                self._idle.wait(timeout=min(deadline - now, max(calm, 0.01)))

    def unread(self, sweep_id: str) -> tuple[Any, SweepSpec] | None:
        """The sweep's record and spec when its first screen is to be answered without its
        snapshot (big, not read yet, one objective): then its snapshot starts being read in
        the background. None: use the snapshot."""
        cache = self.cache(sweep_id)
        if cache.current is not None:
            return None
        try:
            sweep = self.store.get_sweep(sweep_id)
        except KeyError:
            raise HTTPException(404, f"no sweep {sweep_id!r}") from None
        spec = cache.spec(sweep)
        if not first_screen.answers(spec) or \
                self.store.count_trials([sweep_id])[sweep_id] < self.first_screen_from:
            return None
        self.read_later(sweep_id)
        return sweep, spec

    def unread_bests(self, sweep_id: str) -> tuple[Any, SweepSpec, TrialBests] | None:
        """`unread`, with `Store.trial_bests` of the sweep's primary metric, for its first
        screen's charts and curves: read once for both (the page asks for them together),
        again when older than `FIRST_BESTS_FOR` seconds (a running sweep goes on)."""
        unread = self.unread(sweep_id)
        if unread is None:
            return None
        sweep, spec = unread
        with self._bests_lock:
            known = self._bests.get(sweep_id)
            if known is None or time.monotonic() - known[0] > FIRST_BESTS_FOR:
                bests = self.store.trial_bests(sweep_id, spec.objective.metric,
                                               spec.objective.maximize)
                known = self._bests[sweep_id] = (time.monotonic(), bests)
        return sweep, spec, known[1]

    def read_later(self, sweep_id: str) -> None:
        """Read the sweep's snapshot in a background thread (once at a time)."""
        with self._lock:
            if sweep_id in self._reading:
                return
            self._reading.add(sweep_id)

        def read() -> None:
            try:
                self.cache(sweep_id).snapshot()
            except Exception:  # best effort: a request reads it again and reports
                pass
            finally:
                with self._lock:
                    self._reading.discard(sweep_id)
                with self._bests_lock:  # the snapshot answers from now on
                    self._bests.pop(sweep_id, None)

        threading.Thread(target=read, name=f"hypersweep-read-{sweep_id}", daemon=True).start()

    def snapshot(self, sweep_id: str) -> Any:
        try:
            return self.cache(sweep_id).snapshot()
        except KeyError:
            raise HTTPException(404, f"no sweep {sweep_id!r}") from None

    def warm(self) -> None:
        """Read every sweep (newest first) and the newest one's charts, so the first visitor
        after a start does not wait for a 10,000-trial sweep to be read (`create_app(warm=)`).
        The reads pause for the visitors' quick requests; the charts wait for a quiet moment
        (`wait_quiet`)."""
        try:
            sweeps = self.store.list_sweeps()
            for position, sweep in enumerate(sweeps):
                snap = self.cache(sweep.id).snapshot()
                if position == 0:
                    self.wait_quiet()
                    views.charts(snap)
                    views.curves(self.store, snap)
                    objectives.pareto(snap)
        except Exception:  # a warm-up is best effort: requests read anyway
            return

    def outputs(self, trial_id: str) -> tuple[Path, str]:
        """A trial's folder and its outputs folder relative to it (for `trial_files`)."""
        trial_dir = self.workspace.trial_dir(trial_id)
        return trial_dir, self.workspace.outputs_dir(trial_id).relative_to(trial_dir).as_posix()

    def trial(self, trial_id: str) -> Any:
        try:
            return self.store.get_trial(trial_id)
        except KeyError:
            raise HTTPException(404, f"no trial {trial_id!r}") from None


def create_app(
    store_url: str | None = None, workspace: str | os.PathLike[str] = ".hypersweep",
    token: str | None = None, allow_cancel: bool = False, warm: bool = False,
    first_screen_from: int = FIRST_SCREEN_FROM,
) -> FastAPI:
    """Build the dashboard application (serve it with uvicorn or `serve`).

    Parameters
    ----------
    store_url : str, optional
        Database URL; default: the workspace's SQLite file.
    workspace : path, default ".hypersweep"
        The workspace folder (trial logs and outputs live there).
    token : str, optional
        Require this token on every request (see `hypersweep.dashboard.security`); an empty
        one raises ``ValueError``.
        Without one, only requests addressed to a loopback host are answered.
    allow_cancel : bool, default False
        Offer cancel buttons (``POST /api/sweeps/{id}/cancel``); read-only otherwise.
    warm : bool, default False
        Read the workspace's sweeps in a background thread at once (`serve` does), instead
        of when the first page asks.
    first_screen_from : int, default FIRST_SCREEN_FROM
        Trials from which a sweep page's first screen (summary, table, the charts in view)
        is answered from the store's queries before the sweep is read (see `Dashboard`); 0:
        always.

    Examples
    --------
    Any ASGI server runs it (`serve` uses uvicorn). With a token, a request without it is
    refused:

    >>> import json, tempfile, urllib.error, urllib.request
    >>> from hypersweep.dashboard.server import ServerThread
    >>> from hypersweep.viz.example import example_sweep
    >>> workspace = tempfile.mkdtemp()
    >>> sweep_id = example_sweep(Workspace(workspace).store)
    >>> with ServerThread(create_app(workspace=workspace, token="s3cret")) as server:
    ...     url = f"{server.url}/api/sweeps/{sweep_id}"
    ...     best = json.load(urllib.request.urlopen(url + "?token=s3cret"))["best"]
    ...     try:
    ...         urllib.request.urlopen(url)
    ...     except urllib.error.HTTPError as refused:
    ...         status = refused.code
    >>> best["id"], round(best["value"], 3), status
    ('HD_example_2', 0.334, 401)
    """
    check_token(token)  # before anything opens: an empty token must not serve unprotected
    state = Dashboard(Workspace(workspace, store=store_url), allow_cancel, first_screen_from)
    app = FastAPI(title="hypersweep dashboard", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.dashboard = state
    app.add_middleware(SecurityMiddleware, token=token)
    templates = Environment(loader=FileSystemLoader(_HERE / "templates"),
                            autoescape=select_autoescape(default=True))
    templates.globals.update(asset=asset_url, plotly=plotly_assets())
    app.mount("/static", _Assets(directory=_STATIC), name="static")
    if warm:
        threading.Thread(target=state.warm, name="hypersweep-dashboard-warm",
                         daemon=True).start()

    def page(name: str, **context: Any) -> HTMLResponse:
        html = templates.get_template(name).render(allow_cancel=allow_cancel, **context)
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    # ------------------------------------------------------------------ pages
    @app.get("/", include_in_schema=False)
    def home() -> HTMLResponse:
        return page("home.html", title="hypersweep")

    @app.get("/sweeps/{sweep_id}", include_in_schema=False)
    def sweep_page(sweep_id: str) -> HTMLResponse:
        # one row, not the snapshot: the page's scripts ask for the data while they load
        with state.foreground():  # (a visitor: the warm-up's charts wait, `wait_quiet`)
            try:
                sweep = state.store.get_sweep(sweep_id)
            except KeyError:
                raise HTTPException(404, f"no sweep {sweep_id!r}") from None
        # several objectives: the page has the front and hypervolume charts
        several = len(SweepSpec.from_dict(sweep.config).objectives)
        return page("sweep.html", title=f"{sweep.experiment} · {sweep_id}",
                    sweep_id=sweep_id, experiment=sweep.experiment,
                    objectives=several if several > 1 else 0)

    @app.get("/trials/{trial_id}", include_in_schema=False)
    def trial_page(trial_id: str) -> HTMLResponse:
        record = state.trial(trial_id)
        return page("trial.html", title=f"trial {record.index} · {record.sweep_id}",
                    trial_id=trial_id, sweep_id=record.sweep_id)

    # ------------------------------------------------------------------ sweeps
    @app.get("/api/sweeps", summary="Every sweep, newest first, with progress and best value")
    def list_sweeps(request: Request) -> Response:
        snaps = [state.snapshot(s.id) for s in state.store.list_sweeps()]
        etag = '"' + hashlib.sha1("".join(s.etag for s in snaps).encode()).hexdigest() + '"'
        return _json(request, etag, lambda: {
            "sweeps": [views.sweep_summary(s, brief=True) for s in snaps]})

    @app.get("/api/sweeps/{sweep_id}", summary="A sweep: config, progress, best trial")
    def get_sweep(request: Request, sweep_id: str) -> Response:
        with state.foreground():
            unread = state.unread(sweep_id)
            if unread is not None:  # a big sweep not read yet: its first screen at once
                return _json(request, None, lambda: {
                    **first_screen.summary(state.store, *unread), "allow_cancel": allow_cancel})
        snap = state.snapshot(sweep_id)
        return _json(request, snap.etag, lambda: {
            **views.sweep_summary(snap), "allow_cancel": allow_cancel}, memo=(snap, "summary"))

    @app.get("/api/sweeps/{sweep_id}/trials",
             summary="One page of the sweep's trials, sorted and filtered on the server")
    def list_trials(
        request: Request, sweep_id: str,
        sort: str = Query("index", description="index|status|best|duration|start|reason|"
                                                "param:<name>"),
        desc: bool = False,
        status: str = Query("", description="comma-separated statuses to keep"),
        metric_min: float | None = None, metric_max: float | None = None,
        range_: list[str] = _RANGE,
        match: list[str] = _MATCH,
        offset: int = 0, limit: int = 50,
    ) -> Response:
        try:
            ranges = views.parse_ranges(range_)
            matches = dict(m.split(":", 1) for m in match if ":" in m)
            views.sort_key(sort)
        except ValueError as err:
            raise HTTPException(400, str(err)) from None
        statuses = [s for s in status.split(",") if s]
        if not (metric_min is not None or metric_max is not None or ranges or matches):
            with state.foreground():
                unread = state.unread(sweep_id)
                page = None if unread is None else first_screen.table(
                    state.store, sweep_id, unread[1], sort=sort, desc=desc, status=statuses,
                    offset=offset, limit=limit)
            if page is not None:  # a big sweep not read yet, in an order the store has
                return _json(request, None, lambda: page)
        snap = state.snapshot(sweep_id)
        query = str(request.url.query)
        etag = snap.etag[:-1] + "-" + hashlib.sha1(query.encode()).hexdigest()[:12] + '"'
        return _json(request, etag, lambda: views.table(
            snap, sort=sort, desc=desc, status=statuses,
            metric_min=metric_min, metric_max=metric_max, ranges=ranges, match=matches,
            offset=offset, limit=limit))

    @app.get("/api/sweeps/{sweep_id}/charts",
             summary="Chart data: history, parameters, importance, timeline, terminations")
    def get_charts(request: Request, sweep_id: str, complete: bool = Query(
            False, description="wait for the complete charts: until they are built once, a "
                               "big sweep's (or a fresh server's) answer is partial (no "
                               "importance, timeline or terminations)",
    )) -> Response:
        if not complete:
            with state.foreground():
                first = state.unread_bests(sweep_id)
                if first is not None:  # a big sweep not read yet: what the store gives at once
                    return _json(request, None, lambda: first_screen.charts(state.store, *first))
        snap = state.snapshot(sweep_id)
        if not complete and not views.charts_ready(snap) and \
                (len(snap.rows) >= state.first_screen_from or importance.importing()):
            # read, but the charts not built yet, and building them takes a second or more
            with state.foreground():
                return _json(request, None, lambda: views.quick_charts(snap))
        return _json(request, snap.etag, lambda: views.charts(snap), memo=(snap, "charts"),
                     lasting=True)

    @app.get("/api/sweeps/{sweep_id}/pareto",
             summary="Pareto front and hypervolume chart data (several objectives)")
    def get_pareto(request: Request, sweep_id: str) -> Response:
        snap = state.snapshot(sweep_id)
        return _json(request, snap.etag, lambda: objectives.pareto(snap), memo=(snap, "pareto"))

    @app.get("/api/sweeps/{sweep_id}/curves",
             summary="Metric curves over reporting intervals (downsampled)")
    def get_curves(request: Request, sweep_id: str, metric: str | None = None) -> Response:
        with state.foreground():
            first = state.unread_bests(sweep_id)
            if first is not None:  # a big sweep not read yet: the same curves, from the store
                return _json(request, None,
                             lambda: first_screen.curves(state.store, *first, metric))
        snap = state.snapshot(sweep_id)
        etag = snap.etag[:-1] + "-" + hashlib.sha1((metric or "").encode()).hexdigest()[:8] + '"'
        return _json(request, etag, lambda: views.curves(state.store, snap, metric),
                     memo=(snap, ("curves", metric)), lasting=True)

    @app.post("/api/sweeps/{sweep_id}/cancel",
              summary="Ask the sweep to cancel (only with allow_cancel)")
    def cancel(sweep_id: str) -> JSONResponse:
        if not allow_cancel:
            raise HTTPException(403, "read-only dashboard: start it with --allow-cancel")
        from hypersweep.api.sweep_run import HyperDriveRun
        from hypersweep.errors import ConfigError

        snap = state.snapshot(sweep_id)
        try:
            run = HyperDriveRun(Experiment(state.workspace, snap.sweep.experiment), sweep_id)
        except ConfigError as err:
            raise HTTPException(400, str(err)) from None
        run.cancel()
        return JSONResponse({"status": run.get_status()})

    # ------------------------------------------------------------------ trials
    @app.get("/api/trials/{trial_id}",
             summary="A trial: parameters, metrics, status and reason, command line")
    def get_trial(request: Request, trial_id: str) -> Response:
        record = state.trial(trial_id)
        points = state.store.get_metrics(trial_id)
        sweep = state.store.get_sweep(record.sweep_id)
        seen = repr((record, len(points), sweep.status)).encode()
        etag = '"' + hashlib.sha1(seen).hexdigest() + '"'
        return _json(request, etag, lambda: _trial_json(state, record, points, sweep))

    @app.get("/api/trials/{trial_id}/log",
             summary="The trial's log: the tail, or what was written after `offset`")
    def get_log(trial_id: str, stream: str = "stdout", offset: int | None = None) -> Response:
        record = state.trial(trial_id)
        if stream not in ("stdout", "stderr"):
            raise HTTPException(400, "stream: stdout or stderr")
        name = layout.STDOUT if stream == "stdout" else layout.STDERR
        try:
            handle = open_trial_file(state.workspace.trial_dir(trial_id), name)
        except FileNotFoundError:
            handle = None
        except OSError as err:  # a link out of the trial folder, a FIFO, ...
            raise HTTPException(403, str(err)) from None
        size, data = 0, b""
        if handle is not None:
            with handle:
                size = os.fstat(handle.fileno()).st_size
                start = max(0, size - LOG_TAIL) if offset is None else min(max(0, offset), size)
                end = min(size, start + LOG_CHUNK)
                if end > start:
                    handle.seek(start)
                    data = handle.read(end - start)
        if handle is None:
            start = end = 0
        return JSONResponse({
            "text": data.decode("utf-8", errors="replace"), "start": start, "offset": end,
            "size": size, "running": not record.status.is_terminal,
        }, headers={"Cache-Control": "no-store"})

    @app.get("/api/trials/{trial_id}/system",
             summary="What the trial used of its machine: CPU, memory, processes, GPUs")
    def get_system(request: Request, trial_id: str) -> Response:
        state.trial(trial_id)
        trial_dir = state.workspace.trial_dir(trial_id)
        try:  # a cache key only (lstat follows nothing); the read itself is the safe one
            info = os.lstat(trial_dir / layout.SYSTEM)
            etag = f'"{info.st_size}-{info.st_mtime_ns}"'
        except OSError:
            etag = '"none"'
        return _json(request, etag,
                     lambda: views.system_series(Run(state.workspace, trial_id)
                                                 .get_system_metrics()))

    @app.get("/api/trials/{trial_id}/outputs", summary="Files in the trial's outputs folder")
    def list_outputs(trial_id: str) -> JSONResponse:
        state.trial(trial_id)
        try:
            # bounded, and follows no link to a folder (see execution.trial_files)
            files, truncated = list_trial_files(*state.outputs(trial_id), limit=MAX_LISTED)
        except OSError as err:
            raise HTTPException(403, str(err)) from None
        return JSONResponse({"root": "outputs", "truncated": truncated,
                             "files": [{"path": f.path, "size": f.size} for f in files]})

    @app.get("/api/trials/{trial_id}/outputs/{path:path}",
             summary="Download one output file (never outside the trial's folder)")
    def get_output(trial_id: str, path: str) -> StreamingResponse:
        state.trial(trial_id)
        if ".." in PurePosixPath(path).parts or path.startswith("/"):
            # this endpoint serves the outputs folder; trial_files guards the trial folder
            raise HTTPException(403, "the path leaves the outputs folder")
        try:
            trial_dir, outputs = state.outputs(trial_id)
            handle = open_trial_file(trial_dir, f"{outputs}/{path}")
        except (FileNotFoundError, IsADirectoryError):
            raise HTTPException(404, "no such file") from None
        except OSError:  # (the requested path is not echoed back)
            raise HTTPException(403, "the path leads out of the trial folder, or is not "
                                     "a regular file") from None
        size = os.fstat(handle.fileno()).st_size
        name = PurePosixPath(path).name

        def chunks() -> Iterator[bytes]:
            with handle:
                while block := handle.read(1 << 20):
                    yield block

        # attachment: an HTML file a trial wrote must never run in the dashboard's origin
        return StreamingResponse(chunks(), media_type="application/octet-stream", headers={
            "Content-Length": str(size),
            "Content-Disposition": f"attachment; filename*=utf-8''{quote(name)}"})

    return app


def _text(encoded: str) -> str:
    """A non-numeric metric value for display (the writer stores it as JSON)."""
    try:
        value = json.loads(encoded)
    except ValueError:
        return encoded
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _trial_json(state: Dashboard, record: Any, points: list[Any], sweep: Any) -> dict[str, Any]:
    run = Run(state.workspace, record.id)
    series: dict[str, dict[str, Any]] = {}
    for point in points:
        entry = series.setdefault(point.name, {"steps": [], "values": [], "texts": []})
        if point.value is not None:
            entry["steps"].append(len(entry["values"]) + 1)
            entry["values"].append(point.value)
        elif point.text is not None:
            entry["texts"].append(_text(point.text))
    metrics = {}
    for name, entry in series.items():
        x, y = stride_downsample(entry["steps"], entry["values"], 2000)
        values = entry["values"]
        metrics[name] = {"x": x, "y": y, "count": len(values),
                         "last": values[-1] if values else None,
                         "min": min(values) if values else None,
                         "max": max(values) if values else None,
                         "texts": entry["texts"][-20:]}
    spec = state.cache(sweep.id).spec(sweep)
    return {
        "id": record.id, "index": record.index, "sweep_id": record.sweep_id,
        "experiment": sweep.experiment, "sweep_status": sweep.status.value,
        "status": record.status.value, "params": record.params,
        "start": record.start_time.timestamp() if record.start_time else None,
        "end": record.end_time.timestamp() if record.end_time else None,
        "exit_code": record.exit_code, "error": record.error,
        "reason": record.termination_reason, "detail": record.termination_detail,
        "arguments": record.arguments,
        "command": reproduce_command(spec.trial, record.arguments, record.params),
        "metrics": metrics, "primary_metric": spec.objective.metric,
        "tags": state.store.get_tags(record.id),
        "outputs_path": str(run.outputs_path), "log_path": str(run.log_path),
        "resumed_from": record.resumed_from,
        "placement": record.placement, "devices": placement_text(record.placement) or None,
    }
