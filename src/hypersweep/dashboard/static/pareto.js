// The sweep page's charts of a sweep with several objectives: the Pareto front (2-D scatter of
// the first two objectives, 3-D of the first three) and the front's hypervolume over trials.
// Data: /api/sweeps/<id>/pareto (hypersweep.dashboard.objectives). sweep.js draws them.
"use strict";

const HSPareto = (() => {
  const {pyValue, fmt} = HS;
  const FRONT = "#e76f51", FEASIBLE = "#8ab6d6", INFEASIBLE = "#9a9a9a";

  // plotly reads a few tags and entities in hover text: a parameter's text must stay text
  function text(value) {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function title(objective) {
    return `${objective.metric} (${objective.goal === "maximize" ? "max ↑" : "min ↓"})`;
  }

  function hover(d, k) {
    const p = d.points;
    const values = d.objectives.map((o, j) => `${text(o.metric)} = ${fmt(p.values[j][k], 6)}`);
    const params = Object.entries(p.params[k] || {}).map(([n, v]) => `${text(n)}=${text(pyValue(v))}`);
    const state = p.on_front[k] ? "on the Pareto front" : (p.feasible[k] ? "" : "infeasible");
    return [`trial ${p.index[k]} · ${text(p.id[k])}`, ...values, params.join(", "), state]
      .filter(Boolean).join("<br>");
  }

  /** The front chart's traces: the front (joined, in 2-D), the other feasible trials, and
   *  the infeasible ones as grey crosses. Each point's position k in d.points is its
   *  customdata. */
  function frontTraces(d, three) {
    const p = d.points;
    const groups = {front: [], feasible: [], infeasible: []};
    // the front in the order of the first objective, so that its line does not zigzag
    groups.front = d.front.slice();
    p.index.forEach((_, k) => {
      if (p.on_front[k]) return;
      (p.feasible[k] ? groups.feasible : groups.infeasible).push(k);
    });
    const style = {
      front: {name: "Pareto front", mode: three ? "markers" : "lines+markers",
              marker: {color: FRONT, size: three ? 5 : 9, symbol: "diamond"},
              line: {color: FRONT, width: 1.5}},
      feasible: {name: "feasible", mode: "markers", marker: {color: FEASIBLE, size: three ? 3 : 7}},
      infeasible: {name: "infeasible", mode: "markers",
                   marker: {color: INFEASIBLE, size: three ? 3 : 7, symbol: three ? "x" : "x-thin-open",
                            line: {color: INFEASIBLE, width: 1.5}}},
    };
    return Object.entries(groups).filter(([, ks]) => ks.length).map(([name, ks]) => {
      const axis = (j) => ks.map((k) => p.values[j][k]);
      return {type: three ? "scatter3d" : "scatter", ...style[name], x: axis(0), y: axis(1),
              ...(three ? {z: axis(2)} : {}), customdata: ks,
              text: ks.map((k) => hover(d, k)), hovertemplate: "%{text}<extra></extra>"};
    });
  }

  function info(d) {
    const parts = [`${d.front_size} of ${d.drawable} trials on the front`];
    if (d.constraints.length) parts.push(`${d.infeasible} infeasible (${d.constraints.join(", ")})`);
    if (d.shown < d.drawable) parts.push(`${d.shown} drawn`);
    if (d.objectives.length > 3) parts.push(`the first 3 of ${d.objectives.length} objectives`);
    return parts.join(" · ");
  }

  /** Draw the front chart with react(id, traces, layout) (sweep.js's). */
  function drawFront(d, react, id, noteLayout) {
    document.getElementById("pareto-info").textContent = d.points ? info(d) : "";
    if (!d.points || !d.points.index.length) {
      return react(id, [], noteLayout("no trial logged every objective yet", {height: 160}));
    }
    const [a, b, c] = d.objectives;
    if (d.objectives.length >= 3) {
      return react(id, frontTraces(d, true), {height: 420, margin: {l: 10, r: 10, t: 10, b: 10},
        legend: {orientation: "h", y: 1.05},
        scene: {xaxis: {title: {text: title(a)}}, yaxis: {title: {text: title(b)}},
                zaxis: {title: {text: title(c)}}, domain: {x: [0.04, 0.96], y: [0.04, 0.96]},
                camera: {eye: {x: 1.7, y: 1.7, z: 1.1}}}});
    }
    return react(id, frontTraces(d, false), {xaxis: {title: {text: title(a)}},
      yaxis: {title: {text: title(b)}}, legend: {orientation: "h", y: 1.12}});
  }

  /** Draw the hypervolume of the front after each trial (steps). */
  function drawHypervolume(d, react, id, noteLayout) {
    const h = d.hypervolume;
    if (!d.points || !h || !h.index.length || !h.value.some((v) => v > 0)) {
      return react(id, [], noteLayout("no completed feasible trial logged every objective yet",
                                      {height: 160}));
    }
    return react(id, [{type: "scatter", mode: "lines", name: "hypervolume", x: h.index,
      y: h.value, line: {shape: "hv", color: FRONT},
      hovertemplate: "after trial %{x}: %{y:.4g}<extra></extra>"}],
      {xaxis: {title: {text: "trial"}}, yaxis: {title: {text: "hypervolume"}, rangemode: "tozero"}});
  }

  return {drawFront, drawHypervolume};
})();
