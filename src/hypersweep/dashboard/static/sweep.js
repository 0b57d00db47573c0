"use strict";
(() => {
  const {el, fmt, pyValue, fmtTime, fmtDuration, badge, path, post, every, setLive,
         TERMINAL, COLORS, plotConfig, layout} = HS;
  const sweepId = HS.body.dataset.sweep;
  // several objectives: the page also draws the Pareto front and its hypervolume
  const objectiveCount = Number(HS.body.dataset.objectives || 0);
  const api = path("/api/sweeps", sweepId);
  const state = {summary: null, charts: null, sort: "index", desc: false, offset: 0,
                 limit: 50, filters: {}, columns: {}, version: null};
  window.hsStats = {renders: 0, chartsDrawn: false};

  // ------------------------------------------------------------------ summary
  function renderSummary(s) {
    badge(document.getElementById("status"), s.status);
    const total = s.max_total_trials || s.trials;
    const pct = total ? Math.min(100, (100 * s.finished) / total) : 0;
    document.getElementById("progress-bar").style.width = pct + "%";
    const c = s.counts;
    document.getElementById("progress-text").textContent =
      `${s.finished} of ${total ?? "?"} trials finished · ${c.Running} running · ` +
      `${c.Queued} queued · ${c.Completed} completed · ${c.Failed} failed · ` +
      `${c.Canceled} canceled · started ${fmtTime(s.start)} · ${fmtDuration(s.duration)}`;
    const best = document.getElementById("best");
    if (s.best) {
      // a trial that logged the best value and then failed is the best, and says it failed
      const flag = s.best.status && s.best.status !== "Completed" && s.best.status !== "Running"
        ? el("span", {class: "badge status-" + s.best.status.toLowerCase(), id: "best-status",
                      title: `this trial ended ${s.best.status}`}, s.best.status) : null;
      best.replaceChildren(
        el("div", {class: "big"}, fmt(s.best.value, 6)),
        el("div", {class: "muted"}, `${s.metric} (${s.maximize ? "max" : "min"})` +
           (s.objectives && s.objectives.length > 1 ? ", the first objective" : "") +
           (s.constraints?.length ? ", feasible trials" : "")),
        el("a", {href: path("/trials", s.best.id), id: "best-link"}, `trial ${s.best.index}`),
        ...(flag ? [" ", flag] : []),   // (replaceChildren would write a null as "null")
        el("table", {class: "small"}, Object.entries(s.best.params).map(([k, v]) =>
          el("tr", {}, el("th", {}, k), el("td", {}, pyValue(v))))));
    } else {
      best.replaceChildren(el("span", {class: "muted"}, `no ${s.metric ?? "metric"} logged yet`));
    }
    if (s.objectives) {
      best.append(el("div", {class: "muted", id: "front-size"},
        `${s.front_size} trial${s.front_size === 1 ? "" : "s"} on the Pareto front` +
        (s.constraints.length ? ` · ${s.feasible} feasible` : "")));
    }
    const cfg = s.config, lim = cfg.limits || {};
    const policy = cfg.early_termination;
    const items = [
      s.objectives && s.objectives.length > 1
        ? ["objectives", s.objectives.map((o) => `${o.goal} ${o.metric}`).join(", ")]
        : ["objective", `${cfg.objective?.goal ?? ""} ${cfg.objective?.primary_metric ?? ""}`],
      ...(s.constraints?.length ? [["constraints", s.constraints.map((c) => c.label).join(", ")]] : []),
      ["sampling", cfg.sampling_algorithm ? describe(cfg.sampling_algorithm) : "—"],
      ["policy", policy ? describe(policy) : "none"],
      ["max trials", lim.max_total_trials], ["max concurrent", lim.max_concurrent_trials],
      ["timeout", lim.timeout ? fmtDuration(lim.timeout) : "—"],
      ["trial timeout", lim.trial_timeout ? fmtDuration(lim.trial_timeout) : "—"],
      ["trial", cfg.trial ? (cfg.trial.script || cfg.trial.command || cfg.trial.kind) : "—"],
    ];
    document.getElementById("config").replaceChildren(
      ...items.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, fmt(v))]));
    document.getElementById("space").replaceChildren(
      ...Object.entries(cfg.search_space || {}).map(([k, v]) =>
        el("tr", {}, el("th", {}, k), el("td", {}, describe(v)))));
    document.getElementById("warnings").replaceChildren(
      ...[s.error, ...(s.warnings || [])].filter(Boolean).map((w) => el("li", {}, w)));
    const cancel = document.getElementById("cancel");
    cancel.hidden = !(s.allow_cancel && !TERMINAL.has(s.status) && s.status !== "CancelRequested");
    setLive(!TERMINAL.has(s.status));
  }

  function describe(obj) {
    if (!obj || typeof obj !== "object") return fmt(obj);
    const {type, ...rest} = obj;
    // values as Python prints them: a choice of None shows None (and not map(fmt), whose
    // index argument became a precision: toPrecision(0) threw RangeError for 0.5)
    const args = Object.entries(rest).filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${k}=${pyValue(v, true)}`);
    return `${type ?? ""}(${args.join(", ")})`;
  }

  document.getElementById("cancel").addEventListener("click", async (event) => {
    if (!window.confirm("Cancel this sweep? Running trials will be stopped.")) return;
    event.target.disabled = true;
    try { await post(api + "/cancel"); await refresh(true); }
    catch (err) { console.warn(err); }
    finally { event.target.disabled = false; }
  });

  // ------------------------------------------------------------------ table
  const STATUSES = ["Queued", "Running", "Completed", "Failed", "Canceled"];
  const statusBox = document.getElementById("status-filter");
  for (const s of STATUSES) {
    statusBox.append(el("label", {class: "check"},
      el("input", {type: "checkbox", name: "status", value: s}), s));
  }

  // several objectives or constraints: one column per objective (the value the front is
  // judged on) in place of the best value, then feasible (with constraints) and the front
  function outcomeColumns(summary) {
    if (!summary.objectives) return [{key: "best", label: summary.metric || "best"}];
    return [
      ...summary.objectives.map((o) => ({key: "value:" + o.metric, metric: o.metric,
        maximize: o.goal === "maximize", label: `${o.metric} ${o.goal === "maximize" ? "↑" : "↓"}`})),
      ...(summary.constraints.length ? [{key: "feasible", label: "Feasible"}] : []),
      {key: "front", label: "Front"},
    ];
  }

  function columnsFor(summary) {
    const params = Object.keys(summary.columns || {});
    return [
      {key: "index", label: "#"}, {key: "status", label: "Status"},
      ...outcomeColumns(summary),
      ...params.map((p) => ({key: "param:" + p, label: p, param: p})),
      // only when some trial held devices or cores; not sortable (the server has no key)
      ...(summary.placed ? [{key: "devices", label: "Devices", fixed: true}] : []),
      {key: "duration", label: "Duration"}, {key: "reason", label: "Reason"},
    ];
  }

  function renderHead(columns) {
    const head = document.querySelector("#trials thead");
    head.replaceChildren(el("tr", {}, columns.map((c) => {
      if (c.fixed) return el("th", {class: "plain"}, c.label);
      const arrow = state.sort === c.key ? (state.desc ? " ▼" : " ▲") : "";
      return el("th", {class: "sortable", dataset: {sort: c.key},
                       onclick: () => sortBy(c.key)}, c.label + arrow);
    })));
  }

  function sortBy(key) {
    if (state.sort === key) state.desc = !state.desc;
    else {
      const column = columnsFor(state.summary || {}).find((c) => c.key === key);
      state.sort = key;
      // better first: the best value, an objective's, feasible and front trials
      state.desc = key === "best" ? state.summary?.maximize
        : column?.metric ? column.maximize : key === "feasible" || key === "front";
    }
    state.offset = 0;
    loadTable();
  }

  function tableUrl() {
    const q = new URLSearchParams({sort: state.sort, desc: String(state.desc),
                                   offset: String(state.offset), limit: String(state.limit)});
    const f = state.filters;
    if (f.status?.length) q.set("status", f.status.join(","));
    if (f.metric_min !== undefined) q.set("metric_min", f.metric_min);
    if (f.metric_max !== undefined) q.set("metric_max", f.metric_max);
    if (f.param && (f.param_min !== undefined || f.param_max !== undefined)) {
      q.append("range", `${f.param}:${f.param_min ?? ""}:${f.param_max ?? ""}`);
    }
    if (f.param && f.param_text) q.append("match", `${f.param}:${f.param_text}`);
    return `${api}/trials?${q}`;
  }

  // Requests overlap (a reset, a page-size change and the live refresh can all be in flight);
  // only the newest may draw, or a slow older answer would overwrite what the user asked for.
  // `ready` (the first load): the summary, which names the columns, is still on its way.
  const getTable = HS.newest();
  async function loadTable(conditional = false, ready = null) {
    const data = await getTable(tableUrl(), conditional, ready);
    if (!data) return;            // 304, or overtaken by a newer request
    const columns = columnsFor(state.summary);
    renderHead(columns);
    const body = document.querySelector("#trials tbody");
    body.replaceChildren(...data.rows.map((r) => {
      const status = el("span", {class: "badge"});
      badge(status, r.status);
      return el("tr", {dataset: {index: r.index}}, columns.map((c) => {
        if (c.key === "index") return el("td", {class: "num"}, el("a", {href: path("/trials", r.id)}, r.index));
        if (c.key === "status") return el("td", {}, status);
        if (c.key === "best") return el("td", {class: "num"}, fmt(r.best, 5));
        if (c.metric) return el("td", {class: "num"}, fmt(r.values?.[c.metric], 5));
        if (c.key === "feasible") return el("td", {class: r.feasible ? "" : "infeasible"}, r.feasible ? "yes" : "no");
        if (c.key === "front") return el("td", {class: "front", title: r.on_front ? "on the Pareto front" : null}, r.on_front ? "★" : "");
        if (c.key === "duration") return el("td", {class: "num"}, fmtDuration(r.duration));
        if (c.key === "reason") return el("td", {class: "small"}, r.reason ?? "");
        if (c.key === "devices") return el("td", {class: "small mono"}, r.devices ?? "");
        return el("td", {class: typeof r.params[c.param] === "number" ? "num" : ""}, pyValue(r.params[c.param]));
      }));
    }));
    const first = data.matched ? data.offset + 1 : 0;
    const last = Math.min(data.offset + data.rows.length, data.matched);
    document.getElementById("page-info").textContent =
      `${first}–${last} of ${data.matched}` + (data.matched !== data.total ? ` (filtered from ${data.total})` : "");
    document.getElementById("table-count").textContent = `${data.total} trials`;
    document.getElementById("prev").disabled = data.offset === 0;
    document.getElementById("next").disabled = last >= data.matched;
    HS.body.dataset.tableMatched = String(data.matched);
    if (!performance.getEntriesByName("hs-table-shown").length) performance.mark("hs-table-shown");
  }

  document.getElementById("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - state.limit); loadTable();
  });
  document.getElementById("next").addEventListener("click", () => {
    state.offset += state.limit; loadTable();
  });
  document.getElementById("page-size").addEventListener("change", (e) => {
    state.limit = Number(e.target.value); state.offset = 0; loadTable();
  });
  const form = document.getElementById("filters");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const num = (k) => (data.get(k) === "" || data.get(k) === null ? undefined : Number(data.get(k)));
    state.filters = {status: data.getAll("status"), metric_min: num("metric_min"),
                     metric_max: num("metric_max"), param: data.get("param") || "",
                     param_min: num("param_min"), param_max: num("param_max"),
                     param_text: data.get("param_text") || ""};
    state.offset = 0;
    loadTable();
  });
  form.addEventListener("reset", () => {
    state.filters = {}; state.offset = 0; setTimeout(loadTable, 0);
  });

  function fillParamSelects(summary) {
    const names = Object.keys(summary.columns || {});
    const select = form.elements.param;
    if (select.options.length !== names.length + 1) {
      select.replaceChildren(el("option", {value: ""}, "—"), ...names.map((n) => el("option", {value: n}, n)));
    }
  }

  // ------------------------------------------------------------------ charts
  function react(id, data, extra) {
    const node = document.getElementById(id);
    return Plotly.react(node, data, layout(extra), plotConfig);
  }

  function columnValues(col) {
    return col.kind === "numeric" ? col.values : col.values.map((v) => col.labels[v]);
  }

  function drawHistory(c) {
    const h = c.history;
    return react("chart-history", [
      {type: "scatter", mode: "markers", name: "trial", x: h.index, y: h.value,
       marker: {size: 5, color: "#8ab6d6"}, hovertemplate: "trial %{x}<br>%{y}<extra></extra>"},
      {type: "scatter", mode: "lines", name: "best so far", x: h.best_index, y: h.best,
       line: {shape: "hv", color: "#e76f51", width: 2}},
    ], {xaxis: {title: {text: "trial"}}, yaxis: {title: {text: c.metric || ""}},
        legend: {orientation: "h", y: 1.12}});
  }

  function drawCurves(cv) {
    // one trace per status, curves separated by nulls: 200 curves draw as 4 traces
    const byStatus = new Map();
    for (const t of cv.trials) {
      if (!byStatus.has(t.status)) byStatus.set(t.status, {x: [], y: [], customdata: []});
      const tr = byStatus.get(t.status);
      tr.x.push(...t.x, null); tr.y.push(...t.y, null);
      tr.customdata.push(...t.x.map(() => t.index), null);
    }
    const traces = [...byStatus].map(([status, tr]) => ({
      type: "scatter", mode: "lines", name: status, ...tr,
      line: {width: 1, color: COLORS[status] || "#888"}, opacity: 0.6,
      hovertemplate: "trial %{customdata}<br>interval %{x}: %{y}<extra></extra>"}));
    document.getElementById("curves-title").textContent =
      `${cv.metric ?? "metric"} over intervals` + (cv.shown < cv.total ? ` (${cv.shown} of ${cv.total} trials)` : "");
    return react("chart-curves", traces, {xaxis: {title: {text: "interval"}},
      yaxis: {title: {text: cv.metric || ""}}, legend: {orientation: "h", y: 1.12}});
  }

  // Parallel coordinates draw with WebGL; without a GPU (software GL) each line is costly and
  // past a few hundred lines the plot is a blur anyway: keep the 100 best plus an even spread.
  const PARCOORDS_LINES = 600;
  function parcoordsRows(c) {
    const n = c.sample.score.length;
    if (n <= PARCOORDS_LINES) return null;
    const order = [...Array(n).keys()].sort((a, b) =>
      (c.maximize ? c.sample.score[b] - c.sample.score[a] : c.sample.score[a] - c.sample.score[b]));
    const keep = new Set(order.slice(0, 100));
    const step = n / (PARCOORDS_LINES - 100);
    for (let i = 0; i < n; i += step) keep.add(Math.floor(i));
    return [...keep].sort((a, b) => a - b);
  }

  function drawParcoords(c) {
    const rows = parcoordsRows(c);
    const pick = (values) => (rows ? rows.map((i) => values[i]) : values);
    c = {...c, sample: {...c.sample, score: pick(c.sample.score),
         columns: c.sample.columns.map((col) => ({...col, values: pick(col.values)}))}};
    const dims = c.sample.columns.map((col) => col.kind === "numeric"
      ? (isLog(col) ? logDimension(col) : {label: col.name, values: col.values})
      : {label: col.name, values: col.values, tickvals: col.labels.map((_, i) => i), ticktext: col.labels});
    dims.push({label: c.metric || "score", values: c.sample.score});
    return react("chart-parcoords", [{type: "parcoords", dimensions: dims,
      line: {color: c.sample.score, colorscale: "Viridis", reversescale: !c.maximize, showscale: true}}],
      {margin: {l: 60, r: 60, t: 40, b: 20}, height: 340});
  }

  // parcoords has no log axis: log10 values, ticks labelled with the real powers of ten
  function logDimension(col) {
    const values = col.values.map((v) => (v > 0 ? Math.log10(v) : null));
    const finite = values.filter((v) => v !== null);
    const low = Math.floor(Math.min(...finite)), high = Math.ceil(Math.max(...finite));
    const ticks = finite.length ? [...Array(high - low + 1).keys()].map((i) => low + i) : [];
    return {label: col.name, values, tickvals: ticks, ticktext: ticks.map((t) => `1e${t}`)};
  }

  // The preferred option (from the importance ranking) is chosen once: when the options are
  // filled, or later if they were filled before the ranking was known (a big sweep's first
  // charts: then ``fallback``) and nobody has chosen since.
  function fillSelect(id, names, preferred, fallback) {
    const select = document.getElementById(id);
    const fresh = select.options.length !== names.length;
    if (fresh) {
      select.replaceChildren(...names.map((n) => el("option", {value: n}, n)));
      if (fallback && names.includes(fallback)) select.value = fallback;
    }
    if ((fresh || !select.dataset.chosen) && preferred && names.includes(preferred)) {
      select.value = preferred;
      select.dataset.chosen = "1";
    }
    return select.value;
  }

  function drawScatter(c) {
    const cols = c.sample.columns;
    if (!cols.length) return Promise.resolve();
    const ranked = Object.keys(c.importance).filter((n) => cols.some((col) => col.name === n));
    const name = fillSelect("scatter-x", cols.map((col) => col.name), ranked[0]);
    const col = cols.find((x) => x.name === name) || cols[0];
    return react("chart-scatter", [{type: "scatter", mode: "markers", x: columnValues(col),
      y: c.sample.score, customdata: c.sample.index, marker: {size: 6, color: c.sample.score,
      colorscale: "Viridis", reversescale: !c.maximize},
      hovertemplate: "trial %{customdata}<br>%{x}: %{y}<extra></extra>"}],
      {xaxis: {title: {text: col.name}, type: isLog(col) ? "log" : undefined},
       yaxis: {title: {text: c.metric || ""}}});
  }

  function isLog(col) {
    if (col.kind !== "numeric") return false;
    return typeof col.log === "boolean" ? col.log : logScale(col.values);
  }

  function logScale(values) {
    const v = values.filter((x) => typeof x === "number");
    if (!v.length || v.some((x) => x <= 0)) return false;
    return Math.max(...v) / Math.min(...v) > 1000;
  }

  function drawScatter3d(c) {
    const cols = c.sample.columns;
    if (cols.length < 2) return Promise.resolve();
    const names = cols.map((col) => col.name);
    const ranked = Object.keys(c.importance).filter((n) => names.includes(n));
    const xName = fillSelect("scatter3d-x", names, ranked[0], names[0]);
    const yName = fillSelect("scatter3d-y", names, ranked[1], names[1]);
    const x = cols.find((col) => col.name === xName), y = cols.find((col) => col.name === yName);
    return react("chart-scatter3d", [{type: "scatter3d", mode: "markers", x: columnValues(x),
      y: columnValues(y), z: c.sample.score, marker: {size: 3, color: c.sample.score,
      colorscale: "Viridis", reversescale: !c.maximize}}],
      // room around the scene and a camera further out: axis titles were cut at the edges
      {height: 420, margin: {l: 10, r: 10, t: 10, b: 10},
       scene: {xaxis: {title: {text: x.name}, type: isLog(x) ? "log" : undefined},
               yaxis: {title: {text: y.name}, type: isLog(y) ? "log" : undefined},
               zaxis: {title: {text: c.metric || ""}},
               domain: {x: [0.04, 0.96], y: [0.04, 0.96]},
               camera: {eye: {x: 1.7, y: 1.7, z: 1.1}}}});
  }

  // A chart with nothing to draw says why, in words, on a blank plot (no empty axes)
  function noteLayout(text, extra) {
    return {...extra, xaxis: {visible: false}, yaxis: {visible: false},
            annotations: [{text, showarrow: false, xref: "paper", yref: "paper", x: 0.5,
                           y: 0.5, font: {size: 13, color: "#666"}}]};
  }

  function drawImportance(c) {
    const info = c.importance_info || {};
    document.getElementById("importance-info").textContent = c.importance_note ? "" :
      `fANOVA over ${info.trials} trials` + (typeof info.explained === "number"
        ? ` · the parameters predict ${Math.round(100 * Math.max(0, info.explained))}% of the variation` : "")
      + (info.caveat ? " — the shares are uncertain" : "");
    if (c.importance_note) {
      return react("chart-importance", [], noteLayout(c.importance_note, {height: 160}));
    }
    const entries = Object.entries(c.importance).reverse();
    return react("chart-importance", [{type: "bar", orientation: "h",
      x: entries.map((e) => e[1]), y: entries.map((e) => e[0]), marker: {color: "#457b9d"},
      hovertemplate: "%{y}: %{x:.1%}<extra></extra>"}],
      {xaxis: {title: {text: "share of explained variance (fANOVA)"}, tickformat: ".0%",
               range: [0, 1]},
       margin: {l: 110, r: 15, t: 10, b: 40}});
  }

  // ticks of a count axis: whole numbers only (plotly would put one at 0.5 for a max of 1)
  function countTicks(max) {
    const step = max <= 5 ? 1 : Math.ceil(max / 5 / Math.pow(10, Math.floor(Math.log10(max / 5))))
      * Math.pow(10, Math.floor(Math.log10(max / 5)));
    return {tickmode: "linear", tick0: 0, dtick: Math.max(1, Math.round(step)), tickformat: "d"};
  }

  // the charts' partial answer: these wait for the complete one (c.pending says why)
  const pending = (c, id, height) => react(id, [], noteLayout(c.pending, {height}));

  function drawTimeline(c) {
    if (c.pending) return pending(c, "chart-timeline", 160);
    const t = c.timeline;
    const byStatus = new Map();
    for (const b of t.bars) {
      if (!byStatus.has(b.status)) byStatus.set(b.status, {x: [], y: []});
      const tr = byStatus.get(b.status);
      tr.x.push(b.start, b.end, null); tr.y.push(b.index, b.index, null);
    }
    const traces = [...byStatus].map(([status, tr]) => ({type: "scatter", mode: "lines",
      name: status, ...tr, line: {width: 4, color: COLORS[status] || "#888"}}));
    traces.push({type: "scatter", mode: "lines", name: "running", x: t.times, y: t.running,
                 yaxis: "y2", line: {shape: "hv", color: "#264653", width: 1.5}});
    return react("chart-timeline", traces, {xaxis: {title: {text: "seconds since first start"}, anchor: "y2"},
      yaxis: {title: {text: "trial"}, domain: [0.35, 1]},
      yaxis2: {title: {text: "running"}, domain: [0, 0.25], rangemode: "tozero",
               ...countTicks(Math.max(0, ...t.running))},
      legend: {orientation: "h", y: 1.12}});
  }

  function drawTerminations(c) {
    if (c.pending) {
      document.getElementById("terminations-count").textContent = "";
      return pending(c, "chart-terminations", 120);
    }
    const term = c.terminations;
    document.getElementById("terminations-count").textContent =
      `${term.count} trials stopped` + (Object.keys(term.by_reason).length ? " · " +
      Object.entries(term.by_reason).map(([k, v]) => `${k}: ${v}`).join(", ") : "");
    const rows = term.rows.filter((r) => typeof r.interval === "number");
    document.getElementById("terminations").replaceChildren(
      el("thead", {}, el("tr", {}, ["#", "reason", "policy", "interval", "value", "threshold", "evidence"].map((h) => el("th", {}, h)))),
      el("tbody", {}, term.rows.map((r) => el("tr", {},
        el("td", {class: "num"}, el("a", {href: path("/trials", r.id)}, r.index)),
        el("td", {}, r.reason), el("td", {}, r.policy ?? ""), el("td", {class: "num"}, fmt(r.interval)),
        el("td", {class: "num"}, fmt(r.value)), el("td", {class: "num"}, fmt(r.threshold)),
        el("td", {class: "small"}, r.explanation ?? "")))));
    if (!rows.length) {
      return react("chart-terminations", [], noteLayout(term.count
        ? "no stopped trial has an interval and value to plot"
        : "no trial was stopped early", {height: 120}));
    }
    return react("chart-terminations", [
      {type: "scatter", mode: "markers", name: "value when stopped", x: rows.map((r) => r.interval),
       y: rows.map((r) => r.value), customdata: rows.map((r) => r.index),
       marker: {color: COLORS.Canceled, size: 7},
       hovertemplate: "trial %{customdata}<br>interval %{x}: %{y}<extra></extra>"},
      {type: "scatter", mode: "markers", name: "threshold", x: rows.map((r) => r.interval),
       y: rows.map((r) => r.threshold), marker: {symbol: "line-ew-open", size: 12, color: "#264653"}},
    ], {height: 220, xaxis: {title: {text: "interval"}}, yaxis: {title: {text: c.metric || ""}},
        legend: {orientation: "h", y: 1.15}});
  }

  // ------------------------------------------------------------------ drawing
  // Each chart keeps the newest data it was given and draws it when it can, one chart per
  // frame so the first screen paints before the rest is drawn: SVG charts first, then the
  // WebGL ones, whose part of plotly.js is imported on demand and which draw slowly without a
  // GPU. Every chart is drawn once; after that a chart off screen is not redrawn on every
  // poll, only marked stale, and drawn when it scrolls into view.
  // (page order; a live page redraws a WebGL chart at most every GL_REDRAW_MS)
  const GL_REDRAW_MS = 10000;
  const drawFront = (d) => HSPareto.drawFront(d, react, "chart-pareto", noteLayout);
  const drawHypervolume = (d) => HSPareto.drawHypervolume(d, react, "chart-hypervolume", noteLayout);
  const CHARTS = [
    // several objectives: the front (3-D, WebGL, from three on) and its hypervolume
    ...(objectiveCount > 1 ? [
      {id: "chart-pareto", source: "pareto", draw: drawFront, gl: objectiveCount > 2},
      {id: "chart-hypervolume", source: "pareto", draw: drawHypervolume}] : []),
    {id: "chart-history", source: "charts", draw: drawHistory},
    {id: "chart-curves", source: "curves", draw: drawCurves},
    {id: "chart-scatter", source: "charts", draw: drawScatter},
    {id: "chart-importance", source: "charts", draw: drawImportance},
    {id: "chart-parcoords", source: "charts", draw: drawParcoords, gl: true},
    {id: "chart-scatter3d", source: "charts", draw: drawScatter3d, gl: true},
    {id: "chart-timeline", source: "charts", draw: drawTimeline},
    {id: "chart-terminations", source: "charts", draw: drawTerminations},
  ].map((chart) => ({...chart, node: document.getElementById(chart.id), data: null,
                     stale: false, drawn: false, drawnAt: 0}));

  function inView(chart, margin = 200) {
    const box = chart.node.getBoundingClientRect();
    return box.bottom > -margin && box.top < window.innerHeight + margin;
  }

  let glTimer = null;
  function due() {
    const now = performance.now();
    const charts = CHARTS.filter((c) => c.stale && (!c.drawn || inView(c)));
    const waiting = charts.filter((c) => c.gl && c.drawn && now - c.drawnAt < GL_REDRAW_MS);
    if (waiting.length && glTimer === null) {
      const wait = Math.max(...waiting.map((c) => GL_REDRAW_MS - (now - c.drawnAt)));
      glTimer = setTimeout(() => { glTimer = null; drawCharts(); }, wait);
    }
    // SVG before WebGL, on screen before off screen, then page order (the sort is stable)
    return charts.filter((c) => !waiting.includes(c))
      .sort((a, b) => (!!a.gl - !!b.gl) || (inView(b) - inView(a)))[0];
  }

  function nextFrame() {
    return new Promise((resolve) => (document.hidden ? setTimeout(resolve, 0)
      : requestAnimationFrame(() => setTimeout(resolve, 0))));
  }

  function markOnce(name) {
    if (!performance.getEntriesByName(name).length) performance.mark(name);
  }

  // the first load shows the summary and the table before any chart takes the main thread
  let textShown;
  const textReady = new Promise((resolve) => { textShown = resolve; });

  async function drawChart(chart) {
    await textReady;
    let started = performance.now();
    try {
      await (chart.gl ? HS.plotlyGL() : HS.plotlyReady);
      const data = chart.data;   // the newest, even if it came while plotly.js loaded
      chart.stale = false;
      started = performance.now();
      await chart.draw(data);
    } catch (err) {              // logged; the loop goes on with the other charts
      chart.stale = false;
      console.error(`${chart.id}:`, err);
    }
    chart.drawnAt = performance.now();
    if (!chart.drawn) {
      chart.drawn = true;
      performance.measure("hs-draw " + chart.id, {start: started});
    }
    if (CHARTS.every((c) => c.drawn || c.gl)) markOnce("hs-svg-charts-drawn");
    if (state.summary && CHARTS.every((c) => c.drawn || !inView(c, 0))) markOnce("hs-first-screen");
  }

  // One drawing loop at a time; a call while it runs makes it look again before it ends.
  let drawing = null, lookAgain = false;
  function drawCharts() {
    lookAgain = true;
    if (!drawing) {
      // (.then: the loop starts after `drawing` is set, so its last line can clear it)
      drawing = Promise.resolve().then(async () => {
        while (lookAgain) {
          lookAgain = false;
          for (let chart = due(); chart; chart = due()) {
            await drawChart(chart);
            await nextFrame();
          }
        }
        drawing = null;
      });
    }
    return drawing;
  }
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) drawCharts();
  }, {rootMargin: "200px"});
  for (const chart of CHARTS) observer.observe(chart.node);

  // The chart data: two sources, each answered on its own (the first chart need not wait for
  // the other source), each guarded like the table against an older answer arriving last.
  const sources = {charts: {url: api + "/charts", get: HS.newest()},
                   curves: {url: api + "/curves", get: HS.newest()},
                   ...(objectiveCount > 1 ? {pareto: {url: api + "/pareto", get: HS.newest()}} : {})};
  // complete: the charts once built (a partial answer, a big sweep's or a fresh server's,
  // has no importance, timeline or terminations)
  async function loadSource(name, conditional, complete = false) {
    const source = sources[name];
    const url = complete && name === "charts" ? source.url + "?complete=true" : source.url;
    const data = await source.get(url, conditional);
    if (!data) return;
    if (name === "charts") state.charts = data;
    for (const chart of CHARTS) {
      // a WebGL chart waits for the complete charts of a big sweep (data.partial): its sample
      // is the same, but drawing it twice would double the slowest drawing of the page
      if (chart.source === name && !(chart.gl && data.partial)) {
        chart.data = data;
        chart.stale = true;
      }
    }
    await drawCharts();
  }

  function loadCharts(conditional) {
    return Promise.all(Object.keys(sources).map((name) => loadSource(name, conditional)));
  }

  for (const [select, id] of [["scatter-x", "chart-scatter"], ["scatter3d-x", "chart-scatter3d"],
                              ["scatter3d-y", "chart-scatter3d"]]) {
    document.getElementById(select).addEventListener("change", (event) => {
      event.target.dataset.chosen = "1";   // the user's choice: no ranking overrides it
      const chart = CHARTS.find((c) => c.id === id);
      if (chart.data) { chart.stale = true; drawCharts(); }
    });
  }

  // ------------------------------------------------------------------ live
  const getSummary = HS.newest();
  async function loadSummary(conditional) {
    // null: nothing changed since the last poll, or a newer poll (or the cancel button)
    // overtook this one
    const s = await getSummary(api, conditional);
    if (!s) return null;
    state.summary = s;
    renderSummary(s);
    fillParamSelects(s);
    return s;
  }

  function rendered(s) {
    window.hsStats.renders += 1;
    if (s === state.summary) HS.body.dataset.version = String(s.version);
  }

  async function refresh(force = false) {
    const s = await loadSummary(!force);
    if (!s) return;
    await Promise.all([loadTable(true), loadCharts(true)]);
    rendered(s);
  }

  async function start() {
    // the first screen at once: the summary, the table page and the chart data load in
    // parallel (beside plotly.js); the server answers each without waiting for every trial
    // read or the importance computed (a big sweep's charts then say partial), and the
    // charts are drawn once the text is shown
    const summary = loadSummary(false);
    const table = loadTable(false, summary);
    const text = Promise.allSettled([summary, table]);
    text.then(textShown);
    const charts = loadCharts(false);
    let s = await summary;
    await Promise.all([table, charts]);
    if ((s && s.partial) || (state.charts && state.charts.partial)) {
      // answered by the database before the server read every trial: the complete charts
      // wait for that read, then the full summary and table (columns, devices) replace these
      await loadSource("charts", false, true);
      s = (await loadSummary(false)) || s;
      await loadTable(false);
    }
    rendered(s);
    window.hsStats.chartsDrawn = true;
    performance.mark("hs-charts-drawn");
    HS.body.dataset.ready = "1";
    every(2000, refresh, () => state.summary && !TERMINAL.has(state.summary.status));
  }
  start().catch((err) => { console.error(err); });
})();
