// Shared helpers. Every user string reaches the page through textContent (el()), never
// through innerHTML: names, parameter values and logs are data, not markup.
"use strict";

const HS = (() => {
  const body = document.body;

  /** Build an element: el("td", {class: "x", title: t}, "text", childNode, ...). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fmt(value, digits = 4) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "number") {
      if (Number.isInteger(value)) return String(value);
      const abs = Math.abs(value);
      if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return value.toExponential(digits - 1);
      return String(Number(value.toPrecision(digits)));
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  /** A parameter value as Python prints it (None, True, 'text' inside a list), so a choice
   *  offering None reads the same here as in the config and the CLI; undefined (a parameter
   *  the trial does not have) is a dash. */
  function pyValue(value, nested = false) {
    if (value === undefined) return "—";
    if (value === null) return "None";
    if (typeof value === "boolean") return value ? "True" : "False";
    if (typeof value === "number") return fmt(value, 6);
    if (typeof value === "string") return nested ? `'${value}'` : value;
    if (Array.isArray(value)) return "[" + value.map((v) => pyValue(v, true)).join(", ") + "]";
    return "{" + Object.entries(value).map(([k, v]) => `'${k}': ${pyValue(v, true)}`)
      .join(", ") + "}";
  }

  function fmtTime(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const d = new Date(seconds * 1000);
    return d.toLocaleString(undefined, {hour12: false});
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return seconds.toFixed(1) + " s";
    const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
    if (m < 60) return `${m} min ${s} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  function badge(node, status) {
    node.textContent = status;
    node.className = "badge status-" + String(status).toLowerCase();
  }

  function path(...parts) {
    return parts.map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join("/");
  }

  /** GET JSON; with an ETag store, a 304 answer resolves to null (nothing new). */
  const etags = new Map();
  async function getJSON(url, conditional = false) {
    const headers = {};
    if (conditional && etags.has(url)) headers["If-None-Match"] = etags.get(url);
    const response = await fetch(url, {headers, credentials: "same-origin"});
    if (response.status === 304) return null;
    if (!response.ok) {
      // .status and .detail (FastAPI's message) let a page say why, e.g. a refused log
      const text = await response.text();
      const err = new Error(`${url}: ${response.status} ${text}`);
      err.status = response.status;
      try { err.detail = String(JSON.parse(text).detail ?? text); } catch { err.detail = text; }
      throw err;
    }
    const tag = response.headers.get("ETag");
    if (tag) etags.set(url, tag);
    return response.json();
  }

  /** A getJSON of which only the newest call's answer counts. Requests overlap (a poll, a
   *  click, a filter change); an answer overtaken by a newer call while in flight — or while
   *  it awaited `before` — resolves to undefined, and its ETag is forgotten so the next
   *  conditional request fetches again instead of being told "nothing new". */
  function newest() {
    let latest = 0;
    return async (url, conditional = false, before = null) => {
      const request = ++latest;
      const data = await getJSON(url, conditional);
      if (before) await before;
      if (request === latest) return data;
      if (data) etags.delete(url);
      return undefined;
    };
  }

  async function post(url) {
    const response = await fetch(url, {method: "POST", credentials: "same-origin",
                                       headers: {"X-Hypersweep-Action": "1"}});
    if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  /** Call fn every `ms` while the page is visible and `active()` says so. */
  function every(ms, fn, active = () => true) {
    let timer = null;
    async function tick() {
      if (!document.hidden && active()) {
        try { await fn(); } catch (err) { console.warn(err); }
      }
      timer = setTimeout(tick, ms);
    }
    timer = setTimeout(tick, ms);
    return () => clearTimeout(timer);
  }

  function setLive(on) {
    const live = document.getElementById("live");
    if (live) live.classList.toggle("on", on);
  }

  const TERMINAL = new Set(["Completed", "Failed", "Canceled"]);
  const COLORS = {Completed: "#2a9d8f", Running: "#457b9d", Queued: "#a8a8a8",
                  Failed: "#d62828", Canceled: "#e9a03b", CancelRequested: "#e9a03b"};
  const plotConfig = {displaylogo: false, responsive: true,
                      modeBarButtonsToRemove: ["sendDataToCloud", "toImage"]};
  const baseLayout = {margin: {l: 50, r: 15, t: 10, b: 40}, height: 300,
                      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
                      font: {size: 11}, uirevision: "keep"};

  function layout(extra) {
    return Object.assign({}, baseLayout, extra || {});
  }

  // plotly.js core (an async module: scatter and bar) loads while the page fetches its data
  // and fills the tables; charts wait for this. The WebGL traces (parallel coordinates, 3-D)
  // are a second module, imported the first time a chart needs them.
  const plotlyScript = document.getElementById("plotly-js");
  const plotlyReady = new Promise((resolve, reject) => {
    if (window.Plotly || !plotlyScript) resolve();
    else {
      plotlyScript.addEventListener("load", () => resolve());
      plotlyScript.addEventListener("error", () => reject(new Error("plotly.js did not load")));
    }
  });
  plotlyReady.then(() => performance.mark("hs-plotly-ready"), () => {});
  let glReady = null;
  function plotlyGL() {
    if (!glReady) {
      glReady = plotlyReady.then(() => import(plotlyScript.dataset.gl))
        .then(() => performance.mark("hs-plotly-gl-ready"),
              (err) => { glReady = null; throw err; });   // the next chart tries again
    }
    return glReady;
  }

  return {plotlyReady, plotlyGL, el, fmt, pyValue, fmtTime, fmtDuration, badge, path, getJSON, newest,
          post, every, setLive, TERMINAL, COLORS, plotConfig, layout, body};
})();
