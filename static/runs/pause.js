// Developer mode on the live view: the pause panel of a paused target (runs/pause_views.py).
// live.js calls window.atpPause.refresh(targetName) on target_paused / target_resumed events;
// on load every target of a running run is asked once (a reload shows an open pause too).
(function () {
  "use strict";
  const root = document.getElementById("run");
  if (!root) return;
  const csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  // The status words (atp_core/status.py), rendered into the page by the server.
  const RUN = JSON.parse(document.getElementById("status-vocabulary").textContent).run_state;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function section(name) {
    return [...root.querySelectorAll("section.target")].find((s) => s.dataset.target === name);
  }

  function figure(caption, url) {
    const fig = el("figure", "pause-shot");
    const img = el("img");
    img.src = url;
    img.alt = caption;
    fig.append(img, el("figcaption", "hint", caption));
    return fig;
  }

  function render(sec, state) {
    let panel = sec.querySelector(".pause-panel");
    if (!state.paused) { if (panel) panel.remove(); sec.classList.remove("paused"); return; }
    if (!panel) {
      panel = el("div", "pause-panel notice");
      sec.querySelector(".target-body").before(panel);
    }
    sec.classList.add("paused");
    panel.textContent = "";
    const p = state.pause;
    const d = p.data || {};
    panel.dataset.pauseId = d.pause_id || "";
    panel.dataset.step = p.step_id;
    const why = { failure: "the step failed", mismatch: "the screen did not match", step: "paused before the step" }[d.reason] || d.reason;
    panel.append(el("h3", "", `Paused at step ${p.step_id} ${d.name || ""}: ${why}`));
    if (d.error) panel.append(el("pre", "pause-error", d.error));
    const c = d.check;
    if (c) {
      const which = c.candidates > 1 ? ` (closest candidate ${c.candidate} of ${c.candidates})` : "";
      panel.append(el("p", "pause-score", `best ${c.method} score ${Number(c.score).toFixed(3)} < threshold ${c.threshold}${which}`));
      const shots = el("div", "pause-shots");
      if (state.reference_url) shots.append(figure(`reference ${c.reference}`, state.reference_url));
      if (state.best_url) shots.append(figure("best screenshot", state.best_url));
      if (state.diff_url) shots.append(figure("diff", state.diff_url));
      panel.append(shots);
    }
    const bar = el("div", "toolbar pause-actions");
    if (state.can_operate) {
      [["retry", "Retry step"], ["skip", "Skip step"], ["continue", "Continue"]].forEach(([decision, label]) => {
        const btn = el("button", decision === "continue" ? "secondary" : "", label);
        btn.type = "button";
        btn.dataset.decision = decision;
        btn.disabled = Boolean(p.requested);
        btn.addEventListener("click", () => resume(sec, state.resume_url, decision, panel));
        bar.append(btn);
      });
      const take = el("a", "button secondary", "Take over");
      take.href = state.console_url; take.target = "_blank"; take.rel = "noopener";
      bar.append(take);
      if (state.fix_url) {
        const fix = el("a", "button secondary pause-fix", `Update reference ${state.reference} from the current screen`);
        fix.href = state.fix_url;
        bar.append(fix);
      }
    }
    const note = el("span", "hint pause-note", p.requested ? `${p.requested} asked; waiting for the worker…` : `resumes on its own (as failed) after ${Math.round(d.max_seconds || 0)} s`);
    bar.append(note);
    panel.append(bar);
  }

  function resume(sec, url, decision, panel) {
    panel.querySelectorAll("button[data-decision]").forEach((b) => { b.disabled = true; });
    const body = new FormData();
    body.append("decision", decision);
    fetch(url, { method: "POST", body, credentials: "same-origin", headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrf } })
      .then((r) => r.json().then((j) => ({ ok: r.ok, j })))
      .then(({ ok, j }) => {
        const note = panel.querySelector(".pause-note");
        if (note) note.textContent = ok ? `${decision} asked; waiting for the worker…` : `not resumed: ${j.error}`;
      });
  }

  function refresh(name) {
    const sec = section(name);
    if (!sec || !sec.dataset.targetId) return Promise.resolve();
    return fetch(`/runs/${root.dataset.run}/targets/${sec.dataset.targetId}/pause`, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : { paused: false }))
      .then((state) => render(sec, state));
  }

  window.atpPause = { refresh };
  if (root.dataset.state !== RUN.FINISHED) {
    root.querySelectorAll("section.target").forEach((s) => refresh(s.dataset.target));
  }
})();
