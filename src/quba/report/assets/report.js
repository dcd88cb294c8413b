// quba report: renders the leaderboard and plots from the JSON embedded in the page.
// Everything runs offline; Plotly is embedded in the page once, before this script.
(function () {
  "use strict";

  const DATA = JSON.parse(document.getElementById("quba-data").textContent);
  const DIMS = DATA.dimensions;
  const DIM_BY_KEY = Object.fromEntries(DIMS.map((d) => [d.key, d]));
  const PAPER = DATA.presets.paper;
  const PLOT_CONFIG = { displaylogo: false, responsive: true };
  const SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star",
    "triangle-down", "pentagon", "hexagon"];

  const state = {
    section: 0,
    weights: Object.assign({}, PAPER),
    reference: "paper",
    sortKey: "rank",
    sortAsc: true,
    x: "accuracy",
    y: "quba",
    radar: null,
    detail: null,
  };

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "className") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  function section() { return DATA.sections[state.section]; }

  // The selected reference statistics: "paper" (the published mu/sigma) or "self" (mean and
  // sample standard deviation over this section's models, computed in Python by
  // quba.scoring.self_reference with zero_spread="ignore"). A dimension the reference ignores
  // (no spread) has no statistics and counts as weight 0: neither used nor needed.
  function reference() { return section().references[state.reference]; }

  function effectiveWeight(key, weights) {
    return reference().ignored.includes(key) ? 0 : weights[key];
  }

  // QUBA = sum_d w_d s_d (v_d - mu_d) / sigma_d / sum_d w_d over the present dimensions;
  // a QUBA only when every dimension with a non-zero weight is present, else a partial score.
  function score(model, weights) {
    const ref = reference();
    let num = 0, den = 0, complete = true;
    for (const d of DIMS) {
      const w = effectiveWeight(d.key, weights);
      if (w === 0) continue;
      const v = model.values[d.key].value;
      if (v === null) { complete = false; continue; }
      const z = (v - ref.mu[d.key]) / ref.sigma[d.key] * (d.higher_is_better ? 1 : -1);
      num += z * w;
      den += w;
    }
    const partial = den > 0 ? num / den : null;
    return { quba: complete ? partial : null, partial: partial };
  }

  function scored() {
    const models = section().models.map((m) => Object.assign({}, m, score(m, state.weights)));
    const ranked = models.filter((m) => m.quba !== null).map((m) => m.quba);
    for (const m of models) {
      m.rank = m.quba === null ? null : 1 + ranked.filter((q) => q > m.quba).length;
    }
    return models;
  }

  function fmt(key, v) {
    if (v === null || v === undefined) return "—";
    if (key === "params") return v.toFixed(1) + " M";
    if (key === "calibration_error") return v.toFixed(4);
    if (key === "quba") return v.toFixed(3);
    return v.toFixed(3);
  }

  function zscore(model, key) {
    const d = DIM_BY_KEY[key], v = model.values[key].value, ref = reference();
    if (v === null || !(key in ref.mu)) return null;
    return (v - ref.mu[key]) / ref.sigma[key] * (d.higher_is_better ? 1 : -1);
  }

  // ---- reference ---------------------------------------------------------------------------
  function renderReference() {
    const select = document.getElementById("reference");
    const refs = section().references;
    select.innerHTML = "";
    for (const [name, label] of [["paper", "paper"], ["self", "these models"]]) {
      const option = el("option", { value: name, text: label });
      if (!(name in refs)) {
        option.disabled = true;
        option.title = "needs at least two models";
      }
      if (name === state.reference) option.selected = true;
      select.appendChild(option);
    }
    const ref = reference();
    const names = ref.ignored.map((k) => DIM_BY_KEY[k].name);
    document.getElementById("reference-note").textContent = state.reference === "paper"
      ? "μ and σ of the paper's 326 ImageNet models."
      : "μ and σ (sample standard deviation) over the " + section().models.length +
        " models of this section; QUBA then only compares these models with each other." +
        (names.length ? " No spread, so weight 0: " + names.join(", ") + "." : "");
    const where = state.reference === "paper" ? "the paper's reference μ and σ"
      : "μ and σ of these models";
    document.getElementById("formula-note").textContent = "QUBA = Σ w·s·(v − μ)/σ / Σ w with " +
      where + "; s = −1 for the two lower-is-better dimensions (↓). Only models with every " +
      "weighted dimension get a QUBA and a rank.";
    document.getElementById("radar-reference").textContent = state.reference === "paper"
      ? "the paper's reference" : "these models";
  }

  function setReference(name) {
    state.reference = name;
    renderReference();
    const models = scored();
    renderLeaderboard(models);
    renderScatter(models);
    renderRadar(models);
  }

  // ---- weights -----------------------------------------------------------------------------
  function renderWeights() {
    const box = document.getElementById("weights");
    box.innerHTML = "";
    for (const d of DIMS) {
      const input = el("input", { type: "number", min: "0", step: "0.05", "data-key": d.key,
        className: "weight", id: "weight-" + d.key, "aria-label": d.name + " weight" });
      input.value = String(Math.round(state.weights[d.key] * 1000) / 1000);
      input.addEventListener("input", () => {
        const w = parseFloat(input.value);
        state.weights[d.key] = Number.isFinite(w) && w >= 0 ? w : 0;
        renderScores();
      });
      box.appendChild(el("label", { className: "weight-label" },
        [el("span", { text: d.name + (d.higher_is_better ? " ↑" : " ↓") }), input]));
    }
  }

  function setWeights(weights) {
    state.weights = Object.assign({}, weights);
    renderWeights();
    renderScores();
  }

  // ---- leaderboard -------------------------------------------------------------------------
  function renderLeaderboard(models) {
    const table = document.getElementById("leaderboard");
    const head = table.querySelector("thead");
    const body = table.querySelector("tbody");
    const columns = [["rank", "Rank"], ["name", "Model"], ["family", "Family"],
      ["training_data", "Training data"], ["paradigm", "Paradigm"], ["quba", "QUBA"]]
      .concat(DIMS.map((d) => [d.key, d.name + (d.higher_is_better ? " ↑" : " ↓")]));
    head.innerHTML = "";
    const tr = el("tr");
    for (const [key, label] of columns) {
      const th = el("th", { "data-key": key, text: label, title: "sort by " + label });
      if (key === state.sortKey) th.className = state.sortAsc ? "sorted-asc" : "sorted-desc";
      th.addEventListener("click", () => {
        if (state.sortKey === key) state.sortAsc = !state.sortAsc;
        else {
          // First click: best first (ascending for rank, names and lower-is-better dimensions).
          state.sortKey = key;
          state.sortAsc = key === "rank" || !(key in DIM_BY_KEY || key === "quba") ||
            (key in DIM_BY_KEY && !DIM_BY_KEY[key].higher_is_better);
        }
        renderScores();
      });
      tr.appendChild(th);
    }
    head.appendChild(tr);

    const sortValue = (m) => {
      const k = state.sortKey;
      if (k === "rank") return m.rank;
      if (k === "quba") return m.quba !== null ? m.quba : null;
      if (k in DIM_BY_KEY) return m.values[k].value;
      return m[k] === null ? null : String(m[k]).toLowerCase();
    };
    const sorted = models.slice().sort((a, b) => {
      const va = sortValue(a), vb = sortValue(b);
      if (va === null && vb === null) return (b.partial || 0) - (a.partial || 0);
      if (va === null) return 1;
      if (vb === null) return -1;
      const c = va < vb ? -1 : va > vb ? 1 : 0;
      return state.sortAsc ? c : -c;
    });

    body.innerHTML = "";
    for (const m of sorted) {
      const row = el("tr", { "data-model": m.spec });
      if (m.quba !== null) row.setAttribute("data-quba", String(m.quba));
      row.appendChild(el("td", { className: "rank", text: m.rank === null ? "—" : String(m.rank) }));
      row.appendChild(el("td", { className: "model", text: m.name, title: m.spec }));
      for (const k of ["family", "training_data", "paradigm"]) {
        row.appendChild(el("td", { className: "meta", text: m[k] || "" }));
      }
      if (m.quba !== null) {
        row.appendChild(el("td", { className: "quba", text: fmt("quba", m.quba) }));
      } else if (m.partial !== null) {
        const missing = DIMS.filter((d) => m.values[d.key].value === null).map((d) => d.name);
        row.appendChild(el("td", { className: "quba partial", text: fmt("quba", m.partial) + " (partial)",
          title: "partial score, not a QUBA: missing " + missing.join(", ") }));
      } else {
        row.appendChild(el("td", { className: "quba missing", text: "—" }));
      }
      for (const d of DIMS) {
        const cell = m.values[d.key];
        if (cell.value === null) {
          row.appendChild(el("td", { className: "missing", text: "—", title: cell.reason || "missing" }));
          continue;
        }
        const td = el("td", { className: "value" }, [el("span", { text: fmt(d.key, cell.value) })]);
        if (cell.ci_low !== null && cell.ci_high !== null) {
          td.appendChild(el("span", { className: "ci",
            text: " [" + fmt(d.key, cell.ci_low) + ", " + fmt(d.key, cell.ci_high) + "]" }));
        }
        let tip = d.name + ": " + cell.value;
        if (cell.num_samples !== null) tip += " (n = " + cell.num_samples + ")";
        td.setAttribute("title", tip);
        row.appendChild(td);
      }
      body.appendChild(row);
    }
    const total = DIMS.reduce((s, d) => s + effectiveWeight(d.key, state.weights), 0);
    document.getElementById("weights-warning").textContent = total > 0 ? ""
      : DIMS.some((d) => state.weights[d.key] > 0)
        ? "Every weighted dimension has no spread over these models: no score can be computed."
        : "All weights are zero: no score can be computed.";
  }

  // ---- scatter -----------------------------------------------------------------------------
  function axisValue(m, key) {
    if (key === "quba") return { v: m.quba, lo: null, hi: null };
    const c = m.values[key];
    return { v: c.value, lo: c.ci_low, hi: c.ci_high };
  }

  function axisName(key) {
    if (key !== "quba") return DIM_BY_KEY[key].name;
    return state.reference === "paper" ? "QUBA" : "QUBA (vs. these models)";
  }

  function renderScatter(models) {
    const families = [...new Set(models.map((m) => m.family || "unknown family"))];
    const paradigms = [...new Set(models.map((m) => m.paradigm || "unknown paradigm"))];
    const symbolOf = (p) => SYMBOLS[paradigms.indexOf(p) % SYMBOLS.length];
    const traces = [];
    for (const family of families) {
      const pts = models.filter((m) => (m.family || "unknown family") === family)
        .map((m) => [m, axisValue(m, state.x), axisValue(m, state.y)])
        .filter(([, a, b]) => a.v !== null && b.v !== null);
      if (!pts.length) continue;
      const err = (vals) => ({ type: "data", symmetric: false, visible: vals.some((a) => a.lo !== null),
        array: vals.map((a) => (a.hi === null ? 0 : a.hi - a.v)),
        arrayminus: vals.map((a) => (a.lo === null ? 0 : a.v - a.lo)), thickness: 1, width: 2 });
      traces.push({
        type: "scatter", mode: "markers", name: family, legendgroup: "family",
        x: pts.map((p) => p[1].v), y: pts.map((p) => p[2].v),
        error_x: err(pts.map((p) => p[1])), error_y: err(pts.map((p) => p[2])),
        marker: { size: 11, symbol: pts.map((p) => symbolOf(p[0].paradigm || "unknown paradigm")),
          line: { width: 1, color: "#333" } },
        text: pts.map((p) => p[0].name),
        customdata: pts.map((p) => [p[0].paradigm || "", p[0].training_data || ""]),
        hovertemplate: "<b>%{text}</b><br>" + axisName(state.x) + ": %{x:.4g}<br>" +
          axisName(state.y) + ": %{y:.4g}<br>%{customdata[0]} · %{customdata[1]}<extra>" +
          family + "</extra>",
      });
    }
    for (const p of paradigms) {
      traces.push({ type: "scatter", mode: "markers", x: [null], y: [null], name: p,
        legendgroup: "paradigm", marker: { symbol: symbolOf(p), color: "#888", size: 10 },
        hoverinfo: "skip" });
    }
    const layout = {
      margin: { t: 30, r: 10, b: 50, l: 60 }, height: 460,
      xaxis: { title: { text: axisName(state.x) }, zeroline: false },
      yaxis: { title: { text: axisName(state.y) }, zeroline: false },
      legend: { font: { size: 11 } },
    };
    Plotly.react("scatter", traces, layout, PLOT_CONFIG);
  }

  // ---- radar -------------------------------------------------------------------------------
  function renderRadar(models) {
    const box = document.getElementById("radar-models");
    if (state.radar === null) {
      const best = models.slice().sort((a, b) => (b.quba ?? -1e9) - (a.quba ?? -1e9));
      state.radar = new Set(best.slice(0, 5).map((m) => m.spec));
    }
    box.innerHTML = "";
    for (const m of models) {
      const input = el("input", { type: "checkbox", value: m.spec });
      input.checked = state.radar.has(m.spec);
      input.addEventListener("change", () => {
        if (input.checked) state.radar.add(m.spec); else state.radar.delete(m.spec);
        renderRadar(scored());
      });
      box.appendChild(el("label", { className: "radar-choice" }, [input, el("span", { text: m.name })]));
    }
    const theta = DIMS.map((d) => d.name);
    const traces = models.filter((m) => state.radar.has(m.spec)).map((m) => ({
      type: "scatterpolar", name: m.name, theta: theta.concat([theta[0]]),
      r: DIMS.map((d) => zscore(m, d.key)).concat([zscore(m, DIMS[0].key)]),
      connectgaps: false, mode: "lines+markers",
      hovertemplate: "<b>" + m.name + "</b><br>%{theta}: z = %{r:.2f}<extra></extra>",
    }));
    Plotly.react("radar", traces, {
      margin: { t: 30, r: 60, b: 30, l: 60 }, height: 500, showlegend: true,
      legend: { orientation: "h", y: -0.12, font: { size: 11 } },
      polar: { radialaxis: { angle: 90, tickfont: { size: 9 } }, angularaxis: { tickfont: { size: 11 } } },
    }, PLOT_CONFIG);
  }

  // ---- correlations ------------------------------------------------------------------------
  function renderCorrelation() {
    const corr = section().correlations;
    const note = document.getElementById("correlation-note");
    const div = document.getElementById("correlation");
    if (!corr) {
      Plotly.purge(div);
      div.style.display = "none";
      note.textContent = "Rank correlations need at least 3 models with all nine dimensions.";
      return;
    }
    div.style.display = "";
    note.textContent = "Spearman rank correlation between dimensions over up to " +
      corr.num_models + " models (each pair uses the models with both values; hover for the " +
      "p-value and the number of models).";
    const names = corr.keys.map((k) => DIM_BY_KEY[k].name);
    Plotly.react(div, [{
      type: "heatmap", x: names, y: names, z: corr.rho,
      customdata: corr.p.map((row, i) => row.map((p, j) => [p, corr.n[i][j]])),
      zmin: -1, zmax: 1, colorscale: "RdBu", reversescale: true,
      hovertemplate: "%{y} vs %{x}<br>ρ = %{z:.3f}<br>p = %{customdata[0]:.3g}" +
        "<br>n = %{customdata[1]}<extra></extra>",
    }], { margin: { t: 20, r: 10, b: 140, l: 170 }, height: 520, yaxis: { autorange: "reversed" } },
    PLOT_CONFIG);
  }

  // ---- per-dimension details ---------------------------------------------------------------
  function renderDetails(models) {
    const select = document.getElementById("detail-model");
    const withDetails = models.filter((m) => Object.keys(section().breakdowns[m.spec] || {}).length);
    const box = document.getElementById("details");
    box.innerHTML = "";
    select.innerHTML = "";
    if (!withDetails.length) {
      box.appendChild(el("p", { className: "note", text: "No breakdowns stored for these models." }));
      return;
    }
    if (!withDetails.some((m) => m.spec === state.detail)) state.detail = withDetails[0].spec;
    for (const m of withDetails) {
      const option = el("option", { value: m.spec, text: m.name });
      if (m.spec === state.detail) option.selected = true;
      select.appendChild(option);
    }
    const panels = section().breakdowns[state.detail];
    for (const d of DIMS) {
      for (const [i, panel] of (panels[d.key] || []).entries()) {
        const div = el("div", { className: "plot detail-plot", id: "detail-" + d.key + "-" + i });
        box.appendChild(el("div", { className: "card" }, [el("h4", { text: d.name + ": " + panel.title }), div]));
        let traces;
        if (panel.kind === "heatmap") {
          traces = [{ type: "heatmap", x: panel.columns, y: panel.rows, z: panel.z,
            colorscale: "Viridis", hovertemplate: "%{y}, %{x}: %{z:.4g}<extra></extra>" }];
        } else if (panel.kind === "grouped") {
          traces = panel.columns.map((column, j) => ({ type: "bar", name: column, x: panel.rows,
            y: panel.z.map((row) => row[j]), hovertemplate: "%{x}, " + column + ": %{y:.4g}<extra></extra>" }));
        } else {
          traces = [{ type: "bar", x: panel.labels, y: panel.values, marker: { color: "#4c78a8" },
            hovertemplate: "%{x}: %{y:.4g}<extra></extra>" }];
        }
        Plotly.newPlot(div, traces, { margin: { t: 10, r: 10, b: 90, l: 120 }, height: 320,
          barmode: "group", legend: { orientation: "h", y: 1.12 },
          yaxis: panel.kind === "heatmap" ? { autorange: "reversed", type: "category" } : {},
          xaxis: { type: "category" } }, PLOT_CONFIG);
      }
    }
  }

  // ---- provenance --------------------------------------------------------------------------
  function renderProvenance(models) {
    const box = document.getElementById("provenance");
    box.innerHTML = "";
    const s = section();
    box.appendChild(el("p", { text: "Protocol: " + s.label + ". Report made " + DATA.generated +
      " with quba " + DATA.quba_version + "." }));
    for (const m of models) {
      const entries = s.provenance[m.spec] || [];
      const details = el("details", {}, [el("summary", { text: m.name + " (" + m.spec + ")" })]);
      if (!entries.length) details.appendChild(el("p", { className: "note", text: "no provenance stored" }));
      for (const entry of entries) {
        details.appendChild(el("pre", { text: JSON.stringify(entry, null, 2) }));
      }
      box.appendChild(details);
    }
  }

  // ---- wiring ------------------------------------------------------------------------------
  function renderScores() {
    const models = scored();
    renderLeaderboard(models);
    renderScatter(models);
  }

  function renderSection() {
    const s = section();
    const notes = document.getElementById("notices");
    notes.innerHTML = "";
    for (const text of s.notices) notes.appendChild(el("li", { text: text }));
    const axes = [["quba", "QUBA"]].concat(DIMS.map((d) => [d.key, d.name]));
    for (const id of ["scatter-x", "scatter-y"]) {
      const select = document.getElementById(id);
      select.innerHTML = "";
      for (const [k, label] of axes) {
        const option = el("option", { value: k, text: label });
        if (k === (id === "scatter-x" ? state.x : state.y)) option.selected = true;
        select.appendChild(option);
      }
    }
    state.radar = null;
    state.reference = s.reference;
    renderReference();
    const models = scored();
    renderLeaderboard(models);
    renderScatter(models);
    renderRadar(models);
    renderCorrelation();
    renderDetails(models);
    renderProvenance(models);
  }

  function init() {
    document.title = DATA.title;
    const sectionSelect = document.getElementById("section-select");
    DATA.sections.forEach((s, i) => sectionSelect.appendChild(el("option", { value: String(i), text: s.label })));
    document.getElementById("section-picker").style.display = DATA.sections.length > 1 ? "" : "none";
    sectionSelect.addEventListener("change", () => { state.section = Number(sectionSelect.value); renderSection(); });
    const presetSelect = document.getElementById("preset");
    for (const name of Object.keys(DATA.presets)) {
      presetSelect.appendChild(el("option", { value: name, text: name,
        title: (DATA.preset_intents || {})[name] || "" }));
    }
    document.getElementById("paper-weights").addEventListener("click", () => {
      presetSelect.value = "paper";
      setWeights(PAPER);
    });
    document.getElementById("reference").addEventListener("change", (e) => setReference(e.target.value));
    document.getElementById("preset").addEventListener("change", (e) => setWeights(DATA.presets[e.target.value]));
    document.getElementById("scatter-x").addEventListener("change", (e) => { state.x = e.target.value; renderScatter(scored()); });
    document.getElementById("scatter-y").addEventListener("change", (e) => { state.y = e.target.value; renderScatter(scored()); });
    document.getElementById("detail-model").addEventListener("change", (e) => { state.detail = e.target.value; renderDetails(scored()); });
    renderWeights();
    renderSection();
    document.body.setAttribute("data-ready", "true");
  }

  init();
})();
