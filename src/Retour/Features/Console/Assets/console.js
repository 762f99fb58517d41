// Retour console: every change goes through the REST API with the session cookie (same origin), so the console is
// authorised exactly as the API is. Forms carry data-api="METHOD /path"; problems (RFC 9457) are shown next to the form.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const key = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));

  async function call(method, url, body, idempotencyKey) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let res;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
    } catch (e) {
      return { ok: false, status: 0, problem: { title: "Network error", detail: String(e) } };
    }
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    return res.ok ? { ok: true, status: res.status, data: json } : { ok: false, status: res.status, problem: json || { title: res.statusText } };
  }

  function describe(problem) {
    const parts = [];
    if (problem.title) parts.push(problem.title);
    if (problem.detail && problem.detail !== problem.title) parts.push(problem.detail);
    if (problem.errors) for (const [field, msgs] of Object.entries(problem.errors)) parts.push(field + ": " + [].concat(msgs).join(" "));
    return parts.join(" — ");
  }

  function showError(form, problem) {
    let box = $(".alert[data-form-error]", form);
    if (!box) {
      box = document.createElement("div");
      box.className = "alert";
      box.setAttribute("role", "alert");
      box.dataset.formError = "";
      form.prepend(box);
    }
    box.textContent = describe(problem);
  }

  function announce(text) {
    const s = $("#status");
    if (s) { s.textContent = text; s.className = text ? "notice" : ""; }
  }

  // The JSON a form sends: named fields by default; inspections and dispositions have their own shape.
  const builders = {
    fields(form) {
      const body = {};
      for (const el of form.elements) {
        if (!el.name || el.disabled) continue;
        if (el.type === "checkbox") body[el.name] = el.checked;
        else if (el.value !== "") body[el.name] = el.value;
      }
      return body;
    },
    inspection(form) {
      return {
        lines: $$("[data-unit]", form).map(fs => {
          const checklist = {};
          $$("[data-check]", fs).forEach(c => { checklist[c.dataset.check] = c.checked; });
          const notes = $("[data-field=notes]", fs).value.trim();
          return { order_line_id: fs.dataset.line, unit: Number(fs.dataset.unitNumber), grade: $("[data-field=grade]", fs).value || null, checklist, notes: notes || null };
        }),
      };
    },
    apikey(form) {
      return { name: form.elements.name.value.trim(), scopes: $$("[data-scope]", form).filter(c => c.checked).map(c => c.dataset.scope) };
    },
    webhook(form) {
      return { url: form.elements.url.value.trim(), events: form.elements.events.value.split(/[\s,]+/).filter(Boolean) };
    },
    dispositions(form) {
      return {
        units: $$("[data-disposition]", form).map(row => {
          const sel = $("[data-field=disposition]", row);
          const reason = $("[data-field=reason]", row).value.trim();
          return { id: row.dataset.disposition, disposition: sel.value, reason: reason || null };
        }),
      };
    },
  };

  function wireForm(form) {
    form.dataset.key = key();
    form.addEventListener("submit", async ev => {
      ev.preventDefault();
      const [method, url] = form.dataset.api.split(" ");
      const body = (builders[form.dataset.build || "fields"])(form);
      const buttons = $$("button", form);
      buttons.forEach(b => { b.disabled = true; });
      const res = await call(method, url, body, form.dataset.key);
      buttons.forEach(b => { b.disabled = false; });
      if (res.ok && form.dataset.show) {
        // A secret shown once (API key, webhook secret, invitation link): shown here, never again.
        form.dataset.key = key();
        const shown = $("[data-shown]", form);
        $("[data-value]", shown).textContent = res.data[form.dataset.show];
        shown.hidden = false;
        const err = $(".alert[data-form-error]", form); if (err) err.remove();
      } else if (res.ok) {
        form.dataset.key = key();
        sessionStorage.setItem("retour:flash", form.dataset.done || document.body.dataset.tDone || "✓");
        if (form.dataset.then) location.assign(form.dataset.then); else location.reload();
      } else {
        showError(form, res.problem);
      }
    });
    form.addEventListener("keydown", ev => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); }
    });
  }

  function wireBulk(form) {
    const all = $("[data-select-all]", form);
    if (all) all.addEventListener("change", () => $$("input[name=ids]", form).forEach(c => { c.checked = all.checked; }));
    $$("[data-bulk-action]", form).forEach(btn => btn.addEventListener("click", async () => {
      const action = btn.dataset.bulkAction;
      const chosen = $$("input[name=ids]:checked", form);
      const out = $("[data-bulk-result]", form);
      if (chosen.length === 0) { out.textContent = "0"; return; }
      const reason = $("#bulk-reason").value.trim();
      if (action === "reject" && !reason) { $("#bulk-reason").focus(); out.textContent = $("#bulk-reason").placeholder; return; }
      let done = 0; const failed = [];
      for (const c of chosen) {
        const res = await call("POST", "/api/v1/returns/" + c.value + "/" + action, reason ? { reason } : {}, key());
        if (res.ok) done++; else failed.push(c.dataset.rma + ": " + describe(res.problem));
      }
      sessionStorage.setItem("retour:flash", action + ": " + done + " ✓" + (failed.length ? " · " + failed.length + " ✗ " + failed.join("; ") : ""));
      location.reload();
    }));
  }

  // Receiving: focus stays in the scan field; colour and a tone say what happened.
  function beep(kind) {
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const tones = kind === "ok" ? [880] : kind === "again" ? [660, 660] : [220];
      tones.forEach((f, i) => {
        const o = ctx.createOscillator(); const g = ctx.createGain();
        o.frequency.value = f; o.connect(g); g.connect(ctx.destination);
        g.gain.value = 0.15;
        o.start(ctx.currentTime + i * 0.18); o.stop(ctx.currentTime + i * 0.18 + 0.12);
      });
    } catch (e) { /* no audio: the colour still tells */ }
  }

  function wireReceiving(box) {
    const scan = $("#scan"), result = $("#scan-result"), log = $("#scan-log"), next = $("#scan-next"), link = $("#inspect-last");
    let last = null, busy = false;
    const keepFocus = () => setTimeout(() => {
      const a = document.activeElement;
      if (!a || a === document.body || a === result) scan.focus();
    }, 0);
    scan.addEventListener("blur", keepFocus);
    document.addEventListener("click", keepFocus);
    const inspect = () => { if (last) location.assign("/console/warehouse/inspect/" + encodeURIComponent(last)); };
    document.addEventListener("keydown", ev => { if (ev.key === "F2") { ev.preventDefault(); inspect(); } });
    $("#scan-form").addEventListener("submit", async ev => {
      ev.preventDefault();
      const code = scan.value.trim();
      if (!code) { inspect(); return; }
      if (busy) return;
      busy = true;
      const wh = $("#warehouse");
      const res = await call("POST", "/api/v1/warehouse/receipts", { code, warehouse: wh ? wh.value : null }, key());
      busy = false;
      scan.value = "";
      scan.focus();
      let kind, text;
      if (res.ok && res.data.matched && !res.data.already_received) { kind = "ok"; text = box.dataset.tReceived.replace("{rma}", res.data.return.rma); last = res.data.return.rma; }
      else if (res.ok && res.data.matched) { kind = "again"; text = box.dataset.tAgain.replace("{rma}", res.data.return.rma); last = res.data.return.rma; }
      else if (res.ok) { kind = "bad"; text = box.dataset.tUnmatched.replace("{code}", code); }
      else { kind = "bad"; text = box.dataset.tRefused.replace("{code}", code) + " " + describe(res.problem); }
      result.hidden = false;
      result.className = "flash " + kind;
      result.dataset.kind = kind;
      result.textContent = text;
      beep(kind);
      if (last) { next.hidden = false; link.textContent = box.dataset.tInspect.replace("{rma}", last); link.href = "/console/warehouse/inspect/" + encodeURIComponent(last); }
      const empty = $("[data-empty]", log); if (empty) empty.remove();
      const li = document.createElement("li");
      li.textContent = new Date().toLocaleTimeString() + " · " + text;
      li.className = kind === "ok" ? "" : "muted";
      log.prepend(li);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    $$("form[data-api]").forEach(wireForm);
    $$("form[data-bulk]").forEach(wireBulk);
    $$("select[data-autosubmit]").forEach(s => s.addEventListener("change", () => s.form.submit()));
    const receiving = $("[data-receiving]");
    if (receiving) wireReceiving(receiving);
    const esc = $("[data-escape-to]");
    if (esc) document.addEventListener("keydown", ev => { if (ev.key === "Escape") location.assign(esc.href); });
    const flash = sessionStorage.getItem("retour:flash");
    if (flash) { sessionStorage.removeItem("retour:flash"); announce(flash); }
    const focus = $("[autofocus]");
    if (focus) focus.focus();
  });
})();
