// Retour dashboards: every figure comes from /api/v1/analytics/… with the page's filters (the same answers, and the same
// CSV, an integration gets), drawn with Chart.js (vendored from npm by the build). Bars and rows drill down to the
// returns queue with the same filters.
(function () {
  "use strict";
  const root = document.getElementById("analytics");
  if (!root || typeof Chart === "undefined" || !window.RetourConsole) return;
  const $ = (sel, r) => (r || document).querySelector(sel);
  const $$ = (sel, r) => Array.from((r || document).querySelectorAll(sel));
  const texts = JSON.parse($("#analytics-texts").textContent);
  const policy = JSON.parse($("#analytics-policy").textContent);
  const t = (k, args) => {
    let s = texts[k] || k;
    if (args) for (const [n, v] of Object.entries(args)) s = s.replace("{" + n + "}", v);
    return s;
  };
  const locale = root.dataset.locale || "en-GB";
  const currency = root.dataset.currency || "EUR";
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const k of ["from", "to", "category", "region", "carrier", "warehouse"]) if (params.get(k)) filters[k] = params.get(k);
  const charts = {};

  const nf = new Intl.NumberFormat(locale);
  const pf = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  let mf;
  try { mf = new Intl.NumberFormat(locale, { style: "currency", currency }); } catch (e) { mf = nf; }
  const money = s => (s == null || s === "" ? "–" : mf.format(Number(s)));
  const pct = v => (v == null ? "–" : pf.format(v));
  const num = v => (v == null ? "–" : nf.format(v));
  const hours = v => (v == null ? "–" : t("analytics.hours", { n: nf.format(v) }));

  function query(extra) {
    const q = new URLSearchParams(filters);
    if (extra) for (const [k, v] of Object.entries(extra)) if (v != null && v !== "") q.set(k, v);
    const s = q.toString();
    return s ? "?" + s : "";
  }

  async function get(path, extra) {
    let res;
    try {
      res = await fetch("/api/v1/analytics/" + path + query(extra), { headers: { Accept: "application/json" }, credentials: "same-origin" });
    } catch (e) {
      return { ok: false, problem: { title: t("analytics.network"), detail: String(e) } };
    }
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    return res.ok ? { ok: true, data: body } : { ok: false, problem: body || { title: res.statusText } };
  }

  const describe = window.RetourConsole.describe;

  function showError(problem) {
    const box = $("#analytics-error");
    box.hidden = false;
    box.textContent = describe(problem);
  }

  // A key as people read it: reasons, resolutions and segments have labels; the rest are codes (SKUs, carriers…).
  function label(dim, key) {
    if (key === "none") return t("analytics.none");
    if (key === "unknown") return t("analytics.unknown");
    if (dim === "reason") return texts["reason." + key] || key;
    if (dim === "resolution") return texts["resolution." + key] || key;
    if (dim === "segment") return texts["analytics.segment." + key] || key;
    if (dim === "stage") return texts["analytics.stage." + key] || key;
    return key;
  }

  // The returns behind a key: the queue's filters for this dimension, plus the dashboard's own.
  const drillParam = { reason: "reason", category: "category", sku: "sku", carrier: "carrier", warehouse: "warehouse", region: "region", country: "region", resolution: "resolution" };
  function drillUrl(dim, key) {
    const name = drillParam[dim];
    if (!name || key === "none" || key === "unknown") return null;
    const q = new URLSearchParams(filters);
    q.set(name, key);
    return "/console/returns?" + q.toString();
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts[id] = new Chart(document.getElementById(id), config);
    return charts[id];
  }

  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function fillTable(id, rows, make, emptyText) {
    const body = $("#" + id + " tbody");
    body.replaceChildren();
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell(emptyText || t("analytics.no_rows"), "muted");
      td.colSpan = $$("#" + id + " thead th").length;
      tr.append(td);
      body.append(tr);
      return;
    }
    for (const r of rows) body.append(make(r));
  }

  function tableProblem(id, problem) {
    fillTable(id, [], null, describe(problem));
  }

  function csvLinks() {
    for (const a of $$("a[data-csv]")) {
      const extra = { format: "csv" };
      if (a.dataset.csv === "breakdown") extra.dimension = state.dimension;
      if (a.dataset.csv === "trend" && state.interval) extra.interval = state.interval;
      if (a.dataset.csv === "insights/sizing") extra.level = "product";
      a.href = "/api/v1/analytics/" + a.dataset.csv + query(extra);
      a.setAttribute("download", "");
    }
  }

  const state = { dimension: params.get("dimension") || "reason", interval: null, offset: 0, rows: [], seq: 0 };

  async function summary() {
    const res = await get("summary");
    if (!res.ok) { showError(res.problem); return; }
    const s = res.data;
    // The period the answers cover (the API's default when none was chosen) goes on to every other call, CSV and drill-down.
    if (!filters.from) { filters.from = s.from; $("#a-from").value = s.from; }
    if (!filters.to) { filters.to = s.to; $("#a-to").value = s.to; }
    $("#analytics-period").textContent = t("analytics.period", { from: s.from, to: s.to }) + (s.source === "facts" ? " · " + t("analytics.from_facts") : "");
    for (const box of $$("[data-kpi]")) {
      const v = s[box.dataset.kpi];
      const kind = box.dataset.kind;
      $(".value", box).textContent = kind === "rate" ? pct(v) : kind === "money" ? money(v) : kind === "hours" ? hours(v) : num(v);
    }
    $("#analytics-empty").hidden = !(s.returns === 0 && s.sold_units === 0);
  }

  async function trend() {
    const res = await get("trend", { interval: state.interval });
    if (!res.ok) { showError(res.problem); return; }
    const d = res.data;
    state.interval = d.interval;
    for (const b of $$("#trend-interval button")) b.setAttribute("aria-pressed", String(b.dataset.interval === d.interval));
    draw("trend-chart", {
      data: {
        labels: d.points.map(p => p.period),
        datasets: [
          { type: "bar", label: t("analytics.col.returns"), data: d.points.map(p => p.returns), backgroundColor: "#7aa7d6", yAxisID: "y" },
          { type: "line", label: t("analytics.col.rate"), data: d.points.map(p => p.return_rate_units == null ? null : p.return_rate_units * 100),
            borderColor: "#b5482a", backgroundColor: "#b5482a", yAxisID: "rate", spanGaps: true, pointRadius: 2 },
        ],
      },
      options: { scales: { y: { beginAtZero: true, position: "left" }, rate: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ticks: { callback: v => v + " %" } } } },
    });
    csvLinks();
  }

  async function breakdown(more) {
    const seq = ++state.seq;
    if (!more) { state.offset = 0; state.rows = []; }
    for (const b of $$("#breakdown-dims button")) b.setAttribute("aria-pressed", String(b.dataset.dimension === state.dimension));
    const note = $("#breakdown-note");
    note.textContent = "";
    const res = await get("breakdown", { dimension: state.dimension, limit: 50, offset: state.offset });
    if (seq !== state.seq) return; // another dimension was asked for meanwhile: its answer wins
    if (!res.ok) {
      note.textContent = describe(res.problem);
      if (charts["breakdown-chart"]) { charts["breakdown-chart"].destroy(); delete charts["breakdown-chart"]; }
      tableProblem("breakdown-table", res.problem);
      $("#breakdown-more").hidden = true;
      csvLinks();
      return;
    }
    const d = res.data;
    state.rows = state.rows.concat(d.rows);
    state.offset = d.offset + d.rows.length;
    const dim = state.dimension;
    const bySales = d.rows.length > 0 && d.rows[0].rate_basis === "sold_units";
    note.textContent = t(bySales ? "analytics.rate_sold" : "analytics.rate_share", { n: nf.format(d.total_rows) });
    const top = state.rows.slice(0, 15);
    const chart = draw("breakdown-chart", {
      type: "bar",
      data: { labels: top.map(r => label(dim, r.key)), datasets: [{ label: t("analytics.col.returns"), data: top.map(r => r.returns), backgroundColor: "#1f3a5f" }] },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: c => t("analytics.col.rate") + ": " + pct(top[c.dataIndex].rate) } } },
        onClick: (e, elements) => {
          if (!elements.length) return;
          const url = drillUrl(dim, top[elements[0].index].key);
          if (url) location.href = url;
        },
        onHover: (e, elements) => { e.native.target.style.cursor = elements.length && drillParam[dim] ? "pointer" : "default"; },
      },
    });
    chart.canvas.dataset.keys = JSON.stringify(top.map(r => r.key));
    fillTable("breakdown-table", state.rows, r => {
      const tr = document.createElement("tr");
      tr.dataset.key = r.key;
      tr.append(cell(label(dim, r.key)), cell(num(r.returns), "num"), cell(num(r.units), "num"), cell(money(r.value), "num"), cell(pct(r.rate), "num"),
        cell(money(r.refund_total), "num"));
      const td = document.createElement("td");
      const url = drillUrl(dim, r.key);
      if (url) {
        const a = document.createElement("a");
        a.href = url;
        a.className = "drill";
        a.textContent = t("analytics.see_returns");
        td.append(a);
      }
      tr.append(td);
      return tr;
    });
    $("#breakdown-more").hidden = !d.has_more;
    csvLinks();
  }

  async function funnel() {
    const res = await get("funnel");
    if (!res.ok) { showError(res.problem); return; }
    const d = res.data;
    draw("funnel-chart", {
      type: "bar",
      data: { labels: d.stages.map(s => label("stage", s.stage)), datasets: [{ label: t("analytics.col.count"), data: d.stages.map(s => s.returns), backgroundColor: "#3d7a5a" }] },
      options: { plugins: { legend: { display: false } } },
    });
    fillTable("funnel-table", d.times, w => {
      const tr = document.createElement("tr");
      tr.dataset.key = w.stage;
      tr.append(cell(t("analytics.wait." + w.stage)), cell(num(w.returns), "num"), cell(num(w.p50_hours), "num"),
        cell(num(w.p90_hours), "num"), cell(num(w.avg_hours), "num"));
      return tr;
    });
  }

  async function insights() {
    const [sizing, suppliers, serial, carriers, words] = await Promise.all([
      get("insights/sizing", { level: "product" }), get("insights/suppliers"), get("insights/serial-returners"),
      get("insights/carriers"), get("insights/comments"),
    ]);
    if (!sizing.ok) tableProblem("sizing-table", sizing.problem);
    else fillTable("sizing-table", sizing.data.rows.filter(r => r.runs).concat(sizing.data.rows.filter(r => !r.runs)).slice(0, 20), r => {
      const tr = document.createElement("tr");
      tr.dataset.key = r.key;
      tr.append(cell(r.key), cell(r.category), cell(r.runs ? t("analytics.runs." + r.runs) : t("analytics.runs.none"), r.runs ? "up" : ""),
        cell(num(r.returned_units), "num"), cell(pct(r.small_share), "num"), cell(pct(r.large_share), "num"),
        cell(pct(r.runs === "large" ? r.category_large_share : r.category_small_share), "num"), cell(nf.format(Math.max(r.z_small, r.z_large)), "num"));
      return tr;
    });
    if (!suppliers.ok) tableProblem("suppliers-table", suppliers.problem);
    else fillTable("suppliers-table", suppliers.data.rows, r => {
      const tr = document.createElement("tr");
      tr.dataset.key = r.supplier;
      tr.append(cell(r.supplier), cell(num(r.returned_units), "num"), cell(pct(r.quality_share), "num"), cell(pct(r.baseline), "num"),
        cell(money(r.rtv_value), "num"), cell(money(r.recovered_value), "num"), cell(r.flagged ? t("analytics.flagged") : "", r.flagged ? "up" : ""));
      return tr;
    });
    if (!serial.ok) tableProblem("serial-table", serial.problem);
    else fillTable("serial-table", serial.data.rows, r => {
      const tr = document.createElement("tr");
      tr.dataset.key = r.email;
      const who = document.createElement("td");
      const a = document.createElement("a");
      a.href = "/console/returns?q=" + encodeURIComponent(r.email);
      a.textContent = r.email;
      who.append(a);
      tr.append(who, cell(num(r.orders), "num"), cell(num(r.returns), "num"), cell(pct(r.return_rate), "num"), cell(num(r.used_units), "num"),
        cell(money(r.value), "num"), cell(r.signals.map(s => t("analytics.signal." + s)).join(", ")));
      return tr;
    }, t("analytics.serial_none"));
    if (!carriers.ok) tableProblem("carriers-table", carriers.problem);
    else fillTable("carriers-table", carriers.data.rows, r => {
      const tr = document.createElement("tr");
      tr.dataset.key = r.carrier;
      tr.append(cell(r.carrier), cell(num(r.returns), "num"), cell(hours(r.ship_p50_hours), "num"), cell(hours(r.transit_p50_hours), "num"),
        cell(hours(r.transit_p90_hours), "num"), cell(hours(r.avg_cycle_hours), "num"));
      return tr;
    });
    if (!words.ok) tableProblem("words-table", words.problem);
    else fillTable("words-table", words.data.rows, r => {
      const tr = document.createElement("tr");
      tr.dataset.key = r.picked;
      tr.append(cell(label("reason", r.picked)), cell(num(r.comments), "num"), cell(pct(r.agreement), "num"),
        cell(r.classified.slice(0, 3).map(c => label("reason", c.reason) + " " + pct(c.share)).join(", ")), cell(r.example || ""));
      return tr;
    }, t("analytics.words_none"));
  }

  // What-if: the policy in force with the form's changes, replayed over past returns by the API.
  async function whatIf(e) {
    e.preventDefault();
    const form = e.target;
    const box = $("#whatif-error");
    box.hidden = true;
    const v = name => form.elements[name].value.trim();
    const draft = JSON.parse(JSON.stringify(policy));
    const n = (name, fallback) => (v(name) === "" ? fallback : Number(v(name)));
    draft.window_days = n("window_days", draft.window_days);
    // The fee keeps its kind (a percentage of the value, or a fixed amount per unit) unless the form changes it.
    draft.restocking_fee = { type: v("restocking_type") || (policy.restocking_fee || {}).type || "percent", value: n("restocking_fee", 0) };
    draft.return_shipping_fee = n("return_shipping_fee", policy.return_shipping_fee || 0);
    draft.keep_it_threshold = v("keep_it_threshold") === "" ? null : Number(v("keep_it_threshold"));
    draft.store_credit_bonus_percent = n("bonus_percent", policy.store_credit_bonus_percent || 0);
    const button = $("#whatif-run");
    button.disabled = true;
    let res;
    try {
      const r = await fetch("/api/v1/analytics/what-if", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ policy: draft, months: n("months", 12) }),
      });
      res = { ok: r.ok, data: await r.json().catch(() => null) };
    } catch (err) {
      res = { ok: false, data: { title: t("analytics.network"), detail: String(err) } };
    } finally { button.disabled = false; }
    const table = $("#whatif-table");
    if (!res.ok) {
      box.hidden = false;
      box.textContent = describe(res.data || {});
      table.hidden = true;
      return;
    }
    const d = res.data;
    const rows = [
      ["returns", num(d.current.returns), num(d.simulated.returns), (d.change.returns > 0 ? "+" : "") + num(d.change.returns), d.change.returns],
      ["refund_total", money(d.current.refund_total), money(d.simulated.refund_total), money(d.change.refund_total), Number(d.change.refund_total)],
      ["fees_total", money(d.current.fees_total), money(d.simulated.fees_total), money(d.change.fees_total), -Number(d.change.fees_total)],
      ["auto_approval_rate", pct(d.current.auto_approval_rate), pct(d.simulated.auto_approval_rate), pct(d.change.auto_approval_rate), 0],
      ["keep_it_returns", num(d.current.keep_it_returns), num(d.simulated.keep_it_returns), num(d.simulated.keep_it_returns - d.current.keep_it_returns), 0],
    ];
    const body = $("tbody", table);
    body.replaceChildren();
    for (const [k, cur, sim, change, cost] of rows) {
      const tr = document.createElement("tr");
      tr.dataset.measure = k;
      tr.append(cell(t("analytics.w." + k)), cell(cur, "num"), cell(sim, "num"), cell(change, "num" + (cost > 0 ? " up" : cost < 0 ? " down" : "")));
      body.append(tr);
    }
    table.hidden = false;
    const notes = $("#whatif-notes");
    notes.replaceChildren();
    const head = document.createElement("li");
    head.textContent = t("analytics.w.replayed", { n: nf.format(d.replayed), from: d.from });
    notes.append(head);
    for (const note of d.notes || []) { const li = document.createElement("li"); li.textContent = note; notes.append(li); }
  }

  $("#trend-interval").addEventListener("click", e => {
    const b = e.target.closest("button[data-interval]");
    if (!b) return;
    state.interval = b.dataset.interval;
    trend();
  });
  $("#breakdown-dims").addEventListener("click", e => {
    const b = e.target.closest("button[data-dimension]");
    if (!b) return;
    state.dimension = b.dataset.dimension;
    const u = new URL(location.href);
    u.searchParams.set("dimension", state.dimension);
    history.replaceState(null, "", u);
    breakdown(false);
  });
  $("#breakdown-more").addEventListener("click", () => breakdown(true));
  $("#whatif-form").addEventListener("submit", whatIf);

  csvLinks();
  summary().then(() => Promise.all([trend(), breakdown(false), funnel(), insights()])).then(() => { root.dataset.loaded = "true"; });
})();
