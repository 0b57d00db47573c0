"use strict";
(() => {
  const {el, fmt, fmtTime, fmtDuration, badge, getJSON, every, setLive, TERMINAL} = HS;
  let running = true;

  function render(data) {
    const root = document.getElementById("experiments");
    const groups = new Map();
    for (const sweep of data.sweeps) {
      if (!groups.has(sweep.experiment)) groups.set(sweep.experiment, []);
      groups.get(sweep.experiment).push(sweep);
    }
    document.getElementById("empty").hidden = data.sweeps.length > 0;
    const sections = [];
    for (const [name, sweeps] of groups) {
      const rows = sweeps.map((s) => {
        const total = s.max_total_trials || s.trials;
        const pct = total ? Math.min(100, (100 * s.finished) / total) : 0;
        const status = el("span", {class: "badge"});
        badge(status, s.status);
        return el("tr", {dataset: {sweep: s.id}},
          el("td", {class: "mono"}, el("a", {href: HS.path("/sweeps", s.id)}, s.id)),
          el("td", {}, status),
          el("td", {},
            el("div", {class: "progress small"}, el("div", {class: "bar", style: `width:${pct}%`})),
            el("span", {class: "muted small"}, `${s.finished} / ${total ?? "?"} trials`)),
          el("td", {class: "num"}, s.best ? fmt(s.best.value) : "—",
             el("span", {class: "muted small"}, s.metric ? ` ${s.metric}` : ""),
             // the best trial failed after logging it: say so beside the value
             s.best && s.best.status === "Failed"
               ? el("span", {class: "badge status-failed best-failed"}, "Failed") : null),
          el("td", {}, fmtTime(s.start)),
          el("td", {}, fmtDuration(s.duration)));
      });
      sections.push(el("section", {class: "experiment"},
        el("h2", {}, name),
        el("table", {class: "sweeps"},
          el("thead", {}, el("tr", {}, ["Sweep", "Status", "Progress", "Best", "Started",
                                        "Duration"].map((h) => el("th", {}, h)))),
          el("tbody", {}, rows))));
    }
    root.replaceChildren(...sections);
    running = data.sweeps.some((s) => !TERMINAL.has(s.status));
    setLive(running);
  }

  async function refresh() {
    const data = await getJSON("/api/sweeps", true);
    if (data) render(data);
  }
  // the first answer before any poll: a poll overtaking a slow first load could be drawn
  // first and then overwritten by the older answer
  refresh().then(() => { HS.body.dataset.ready = "1"; }, (err) => console.error(err))
    .finally(() => every(3000, refresh));
})();
