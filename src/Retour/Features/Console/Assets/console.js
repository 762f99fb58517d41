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
  // Shared with the page scripts loaded after this one (analytics.js): one way to put an RFC 9457 problem into words.
  window.RetourConsole = { describe };

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
    // A JSON document edited as text (carriers, allocation, warehouse rules): sent as it is, after a syntax check.
    json(form) {
      return JSON.parse(form.elements.json.value);
    },
    static(form) {
      return JSON.parse(form.dataset.body);
    },
    notifsettings(form) {
      const pick = channel => $$("[data-channel=" + channel + "]", form).filter(c => c.checked).map(c => c.dataset.template);
      const sms = $("#sms-enabled", form);
      return { sms_enabled: sms ? sms.checked : false, email_templates: pick("email"), sms_templates: pick("sms") };
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
      let body;
      try { body = (builders[form.dataset.build || "fields"])(form); }
      catch (e) { showError(form, { title: "JSON", detail: e.message }); return; }
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

  // Field paths ("auto_approval.max_total") into a policy document.
  function getPath(obj, path) { return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj); }
  function setPath(obj, path, value) {
    const keys = path.split(".");
    let o = obj;
    keys.slice(0, -1).forEach(k => { if (o[k] == null || typeof o[k] !== "object") o[k] = {}; o = o[k]; });
    const last = keys[keys.length - 1];
    if (value === undefined) delete o[last]; else o[last] = value;
  }
  function debounce(fn, ms) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; }

  // The policy editor: fields and the JSON text edit one draft; the preview and the tester use the draft as it is.
  function wirePolicyEditor(root) {
    const text = $("#policy-json"), errors = $("#policy-errors"), fields = $$("[data-path]", root);
    let draft;
    try { draft = JSON.parse(text.value); } catch (e) { draft = {}; }
    const showProblems = problem => {
      if (!problem) { errors.hidden = true; errors.textContent = ""; return; }
      errors.hidden = false; errors.textContent = describe(problem);
    };
    const readField = el => {
      const kind = el.dataset.kind, path = el.dataset.path;
      if (kind === "set") {
        const list = new Set(getPath(draft, path) || []);
        if (el.checked) list.add(el.dataset.value); else list.delete(el.dataset.value);
        setPath(draft, path, Array.from(list));
      } else if (kind === "codes") {
        const codes = el.value.split(/[\s,]+/).map(s => s.trim()).filter(Boolean);
        if (codes.length) setPath(draft, path, codes); else setPath(draft, path, undefined);
      } else if (kind === "bool") setPath(draft, path, el.checked);
      else if (kind === "int") setPath(draft, path, el.value === "" ? 0 : parseInt(el.value, 10));
      else if (kind === "decimal") setPath(draft, path, el.value === "" ? 0 : Number(el.value));
      else if (kind === "decimal-or-null") setPath(draft, path, el.value === "" ? null : Number(el.value));
      else setPath(draft, path, el.value);
    };
    const writeFields = () => fields.forEach(el => {
      const v = getPath(draft, el.dataset.path), kind = el.dataset.kind;
      if (kind === "set") el.checked = Array.isArray(v) && v.includes(el.dataset.value);
      else if (kind === "codes") el.value = Array.isArray(v) ? v.join(", ") : "";
      else if (kind === "bool") el.checked = !!v;
      else el.value = v == null ? "" : String(v);
    });
    const previewForm = $("#preview-form"), lang = $("#preview-lang");
    const preview = debounce(() => {
      $("#preview-policy").value = JSON.stringify(draft);
      previewForm.action = "/r/" + encodeURIComponent(root.dataset.slug) + "/policy?handler=Preview&lang=" + encodeURIComponent(lang.value);
      previewForm.submit();
    }, 350);
    fields.forEach(el => el.addEventListener(el.type === "checkbox" || el.tagName === "SELECT" ? "change" : "input", () => {
      readField(el);
      text.value = JSON.stringify(draft, null, 2);
      showProblems(null);
      preview();
    }));
    text.addEventListener("input", () => {
      try { draft = JSON.parse(text.value); showProblems(null); writeFields(); preview(); }
      catch (e) { showProblems({ title: "JSON", detail: e.message }); }
    });
    lang.addEventListener("change", preview);
    let saveKey = key();
    $("#policy-save").addEventListener("click", async () => {
      const res = await call("PUT", "/api/v1/policy", { policy: draft, apply_to: $("#pe-apply").value }, saveKey);
      if (res.ok) { saveKey = key(); sessionStorage.setItem("retour:flash", document.body.dataset.tDone || "✓"); location.reload(); }
      else showProblems(res.problem);
    });
    const result = $("#policy-test-result");
    $("#policy-test").addEventListener("submit", async ev => {
      ev.preventDefault();
      const at = $("#pt-at").value;
      const res = await call("POST", "/api/v1/policy/check", { order_number: $("#pt-order").value.trim(), policy: draft, at: at ? at + "T12:00:00Z" : null });
      result.textContent = "";
      if (!res.ok) { const box = document.createElement("div"); box.className = "alert"; box.textContent = describe(res.problem); result.append(box); return; }
      const verdict = v => v.returnable
        ? v.returnable_quantity + " × · " + v.message + " · " + v.resolutions.join(", ") + " · " + v.methods.join(", ")
        : result.dataset.tNo + ": " + v.message;
      const table = document.createElement("table");
      table.id = "policy-test-table";
      const head = table.createTHead().insertRow();
      ["", result.dataset.tCurrent, result.dataset.tDraft, ""].forEach(h => { const th = document.createElement("th"); th.textContent = h; head.append(th); });
      const body = table.createTBody();
      res.data.lines.forEach(l => {
        const row = body.insertRow();
        row.dataset.line = l.order_line_id;
        row.dataset.changed = l.changed;
        if (l.changed) row.className = "changed";
        [l.title + " (" + l.category + ")", verdict(l.current), verdict(l.draft), l.changed ? result.dataset.tChanged : result.dataset.tSame]
          .forEach(t => { row.insertCell().textContent = t; });
      });
      result.append(table);
    });
    preview();
  }

  // Templates: pick a message, channel and language; the text loads, previews as you type and saves through the API.
  function wireTemplateEditor(root) {
    const sel = { template: $("#te-template"), channel: $("#te-channel"), locale: $("#te-locale") };
    const subject = $("#te-subject"), body = $("#te-body"), errors = $("#te-errors"), state = $("#te-state"), status = $("#te-status");
    const url = () => "/api/v1/notification-templates/" + sel.template.value + "/" + sel.channel.value + "/" + sel.locale.value;
    const showErrors = problem => { errors.hidden = !problem; errors.textContent = problem ? describe(problem) : ""; };
    const show = t => {
      subject.value = t.subject || ""; body.value = t.body;
      subject.disabled = sel.channel.value === "sms";
      state.textContent = t.customized ? root.dataset.tCustomised : root.dataset.tDefault;
      state.className = "pill" + (t.customized ? " ok" : "");
      $("#te-vars").textContent = t.variables.map(v => "{{" + v + "}}").join(" ");
    };
    const preview = debounce(async () => {
      const res = await call("POST", "/api/v1/notification-templates/preview", {
        template: sel.template.value, channel: sel.channel.value, locale: sel.locale.value,
        subject: sel.channel.value === "sms" ? null : subject.value, body: body.value,
      });
      if (!res.ok) { showErrors(res.problem); return; }
      showErrors(null);
      $("#pv-subject").textContent = res.data.subject || "";
      $("#pv-body").textContent = res.data.body;
      $("#pv-body").dir = sel.locale.value === "ar" ? "rtl" : "ltr";
      $("#pv-sms").textContent = res.data.sms ? root.dataset.tParts.replace("{parts}", res.data.sms.segments).replace("{chars}", res.data.sms.characters).replace("{encoding}", res.data.sms.encoding) : "";
    }, 300);
    const load = async () => {
      status.textContent = "";
      const res = await call("GET", url());
      if (!res.ok) { showErrors(res.problem); return; }
      showErrors(null); show(res.data); preview();
    };
    Object.values(sel).forEach(s => s.addEventListener("change", load));
    [subject, body].forEach(el => el.addEventListener("input", preview));
    $("#te-save").addEventListener("click", async () => {
      const res = await call("PUT", url(), { subject: sel.channel.value === "sms" ? null : subject.value, body: body.value });
      if (!res.ok) { showErrors(res.problem); return; }
      show(res.data); status.textContent = root.dataset.tSaved;
    });
    $("#te-reset").addEventListener("click", async () => {
      const res = await call("DELETE", url());
      if (res.ok) { show(res.data); preview(); status.textContent = root.dataset.tSaved; } else showErrors(res.problem);
    });
    load();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $$("form[data-api]").forEach(wireForm);
    $$("form[data-bulk]").forEach(wireBulk);
    $$("select[data-autosubmit]").forEach(s => s.addEventListener("change", () => s.form.submit()));
    const receiving = $("[data-receiving]");
    if (receiving) wireReceiving(receiving);
    // Inspection photos: the file goes as the request body with its own type; the API checks the type, size and count.
    $$("[data-photo-upload]").forEach(input => input.addEventListener("change", async () => {
      const li = input.closest("[data-inspection]"), out = $("[data-photo-result]", li), section = input.closest("[data-t-added]");
      for (const file of Array.from(input.files)) {
        let res;
        try { res = await fetch(input.dataset.photoUpload, { method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream", "Accept": "application/json" }, credentials: "same-origin" }); }
        catch (e) { out.textContent = String(e); continue; }
        const json = await res.json().catch(() => null);
        if (res.ok) { $("[data-photo-count]", li).textContent = (json && json.photos ? json.photos.length : Number($("[data-photo-count]", li).textContent) + 1); out.textContent = section.dataset.tAdded; out.className = "pill ok"; }
        else { out.textContent = json ? describe(json) : res.statusText; out.className = "pill bad"; }
      }
      input.value = "";
    }));
    const policy = $("[data-policy-editor]");
    if (policy) wirePolicyEditor(policy);
    const templates = $("[data-template-editor]");
    if (templates) wireTemplateEditor(templates);
    const esc = $("[data-escape-to]");
    if (esc) document.addEventListener("keydown", ev => { if (ev.key === "Escape") location.assign(esc.href); });
    const flash = sessionStorage.getItem("retour:flash");
    if (flash) { sessionStorage.removeItem("retour:flash"); announce(flash); }
    const focus = $("[autofocus]");
    if (focus) focus.focus();
  });
})();
