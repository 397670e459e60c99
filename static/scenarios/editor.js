// Scenario editor: CodeMirror with YAML/JSON highlighting, completion from the engine's JSON
// Schema, inline errors from the server's validate endpoint (the engine's own loader), save.
(function () {
  "use strict";
  const script = document.getElementById("editor-script");
  const validateUrl = script.dataset.validateUrl;
  const readOnly = script.dataset.readonly === "true";
  const model = JSON.parse(document.getElementById("completion-model").textContent);
  const form = document.getElementById("editor-form");
  const textarea = document.getElementById("scenario-content");
  const stateEl = document.getElementById("validation-state");
  const issuesEl = document.getElementById("issues");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const STEP_COMMON = model.step_common || []; // the engine's StepBase fields

  function looksJson(text) { return /^\s*[{[]/.test(text); }

  function setState(state, text) { stateEl.dataset.state = state; stateEl.textContent = text; }

  function showIssues(issues) {
    issuesEl.innerHTML = "";
    issues.forEach((issue) => {
      const li = document.createElement("li");
      const where = issue.line ? `line ${issue.line}, column ${issue.column || 1}` : "scenario";
      let text = `${where}: ${issue.message}`;
      if (issue.path) text += ` (${issue.path})`;
      if (issue.allowed && issue.allowed.length) text += ` — allowed: ${[].concat(issue.allowed).join(", ")}`;
      if (issue.severity === "warning") { li.className = "warning"; text = `warning, ${text}`; }
      li.textContent = text;
      li.dataset.line = issue.line || "";
      li.dataset.severity = issue.severity || "error";
      li.addEventListener("click", () => {
        if (issue.line) { cm.focus(); cm.setCursor({ line: issue.line - 1, ch: (issue.column || 1) - 1 }); }
      });
      issuesEl.appendChild(li);
    });
  }

  function annotations(issues) {
    return issues.map((issue) => {
      const line = Math.max(0, (issue.line || 1) - 1);
      const ch = Math.max(0, (issue.column || 1) - 1);
      const lineText = cm.getLine(line) || "";
      let end = ch;
      while (end < lineText.length && !/[\s:,\]}]/.test(lineText[end])) end++;
      if (end === ch) end = Math.max(lineText.length, ch + 1);
      let message = issue.message;
      if (issue.allowed && issue.allowed.length) message += `\nallowed: ${[].concat(issue.allowed).join(", ")}`;
      return { from: CodeMirror.Pos(line, ch), to: CodeMirror.Pos(line, end), message, severity: issue.severity || "error" };
    });
  }

  let lastIssues = [];
  let validations = 0; // only the answer to the latest request may set the state
  function validate(text) {
    const mine = ++validations;
    const stale = () => mine !== validations;
    setState("checking", "validating…");
    const body = new FormData();
    body.append("content", text);
    return fetch(validateUrl, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch" },
    }).then((r) => r.json()).then((data) => {
      if (stale()) return { ...data, issues: lastIssues };
      if (data.error && !(data.issues || []).length) {
        setState("invalid", data.error);
        showIssues([]);
        return { ok: false, issues: [] };
      }
      lastIssues = data.issues || [];
      const warnings = data.warnings || [];
      showIssues(lastIssues.concat(warnings));
      if (data.ok && warnings.length) setState("valid", `valid, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}: saving is allowed`);
      else if (data.ok) setState("valid", "valid");
      else setState("invalid", `${lastIssues.length || 1} problem${lastIssues.length === 1 ? "" : "s"}`);
      return { ...data, issues: lastIssues.concat(warnings) };
    }).catch(() => {
      if (!stale()) setState("invalid", "could not reach the validator");
      return { ok: false, issues: [] };
    });
  }

  function lintAsync(text, update) {
    validate(text).then((data) => update(annotations(data.issues || [])));
  }

  // --- completion from the schema model ------------------------------------------------------
  function stepTypeAbove(cm, lineNo, indent) {
    // the `type:` of the step mapping that contains lineNo (same or smaller indent, up to "- ")
    for (let n = lineNo; n >= 0; n--) {
      const text = cm.getLine(n);
      const m = /^(\s*)(-\s+)?type:\s*([\w-]+)/.exec(text);
      if (m && m[1].length + (m[2] ? m[2].length : 0) === indent) return m[3];
      if (/^\s*-\s/.test(text) && text.search(/\S/) + 2 === indent && !m) {
        // the item starts here without a type on this line: look below for its type
        for (let k = n + 1; k < cm.lineCount(); k++) {
          const t = cm.getLine(k);
          if (t.search(/\S/) < indent && t.trim()) break;
          const mm = /^\s*type:\s*([\w-]+)/.exec(t);
          if (mm && t.search(/\S/) === indent) return mm[1];
        }
        return null;
      }
      if (text.trim() && text.search(/\S/) < indent - 2) return null;
    }
    return null;
  }

  function hint(cm) {
    const cur = cm.getCursor();
    const line = cm.getLine(cur.line);
    const before = line.slice(0, cur.ch);
    let m = /^(\s*)(-\s+)?type:\s*([\w-]*)$/.exec(before);
    let list = [];
    let from;
    if (m) {
      const word = m[3];
      from = CodeMirror.Pos(cur.line, cur.ch - word.length);
      list = Object.keys(model.step_types).filter((t) => t.startsWith(word)).map((t) => ({
        text: t, displayText: model.descriptions[t] ? `${t} — ${model.descriptions[t]}` : t,
      }));
    } else if ((m = /^(\s*)(-\s+)?([\w-]*)$/.exec(before))) {
      const word = m[3];
      const indent = m[1].length + (m[2] ? m[2].length : 0);
      from = CodeMirror.Pos(cur.line, cur.ch - word.length);
      let keys;
      if (indent === 0) keys = model.top_level;
      else {
        const type = stepTypeAbove(cm, cur.line, indent);
        keys = type && model.step_types[type] ? model.step_types[type] : STEP_COMMON.concat(["type"]);
      }
      list = keys.filter((k) => k.startsWith(word)).map((k) => ({ text: `${k}: `, displayText: k }));
    }
    if (!list.length) return null;
    return { list, from, to: cur };
  }

  const cm = CodeMirror.fromTextArea(textarea, {
    mode: looksJson(textarea.value) ? { name: "javascript", json: true } : "yaml",
    lineNumbers: true,
    indentUnit: 2,
    tabSize: 2,
    readOnly: readOnly,
    gutters: ["CodeMirror-lint-markers", "CodeMirror-linenumbers"],
    lint: { getAnnotations: lintAsync, async: true, delay: 400 },
    extraKeys: {
      "Ctrl-Space": (ed) => ed.showHint({ hint, completeSingle: false }),
      Tab: (ed) => ed.execCommand(ed.somethingSelected() ? "indentMore" : "insertSoftTab"),
      "Ctrl-S": () => { if (!readOnly) save(); },
    },
  });
  window.atpEditor = cm; // for tests and the console
  cm.on("inputRead", (ed, change) => {
    if (change.origin !== "+input") return;
    const before = ed.getLine(ed.getCursor().line).slice(0, ed.getCursor().ch);
    if (/type:\s*$/.test(before) || /^\s*(-\s+)?[a-z_]{2,}$/.test(before)) ed.showHint({ hint, completeSingle: false });
  });
  cm.on("change", () => {
    const json = looksJson(cm.getValue());
    const want = json ? "javascript" : "yaml";
    if (cm.getOption("mode").name !== want && cm.getOption("mode") !== want) {
      cm.setOption("mode", json ? { name: "javascript", json: true } : "yaml");
    }
  });

  // --- unsaved changes: shown beside the validation state, asked about before leaving --------
  const saveStateEl = document.getElementById("save-state");
  const nameInput = document.getElementById("scenario-name");
  const snapshot = () => cm.getValue() + "\u0000" + (nameInput ? nameInput.value : "");
  let savedSnapshot = snapshot();
  let saveFailed = false;
  const dirty = () => !readOnly && snapshot() !== savedSnapshot;
  function setSaveState(state, text) {
    if (!saveStateEl) return;
    saveStateEl.dataset.state = state;
    saveStateEl.textContent = text;
  }
  function showDirty() {
    if (saveFailed) return; // "not saved" stays until a save succeeds
    setSaveState(dirty() ? "dirty" : "clean", dirty() ? "unsaved changes" : "");
  }
  cm.on("change", showDirty);
  if (nameInput) nameInput.addEventListener("input", showDirty);
  window.addEventListener("beforeunload", (e) => {
    if (!dirty()) return;
    e.preventDefault();
    e.returnValue = ""; // the browser asks "Leave site? Changes you made may not be saved."
  });
  window.atpEditorDirty = dirty; // for tests

  function notSaved(reason) {
    saveFailed = true;
    setSaveState("failed", `Not saved: ${reason}. Your changes are only in this editor.`);
  }

  function save() {
    cm.save();
    setState("checking", "saving…");
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrf },
    }).then((r) => r.json().then((data) => ({ status: r.status, data }))).then(({ data }) => {
      if (data.ok) {
        saveFailed = false;
        savedSnapshot = snapshot();
        setState("valid", data.created === false ? "no changes to save" : `saved revision ${data.revision}`);
        setSaveState("saved", data.created === false ? "no changes to save" : `saved revision ${data.revision}`);
        if (data.created !== false) window.location.assign(data.url);
      } else {
        lastIssues = data.issues || [];
        showIssues(lastIssues.length ? lastIssues : [{ message: data.error || "not saved" }]);
        const count = lastIssues.length;
        notSaved(count ? `${count} problem${count === 1 ? "" : "s"} to fix first` : (data.error || "the server refused it"));
        setState("invalid", "not saved: fix the problems first");
        cm.performLint();
      }
    }).catch(() => { notSaved("the server did not answer"); setState("invalid", "not saved: the server did not answer"); });
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); save(); });
  const validateButton = document.getElementById("validate-button");
  if (validateButton) validateButton.addEventListener("click", () => { cm.performLint(); });
})();
