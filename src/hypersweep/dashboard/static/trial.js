"use strict";
(() => {
  const {el, fmt, fmtTime, fmtDuration, badge, path, getJSON, every, setLive, TERMINAL,
         plotConfig, layout} = HS;
  const trialId = HS.body.dataset.trial;
  const api = path("/api/trials", trialId);
  // generation: bumped when the stream changes; an answer for an older one is dropped
  const log = {stream: "stdout", offset: null, running: true, generation: 0};
  let trial = null;

  function render(t) {
    trial = t;
    document.getElementById("index").textContent = t.index;
    badge(document.getElementById("status"), t.status);
    const duration = t.start ? (t.end ?? Date.now() / 1000) - t.start : null;
    document.getElementById("times").textContent =
      `${t.experiment} · started ${fmtTime(t.start)} · ended ${fmtTime(t.end)} · ${fmtDuration(duration)}`;
    document.getElementById("params").replaceChildren(...Object.entries(t.params).map(([k, v]) =>
      el("tr", {}, el("th", {}, k), el("td", {class: "mono"}, typeof v === "number" ? fmt(v, 8) : HS.pyValue(v)))));
    const items = [["status", t.status], ["exit code", t.exit_code], ["reason", t.reason]];
    if (t.devices) items.push(["devices", t.devices]);   // written by the server, as the CLI does
    for (const [k, v] of Object.entries(t.detail || {})) items.push([k, v]);
    if (t.error) items.push(["error", t.error]);
    if (t.resumed_from) items.push(["resumed from", t.resumed_from]);
    for (const [k, v] of Object.entries(t.tags || {})) items.push([`tag ${k}`, v]);
    document.getElementById("state").replaceChildren(...items.flatMap(([k, v]) =>
      [el("dt", {}, k), el("dd", {class: k === "error" ? "pre" : ""}, fmt(v, 6))]));
    document.getElementById("scalars").replaceChildren(...Object.entries(t.metrics).map(([k, m]) =>
      el("tr", {}, el("th", {}, k), el("td", {class: "num"},
        m.count ? `${fmt(m.last, 6)} (last of ${m.count}; min ${fmt(m.min)}, max ${fmt(m.max)})`
                : (m.texts.length ? m.texts[m.texts.length - 1] : "—")))));
    document.getElementById("command").textContent = t.command;
    document.getElementById("outputs-path").textContent = t.outputs_path;
    drawMetrics(t);
    setLive(!TERMINAL.has(t.status));
  }

  let metricsRequest = 0;
  async function drawMetrics(t) {
    const request = ++metricsRequest;
    const root = document.getElementById("metric-charts");
    const names = Object.keys(t.metrics).filter((n) => t.metrics[n].count > 0);
    // keep chart nodes across updates so Plotly.react can update in place
    const existing = new Map([...root.children].map((n) => [n.dataset.metric, n]));
    const panels = names.map((name) => {
      let panel = existing.get(name);
      if (!panel) {
        panel = el("div", {class: "panel", dataset: {metric: name}}, el("h3", {}, name),
                   el("div", {class: "chart"}));
      }
      return panel;
    });
    root.replaceChildren(...panels);
    await HS.plotlyReady;          // panels exist at once; charts once plotly.js is loaded
    if (request !== metricsRequest) return null;   // a newer trial record is drawing
    return Promise.all(names.map((name, i) => {
      const m = t.metrics[name];
      const mode = m.count === 1 ? "markers" : "lines+markers";
      return Plotly.react(panels[i].querySelector(".chart"), [{type: "scatter", mode, x: m.x, y: m.y,
        marker: {size: 4}, line: {color: name === t.primary_metric ? "#e76f51" : "#457b9d"}}],
        layout({height: 240, xaxis: {title: {text: "interval"}}}), plotConfig);
    }));
  }

  // What the trial used of its machine (system.jsonl, sampled every few seconds while it ran):
  // one chart per quantity, drawn only for a trial that left samples.
  const SYSTEM_CHARTS = [
    ["cpu", "CPU (%; 100 = one core)", ["cpu_percent"]],
    ["memory", "Memory (MiB, resident)", ["rss_mib"]],
    ["processes", "Processes", ["processes"]],
    ["gpu-util", "GPU utilisation (%)", ["gpu_util_percent"]],
    ["gpu-memory", "GPU memory (MiB)", ["gpu_memory_mib"]],
  ];
  async function loadSystem() {
    const data = await getJSON(`${api}/system`, true);
    if (!data) return;                        // 304: no new sample
    const section = document.getElementById("system");
    section.hidden = data.count === 0;
    if (!data.count) return;
    const dev = data.devices;
    const parts = [`${data.count} samples`];
    if (dev.gpus.length) parts.push(`GPU ${dev.gpus.join(",")}`);
    if (dev.gpu_memory_of) parts.push(dev.gpu_memory_of === "processes"
      ? "GPU memory of its own processes" : "GPU memory in use on its devices (all processes)");
    if (dev.gpu_memory_total_mib !== null) parts.push(`${fmt(dev.gpu_memory_total_mib, 6)} MiB on its devices`);
    document.getElementById("system-info").textContent = parts.join(" · ");
    const root = document.getElementById("system-charts");
    const shown = SYSTEM_CHARTS.filter(([, , fields]) => fields.some((f) => f in data.series));
    const existing = new Map([...root.children].map((n) => [n.dataset.system, n]));
    const panels = shown.map(([key, title]) => existing.get(key) ||
      el("div", {class: "panel", dataset: {system: key}}, el("h3", {}, title), el("div", {class: "chart short"})));
    root.replaceChildren(...panels);
    await HS.plotlyReady;
    const x = data.time.map((t) => new Date(t * 1000));
    return Promise.all(shown.map(([, , fields], i) => Plotly.react(panels[i].querySelector(".chart"),
      fields.filter((f) => f in data.series).map((f) => ({type: "scatter", mode: "lines", x, y: data.series[f],
        line: {color: "#457b9d"}, name: f})),
      layout({height: 220, showlegend: false, xaxis: {type: "date"}, yaxis: {rangemode: "tozero"}}), plotConfig)));
  }

  // Log reads run one after another (two at once would both append the same bytes), and a
  // stream change drops whatever was read for the old stream, even if it arrives later.
  let logQueue = Promise.resolve();
  function loadLog(reset = false) {
    if (reset) {
      log.generation += 1;
      log.offset = null;
      document.getElementById("log").textContent = "";
    }
    const generation = log.generation;
    const run = logQueue.then(() => readLog(generation));
    logQueue = run.catch(() => {});
    return run;
  }

  async function readLog(generation) {
    while (generation === log.generation) {
      const q = new URLSearchParams({stream: log.stream});
      if (log.offset !== null) q.set("offset", String(log.offset));
      let data;
      try {
        data = await getJSON(`${api}/log?${q}`);
      } catch (err) {
        if (err.status !== 403) throw err;
        // refused (a link out of the trial folder): say so, and stop following it
        document.getElementById("log-info").textContent = err.detail;
        log.running = false;
        return;
      }
      if (generation !== log.generation) return;
      const pre = document.getElementById("log");
      const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      if (log.offset === null && data.start > 0) pre.append(`… (${data.start} earlier bytes)\n`);
      pre.append(data.text);          // a text node: log lines are never markup
      log.offset = data.offset;
      log.running = data.running;
      document.getElementById("log-info").textContent = `${data.size} bytes` + (data.running ? " · following" : "");
      if (atBottom) pre.scrollTop = pre.scrollHeight;
      if (data.offset >= data.size) return;
    }
  }

  async function loadOutputs() {
    const list = document.getElementById("outputs");
    let data;
    try {
      data = await getJSON(`${api}/outputs`);
    } catch (err) {
      if (err.status !== 403) throw err;
      list.replaceChildren(el("li", {class: "muted"}, err.detail));
      return;
    }
    list.replaceChildren(...(data.files.length ? data.files.map((f) => el("li", {},
      el("a", {href: `${api}/outputs/${f.path.split("/").map(encodeURIComponent).join("/")}`}, f.path),
      el("span", {class: "muted small"}, ` ${f.size} bytes`))) : [el("li", {class: "muted"}, "no files")]),
      ...(data.truncated ? [el("li", {class: "muted"}, `… only the first ${data.files.length} files are listed`)] : []));
  }

  document.getElementById("stream").addEventListener("change", (e) => {
    log.stream = e.target.value; loadLog(true);
  });

  async function refresh() {
    const t = await getJSON(api, true);
    if (t) { render(t); await loadOutputs(); }
    await Promise.all([loadLog(), loadSystem()]);
  }

  async function start() {
    render(await getJSON(api, true));
    await Promise.all([loadLog(), loadOutputs(), loadSystem()]);
    HS.body.dataset.ready = "1";
    every(1500, refresh, () => trial && (!TERMINAL.has(trial.status) || log.running));
  }
  start().catch((err) => console.error(err));
})();
